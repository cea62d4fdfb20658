; Chunk boundaries for Python. Each pattern captures one definition node as
; @chunk.<kind> and its name as @name. Decorators (the enclosing
; decorated_definition) and comments directly above are attached by the chunker.

(function_definition
  name: (identifier) @name) @chunk.function

(class_definition
  name: (identifier) @name) @chunk.class
