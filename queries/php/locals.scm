; Scopes and local definitions for PHP.

[
  (function_definition)
  (method_declaration)
  (anonymous_function)
  (arrow_function)
  (declaration_list)
] @local.scope

(simple_parameter name: (variable_name (name) @local.definition.parameter))
(assignment_expression left: (variable_name (name) @local.definition.var))

(variable_name (name) @local.reference)
