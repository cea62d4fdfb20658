; Scopes and local definitions for Swift.

[
  (function_declaration)
  (init_declaration)
  (class_body)
  (lambda_literal)
  (statements)
  (for_statement)
] @local.scope

(parameter name: (simple_identifier) @local.definition.parameter)

(simple_identifier) @local.reference
