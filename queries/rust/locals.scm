; Scopes, local definitions and references for Rust, with the capture names of
; nvim-treesitter and Helix: @local.scope, @local.definition.<kind>,
; @local.reference.

; Scopes

[
  (function_item)
  (closure_expression)
  (block)
  (for_expression)
  (match_arm)
  (if_expression)
  (while_expression)
  (loop_expression)
] @local.scope

; Definitions

(parameter
  pattern: (identifier) @local.definition.parameter)

(parameter
  pattern: (mut_pattern (identifier) @local.definition.parameter))

(closure_parameters
  (identifier) @local.definition.parameter)

(let_declaration
  pattern: (identifier) @local.definition.var)

(let_declaration
  pattern: (mut_pattern (identifier) @local.definition.var))

(tuple_pattern
  (identifier) @local.definition.var)

(tuple_struct_pattern
  (identifier) @local.definition.var)

(struct_pattern
  (field_pattern
    (shorthand_field_identifier) @local.definition.var))

(for_expression
  pattern: (identifier) @local.definition.var)

(let_condition
  pattern: (_ (identifier) @local.definition.var))

(captured_pattern
  (identifier) @local.definition.var)

(ref_pattern
  (identifier) @local.definition.var)

(match_pattern
  (identifier) @local.definition.var)

; References

(identifier) @local.reference
