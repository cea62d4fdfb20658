; Chunk boundaries for JavaScript (and JSX). `export` and the JSDoc comment
; above a definition are attached by the chunker.

(function_declaration name: (identifier) @name) @chunk.function
(generator_function_declaration name: (identifier) @name) @chunk.function

(lexical_declaration
  (variable_declarator
    name: (identifier) @name
    value: [(arrow_function) (function_expression)])) @chunk.function
(variable_declaration
  (variable_declarator
    name: (identifier) @name
    value: [(arrow_function) (function_expression)])) @chunk.function
(lexical_declaration
  (variable_declarator name: (identifier) @name)) @chunk.constant

; CommonJS: `exports.parse = function (..) {..}`, `module.exports.x = ..`:
; a function of the module.
(expression_statement
  (assignment_expression
    left: (member_expression
      object: (identifier) @_module
      property: (property_identifier) @name)
    right: [(arrow_function) (function_expression)])
  (#eq? @_module "exports")) @chunk.function
; `module.exports = function query (..) {..}`: the module is the function,
; named by its own name (by `exports` when it has none).
(expression_statement
  (assignment_expression
    left: (member_expression
      object: (identifier) @_module
      property: (property_identifier) @_exports)
    right: (function_expression name: (identifier) @name))
  (#eq? @_module "module")
  (#eq? @_exports "exports")) @chunk.function
(expression_statement
  (assignment_expression
    left: (member_expression
      object: (identifier) @_module
      property: (property_identifier) @name)
    right: [(arrow_function) (function_expression !name)])
  (#eq? @_module "module")
  (#eq? @name "exports")) @chunk.function
(expression_statement
  (assignment_expression
    left: (member_expression
      object: (identifier) @_module
      property: (property_identifier) @name)
    right: [(arrow_function) (function_expression)])
  (#eq? @_module "module")
  (#not-eq? @name "exports")) @chunk.function

; `View.prototype.lookup = function (..) {..}`: a method of `View`.
(expression_statement
  (assignment_expression
    left: (member_expression
      object: (member_expression
        object: (identifier) @receiver
        property: (property_identifier) @_prototype)
      property: (property_identifier) @name)
    right: [(arrow_function) (function_expression)])
  (#eq? @_prototype "prototype")) @chunk.method

; `res.send = function send (..) {..}`: a method of the object `res` holds;
; `res.set = res.header = function header (..) {..}` is named by the first.
(expression_statement
  (assignment_expression
    left: (member_expression
      object: (identifier) @receiver
      property: (property_identifier) @name)
    right: [
      (arrow_function)
      (function_expression)
      (assignment_expression
        left: (member_expression)
        right: [(arrow_function) (function_expression)])
    ])
  (#not-any-of? @receiver "exports" "module")) @chunk.method

; Any other `this.m = function`, `a.b.m = function` (`module.exports.f`
; too): a function.
(expression_statement
  (assignment_expression
    left: (member_expression
      object: (this)
      property: (property_identifier) @name)
    right: [(arrow_function) (function_expression)])) @chunk.function
(expression_statement
  (assignment_expression
    left: (member_expression
      object: (member_expression
        property: (property_identifier) @_inner)
      property: (property_identifier) @name)
    right: [(arrow_function) (function_expression)])
  (#not-eq? @_inner "prototype")) @chunk.function

(class_declaration name: (identifier) @name) @chunk.class
(method_definition name: (_) @name) @chunk.method
(field_definition
  property: (_) @name
  value: [(arrow_function) (function_expression)]) @chunk.method
