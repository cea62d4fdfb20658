; Scopes, local definitions and references for Python, with the capture names
; of nvim-treesitter and Helix: @local.scope, @local.definition.<kind>,
; @local.reference.

; Scopes: Python scopes are functions, lambdas, classes and comprehensions;
; blocks of if/for/while do not open a scope.

[
  (module)
  (function_definition)
  (lambda)
  (class_definition)
  (list_comprehension)
  (dictionary_comprehension)
  (set_comprehension)
  (generator_expression)
] @local.scope

; Definitions

(parameters (identifier) @local.definition.parameter)
(default_parameter name: (identifier) @local.definition.parameter)
(typed_parameter (identifier) @local.definition.parameter)
(typed_default_parameter name: (identifier) @local.definition.parameter)
(list_splat_pattern (identifier) @local.definition.parameter)
(dictionary_splat_pattern (identifier) @local.definition.parameter)
(lambda_parameters (identifier) @local.definition.parameter)

(assignment left: (identifier) @local.definition.var)
(assignment left: (pattern_list (identifier) @local.definition.var))
(assignment left: (tuple_pattern (identifier) @local.definition.var))
(augmented_assignment left: (identifier) @local.definition.var)
(for_statement left: (identifier) @local.definition.var)
(for_statement left: (pattern_list (identifier) @local.definition.var))
(for_in_clause left: (identifier) @local.definition.var)
(for_in_clause left: (pattern_list (identifier) @local.definition.var))
(with_item value: (as_pattern alias: (as_pattern_target (identifier) @local.definition.var)))
(named_expression name: (identifier) @local.definition.var)
(except_clause (as_pattern alias: (as_pattern_target (identifier) @local.definition.var)))

(function_definition name: (identifier) @local.definition.function)
(class_definition name: (identifier) @local.definition.type)

(import_statement name: (dotted_name . (identifier) @local.definition.import))
(aliased_import alias: (identifier) @local.definition.import)
(import_from_statement name: (dotted_name (identifier) @local.definition.import))

(global_statement (identifier) @local.reference)
(nonlocal_statement (identifier) @local.reference)

; References

(identifier) @local.reference
