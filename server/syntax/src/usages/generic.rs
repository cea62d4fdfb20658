//! Find usages for the languages without a walker of their own: the tags
//! query says which names are definitions and references, the locals query
//! where scopes open and what binds in them. That is enough for a file's own
//! definitions and references (a local shadowing a top-level name, a
//! parameter, a member called on anything). Receivers are typed where the
//! code says the type: `this`, a parameter or variable with a declared type
//! (`gen: CodeGen`, `Socket s`), one assigned `new Client()`, a method's
//! declared return type (`gen.if(..).code(..)`). Imports are followed by
//! name (see `Workspace::only_top_level_definition`). What one language
//! family adds is in a module of its own: `js` (`require()`, CommonJS and
//! ES modules), `go` (receivers, packages, lists of values, literals).

use tree_sitter::Node;

mod cpp;
mod go;
mod js;

use super::{Ctx, DefKind, Expr, Import, Link, RefKind, Role, ScopeKind, intern};
use crate::Language;
use go::{go_packages, go_struct_literal, go_value, is_package, receiver_type};
use js::{
    assigned_method, commonjs_export, commonjs_module_value, function_own_name, is_function_value,
    js_imports, module_value_name, require_spec,
};

/// Deeper than this, a tree is not walked (generated code).
const MAX_DEPTH: usize = 400;

pub(crate) fn walk(ctx: &mut Ctx<'_>) {
    let root = ctx.tree.root_node();
    let mut cursor = root.walk();
    let children: Vec<Node<'_>> = root.named_children(&mut cursor).collect();
    if ctx.lang == Language::Go {
        ctx.packages = go_packages(ctx, &children);
    }
    if ctx.lang == Language::Java {
        ctx.out.static_imports = static_imports(ctx, &children);
    }
    for child in children {
        visit(ctx, child, 0);
    }
}

/// For a name that is a whole `case` label (Java's `case STRING:`, `case
/// STRING ->`), the value its switch is on: an enum constant there is
/// named without its enum.
fn case_subject(name: Node<'_>) -> Option<Node<'_>> {
    let label = name.parent().filter(|p| p.kind() == "switch_label")?;
    let switch = label
        .parent()
        .and_then(|group| group.parent())
        .filter(|block| block.kind() == "switch_block")?
        .parent()?;
    switch.child_by_field_name("condition")
}

/// Java's static imports among a file's top-level nodes: each class's path
/// and the member imported (`None` for `.*`).
fn static_imports(ctx: &Ctx<'_>, top: &[Node<'_>]) -> Vec<(Vec<String>, Option<String>)> {
    let mut out = Vec::new();
    for node in top.iter().filter(|n| n.kind() == "import_declaration") {
        let mut cursor = node.walk();
        let mut children = node.children(&mut cursor);
        if !children.any(|c| c.kind() == "static") {
            continue;
        }
        let written = ctx.text(*node);
        let path = written
            .trim_start_matches("import")
            .trim_start()
            .trim_start_matches("static")
            .trim_end_matches(';');
        let mut segments: Vec<String> = path
            .split('.')
            .map(|s| s.trim().to_owned())
            .filter(|s| !s.is_empty())
            .collect();
        let member = match segments.pop() {
            Some(last) if last == "*" => None,
            Some(last) => Some(last),
            None => continue,
        };
        if !segments.is_empty() {
            out.push((segments, member));
        }
    }
    out
}

/// The nodes of a function's body in the generic languages: the variables
/// declared in them are locals (no members of the class around them, for
/// `this.x`).
fn is_function(kind: &str) -> bool {
    matches!(
        kind,
        "function_declaration"
            | "function_definition"
            | "function_expression"
            | "function"
            | "generator_function"
            | "generator_function_declaration"
            | "arrow_function"
            | "method_definition"
            | "method_declaration"
            | "constructor_declaration"
            | "local_function_statement"
            | "accessor_declaration"
            | "lambda_expression"
            | "lambda_literal"
            | "func_literal"
            | "anonymous_function"
            | "method"
            | "singleton_method"
    )
}

