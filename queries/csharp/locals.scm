; Scopes and local definitions for C#.

[
  (declaration_list)
  (method_declaration)
  (constructor_declaration)
  (local_function_statement)
  (lambda_expression)
  (block)
  (for_statement)
  (foreach_statement)
  (catch_clause)
] @local.scope

(parameter name: (identifier) @local.definition.parameter)
(lambda_expression parameters: (implicit_parameter) @local.definition.parameter)
(foreach_statement left: (identifier) @local.definition.var)
(catch_declaration name: (identifier) @local.definition.var)
(local_declaration_statement
  (variable_declaration (variable_declarator name: (identifier) @local.definition.var)))

(identifier) @local.reference
