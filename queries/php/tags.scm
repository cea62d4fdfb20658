; Definitions and references for PHP (tree-sitter's tags convention).

(function_definition name: (name) @name) @definition.function
(class_declaration name: (name) @name) @definition.class
(interface_declaration name: (name) @name) @definition.interface
(trait_declaration name: (name) @name) @definition.trait
(enum_declaration name: (name) @name) @definition.enum
(method_declaration name: (name) @name) @definition.method
(property_element (variable_name (name) @name)) @definition.field
(const_element (name) @name) @definition.constant

(function_call_expression function: (name) @name) @reference.call
(member_call_expression name: (name) @name) @reference.call
(scoped_call_expression name: (name) @name) @reference.call
(object_creation_expression (name) @name) @reference.call
(member_access_expression name: (name) @name) @reference.field
(named_type (name) @name) @reference.type
