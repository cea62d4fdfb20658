; Chunk boundaries for Lua. `function M.send()` and `function M:send()` are
; methods of `M`; the comment above a function is attached by the chunker.

(function_declaration name: (_) @name) @chunk.function
(variable_declaration
  (assignment_statement
    (variable_list . name: (identifier) @name)
    (expression_list . value: (function_definition)))) @chunk.function
