; Chunk boundaries for Go. A method's receiver type is its enclosing name;
; the doc comment above a declaration is attached by the chunker.

(function_declaration name: (identifier) @name) @chunk.function

(method_declaration
  receiver: (parameter_list (parameter_declaration type: (_) @receiver))
  name: (field_identifier) @name) @chunk.method

(type_declaration
  (type_spec name: (type_identifier) @name type: (struct_type))) @chunk.struct
(type_declaration
  (type_spec name: (type_identifier) @name type: (interface_type))) @chunk.interface
(type_declaration
  (type_spec name: (type_identifier) @name)) @chunk.type
(type_declaration
  (type_alias name: (type_identifier) @name)) @chunk.type

(const_declaration (const_spec name: (identifier) @name)) @chunk.constant
