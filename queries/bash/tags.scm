; Definitions and references for Bash (tree-sitter's tags convention): a
; function and the commands that call it.

(function_definition name: (word) @name) @definition.function
(command name: (command_name (word) @name)) @reference.call
(variable_assignment name: (variable_name) @name) @definition.variable
(simple_expansion (variable_name) @name) @reference.name
(expansion (variable_name) @name) @reference.name
