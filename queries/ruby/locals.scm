; Scopes and local definitions for Ruby.

[
  (method)
  (singleton_method)
  (block)
  (do_block)
  (lambda)
] @local.scope

(method_parameters (identifier) @local.definition.parameter)
(lambda_parameters (identifier) @local.definition.parameter)
(block_parameters (identifier) @local.definition.parameter)
(optional_parameter name: (identifier) @local.definition.parameter)
(keyword_parameter name: (identifier) @local.definition.parameter)
(assignment left: (identifier) @local.definition.var)

(identifier) @local.reference
