//! Rust occurrences: items, `impl` blocks (whose self type owns their
//! methods), `use` trees with aliases, block scopes with `let` shadowing, and
//! macro arguments, which tree-sitter leaves as flat token trees: they are
//! parsed again as call arguments so that `assert!(self.cmd.find(id)...)` has
//! receivers like any other code, and `{NAME}` captures in format strings
//! count as references.

use tree_sitter::Node;

use super::{Ctx, DefKind, Expr, ExprId, ImplBlock, Link, OccId, RefKind, Role, ScopeKind};

mod imports;
mod macros;

/// Deeper than this, a tree is not walked further.
const MAX_DEPTH: usize = 400;

/// Method names whose closure arguments receive elements of the receiver.
const ELEMENT_ADAPTORS: &[&str] = &[
    "map",
    "filter",
    "filter_map",
    "for_each",
    "find",
    "find_map",
    "any",
    "all",
    "flat_map",
    "position",
    "take_while",
    "skip_while",
    "map_while",
    "inspect",
    "partition",
    "max_by_key",
    "min_by_key",
    "sort_by_key",
    "retain",
    "fold",
    "try_for_each",
    "try_fold",
    "and_then",
    "map_or",
    "map_or_else",
    "is_some_and",
    "is_none_or",
    "unwrap_or_else",
    "then",
    "zip",
    "group_by",
    "chunk_by",
    "dedup_by_key",
    "count",
];

pub(crate) fn walk(ctx: &mut Ctx<'_>) {
    let root = ctx.tree.root_node();
    let mut w = Walker::default();
    w.children(ctx, root);
}

#[derive(Default)]
struct Walker {
    depth: usize,
    macro_depth: usize,
    /// Inline `mod` nesting, for `super::` in `use`.
    inline_modules: u32,
}

impl Walker {
    fn children(&mut self, ctx: &mut Ctx<'_>, node: Node<'_>) {
        let mut cursor = node.walk();
        let children: Vec<Node<'_>> = node.named_children(&mut cursor).collect();
        for child in children {
            self.node(ctx, child);
        }
    }

    fn node(&mut self, ctx: &mut Ctx<'_>, node: Node<'_>) {
        if self.depth > MAX_DEPTH {
            return;
        }
        self.depth += 1;
        self.visit(ctx, node);
        self.depth -= 1;
    }

