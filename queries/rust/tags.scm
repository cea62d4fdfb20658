; Definitions and references for Rust, with the capture names of tree-sitter's
; tags convention: @name is the identifier, @definition.<kind> or
; @reference.<kind> the node it names.

; Definitions

(function_item
  name: (identifier) @name) @definition.function

(function_signature_item
  name: (identifier) @name) @definition.method

(struct_item
  name: (type_identifier) @name) @definition.struct

(union_item
  name: (type_identifier) @name) @definition.struct

(enum_item
  name: (type_identifier) @name) @definition.enum

(enum_variant
  name: (identifier) @name) @definition.variant

(type_item
  name: (type_identifier) @name) @definition.type

(associated_type
  name: (type_identifier) @name) @definition.type

(trait_item
  name: (type_identifier) @name) @definition.interface

(mod_item
  name: (identifier) @name) @definition.module

(macro_definition
  name: (identifier) @name) @definition.macro

(const_item
  name: (identifier) @name) @definition.constant

(static_item
  name: (identifier) @name) @definition.constant

(field_declaration
  name: (field_identifier) @name) @definition.field

; References

(call_expression
  function: (identifier) @name) @reference.call

(call_expression
  function: (field_expression
    field: (field_identifier) @name)) @reference.call

(call_expression
  function: (scoped_identifier
    name: (identifier) @name)) @reference.call

(call_expression
  function: (generic_function
    function: [
      (identifier) @name
      (field_expression field: (field_identifier) @name)
      (scoped_identifier name: (identifier) @name)
    ])) @reference.call

(macro_invocation
  macro: (identifier) @name) @reference.macro

(field_expression
  field: (field_identifier) @name) @reference.field

(impl_item
  trait: (type_identifier) @name) @reference.implementation

(impl_item
  type: (type_identifier) @name
  !trait) @reference.implementation

(type_identifier) @name @reference.type

(use_declaration
  argument: (_) @name) @reference.import
