; Definitions and references for Lua (tree-sitter's tags convention).

(function_declaration name: (identifier) @name) @definition.function
(function_declaration
  name: (dot_index_expression field: (identifier) @name)) @definition.method
(function_declaration
  name: (method_index_expression method: (identifier) @name)) @definition.method
(variable_declaration
  (assignment_statement (variable_list name: (identifier) @name))) @definition.variable

(function_call name: (identifier) @name) @reference.call
(function_call name: (dot_index_expression field: (identifier) @name)) @reference.call
(function_call name: (method_index_expression method: (identifier) @name)) @reference.call
(dot_index_expression field: (identifier) @name) @reference.field
