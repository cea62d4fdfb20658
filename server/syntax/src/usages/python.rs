//! Python occurrences: scopes as Python has them (module, class, function,
//! lambda, comprehension; blocks open none), imports with their aliases,
//! and the facts receiver typing needs (annotations, assigned values, return
//! annotations, bases, `self.x = ...` attributes).

use tree_sitter::Node;

use super::{Ctx, DefKind, Expr, ExprId, Facts, Import, Link, OccId, RefKind, Role, ScopeKind};

/// Deeper than this, a tree is not walked further (generated code with
/// absurdly nested expressions must not overflow the stack).
const MAX_DEPTH: usize = 400;

pub(crate) fn walk(ctx: &mut Ctx<'_>) {
    let root = ctx.tree.root_node();
    let mut w = Walker {
        self_params: Vec::new(),
        depth: 0,
    };
    w.children(ctx, root);
}

struct Walker {
    /// The `self` parameter of each enclosing method.
    self_params: Vec<OccId>,
    depth: usize,
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
            "comment" => {}
            // Only the expressions of f-strings are code.
            "string" | "concatenated_string" => self.interpolations(ctx, node),
            "class_definition" => self.class(ctx, node),
            "function_definition" => self.function(ctx, node),
            "lambda" => {
                ctx.push_scope(ScopeKind::Local);
                if let Some(params) = node.child_by_field_name("parameters") {
                    self.parameters(ctx, params, false);
                }
                if let Some(body) = node.child_by_field_name("body") {
                    self.node(ctx, body);
                }
                ctx.pop_scope();
            }
            "list_comprehension"
            | "set_comprehension"
            | "dictionary_comprehension"
            | "generator_expression" => self.comprehension(ctx, node),
            "assignment" | "augmented_assignment" => self.assignment(ctx, node),
            "for_statement" => {
                let right = node.child_by_field_name("right");
                if let Some(right) = right {
                    self.node(ctx, right);
                }
                if let Some(left) = node.child_by_field_name("left") {
                    let value = right.map(|r| {
                        let e = self.expr(ctx, r);
                        ctx.push_expr(Expr::Element(e))
                    });
                    self.bind_targets(ctx, left, value, None);
                }
                for field in ["body", "alternative"] {
                    if let Some(child) = node.child_by_field_name(field) {
                        self.node(ctx, child);
                    }
                }
            }
            "with_item" => {
                let value = node.child_by_field_name("value");
                match value {
                    Some(v) if v.kind() == "as_pattern" => {
                        if let Some(inner) = v.named_child(0) {
                            self.node(ctx, inner);
                        }
                        if let Some(alias) = v.child_by_field_name("alias") {
                            self.bind_targets(ctx, alias, None, None);
                        }
                    }
                    Some(v) => self.node(ctx, v),
                    None => {}
                }
            }
            "except_clause" => {
                let mut cursor = node.walk();
                let children: Vec<Node<'_>> = node.named_children(&mut cursor).collect();
                for child in children {
                    if child.kind() == "as_pattern" {
                        let class = child.named_child(0);
                        if let Some(class) = class {
                            self.node(ctx, class);
                        }
                        if let Some(alias) = child.child_by_field_name("alias") {
                            let value = class.map(|c| {
                                let e = self.expr(ctx, c);
                                ctx.push_expr(Expr::Call(e))
                            });
                            self.bind_targets(ctx, alias, value, None);
                        }
                    } else {
                        self.node(ctx, child);
                    }
                }
            }
            "named_expression" => {
                let value = node.child_by_field_name("value");
                if let Some(v) = value {
                    self.node(ctx, v);
                }
                if let Some(name) = node.child_by_field_name("name") {
                    let value = value.map(|v| self.expr(ctx, v));
                    self.bind_targets(ctx, name, value, None);
                }
            }
            "import_statement" => self.import(ctx, node),
            "import_from_statement" => self.import_from(ctx, node),
            "global_statement" | "nonlocal_statement" => {
                // `global x` makes `x` the module's in this function: drop any
                // local binding so that lookups go outwards.
                let mut cursor = node.walk();
                let names: Vec<Node<'_>> = node.named_children(&mut cursor).collect();
                for name in names {
                    let text = ctx.text(name).to_owned();
                    let outer = ctx.lookup_outer(&text);
                    let occ = ctx.occurrence(name, Role::Reference(RefKind::Name), None);
                    ctx.out.occurrences[occ as usize].set_local(outer);
                    ctx.shadow_global(&text);
                }
            }
            "keyword_argument" => {
                if let Some(name) = node.child_by_field_name("name") {
                    ctx.occurrence(name, Role::Reference(RefKind::KeywordArgument), None);
                }
                if let Some(value) = node.child_by_field_name("value") {
                    self.node(ctx, value);
                }
            }
            "attribute" => {
                if let Some(object) = node.child_by_field_name("object") {
                    self.node(ctx, object);
                    if let Some(attr) = node.child_by_field_name("attribute") {
                        let receiver = self.expr(ctx, object);
                        let role = match ctx.tagged(attr) {
                            Some(Role::Reference(kind)) => Role::Reference(kind),
                            _ => Role::Reference(RefKind::Attribute),
                        };
                        ctx.occurrence(attr, role, Some(receiver));
                    }
                }
            }
            "identifier" => self.name(ctx, node),
            _ => self.children(ctx, node),
        }
    }

    /// A plain name in an expression.
    fn name(&mut self, ctx: &mut Ctx<'_>, node: Node<'_>) {
        let text = ctx.text(node).to_owned();
        let role = match ctx.tagged(node) {
            Some(Role::Reference(kind)) => Role::Reference(kind),
            _ => Role::Reference(RefKind::Name),
        };
        let local = ctx.lookup(&text);
        let occ = ctx.occurrence(node, role, None);
        ctx.out.occurrences[occ as usize].set_local(local);
    }

    fn interpolations(&mut self, ctx: &mut Ctx<'_>, node: Node<'_>) {
        let mut cursor = node.walk();
        let children: Vec<Node<'_>> = node.named_children(&mut cursor).collect();
        for child in children {
            match child.kind() {
                "interpolation" => {
                    if let Some(expr) = child.child_by_field_name("expression") {
                        self.node(ctx, expr);
                    }
                }
                "string" => self.interpolations(ctx, child),
                _ => {}
            }
        }
    }

    fn class(&mut self, ctx: &mut Ctx<'_>, node: Node<'_>) {
        let Some(name) = node.child_by_field_name("name") else {
            return self.children(ctx, node);
        };
        let mut bases = Vec::new();
        if let Some(superclasses) = node.child_by_field_name("superclasses") {
            self.node(ctx, superclasses);
            let mut cursor = superclasses.walk();
            let args: Vec<Node<'_>> = superclasses.named_children(&mut cursor).collect();
            for arg in args {
                if arg.kind() != "keyword_argument" {
                    bases.push(self.expr(ctx, arg));
                }
            }
        }
        let occ = ctx.occurrence(name, Role::Definition(DefKind::Class), None);
        ctx.bind(ctx.text(name), occ);
        ctx.facts(occ).bases = bases.into();
        ctx.owner_stack.push(occ);
        ctx.push_scope(ScopeKind::Class);
        if let Some(body) = node.child_by_field_name("body") {
            self.node(ctx, body);
        }
        ctx.pop_scope();
        ctx.owner_stack.pop();
    }

    fn function(&mut self, ctx: &mut Ctx<'_>, node: Node<'_>) {
        let Some(name) = node.child_by_field_name("name") else {
            return self.children(ctx, node);
        };
        let in_class = ctx
            .scope_stack
            .last()
            .is_some_and(|s| s.kind == ScopeKind::Class);
        let kind = if in_class {
            DefKind::Method
        } else {
            DefKind::Function
        };
        // Parameter annotations and defaults belong to the enclosing scope.
        let params = node.child_by_field_name("parameters");
        if let Some(params) = params {
            self.parameter_annotations(ctx, params);
        }
        if let Some(returns) = node.child_by_field_name("return_type") {
            self.node(ctx, returns);
        }
        let occ = ctx.occurrence(name, Role::Definition(kind), None);
        ctx.bind(ctx.text(name), occ);
        if let Some(returns) = node.child_by_field_name("return_type") {
            let returns: Box<str> = ctx.text(returns).into();
            // Reading a property gives what its getter returns: that is the
            // attribute's type (`frame.code.firstlineno`).
            if in_class && PROPERTIES.iter().any(|p| decorated_with(ctx, node, p)) {
                ctx.facts(occ).declared = Some(returns.clone());
            }
            ctx.facts(occ).returns = Some(returns);
        }
        let is_static = in_class && decorated_with(ctx, node, "staticmethod");
        ctx.function_stack.push(occ);
        ctx.push_scope(ScopeKind::Local);
        let first = if let Some(params) = params {
            self.parameters(ctx, params, in_class && !is_static)
        } else {
            None
        };
        if let Some(first) = first {
            self.self_params.push(first);
        }
        if let Some(body) = node.child_by_field_name("body") {
            self.node(ctx, body);
        }
        if first.is_some() {
            self.self_params.pop();
        }
        ctx.pop_scope();
        ctx.function_stack.pop();
    }

    /// Walks the annotations and default values of parameters.
    fn parameter_annotations(&mut self, ctx: &mut Ctx<'_>, params: Node<'_>) {
        let mut cursor = params.walk();
        let list: Vec<Node<'_>> = params.named_children(&mut cursor).collect();
        for param in list {
            for field in ["type", "value"] {
                if let Some(child) = param.child_by_field_name(field) {
                    self.node(ctx, child);
                }
            }
        }
    }

    /// Binds parameters; returns the first one when it is `self`/`cls`.
    fn parameters(&mut self, ctx: &mut Ctx<'_>, params: Node<'_>, method: bool) -> Option<OccId> {
        let mut cursor = params.walk();
        let list: Vec<Node<'_>> = params.named_children(&mut cursor).collect();
        let mut first = None;
        for (i, param) in list.into_iter().enumerate() {
            let (name, declared) = match param.kind() {
                "identifier" => (Some(param), None),
                "typed_parameter" => (
                    param.named_child(0).and_then(splat_name),
                    param
                        .child_by_field_name("type")
                        .map(|t| ctx.text(t).to_owned()),
                ),
                "default_parameter" | "typed_default_parameter" => (
                    param.child_by_field_name("name"),
                    param
                        .child_by_field_name("type")
                        .map(|t| ctx.text(t).to_owned()),
                ),
                "list_splat_pattern" | "dictionary_splat_pattern" => (splat_name(param), None),
                _ => (None, None),
            };
            let Some(name) = name.filter(|n| n.kind() == "identifier") else {
                continue;
            };
            let occ = ctx.occurrence(name, Role::Definition(DefKind::Parameter), None);
            ctx.bind(ctx.text(name), occ);
            if let Some(declared) = declared {
                ctx.facts(occ).declared = Some(declared.into());
            }
            if i == 0 && method {
                first = Some(occ);
            }
        }
        first
    }

    fn comprehension(&mut self, ctx: &mut Ctx<'_>, node: Node<'_>) {
        ctx.push_scope(ScopeKind::Local);
        let mut cursor = node.walk();
        let children: Vec<Node<'_>> = node.named_children(&mut cursor).collect();
        // The clauses bind the names the element expression uses: walk them
        // first, in order.
        for child in children
            .iter()
            .filter(|c| matches!(c.kind(), "for_in_clause" | "if_clause"))
        {
            if child.kind() == "for_in_clause" {
                let right = child.child_by_field_name("right");
                if let Some(right) = right {
                    self.node(ctx, right);
                }
                if let Some(left) = child.child_by_field_name("left") {
                    let value = right.map(|r| {
                        let e = self.expr(ctx, r);
                        ctx.push_expr(Expr::Element(e))
                    });
                    self.bind_targets(ctx, left, value, None);
                }
            } else {
                self.node(ctx, *child);
            }
        }
        for child in children
            .iter()
            .filter(|c| !matches!(c.kind(), "for_in_clause" | "if_clause"))
        {
            self.node(ctx, *child);
        }
        ctx.pop_scope();
    }

    fn assignment(&mut self, ctx: &mut Ctx<'_>, node: Node<'_>) {
        let right = node.child_by_field_name("right");
        if let Some(right) = right {
            self.node(ctx, right);
        }
        let declared = node.child_by_field_name("type");
        if let Some(declared) = declared {
            self.node(ctx, declared);
        }
        let Some(left) = node.child_by_field_name("left") else {
            return;
        };
        if node.kind() == "augmented_assignment" {
            // `x += 1` reads `x`.
            return self.node(ctx, left);
        }
        let value = right
            .filter(|r| r.kind() != "expression_list")
            .map(|r| self.expr(ctx, r));
        let declared = declared.map(|d| ctx.text(d).to_owned());
        self.bind_targets(ctx, left, value, declared);
    }

    /// Binds assignment targets; `self.x = ...` records an attribute of the
    /// enclosing class.
    fn bind_targets(
        &mut self,
        ctx: &mut Ctx<'_>,
        target: Node<'_>,
        value: Option<ExprId>,
        declared: Option<String>,
    ) {
        match target.kind() {
            "identifier" => {
                let text = ctx.text(target).to_owned();
                let kind = match ctx.tagged(target) {
                    Some(Role::Definition(kind)) => kind,
                    _ if ctx
                        .scope_stack
                        .last()
                        .is_some_and(|s| s.kind == ScopeKind::Class) =>
                    {
                        DefKind::Field
                    }
                    _ => DefKind::Variable,
                };
                // A second assignment to a name in the same scope is the
                // same variable.
                let existing = ctx
                    .scope_stack
                    .last()
                    .and_then(|s| s.bindings.get(&text).copied());
                let occ = ctx.occurrence(target, Role::Definition(kind), None);
                match existing {
                    Some(first) if !ctx.is_global(&text) => {
                        ctx.out.occurrences[occ as usize].set_local(Some(first))
                    }
                    _ if ctx.is_global(&text) => {
                        let outer = ctx.lookup_outer(&text);
                        ctx.out.occurrences[occ as usize].set_local(outer);
                    }
                    _ => {
                        ctx.bind(&text, occ);
                        let facts = ctx.facts(occ);
                        facts.value = value;
                        facts.declared = declared.map(Into::into);
                    }
                }
            }
            "attribute" => {
                let Some(object) = target.child_by_field_name("object") else {
                    return;
                };
                self.node(ctx, object);
                let Some(attr) = target.child_by_field_name("attribute") else {
                    return;
                };
                let receiver = self.expr(ctx, object);
                let is_self = matches!(ctx.out.exprs[receiver as usize], Expr::SelfValue);
                let role = if is_self {
                    Role::Definition(DefKind::Field)
                } else {
                    Role::Reference(RefKind::Attribute)
                };
                let occ = ctx.occurrence(attr, role, Some(receiver));
                if is_self && let Some(owner) = ctx.out.occurrences[occ as usize].owner() {
                    let name = ctx.text(attr).to_owned();
                    ctx.out.attributes.push((
                        owner,
                        name,
                        Facts {
                            declared: declared.map(Into::into),
                            value,
                            ..Facts::default()
                        },
                    ));
                }
            }
            "pattern_list" | "tuple_pattern" | "list_pattern" | "parenthesized_expression" => {
                let mut cursor = target.walk();
                let parts: Vec<Node<'_>> = target.named_children(&mut cursor).collect();
                for part in parts {
                    self.bind_targets(ctx, part, None, None);
                }
            }
            "list_splat_pattern" => {
                if let Some(inner) = target.named_child(0) {
                    self.bind_targets(ctx, inner, None, None);
                }
            }
            "as_pattern_target" => {
                if let Some(inner) = target.named_child(0) {
                    self.bind_targets(ctx, inner, value, declared);
                }
            }
            _ => self.node(ctx, target),
        }
    }

    fn import(&mut self, ctx: &mut Ctx<'_>, node: Node<'_>) {
        let mut cursor = node.walk();
        let names: Vec<Node<'_>> = node.named_children(&mut cursor).collect();
        for name in names {
            let (path, alias) = match name.kind() {
                "aliased_import" => (
                    name.child_by_field_name("name"),
                    name.child_by_field_name("alias"),
                ),
                "dotted_name" => (Some(name), None),
                _ => (None, None),
            };
            let Some(path) = path else { continue };
            let segments = dotted(ctx, path);
            let mut occurrences = Vec::new();
            for part in identifiers(path) {
                occurrences.push(ctx.occurrence(part, Role::Reference(RefKind::Import), None));
            }
            // `import a.b` binds `a`; `import a.b as c` binds `c` to `a.b`.
            let (local_name, module, bound) = match alias {
                Some(alias) => {
                    let occ = ctx.occurrence(alias, Role::Definition(DefKind::Import), None);
                    occurrences.push(occ);
                    (ctx.text(alias).to_owned(), segments.clone(), occ)
                }
                None => (
                    segments[0].clone(),
                    vec![segments[0].clone()],
                    occurrences[0],
                ),
            };
            ctx.bind(&local_name, bound);
            let top_level = ctx.scope_stack.len() == 1;
            ctx.out.imports.push(Import {
                local_name,
                module,
                name: None,
                glob: false,
                occurrences,
                top_level,
            });
        }
    }

    fn import_from(&mut self, ctx: &mut Ctx<'_>, node: Node<'_>) {
        let Some(module) = node.child_by_field_name("module_name") else {
            return;
        };
        let module_path = module_segments(ctx, module);
        for part in identifiers(module) {
            ctx.occurrence(part, Role::Reference(RefKind::Import), None);
        }
        let top_level = ctx.scope_stack.len() == 1;
        let mut cursor = node.walk();
        let children: Vec<Node<'_>> = node.named_children(&mut cursor).collect();
        for child in children {
            if child.id() == module.id() {
                continue;
            }
            if child.kind() == "wildcard_import" {
                ctx.out.imports.push(Import {
                    local_name: "*".to_owned(),
                    module: module_path.clone(),
                    name: None,
                    glob: true,
                    occurrences: Vec::new(),
                    top_level,
                });
                continue;
            }
            let (name, alias) = match child.kind() {
                "aliased_import" => (
                    child.child_by_field_name("name"),
                    child.child_by_field_name("alias"),
                ),
                "dotted_name" => (Some(child), None),
                _ => (None, None),
            };
            let Some(name) = name else { continue };
            let Some(name_id) = identifiers(name).pop() else {
                continue;
            };
            let imported = ctx.text(name_id).to_owned();
            let name_occ = ctx.occurrence(name_id, Role::Reference(RefKind::Import), None);
            let mut occurrences = vec![name_occ];
            let (local_name, bound) = match alias {
                Some(alias) => {
                    let occ = ctx.occurrence(alias, Role::Definition(DefKind::Import), None);
                    occurrences.push(occ);
                    (ctx.text(alias).to_owned(), occ)
                }
                None => (imported.clone(), name_occ),
            };
            ctx.bind(&local_name, bound);
            ctx.out.imports.push(Import {
                local_name,
                module: module_path.clone(),
                name: Some(imported),
                glob: false,
                occurrences,
                top_level,
            });
        }
    }

    /// The receiver expression of `node`, for typing.
    fn expr(&mut self, ctx: &mut Ctx<'_>, node: Node<'_>) -> ExprId {
        let expr = match node.kind() {
            "identifier" => {
                let text = ctx.text(node);
                let local = ctx.lookup(text);
                match local {
                    Some(local) if self.self_params.contains(&local) => Expr::SelfValue,
                    _ => Expr::Name(ctx.name(text), Link::new(local)),
                }
            }
            "attribute" => {
                let object = node
                    .child_by_field_name("object")
                    .map(|o| self.expr(ctx, o));
                let attr = node
                    .child_by_field_name("attribute")
                    .map(|a| ctx.name(ctx.text(a)));
                match (object, attr) {
                    (Some(object), Some(attr)) => Expr::Attr(object, attr),
                    _ => Expr::Unknown,
                }
            }
            "call" => match node.child_by_field_name("function") {
                // `super()` (or `super(Cls, self)`) in a method: the class's
                // first base, unless `super` is a name bound here.
                Some(function)
                    if function.kind() == "identifier"
                        && ctx.text(function) == "super"
                        && ctx.lookup("super").is_none()
                        && !self.self_params.is_empty() =>
                {
                    Expr::SuperValue
                }
                Some(function) => Expr::Call(self.expr(ctx, function)),
                None => Expr::Unknown,
            },
            "subscript" => match node.child_by_field_name("value") {
                Some(value) => Expr::Element(self.expr(ctx, value)),
                None => Expr::Unknown,
            },
            "parenthesized_expression" | "await" => match node.named_child(0) {
                Some(inner) => return self.expr(ctx, inner),
                None => Expr::Unknown,
            },
            "conditional_expression" | "boolean_operator" => match node.named_child(0) {
                Some(inner) => return self.expr(ctx, inner),
                None => Expr::Unknown,
            },
            "string" | "concatenated_string" => Expr::Literal(ctx.name("str")),
            "integer" => Expr::Literal(ctx.name("int")),
            "float" => Expr::Literal(ctx.name("float")),
            "true" | "false" => Expr::Literal(ctx.name("bool")),
            "none" => Expr::Literal(ctx.name("None")),
            "dictionary" | "dictionary_comprehension" => Expr::Literal(ctx.name("dict")),
            "list" | "list_comprehension" => Expr::Literal(ctx.name("list")),
            "set" | "set_comprehension" => Expr::Literal(ctx.name("set")),
            "tuple" => Expr::Literal(ctx.name("tuple")),
            _ => Expr::Unknown,
        };
        ctx.push_expr(expr)
    }
}