    fn visit(&mut self, ctx: &mut Ctx<'_>, node: Node<'_>) {
        match node.kind() {
            "line_comment" | "block_comment" | "string_literal" | "raw_string_literal"
            | "char_literal" => {}
            "mod_item" => {
                if let Some(name) = node.child_by_field_name("name") {
                    let occ = ctx.occurrence(name, Role::Definition(DefKind::Module), None);
                    ctx.bind(ctx.text(name), occ);
                }
                if let Some(body) = node.child_by_field_name("body") {
                    self.inline_modules += 1;
                    ctx.push_scope(ScopeKind::Module);
                    self.children(ctx, body);
                    ctx.pop_scope();
                    self.inline_modules -= 1;
                }
            }
            "function_item" | "function_signature_item" => self.function(ctx, node),
            "impl_item" => self.impl_block(ctx, node),
            "trait_item" => self.owned_item(ctx, node, DefKind::Trait),
            "struct_item" | "union_item" => self.owned_item(ctx, node, DefKind::Struct),
            "enum_item" => self.owned_item(ctx, node, DefKind::Enum),
            "field_declaration" => {
                if let Some(declared) = node.child_by_field_name("type") {
                    self.node(ctx, declared);
                }
                if let Some(name) = node.child_by_field_name("name") {
                    let occ = ctx.occurrence(name, Role::Definition(DefKind::Field), None);
                    if let Some(declared) = node.child_by_field_name("type") {
                        ctx.facts(occ).declared = Some(ctx.text(declared).into());
                    }
                }
            }
            "enum_variant" => {
                if let Some(name) = node.child_by_field_name("name") {
                    ctx.occurrence(name, Role::Definition(DefKind::Variant), None);
                }
                if let Some(body) = node.child_by_field_name("body") {
                    self.node(ctx, body);
                }
            }
            "const_item" | "static_item" | "type_item" => {
                let kind = if node.kind() == "type_item" {
                    DefKind::Type
                } else {
                    DefKind::Constant
                };
                if let Some(declared) = node.child_by_field_name("type") {
                    self.node(ctx, declared);
                }
                if let Some(value) = node.child_by_field_name("value") {
                    self.node(ctx, value);
                }
                if let Some(name) = node.child_by_field_name("name") {
                    let occ = ctx.occurrence(name, Role::Definition(kind), None);
                    ctx.bind(ctx.text(name), occ);
                    if let Some(declared) = node.child_by_field_name("type") {
                        ctx.facts(occ).declared = Some(ctx.text(declared).into());
                    }
                }
            }
            "macro_definition" => {
                if let Some(name) = node.child_by_field_name("name") {
                    ctx.occurrence(name, Role::Definition(DefKind::Macro), None);
                }
                // What a rule expands to is code in waiting: its names are
                // references of unknown meaning.
                ctx.in_macro += 1;
                let mut cursor = node.walk();
                let rules: Vec<Node<'_>> = node
                    .named_children(&mut cursor)
                    .filter(|c| c.kind() == "macro_rule")
                    .collect();
                for rule in rules {
                    if let Some(right) = rule.child_by_field_name("right") {
                        self.token_identifiers(ctx, right);
                    }
                }
                ctx.in_macro -= 1;
            }
            "use_declaration" => {
                if let Some(argument) = node.child_by_field_name("argument") {
                    self.use_tree(ctx, argument, &[]);
                }
            }
            "let_declaration" => {
                if let Some(value) = node.child_by_field_name("value") {
                    self.node(ctx, value);
                }
                if let Some(alternative) = node.child_by_field_name("alternative") {
                    self.node(ctx, alternative);
                }
                if let Some(declared) = node.child_by_field_name("type") {
                    self.node(ctx, declared);
                }
                let value = node.child_by_field_name("value").map(|v| self.expr(ctx, v));
                let declared = node
                    .child_by_field_name("type")
                    .map(|t| ctx.text(t).to_owned());
                if let Some(pattern) = node.child_by_field_name("pattern") {
                    self.bind_pattern(ctx, pattern, value, declared);
                }
            }
            "let_condition" => {
                if let Some(value) = node.child_by_field_name("value") {
                    self.node(ctx, value);
                }
                let value = node.child_by_field_name("value").map(|v| {
                    let e = self.expr(ctx, v);
                    ctx.push_expr(Expr::Unwrap(e))
                });
                if let Some(pattern) = node.child_by_field_name("pattern") {
                    self.bind_pattern(ctx, pattern, value, None);
                }
            }
            "for_expression" => {
                let value = node.child_by_field_name("value");
                if let Some(value) = value {
                    self.node(ctx, value);
                }
                ctx.push_scope(ScopeKind::Local);
                let element = value.map(|v| {
                    let e = self.expr(ctx, v);
                    ctx.push_expr(Expr::Element(e))
                });
                if let Some(pattern) = node.child_by_field_name("pattern") {
                    self.bind_pattern(ctx, pattern, element, None);
                }
                if let Some(body) = node.child_by_field_name("body") {
                    self.node(ctx, body);
                }
                ctx.pop_scope();
            }
            "match_arm" => {
                ctx.push_scope(ScopeKind::Local);
                if let Some(pattern) = node.child_by_field_name("pattern") {
                    self.bind_pattern(ctx, pattern, None, None);
                }
                if let Some(value) = node.child_by_field_name("value") {
                    self.node(ctx, value);
                }
                ctx.pop_scope();
            }
            "block" | "if_expression" | "while_expression" | "loop_expression" | "unsafe_block"
            | "async_block" => {
                ctx.push_scope(ScopeKind::Local);
                self.children(ctx, node);
                ctx.pop_scope();
            }
            "closure_expression" => self.closure(ctx, node, None),
            "field_expression" => {
                if let Some(value) = node.child_by_field_name("value") {
                    self.node(ctx, value);
                    if let Some(field) = node
                        .child_by_field_name("field")
                        .filter(|f| f.kind() == "field_identifier")
                    {
                        let receiver = self.expr(ctx, value);
                        let role = match ctx.tagged(field) {
                            Some(Role::Reference(kind)) => Role::Reference(kind),
                            _ => Role::Reference(RefKind::Attribute),
                        };
                        ctx.occurrence(field, role, Some(receiver));
                    }
                }
            }
            "call_expression" => self.call(ctx, node),
            "scoped_identifier" | "scoped_type_identifier" => self.path(ctx, node),
            "macro_invocation" => self.macro_call(ctx, node),
            "shorthand_field_initializer" => {
                // `Foo { name }` reads the local `name`.
                if let Some(name) = node.named_child(0) {
                    self.name(ctx, name, RefKind::Name);
                }
            }
            "field_initializer" => {
                if let Some(value) = node.child_by_field_name("value") {
                    self.node(ctx, value);
                }
            }
            "identifier" => self.name(ctx, node, RefKind::Name),
            "type_identifier" => self.name(ctx, node, RefKind::Type),
            "self"
            | "field_identifier"
            | "shorthand_field_identifier"
            | "primitive_type"
            | "metavariable" => {}
            "attribute_item" | "inner_attribute_item" => {}
            _ => self.children(ctx, node),
        }
    }

