; Markdown has no scopes: find usages does not cover it.

(document) @local.scope
