; Scopes and local definitions for Java.

[
  (class_body)
  (interface_body)
  (enum_body)
  (method_declaration)
  (constructor_declaration)
  (lambda_expression)
  (block)
  (for_statement)
  (enhanced_for_statement)
  (catch_clause)
] @local.scope

(formal_parameter name: (identifier) @local.definition.parameter)
(lambda_expression parameters: (identifier) @local.definition.parameter)
(inferred_parameters (identifier) @local.definition.parameter)
(enhanced_for_statement name: (identifier) @local.definition.var)
(catch_formal_parameter name: (identifier) @local.definition.var)

(identifier) @local.reference
