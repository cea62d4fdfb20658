; Chunk boundaries for JavaScript (and JSX). `export` and the JSDoc comment
; above a definition are attached by the chunker.

(function_declaration name: (identifier) @name) @chunk.function
(generator_function_declaration name: (identifier) @name) @chunk.function

(lexical_declaration
  (variable_declarator
    name: (identifier) @name
    value: [(arrow_function) (function_expression)])) @chunk.function
(variable_declaration
  (variable_declarator
    name: (identifier) @name
    value: [(arrow_function) (function_expression)])) @chunk.function
(lexical_declaration
  (variable_declarator name: (identifier) @name)) @chunk.constant

; CommonJS: `exports.parse = function (..) {..}`, `module.exports.x = ..`.
(expression_statement
  (assignment_expression
    left: (member_expression property: (property_identifier) @name)
    right: [(arrow_function) (function_expression)])) @chunk.function

(class_declaration name: (identifier) @name) @chunk.class
(method_definition name: (_) @name) @chunk.method
(field_definition
  property: (_) @name
  value: [(arrow_function) (function_expression)]) @chunk.method
