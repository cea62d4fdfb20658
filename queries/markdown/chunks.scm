; Chunk boundaries for Markdown: a section is a heading with what follows it,
; sections nest by heading level, and the heading path is a chunk's
; enclosing names.

(section (atx_heading heading_content: (_) @name)) @chunk.section
(section (setext_heading heading_content: (_) @name)) @chunk.section
