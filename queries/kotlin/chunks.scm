; Chunk boundaries for Kotlin. Annotations are part of a declaration's
; modifiers; the KDoc comment above it is attached by the chunker.

(class_declaration "interface" name: (identifier) @name) @chunk.interface
(class_declaration "class" name: (identifier) @name) @chunk.class
(object_declaration name: (identifier) @name) @chunk.class
(function_declaration name: (identifier) @name) @chunk.function
(type_alias type: (identifier) @name) @chunk.type
