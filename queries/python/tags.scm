; Definitions and references for Python, with the capture names of
; tree-sitter's tags convention: @name is the identifier, @definition.<kind>
; or @reference.<kind> the node it names.

; Definitions

(class_definition
  name: (identifier) @name) @definition.class

(function_definition
  name: (identifier) @name) @definition.function

(module
  (expression_statement
    (assignment
      left: (identifier) @name) @definition.constant))

(class_definition
  body: (block
    (expression_statement
      (assignment
        left: (identifier) @name) @definition.field)))

(assignment
  left: (attribute
    object: (identifier) @_self
    attribute: (identifier) @name) @definition.field
  (#eq? @_self "self"))

; References

(call
  function: (identifier) @name) @reference.call

(call
  function: (attribute
    attribute: (identifier) @name)) @reference.call

(attribute
  attribute: (identifier) @name) @reference.attribute

(import_statement
  name: (dotted_name (identifier) @name)) @reference.import

(import_statement
  name: (aliased_import
    name: (dotted_name (identifier) @name))) @reference.import

(import_from_statement
  name: (dotted_name (identifier) @name)) @reference.import

(import_from_statement
  name: (aliased_import
    name: (dotted_name (identifier) @name))) @reference.import

(type (identifier) @name) @reference.type