    fn name(&mut self, ctx: &mut Ctx<'_>, node: Node<'_>, kind: RefKind) {
        let text = ctx.text(node).to_owned();
        let role = match ctx.tagged(node) {
            Some(Role::Reference(tagged)) if tagged != RefKind::Name => Role::Reference(tagged),
            _ => Role::Reference(kind),
        };
        let local = ctx.lookup(&text);
        let occ = ctx.occurrence(node, role, None);
        ctx.out.occurrences[occ as usize].set_local(local);
    }

    fn function(&mut self, ctx: &mut Ctx<'_>, node: Node<'_>) {
        let Some(name) = node.child_by_field_name("name") else {
            return;
        };
        let owned = ctx.owner_stack.last().is_some_and(|&o| {
            // Functions directly inside an impl or trait body are methods.
            o != OccId::MAX
                && node
                    .parent()
                    .is_some_and(|p| p.kind() == "declaration_list")
                && matches!(
                    ctx.out.occurrences[o as usize].role(),
                    Role::Definition(DefKind::Trait) | Role::Reference(RefKind::Type)
                )
        });
        let kind = if owned {
            DefKind::Method
        } else {
            DefKind::Function
        };
        if let Some(returns) = node.child_by_field_name("return_type") {
            self.node(ctx, returns);
        }
        let mut cursor = node.walk();
        let bounds: Vec<Node<'_>> = node
            .named_children(&mut cursor)
            .filter(|c| matches!(c.kind(), "type_parameters" | "where_clause"))
            .collect();
        for bound in bounds {
            self.node(ctx, bound);
        }
        let occ = ctx.occurrence(name, Role::Definition(kind), None);
        ctx.bind(ctx.text(name), occ);
        if let Some(returns) = node.child_by_field_name("return_type") {
            ctx.facts(occ).returns = Some(ctx.text(returns).into());
        }
        // Methods of an impl keep the impl as owner; nested items do not.
        if !owned {
            ctx.owner_stack.push(u32::MAX);
        }
        ctx.function_stack.push(occ);
        ctx.push_scope(ScopeKind::Local);
        if let Some(params) = node.child_by_field_name("parameters") {
            let mut cursor = params.walk();
            let list: Vec<Node<'_>> = params.named_children(&mut cursor).collect();
            for param in list {
                if param.kind() != "parameter" {
                    continue;
                }
                if let Some(declared) = param.child_by_field_name("type") {
                    self.node(ctx, declared);
                }
                let declared = param
                    .child_by_field_name("type")
                    .map(|t| ctx.text(t).to_owned());
                if let Some(pattern) = param.child_by_field_name("pattern") {
                    self.bind_pattern(ctx, pattern, None, declared);
                }
            }
        }
        if let Some(body) = node.child_by_field_name("body") {
            // The body block is the function's scope, not a new one.
            self.children(ctx, body);
        }
        ctx.pop_scope();
        ctx.function_stack.pop();
        if !owned {
            ctx.owner_stack.pop();
        }
    }