fn visit(ctx: &mut Ctx<'_>, node: Node<'_>, depth: usize) {
    if depth > MAX_DEPTH {
        return;
    }
    // `u32::MAX`: a function, which owns nothing (its locals' owner stays
    // the class around it, for `this`).
    let function = is_function(node.kind());
    if function {
        ctx.function_stack.push(u32::MAX);
    }
    visit_node(ctx, node, depth);
    if function {
        ctx.function_stack.pop();
    }
}

fn visit_node(ctx: &mut Ctx<'_>, node: Node<'_>, depth: usize) {
    if is_comment_or_string(node.kind()) {
        // A string's interpolations are code: `${gen.name}`, `#{user.id}`.
        let mut cursor = node.walk();
        let code: Vec<Node<'_>> = node
            .named_children(&mut cursor)
            .filter(|c| c.kind().contains("substitution") || c.kind().contains("interpolat"))
            .collect();
        for child in code {
            visit(ctx, child, depth + 1);
        }
        return;
    }
    let scope = ctx.scopes.contains_key(&node.id());
    if scope {
        ctx.push_scope(ScopeKind::Local);
    }
    if let Some(assigned) = assigned_method(ctx, node) {
        // `F.prototype.m = function () {..}`: a method `m` of `F`;
        // `obj.m = function () {..}`: a method of `obj`.
        visit(ctx, assigned.object, depth + 1);
        let owners = ctx.owner_stack.len();
        let class = ctx.occ_at(assigned.owner);
        if let Some(method) = assigned.method {
            ctx.owner_stack.extend(class);
            ctx.occurrence(method, Role::Definition(DefKind::Method), None);
            ctx.owner_stack.truncate(owners);
        }
        // `function m () {..}`: its own name is the function's (no member
        // of `F`), not a use of the method.
        if let Some(function) = assigned.function() {
            function_own_name(ctx, function);
        }
        // In its body `this` is an `F` (the object).
        ctx.owner_stack.extend(class);
        visit(ctx, assigned.value, depth + 1);
        ctx.owner_stack.truncate(owners);
        if scope {
            close_scope(ctx);
        }
        return;
    }
    if let Some(value) = commonjs_module_value(ctx, node) {
        // `module.exports = X`: what `require()` of this module returns
        // (and what `import Y from "./m"` binds, as Node gives it).
        visit(ctx, value, depth + 1);
        let named = module_value_name(node, value).and_then(|n| ctx.occ_at(n));
        if named.is_some() {
            ctx.out.module_value = named;
            ctx.out.default_export = ctx.out.default_export.or(named);
        }
        if scope {
            close_scope(ctx);
        }
        return;
    }
    if let Some(name) = commonjs_export(ctx, node) {
        // `exports.f = function () {..}`: a top-level definition of `f`
        // (`exports.default = X`: the module's default export).
        let value = node.child_by_field_name("right");
        let kind = match value.map(|v| v.kind()) {
            Some(kind) if is_function_value(kind) => DefKind::Function,
            Some("class") => DefKind::Class,
            _ => DefKind::Variable,
        };
        if ctx.text(name) != "default" {
            let occ = ctx.occurrence(name, Role::Definition(kind), None);
            ctx.out.occurrences[occ as usize].set_top_level(true);
            if let Some(v) = value {
                let value = expr(ctx, v, 0);
                ctx.facts(occ).value = Some(value);
            }
        }
        if let Some(v) = value {
            // `exports.f = function f () {..}`: the function's own name,
            // as a method's (no use of the export).
            if kind == DefKind::Function {
                function_own_name(ctx, v);
            }
            visit(ctx, v, depth + 1);
            if ctx.text(name) == "default" && is_name(v.kind()) {
                ctx.out.default_export = ctx.occ_at(v);
            }
        }
        if scope {
            close_scope(ctx);
        }
        return;
    }
    if ctx.lang == Language::Go && go_struct_literal(ctx, node, depth) {
        if scope {
            close_scope(ctx);
        }
        return;
    }
    if let Some((object, member)) = member_access(node) {
        if is_package(ctx, object) {
            // Go's `flag.NewFlagSet(..)`: a name another package defines,
            // found as that bare name is (defined once in the workspace's Go
            // files).
            let kind = if is_call(node.parent()) {
                RefKind::Call
            } else {
                RefKind::Name
            };
            ctx.occurrence(member, Role::Reference(kind), None);
        } else {
            visit(ctx, object, depth + 1);
            let receiver = expr(ctx, object, 0);
            let kind = match ctx.tagged(member) {
                Some(Role::Reference(RefKind::Call)) => RefKind::Call,
                _ if is_call(node.parent()) => RefKind::Call,
                _ => RefKind::Attribute,
            };
            ctx.occurrence(member, Role::Reference(kind), Some(receiver));
            let mut cursor = node.walk();
            let rest: Vec<Node<'_>> = node
                .named_children(&mut cursor)
                .filter(|c| c.id() != object.id() && c.id() != member.id())
                .collect();
            for child in rest {
                visit(ctx, child, depth + 1);
            }
        }
        if scope {
            close_scope(ctx);
        }
        return;
    }
    match ctx.tagged(node) {
        Some(role) => name(ctx, node, role),
        None if is_name(node.kind()) && node.named_child_count() == 0 => {
            let role = if is_member(node.kind()) {
                Role::Reference(RefKind::Attribute)
            } else {
                Role::Reference(RefKind::Name)
            };
            name(ctx, node, role);
        }
        None => {
            // A class's name, met first among its children, is the owner of
            // the members that follow, up to the end of the class.
            let owners = ctx.owner_stack.len();
            let receiver = match ctx.lang {
                Language::Go => receiver_type(node),
                Language::Cpp => cpp::out_of_line_owner(node),
                _ => None,
            };
            let mut cursor = node.walk();
            let children: Vec<Node<'_>> = node.named_children(&mut cursor).collect();
            for child in children {
                visit(ctx, child, depth + 1);
                // Go's `func (c *Client) Send()`: the receiver's type, named
                // in the receiver, owns the method; C++'s `Shape::area()`
                // defined outside its class: the class owns its body.
                if let Some((list, ty)) = receiver
                    && list.id() == child.id()
                    && let Some(occ) = ctx.occ_at(ty)
                {
                    ctx.owner_stack.push(occ);
                }
            }
            ctx.owner_stack.truncate(owners);
            if matches!(node.kind(), "import_statement" | "export_statement")
                && ctx.lang.is_javascript()
            {
                js_imports(ctx, node);
            }
        }
    }
    if scope {
        close_scope(ctx);
    }
}

