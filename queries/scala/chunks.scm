; Chunk boundaries for Scala. The Scaladoc comment above a definition is
; attached by the chunker.

(class_definition name: (identifier) @name) @chunk.class
(object_definition name: (identifier) @name) @chunk.class
(trait_definition name: (identifier) @name) @chunk.trait
(enum_definition name: (identifier) @name) @chunk.enum
(function_definition name: (identifier) @name) @chunk.function
(type_definition name: (type_identifier) @name) @chunk.type
