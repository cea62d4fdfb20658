; Chunk boundaries for C++. `template <..>` and the comment above a
; definition are attached by the chunker; `int Socket::send(..)` is a method
; of `Socket`.

(function_definition
  declarator: (function_declarator declarator: (_) @name)) @chunk.function
(function_definition
  declarator: (pointer_declarator
    declarator: (function_declarator declarator: (_) @name))) @chunk.function
(function_definition
  declarator: (reference_declarator
    (function_declarator declarator: (_) @name))) @chunk.function

(class_specifier name: (_) @name body: (_)) @chunk.class
(struct_specifier name: (_) @name body: (_)) @chunk.struct
(union_specifier name: (_) @name body: (_)) @chunk.struct
(enum_specifier name: (_) @name body: (_)) @chunk.enum
(namespace_definition name: (_) @name) @chunk.module
(alias_declaration name: (type_identifier) @name) @chunk.type
(type_definition declarator: (type_identifier) @name) @chunk.type
(concept_definition name: (identifier) @name) @chunk.type

(preproc_def name: (identifier) @name) @chunk.constant
(preproc_function_def name: (identifier) @name) @chunk.macro