    fn impl_block(&mut self, ctx: &mut Ctx<'_>, node: Node<'_>) {
        let self_type = node.child_by_field_name("type");
        let trait_node = node.child_by_field_name("trait");
        if let Some(t) = trait_node {
            self.node(ctx, t);
        }
        if let Some(t) = self_type {
            self.node(ctx, t);
        }
        let mut cursor = node.walk();
        let bounds: Vec<Node<'_>> = node
            .named_children(&mut cursor)
            .filter(|c| matches!(c.kind(), "type_parameters" | "where_clause"))
            .collect();
        for bound in bounds {
            self.node(ctx, bound);
        }
        // The impl's owner occurrence is its self type's name.
        let owner = self_type
            .and_then(type_name_node)
            .and_then(|n| ctx.by_node.get(&n.start_byte()).copied());
        let body = node.child_by_field_name("body");
        let deref_target = body.and_then(|b| {
            let is_deref = trait_node.is_some_and(|t| {
                let text = ctx.text(t);
                text == "Deref" || text.ends_with("::Deref")
            });
            if !is_deref {
                return None;
            }
            let mut cursor = b.walk();
            let target = b.named_children(&mut cursor).find(|c| {
                c.kind() == "type_item"
                    && c.child_by_field_name("name")
                        .is_some_and(|n| ctx.text(n) == "Target")
            });
            target
                .and_then(|t| t.child_by_field_name("type"))
                .map(|t| ctx.text(t).to_owned())
        });
        ctx.out.impls.push(ImplBlock {
            self_type: self_type
                .map(|t| ctx.text(t).to_owned())
                .unwrap_or_default(),
            trait_name: trait_node.map(|t| ctx.text(t).to_owned()),
            deref_target,
            byte_range: node.start_byte() + ctx.bom..node.end_byte() + ctx.bom,
        });
        if let Some(owner) = owner {
            ctx.owner_stack.push(owner);
        } else {
            ctx.owner_stack.push(u32::MAX);
        }
        ctx.push_scope(ScopeKind::Local);
        if let Some(body) = body {
            self.children(ctx, body);
        }
        ctx.pop_scope();
        ctx.owner_stack.pop();
    }

    /// Structs, enums, traits: the item owns what its body declares.
    fn owned_item(&mut self, ctx: &mut Ctx<'_>, node: Node<'_>, kind: DefKind) {
        let Some(name) = node.child_by_field_name("name") else {
            return self.children(ctx, node);
        };
        let occ = ctx.occurrence(name, Role::Definition(kind), None);
        ctx.bind(ctx.text(name), occ);
        let mut cursor = node.walk();
        let children: Vec<Node<'_>> = node.named_children(&mut cursor).collect();
        ctx.owner_stack.push(occ);
        for child in children {
            if child.id() != name.id() {
                self.node(ctx, child);
            }
        }
        ctx.owner_stack.pop();
    }

