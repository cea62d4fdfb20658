; Chunk boundaries for C. The comment above a definition is attached by the
; chunker.

(function_definition
  declarator: (function_declarator declarator: (identifier) @name)) @chunk.function
(function_definition
  declarator: (pointer_declarator
    declarator: (function_declarator declarator: (identifier) @name))) @chunk.function

(struct_specifier name: (type_identifier) @name body: (_)) @chunk.struct
(union_specifier name: (type_identifier) @name body: (_)) @chunk.struct
(enum_specifier name: (type_identifier) @name body: (_)) @chunk.enum
(type_definition declarator: (type_identifier) @name) @chunk.type

(preproc_def name: (identifier) @name) @chunk.constant
(preproc_function_def name: (identifier) @name) @chunk.macro
