; Chunk boundaries for PHP. Attributes are part of a declaration; the
; PHPDoc comment above it is attached by the chunker.

(namespace_definition name: (_) @name body: (_)) @chunk.module
(function_definition name: (name) @name) @chunk.function
(class_declaration name: (name) @name) @chunk.class
(interface_declaration name: (name) @name) @chunk.interface
(trait_declaration name: (name) @name) @chunk.trait
(enum_declaration name: (name) @name) @chunk.enum
(method_declaration name: (name) @name) @chunk.method
(const_declaration (const_element (name) @name)) @chunk.constant