    fn closure(&mut self, ctx: &mut Ctx<'_>, node: Node<'_>, element_of: Option<ExprId>) {
        ctx.push_scope(ScopeKind::Local);
        if let Some(params) = node.child_by_field_name("parameters") {
            let mut cursor = params.walk();
            let list: Vec<Node<'_>> = params.named_children(&mut cursor).collect();
            for param in list {
                let (pattern, declared) = if param.kind() == "parameter" {
                    (
                        param.child_by_field_name("pattern"),
                        param.child_by_field_name("type"),
                    )
                } else {
                    (Some(param), None)
                };
                if let Some(declared) = declared {
                    self.node(ctx, declared);
                }
                let declared = declared.map(|d| ctx.text(d).to_owned());
                let value = element_of.map(|e| ctx.push_expr(Expr::Element(e)));
                if let Some(pattern) = pattern {
                    self.bind_pattern(ctx, pattern, value, declared);
                }
            }
        }
        if let Some(body) = node.child_by_field_name("body") {
            self.node(ctx, body);
        }
        ctx.pop_scope();
    }

    fn call(&mut self, ctx: &mut Ctx<'_>, node: Node<'_>) {
        let function = node.child_by_field_name("function");
        if let Some(function) = function {
            self.node(ctx, function);
        }
        let Some(arguments) = node.child_by_field_name("arguments") else {
            return;
        };
        // `recv.map(|x| ...)`: the closure's parameter is an element of `recv`.
        let adaptor_receiver = function.and_then(|f| {
            let f = if f.kind() == "generic_function" {
                f.child_by_field_name("function")?
            } else {
                f
            };
            if f.kind() != "field_expression" {
                return None;
            }
            let method = ctx.text(f.child_by_field_name("field")?);
            ELEMENT_ADAPTORS
                .contains(&method)
                .then(|| f.child_by_field_name("value"))
                .flatten()
        });
        let mut cursor = arguments.walk();
        let args: Vec<Node<'_>> = arguments.named_children(&mut cursor).collect();
        for arg in args {
            match (arg.kind(), adaptor_receiver) {
                ("closure_expression", Some(receiver)) => {
                    let e = self.expr(ctx, receiver);
                    self.closure(ctx, arg, Some(e));
                }
                _ => self.node(ctx, arg),
            }
        }
    }

    /// `a::b::c`: each segment is an occurrence whose receiver is the path
    /// before it.
    fn path(&mut self, ctx: &mut Ctx<'_>, node: Node<'_>) {
        let segments = path_segments(ctx, node);
        let nodes = path_nodes(node);
        let is_type = node.kind() == "scoped_type_identifier";
        for (i, segment) in nodes.iter().enumerate() {
            if !matches!(segment.kind(), "identifier" | "type_identifier") {
                continue;
            }
            if i == 0 {
                let kind = if is_type && nodes.len() == 1 {
                    RefKind::Type
                } else {
                    RefKind::Name
                };
                self.name(ctx, *segment, kind);
                continue;
            }
            let receiver = ctx.push_expr(Expr::path(&segments[..i]));
            let kind = match ctx.tagged(*segment) {
                Some(Role::Reference(kind)) => kind,
                _ if is_type || segment.kind() == "type_identifier" => RefKind::Type,
                _ => RefKind::Name,
            };
            ctx.occurrence(*segment, Role::Reference(kind), Some(receiver));
        }
        // Generic arguments inside the path (`Vec::<Foo>::new`).
        let mut cursor = node.walk();
        let children: Vec<Node<'_>> = node.named_children(&mut cursor).collect();
        for child in children {
            if matches!(child.kind(), "type_arguments" | "generic_type") {
                self.node(ctx, child);
            }
        }
    }

