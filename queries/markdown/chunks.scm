; Chunk boundaries for Markdown: a section is a heading with what follows it,
; sections nest by heading level, and the heading path is a chunk's
; enclosing names. The chunker finds these sections with pulldown-cmark
; (server/syntax/src/languages/markdown.rs: the grammar parses Markdown at two
; fifths of Python's chunking speed); this query states them for tree-sitter.

(section (atx_heading heading_content: (_) @name)) @chunk.section
(section (setext_heading heading_content: (_) @name)) @chunk.section
