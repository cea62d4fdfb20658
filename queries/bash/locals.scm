; Scopes for Bash: a function body (its `local` variables).

(function_definition) @local.scope

(word) @local.reference