/// Closes the innermost scope, binding the names met in it (or deeper)
/// before their declaration further down it: in JavaScript and TypeScript a
/// name declared anywhere in a block is in scope in all of it (`helper()`
/// above `function helper()`, a closure calling a later `const`).
fn close_scope(ctx: &mut Ctx<'_>) {
    let depth = ctx.scope_stack.len();
    if let Some(scope) = ctx.scope_stack.last()
        && !ctx.unresolved.is_empty()
    {
        let occurrences = &mut ctx.out.occurrences;
        ctx.unresolved.retain(|&(occ, at)| {
            if at < depth {
                return true;
            }
            let o = &mut occurrences[occ as usize];
            match scope.bindings.get(o.name.as_str()) {
                Some(&binding) if binding != occ => {
                    o.set_local(Some(binding));
                    false
                }
                _ => true,
            }
        });
    }
    ctx.pop_scope();
}

/// One tagged or plain name.
fn name(ctx: &mut Ctx<'_>, node: Node<'_>, role: Role) {
    let text = ctx.text(node).to_owned();
    match role {
        Role::Definition(kind) => {
            // C++'s `Shape::area` defined outside its class: a member of
            // the class the qualifier names.
            let class = (ctx.lang == Language::Cpp && kind == DefKind::Method)
                .then(|| cpp::out_of_line_class(node))
                .flatten();
            let receiver = class.map(|class| expr(ctx, class, 0));
            let occ = ctx.occurrence(node, role, receiver);
            record_facts(ctx, node, occ, kind);
            // A named definition that opens a scope (a function, a class)
            // binds its name outside that scope: in the scope of its parent.
            let opens_scope = node
                .parent()
                .is_some_and(|p| ctx.scopes.contains_key(&p.id()));
            let outside = opens_scope && ctx.scope_stack.len() > 1;
            if ctx.lang == Language::Go && matches!(kind, DefKind::Field | DefKind::Method) {
                // A Go method or field is reached through a value of its
                // type, never by its bare name: `string` is the builtin type
                // even beside a method named `string`, `*Route` the type
                // even beside a field named `Route`.
                ctx.out.occurrences[occ as usize].set_top_level(false);
            } else if kind == DefKind::Parameter || !outside {
                bind_or_link(ctx, &text, occ, kind);
            } else {
                let at = ctx.scope_stack.len() - 2;
                let top_level = ctx.scope_stack[at].kind == ScopeKind::Module;
                ctx.out.occurrences[occ as usize].set_top_level(top_level);
                ctx.scope_stack[at].bindings.insert(text, occ);
            }
            if kind.is_type() {
                record_bases(ctx, node, occ);
                ctx.owner_stack.push(occ);
            }
        }
        Role::Reference(kind) => {
            if is_member(node.kind()) {
                // `x.send()`: a member of whatever `x` is.
                let receiver = ctx.push_expr(Expr::Unknown);
                let kind = if kind == RefKind::Name {
                    RefKind::Attribute
                } else {
                    kind
                };
                ctx.occurrence(node, Role::Reference(kind), Some(receiver));
            } else {
                let local = ctx.lookup(&text);
                let occ = ctx.occurrence(node, role, None);
                ctx.out.occurrences[occ as usize].set_local(local);
                if ctx.lang == Language::Java
                    && let Some(subject) = case_subject(node)
                {
                    let subject = expr(ctx, subject, 0);
                    ctx.out.case_labels.push((occ, subject));
                }
                if local.is_none() && ctx.lang.is_javascript() {
                    ctx.unresolved.push((occ, ctx.scope_stack.len()));
                }
            }
        }
    }
}

