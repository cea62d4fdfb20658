; Chunk boundaries for Ruby. The comment above a definition (RDoc) is
; attached by the chunker.

(module name: (_) @name) @chunk.module
(class name: (_) @name) @chunk.class
(method name: (_) @name) @chunk.function
(singleton_method name: (_) @name) @chunk.function
