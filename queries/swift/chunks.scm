; Chunk boundaries for Swift. The doc comment above a declaration is
; attached by the chunker; an extension is shown as `extension Type`.

(class_declaration declaration_kind: "class" name: (_) @name) @chunk.class
(class_declaration declaration_kind: "actor" name: (_) @name) @chunk.class
(class_declaration declaration_kind: "struct" name: (_) @name) @chunk.struct
(class_declaration declaration_kind: "enum" name: (_) @name) @chunk.enum
(class_declaration declaration_kind: "extension" name: (_) @name) @chunk.impl
(protocol_declaration name: (_) @name) @chunk.trait
(function_declaration name: (_) @name) @chunk.function
(init_declaration name: _ @name) @chunk.function
(typealias_declaration name: (_) @name) @chunk.type