fn splat_name(node: Node<'_>) -> Option<Node<'_>> {
    match node.kind() {
        "identifier" => Some(node),
        "list_splat_pattern" | "dictionary_splat_pattern" => node.named_child(0),
        _ => None,
    }
}

fn identifiers(node: Node<'_>) -> Vec<Node<'_>> {
    super::identifiers_in(node)
}

fn dotted(ctx: &Ctx<'_>, node: Node<'_>) -> Vec<String> {
    identifiers(node)
        .into_iter()
        .map(|n| ctx.text(n).to_owned())
        .collect()
}

/// `..nodes` as `["..", "nodes"]`... one `.` segment per level, then names.
fn module_segments(ctx: &Ctx<'_>, node: Node<'_>) -> Vec<String> {
    if node.kind() != "relative_import" {
        return dotted(ctx, node);
    }
    let mut segments = Vec::new();
    let mut cursor = node.walk();
    let children: Vec<Node<'_>> = node.children(&mut cursor).collect();
    for child in children {
        match child.kind() {
            "import_prefix" => {
                let dots = ctx.text(child).chars().filter(|c| *c == '.').count();
                segments.extend(std::iter::repeat_n(".".to_owned(), dots));
            }
            "dotted_name" => segments.extend(dotted(ctx, child)),
            _ => {}
        }
    }
    segments
}

/// The decorators that make a method an attribute read without a call.
const PROPERTIES: &[&str] = &["property", "cached_property", "functools.cached_property"];

fn decorated_with(ctx: &Ctx<'_>, function: Node<'_>, decorator: &str) -> bool {
    let Some(parent) = function
        .parent()
        .filter(|p| p.kind() == "decorated_definition")
    else {
        return false;
    };
    let mut cursor = parent.walk();

    parent
        .named_children(&mut cursor)
        .filter(|c| c.kind() == "decorator")
        .any(|d| ctx.text(d).trim_start_matches('@').trim() == decorator)
}
