; Chunk boundaries for Rust. Each pattern captures one definition node as
; @chunk.<kind> and, where the definition has one, its name as @name.
; Leading doc comments and attributes are attached by the chunker, not here.

(function_item
  name: (identifier) @name) @chunk.function

(function_signature_item
  name: (identifier) @name) @chunk.function

(impl_item
  trait: (_) @trait
  type: (_) @name) @chunk.impl

(impl_item
  !trait
  type: (_) @name) @chunk.impl

(trait_item
  name: (type_identifier) @name) @chunk.trait

(mod_item
  name: (identifier) @name
  body: (declaration_list)) @chunk.module

(struct_item
  name: (type_identifier) @name) @chunk.struct

(union_item
  name: (type_identifier) @name) @chunk.struct

(enum_item
  name: (type_identifier) @name) @chunk.enum

(macro_definition
  name: (identifier) @name) @chunk.macro
