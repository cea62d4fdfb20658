; Scopes and local definitions for Go.

[
  (function_declaration)
  (method_declaration)
  (func_literal)
  (block)
  (if_statement)
  (for_statement)
  (expression_switch_statement)
  (type_switch_statement)
] @local.scope

(parameter_declaration name: (identifier) @local.definition.parameter)
(variadic_parameter_declaration name: (identifier) @local.definition.parameter)
(range_clause left: (expression_list (identifier) @local.definition.var))

(identifier) @local.reference