    /// Binds the names a pattern introduces.
    fn bind_pattern(
        &mut self,
        ctx: &mut Ctx<'_>,
        pattern: Node<'_>,
        value: Option<ExprId>,
        declared: Option<String>,
    ) {
        match pattern.kind() {
            "identifier" => {
                let text = ctx.text(pattern).to_owned();
                if text == "_" {
                    return;
                }
                let kind = match ctx.tagged(pattern) {
                    Some(Role::Definition(kind)) => kind,
                    _ => DefKind::Variable,
                };
                let occ = ctx.occurrence(pattern, Role::Definition(kind), None);
                ctx.bind(&text, occ);
                let facts = ctx.facts(occ);
                facts.value = value;
                facts.declared = declared.map(Into::into);
            }
            "mut_pattern" | "ref_pattern" | "reference_pattern" => {
                if let Some(inner) = pattern.named_children(&mut pattern.walk()).last() {
                    self.bind_pattern(ctx, inner, value, declared);
                }
            }
            "captured_pattern" => {
                let mut cursor = pattern.walk();
                let parts: Vec<Node<'_>> = pattern.named_children(&mut cursor).collect();
                if let Some(first) = parts.first() {
                    self.bind_pattern(ctx, *first, value, declared);
                }
                for part in parts.iter().skip(1) {
                    self.bind_pattern(ctx, *part, None, None);
                }
            }
            "tuple_struct_pattern" | "struct_pattern" => {
                // The type is a reference; the fields bind.
                if let Some(t) = pattern.child_by_field_name("type") {
                    self.node(ctx, t);
                }
                let mut cursor = pattern.walk();
                let parts: Vec<Node<'_>> = pattern.named_children(&mut cursor).collect();
                for part in parts {
                    if Some(part.id()) == pattern.child_by_field_name("type").map(|t| t.id()) {
                        continue;
                    }
                    if part.kind() == "field_pattern" {
                        match part.child_by_field_name("pattern") {
                            Some(inner) => self.bind_pattern(ctx, inner, None, None),
                            None => {
                                if let Some(name) = part.child_by_field_name("name") {
                                    self.bind_pattern(ctx, name, None, None);
                                }
                            }
                        }
                    } else {
                        let value = value.map(|v| ctx.push_expr(Expr::Unwrap(v)));
                        self.bind_pattern(ctx, part, value, None);
                    }
                }
            }
            "shorthand_field_identifier" => {
                let text = ctx.text(pattern).to_owned();
                let occ = ctx.occurrence(pattern, Role::Definition(DefKind::Variable), None);
                ctx.bind(&text, occ);
            }
            "tuple_pattern" | "slice_pattern" | "or_pattern" => {
                let mut cursor = pattern.walk();
                let parts: Vec<Node<'_>> = pattern.named_children(&mut cursor).collect();
                for part in parts {
                    self.bind_pattern(ctx, part, None, None);
                }
            }
            "scoped_identifier" | "scoped_type_identifier" | "type_identifier" => {
                self.node(ctx, pattern)
            }
            "match_pattern" => {
                if let Some(inner) = pattern.named_child(0) {
                    self.bind_pattern(ctx, inner, value, declared);
                }
                if let Some(condition) = pattern.child_by_field_name("condition") {
                    self.node(ctx, condition);
                }
            }
            _ => {}
        }
    }

