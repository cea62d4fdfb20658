; Chunk boundaries for Bash and other POSIX shells. The comment above a
; function is attached by the chunker (not a `#!` line).

(function_definition name: (word) @name) @chunk.function
