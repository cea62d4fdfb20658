; Markdown has no definitions or references: find usages does not cover it.
; The file exists so that every language has the same three queries.

(atx_heading) @_heading
