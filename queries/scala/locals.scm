; Scopes and local definitions for Scala.

[
  (function_definition)
  (template_body)
  (block)
  (lambda_expression)
] @local.scope

(parameter name: (identifier) @local.definition.parameter)
(class_parameter name: (identifier) @local.definition.parameter)

(identifier) @local.reference
