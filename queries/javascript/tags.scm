; Definitions and references for JavaScript (tree-sitter's tags convention).

(function_declaration name: (identifier) @name) @definition.function
(generator_function_declaration name: (identifier) @name) @definition.function
(class_declaration name: (identifier) @name) @definition.class
(method_definition name: (property_identifier) @name) @definition.method
(field_definition property: (property_identifier) @name) @definition.field
(variable_declarator name: (identifier) @name) @definition.variable
(expression_statement
  (assignment_expression
    left: (member_expression property: (property_identifier) @name)
    right: [(arrow_function) (function_expression)])) @definition.function

(call_expression function: (identifier) @name) @reference.call
(call_expression
  function: (member_expression property: (property_identifier) @name)) @reference.call
(new_expression constructor: (identifier) @name) @reference.call
(member_expression property: (property_identifier) @name) @reference.field
(import_specifier name: (identifier) @name) @reference.import
(export_specifier name: (identifier) @name) @reference.import
