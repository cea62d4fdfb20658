; Scopes and local definitions for Lua.

[
  (function_declaration)
  (function_definition)
  (block)
  (for_statement)
] @local.scope

(parameters name: (identifier) @local.definition.parameter)
(for_generic_clause (variable_list name: (identifier) @local.definition.var))
(for_numeric_clause name: (identifier) @local.definition.var)

(identifier) @local.reference
