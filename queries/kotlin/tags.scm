; Definitions and references for Kotlin (tree-sitter's tags convention).

(class_declaration "interface" name: (identifier) @name) @definition.interface
(class_declaration "class" name: (identifier) @name) @definition.class
(object_declaration name: (identifier) @name) @definition.class
(function_declaration name: (identifier) @name) @definition.function
(type_alias type: (identifier) @name) @definition.type
(property_declaration (variable_declaration (identifier) @name)) @definition.variable

(call_expression (identifier) @name) @reference.call
(call_expression (navigation_expression (identifier) @name .)) @reference.call
(navigation_expression (identifier) @name .) @reference.field
(user_type (identifier) @name) @reference.type