/// The type a literal of Java or C# has, by its node kind (`"text"`:
/// `String` in Java, `string` in C#; `Foo.class`: `Class`, `typeof(Foo)`:
/// `Type`): what tells a call's overloads apart
/// when they differ by a primitive parameter. Read for a call's arguments
/// only: a variable that holds a literal stays untyped, so that an
/// extension method called on it (C#'s `name.Slugify()`) still counts by
/// its name.
pub(crate) fn literal_type(lang: Language, kind: &str) -> Option<&'static str> {
    match lang {
        Language::Java => match kind {
            "string_literal" | "text_block" => Some("String"),
            "decimal_integer_literal"
            | "hex_integer_literal"
            | "octal_integer_literal"
            | "binary_integer_literal" => Some("int"),
            "decimal_floating_point_literal" => Some("double"),
            "true" | "false" => Some("boolean"),
            "character_literal" => Some("char"),
            "class_literal" => Some("Class"),
            _ => None,
        },
        Language::CSharp => match kind {
            "string_literal"
            | "verbatim_string_literal"
            | "raw_string_literal"
            | "interpolated_string_expression" => Some("string"),
            "integer_literal" => Some("int"),
            "real_literal" => Some("double"),
            "boolean_literal" => Some("bool"),
            "character_literal" => Some("char"),
            "typeof_expression" => Some("Type"),
            _ => None,
        },
        _ => None,
    }
}

/// The object and the member name of a member access (`a.b`, `a->b`,
/// `a.m(..)` in Java), by each grammar's field names.
fn member_access(node: Node<'_>) -> Option<(Node<'_>, Node<'_>)> {
    let (object, member) = match node.kind() {
        "member_expression" => ("object", "property"),
        "field_access" => ("object", "field"),
        "method_invocation" => ("object", "name"),
        "member_access_expression" => ("expression", "name"),
        "selector_expression" => ("operand", "field"),
        "field_expression" if node.child_by_field_name("argument").is_some() => {
            ("argument", "field")
        }
        "field_expression" => ("value", "field"),
        "member_call_expression" | "nullsafe_member_call_expression" => ("object", "name"),
        "dot_index_expression" => ("table", "field"),
        "method_index_expression" => ("table", "method"),
        "call" => ("receiver", "method"),
        _ => return None,
    };
    let object = node.child_by_field_name(object)?;
    let member = node.child_by_field_name(member)?;
    is_name(member.kind()).then_some((object, member))
}

