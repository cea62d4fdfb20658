; Chunk boundaries for C#. Attributes are part of a declaration; the XML doc
; comment above it is attached by the chunker.

(namespace_declaration name: (_) @name) @chunk.module
(class_declaration name: (identifier) @name) @chunk.class
(record_declaration name: (identifier) @name) @chunk.class
(struct_declaration name: (identifier) @name) @chunk.struct
(interface_declaration name: (identifier) @name) @chunk.interface
(enum_declaration name: (identifier) @name) @chunk.enum
(delegate_declaration name: (identifier) @name) @chunk.type
(method_declaration name: (identifier) @name) @chunk.method
(constructor_declaration name: (identifier) @name) @chunk.method
(local_function_statement name: (identifier) @name) @chunk.function
