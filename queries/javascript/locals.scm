; Scopes and local definitions for JavaScript.

[
  (statement_block)
  (function_declaration)
  (generator_function_declaration)
  (function_expression)
  (arrow_function)
  (method_definition)
  (class_body)
  (for_statement)
  (for_in_statement)
  (catch_clause)
] @local.scope

(formal_parameters (identifier) @local.definition.parameter)
(formal_parameters (assignment_pattern left: (identifier) @local.definition.parameter))
(arrow_function parameter: (identifier) @local.definition.parameter)
(import_clause (identifier) @local.definition.import)
(import_specifier alias: (identifier) @local.definition.import)
(namespace_import (identifier) @local.definition.import)
(catch_clause parameter: (identifier) @local.definition.var)
(variable_declarator name: (identifier) @local.definition.var)
(object_pattern (shorthand_property_identifier_pattern) @local.definition.var)
(object_pattern (pair_pattern value: (identifier) @local.definition.var))
(array_pattern (identifier) @local.definition.var)

(identifier) @local.reference
