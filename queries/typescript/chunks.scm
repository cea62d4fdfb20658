; Chunk boundaries for TypeScript and TSX. `export`, decorators and the
; JSDoc comment above a definition are attached by the chunker.

(function_declaration name: (identifier) @name) @chunk.function
(generator_function_declaration name: (identifier) @name) @chunk.function
(function_signature name: (identifier) @name) @chunk.function

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

(class_declaration name: (type_identifier) @name) @chunk.class
(abstract_class_declaration name: (type_identifier) @name) @chunk.class
(method_definition name: (_) @name) @chunk.method
(public_field_definition
  name: (_) @name
  value: [(arrow_function) (function_expression)]) @chunk.method

(interface_declaration name: (type_identifier) @name) @chunk.interface
(type_alias_declaration name: (type_identifier) @name) @chunk.type
(enum_declaration name: (identifier) @name) @chunk.enum
(internal_module name: (_) @name) @chunk.module
(module name: (_) @name) @chunk.module
