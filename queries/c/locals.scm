; Scopes and local definitions for C.

[
  (function_definition)
  (compound_statement)
  (for_statement)
] @local.scope

(parameter_declaration declarator: (identifier) @local.definition.parameter)
(parameter_declaration declarator: (pointer_declarator declarator: (identifier) @local.definition.parameter))
(declaration declarator: (identifier) @local.definition.var)
(declaration declarator: (init_declarator declarator: (identifier) @local.definition.var))

(identifier) @local.reference