/// A call's function position: `a.b(..)` calls `b`.
fn is_call(parent: Option<Node<'_>>) -> bool {
    parent.is_some_and(|p| {
        matches!(
            p.kind(),
            "call_expression" | "invocation_expression" | "method_invocation" | "function_call"
        )
    })
}

/// The receiver expression of `node`, for typing.
pub(crate) fn expr(ctx: &mut Ctx<'_>, node: Node<'_>, depth: usize) -> super::ExprId {
    let value = if depth > 16 {
        Expr::Unknown
    } else {
        match node.kind() {
            "this" | "self" | "this_expression" | "self_expression" => Expr::SelfValue,
            "super" | "base_expression" | "super_expression" => Expr::SuperValue,
            kind if is_name(kind) && node.named_child_count() == 0 => {
                let text = ctx.text(node);
                let local = ctx.lookup(text);
                Expr::Name(ctx.name(text), Link::new(local))
            }
            "call_expression" if require_spec(ctx, node).is_some() => {
                Expr::Require(intern(&require_spec(ctx, node).unwrap_or_default()))
            }
            "call_expression" | "invocation_expression" | "function_call" => {
                match node
                    .child_by_field_name("function")
                    .or_else(|| node.child_by_field_name("name"))
                    .or_else(|| node.named_child(0))
                {
                    Some(function) => Expr::Call(expr(ctx, function, depth + 1)),
                    None => Expr::Unknown,
                }
            }
            "method_invocation" | "member_call_expression" => {
                let callee = match member_access(node) {
                    Some((object, member)) => {
                        let object = expr(ctx, object, depth + 1);
                        Expr::Attr(object, ctx.name(ctx.text(member)))
                    }
                    None => match node.child_by_field_name("name") {
                        Some(name) => {
                            let text = ctx.text(name);
                            let local = ctx.lookup(text);
                            Expr::Name(ctx.name(text), Link::new(local))
                        }
                        None => Expr::Unknown,
                    },
                };
                let callee = ctx.push_expr(callee);
                Expr::Call(callee)
            }
            "new_expression" | "object_creation_expression" => {
                match node
                    .child_by_field_name("constructor")
                    .or_else(|| node.child_by_field_name("type"))
                {
                    Some(class) if ctx.lang.is_javascript() => {
                        Expr::New(expr(ctx, class, depth + 1))
                    }
                    Some(class) => Expr::Call(expr(ctx, class, depth + 1)),
                    None => Expr::Unknown,
                }
            }
            // Java's `TypeAdapter<Number>` (`new TypeAdapter<Number>() {..}`),
            // C#'s `List<Item>`: the generic type's name.
            "generic_type" | "generic_name" => match node.named_child(0) {
                Some(name) => return expr(ctx, name, depth + 1),
                None => Expr::Unknown,
            },
            // Go: `&Client{..}`, `Client{..}`: a value of that type.
            "unary_expression" if ctx.lang == Language::Go && ctx.text(node).starts_with('&') => {
                match node.child_by_field_name("operand") {
                    Some(inner) => return expr(ctx, inner, depth + 1),
                    None => Expr::Unknown,
                }
            }
            "composite_literal" => match node.child_by_field_name("type") {
                Some(ty) => Expr::Call(expr(ctx, ty, depth + 1)),
                None => Expr::Unknown,
            },
            "parenthesized_expression" | "await_expression" | "non_null_expression" => {
                match node.named_child(0) {
                    Some(inner) => return expr(ctx, inner, depth + 1),
                    None => Expr::Unknown,
                }
            }
            _ => match member_access(node) {
                // Go's `flag.NewFlagSet`: another package's name, as the
                // bare name is resolved.
                Some((object, member)) if is_package(ctx, object) => {
                    Expr::Name(ctx.name(ctx.text(member)), Link::NONE)
                }
                Some((object, member)) => {
                    let object = expr(ctx, object, depth + 1);
                    Expr::Attr(object, ctx.name(ctx.text(member)))
                }
                None => Expr::Unknown,
            },
        }
    };
    ctx.push_expr(value)
}

