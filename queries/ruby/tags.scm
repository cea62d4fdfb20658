; Definitions and references for Ruby (tree-sitter's tags convention).

(module name: (constant) @name) @definition.module
(class name: (constant) @name) @definition.class
(method name: (identifier) @name) @definition.method
(singleton_method name: (identifier) @name) @definition.method
(assignment left: (constant) @name) @definition.constant

(call method: (identifier) @name) @reference.call
(constant) @name @reference.type
