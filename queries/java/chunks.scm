; Chunk boundaries for Java. Annotations are part of a declaration's
; modifiers; the Javadoc above it is attached by the chunker.

(class_declaration name: (identifier) @name) @chunk.class
(record_declaration name: (identifier) @name) @chunk.class
(interface_declaration name: (identifier) @name) @chunk.interface
(annotation_type_declaration name: (identifier) @name) @chunk.interface
(enum_declaration name: (identifier) @name) @chunk.enum
(method_declaration name: (identifier) @name) @chunk.method
(constructor_declaration name: (identifier) @name) @chunk.method