/// What a definition says of its type: the declared type of a parameter,
/// variable or field (`x: Foo`, `Foo x`, `x Foo`), the value a variable is
/// given (`= new Foo()`), a function's declared return type.
fn record_facts(ctx: &mut Ctx<'_>, name: Node<'_>, occ: super::OccId, kind: DefKind) {
    let Some(parent) = name.parent() else {
        return;
    };
    if matches!(kind, DefKind::Function | DefKind::Method) {
        let returns = ["return_type", "returns", "result", "type"]
            .iter()
            .find_map(|f| parent.child_by_field_name(f));
        if let Some(returns) = returns {
            let text = ctx.text(returns).trim_start_matches(':').trim().to_owned();
            ctx.facts(occ).returns = Some(text.into());
        }
        return;
    }
    if !matches!(
        kind,
        DefKind::Parameter | DefKind::Variable | DefKind::Field | DefKind::Constant
    ) {
        return;
    }
    // `const { gen, data: d } = it`: `gen` is `it.gen`, `d` is `it.data`.
    let pattern = match parent.kind() {
        "object_pattern" => Some((parent, name)),
        "pair_pattern" => parent
            .parent()
            .filter(|p| p.kind() == "object_pattern")
            .zip(parent.child_by_field_name("key")),
        _ => None,
    };
    if let Some((object_pattern, key)) = pattern {
        if let Some(value) = object_pattern
            .parent()
            .filter(|d| d.kind() == "variable_declarator")
            .and_then(|d| d.child_by_field_name("value"))
        {
            // `const { a, b: c } = require("./m")`: imports of `a` and `b`.
            if let Some(spec) = require_spec(ctx, value) {
                let key_occ = ctx.occ_at(key);
                let occurrences =
                    [key_occ, Some(occ)]
                        .into_iter()
                        .flatten()
                        .fold(Vec::new(), |mut v, o| {
                            if !v.contains(&o) {
                                v.push(o);
                            }
                            v
                        });
                let top_level = ctx.scope_stack.len() == 1;
                ctx.out.imports.push(Import {
                    local_name: ctx.text(name).to_owned(),
                    module: vec![spec],
                    name: Some(ctx.text(key).to_owned()),
                    glob: false,
                    occurrences,
                    top_level,
                });
                return;
            }
            let object = expr(ctx, value, 0);
            let member = ctx.name(ctx.text(key));
            let value = ctx.push_expr(Expr::Attr(object, member));
            ctx.facts(occ).value = Some(value);
        }
        return;
    }
    // The type sits beside the name (`x: Foo`, Go's `x Foo`) or on the
    // declaration around it (Java's and C#'s `Foo x = ..`).
    let declared = parent
        .child_by_field_name("type")
        .or_else(|| parent.parent().and_then(|g| g.child_by_field_name("type")));
    if let Some(declared) = declared
        && declared.id() != name.id()
    {
        let text = ctx.text(declared).trim_start_matches(':').trim().to_owned();
        ctx.facts(occ).declared = Some(text.into());
    }
    // Go's lists (`a, b := f(), g()`) give a name the value at its place.
    let value = go_value(parent, name).or_else(|| {
        parent
            .child_by_field_name("value")
            .filter(|value| value.id() != name.id())
    });
    if let Some(value) = value {
        let value = expr(ctx, value, 0);
        ctx.facts(occ).value = Some(value);
    }
}

