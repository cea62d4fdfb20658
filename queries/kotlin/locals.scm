; Scopes and local definitions for Kotlin.

[
  (function_declaration)
  (class_body)
  (lambda_literal)
  (block)
  (for_statement)
] @local.scope

(parameter (identifier) @local.definition.parameter)
(class_parameter (identifier) @local.definition.parameter)

(identifier) @local.reference