    fn expr(&mut self, ctx: &mut Ctx<'_>, node: Node<'_>) -> ExprId {
        let expr = match node.kind() {
            "identifier" => {
                let text = ctx.text(node);
                let local = ctx.lookup(text);
                Expr::Name(ctx.name(text), Link::new(local))
            }
            "self" => Expr::SelfValue,
            "field_expression" => {
                let value = node.child_by_field_name("value").map(|v| self.expr(ctx, v));
                let field = node
                    .child_by_field_name("field")
                    .map(|f| ctx.name(ctx.text(f)));
                match (value, field) {
                    (Some(value), Some(field)) => Expr::Attr(value, field),
                    _ => Expr::Unknown,
                }
            }
            "call_expression" => match node.child_by_field_name("function") {
                Some(function) => {
                    let function = if function.kind() == "generic_function" {
                        function.child_by_field_name("function").unwrap_or(function)
                    } else {
                        function
                    };
                    let callee = self.expr(ctx, function);
                    // `.unwrap()` and friends give the success value.
                    let unwrapping = function.kind() == "field_expression"
                        && function.child_by_field_name("field").is_some_and(|f| {
                            matches!(ctx.text(f), "unwrap" | "expect" | "unwrap_or_default")
                        });
                    if unwrapping
                        && let Expr::Attr(inner, _) = ctx.out.exprs[callee as usize].clone()
                    {
                        Expr::Unwrap(inner)
                    } else {
                        Expr::Call(callee)
                    }
                }
                None => Expr::Unknown,
            },
            "scoped_identifier" | "scoped_type_identifier" => Expr::path(&path_segments(ctx, node)),
            "struct_expression" => match node.child_by_field_name("name") {
                Some(name) => {
                    let path = ctx.push_expr(Expr::path(&path_segments(ctx, name)));
                    Expr::Call(path)
                }
                None => Expr::Unknown,
            },
            "try_expression" => match node.named_child(0) {
                Some(inner) => {
                    let inner = self.expr(ctx, inner);
                    Expr::Unwrap(inner)
                }
                None => Expr::Unknown,
            },
            "index_expression" => match node.named_child(0) {
                Some(inner) => {
                    let inner = self.expr(ctx, inner);
                    Expr::Element(inner)
                }
                None => Expr::Unknown,
            },
            "reference_expression"
            | "parenthesized_expression"
            | "unary_expression"
            | "await_expression" => match node.named_children(&mut node.walk()).last() {
                Some(inner) => return self.expr(ctx, inner),
                None => Expr::Unknown,
            },
            "string_literal" | "raw_string_literal" => Expr::Literal(ctx.name("str")),
            "integer_literal" => Expr::Literal(ctx.name("int")),
            "float_literal" => Expr::Literal(ctx.name("float")),
            "boolean_literal" => Expr::Literal(ctx.name("bool")),
            "char_literal" => Expr::Literal(ctx.name("char")),
            "array_expression" => Expr::Literal(ctx.name("array")),
            "macro_invocation" => {
                let name = node
                    .child_by_field_name("macro")
                    .map(|m| ctx.text(m))
                    .unwrap_or("");
                match name {
                    "vec" => Expr::Literal(ctx.name("Vec")),
                    "format" => Expr::Literal(ctx.name("String")),
                    _ => Expr::Unknown,
                }
            }
            _ => Expr::Unknown,
        };
        ctx.push_expr(expr)
    }
}

/// The segments of a path node: `a::b::C` → `["a", "b", "C"]`.
fn path_segments(ctx: &Ctx<'_>, node: Node<'_>) -> Vec<String> {
    path_nodes(node)
        .iter()
        .map(|n| ctx.text(*n).to_owned())
        .collect()
}

/// The segment nodes of a path, outermost first.
fn path_nodes(node: Node<'_>) -> Vec<Node<'_>> {
    match node.kind() {
        "scoped_identifier" | "scoped_type_identifier" => {
            let mut out = node
                .child_by_field_name("path")
                .map(path_nodes)
                .unwrap_or_default();
            if let Some(name) = node.child_by_field_name("name") {
                out.push(name);
            }
            out
        }
        "generic_type" => node
            .child_by_field_name("type")
            .map(path_nodes)
            .unwrap_or_default(),
        "identifier" | "type_identifier" | "self" | "crate" | "super" => vec![node],
        _ => Vec::new(),
    }
}

/// The name node of a type: `Foo` in `Foo<T>`, `a::Foo`, `&Foo`.
fn type_name_node(node: Node<'_>) -> Option<Node<'_>> {
    match node.kind() {
        "type_identifier" => Some(node),
        "generic_type" => node.child_by_field_name("type").and_then(type_name_node),
        "scoped_type_identifier" => node.child_by_field_name("name"),
        "reference_type" => node.child_by_field_name("type").and_then(type_name_node),
        _ => None,
    }
}