/// What a class or interface extends or implements (`class A extends B
/// implements C`, Java's `extends` and `implements`, C#'s `: Base, IFoo`,
/// Kotlin's and Swift's `: Base`): the names of its bases, for member lookup
/// along them and for linking a method to the one it overrides.
fn record_bases(ctx: &mut Ctx<'_>, name: Node<'_>, occ: super::OccId) {
    let Some(declaration) = name.parent() else {
        return;
    };
    let mut cursor = declaration.walk();
    let clauses: Vec<Node<'_>> = declaration
        .named_children(&mut cursor)
        .filter(|c| is_heritage(c.kind()))
        .collect();
    let mut bases = Vec::new();
    for clause in clauses {
        base_names(ctx, clause, &mut bases, 0);
    }
    // Go: a struct's embedded fields (`type Route struct { routeConf }`)
    // lend it their fields and methods.
    if declaration.kind() == "type_spec"
        && let Some(fields) = declaration
            .child_by_field_name("type")
            .filter(|t| t.kind() == "struct_type")
            .and_then(|t| t.named_child(0))
    {
        let mut cursor = fields.walk();
        let embedded: Vec<Node<'_>> = fields
            .named_children(&mut cursor)
            .filter(|f| f.kind() == "field_declaration" && f.child_by_field_name("name").is_none())
            .filter_map(|f| f.child_by_field_name("type"))
            .collect();
        for ty in embedded {
            base_names(ctx, ty, &mut bases, 0);
        }
    }
    if !bases.is_empty() {
        ctx.facts(occ).bases = bases.into();
    }
}

fn base_names(ctx: &mut Ctx<'_>, node: Node<'_>, out: &mut Vec<super::ExprId>, depth: usize) {
    // `extends Base<Arg>`: the arguments are not bases; nor are a Kotlin
    // constructor call's arguments.
    if depth > 8 || node.kind().contains("argument") || is_comment_or_string(node.kind()) {
        return;
    }
    if (is_name(node.kind()) && node.named_child_count() == 0) || member_access(node).is_some() {
        out.push(expr(ctx, node, 0));
        return;
    }
    let mut cursor = node.walk();
    let children: Vec<Node<'_>> = node.named_children(&mut cursor).collect();
    for child in children {
        base_names(ctx, child, out, depth + 1);
    }
}

/// The clauses that name a type's bases, by each grammar's node kinds.
fn is_heritage(kind: &str) -> bool {
    [
        "heritage",
        "extends",
        "implements",
        "superclass",
        "super_interfaces",
        "base_list",
        "base_clause",
        "base_class_clause",
        "interface_clause",
        "delegation_specifier",
        "inheritance_specifier",
    ]
    .iter()
    .any(|k| kind.contains(k))
}

/// A variable assigned again (`x = 1; x = 2` in a scripting language) is the
/// first binding's; anything else binds anew.
fn bind_or_link(ctx: &mut Ctx<'_>, text: &str, occ: super::OccId, kind: DefKind) {
    let innermost = ctx
        .scope_stack
        .last()
        .and_then(|s| s.bindings.get(text).copied());
    match innermost {
        Some(first) if kind == DefKind::Variable => {
            ctx.out.occurrences[occ as usize].set_local(Some(first));
        }
        _ => ctx.bind(text, occ),
    }
}

fn is_comment_or_string(kind: &str) -> bool {
    kind.contains("comment")
        || matches!(
            kind,
            "string"
                | "string_literal"
                | "raw_string_literal"
                | "interpreted_string_literal"
                | "template_string"
                | "string_content"
                | "line_string_literal"
                | "multi_line_string_literal"
                | "raw_string"
                | "heredoc_body"
                | "encapsed_string"
                | "verbatim_string_literal"
                | "character_literal"
                | "char_literal"
        )
}

/// Nodes that are a name whatever the language (`word` in Bash is only a
/// name where the tags query says so).
fn is_name(kind: &str) -> bool {
    matches!(
        kind,
        "identifier"
            | "type_identifier"
            | "field_identifier"
            | "property_identifier"
            | "private_property_identifier"
            | "shorthand_property_identifier"
            | "shorthand_property_identifier_pattern"
            | "simple_identifier"
            | "namespace_identifier"
            | "constant"
            | "name"
    )
}

/// Names that are always a member of something: `x.name`.
fn is_member(kind: &str) -> bool {
    matches!(
        kind,
        "field_identifier" | "property_identifier" | "private_property_identifier"
    )
}
