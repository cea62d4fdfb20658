//! JavaScript's and TypeScript's module rules in the generic walker:
//! `require()`, CommonJS exports, ES imports and exports.

use tree_sitter::Node;

use super::super::{Ctx, DefKind, Import, Role};
use super::{is_name, member_access};

/// `require("./m")` in JavaScript and TypeScript: the module path.
pub(super) fn require_spec(ctx: &Ctx<'_>, call: Node<'_>) -> Option<String> {
    if !ctx.lang.is_javascript() {
        return None;
    }
    let function = call.child_by_field_name("function")?;
    if function.kind() != "identifier" || ctx.text(function) != "require" {
        return None;
    }
    let argument = call.child_by_field_name("arguments")?.named_child(0)?;
    (argument.kind() == "string").then(|| {
        ctx.text(argument)
            .trim_matches(|c| c == '"' || c == '\'' || c == '`')
            .to_owned()
    })
}

/// `exports.name = ...` or `module.exports.name = ...` at the top of a
/// CommonJS module: the node of `name`, which the module exports.
pub(super) fn commonjs_export<'t>(ctx: &Ctx<'_>, node: Node<'t>) -> Option<Node<'t>> {
    if node.kind() != "assignment_expression"
        || !ctx.lang.is_javascript()
        || ctx.scope_stack.len() > 1
    {
        return None;
    }
    let (object, member) = member_access(node.child_by_field_name("left")?)?;
    let exports = match object.kind() {
        "identifier" => ctx.text(object) == "exports",
        "member_expression" => ctx.text(object) == "module.exports",
        _ => false,
    };
    exports.then_some(member)
}

/// A JavaScript function value: `function () {..}`, `function f () {..}`,
/// `() => ..`.
pub(super) fn is_function_value(kind: &str) -> bool {
    matches!(kind, "function_expression" | "function" | "arrow_function")
}

/// `= function f () {..}` assigned to a method or an export: the
/// function's own name names it only inside its body. A definition of the
/// function, no use of what it is assigned to, and no second definition of
/// the name elsewhere ([`super::super::FileUsages::is_method_function`]).
pub(super) fn function_own_name(ctx: &mut Ctx<'_>, function: Node<'_>) {
    if let Some(own) = function.child_by_field_name("name") {
        let occ = ctx.occurrence(own, Role::Definition(DefKind::Function), None);
        ctx.method_functions.push(occ);
    }
}

/// A method assigned to an object in JavaScript: `F.prototype.m =
/// function () {..}` (or an arrow function), a method `m` of `F`'s
/// instances, and `obj.m = function () {..}` with `obj` a name (not
/// `exports`, `module` or `this`), a method of the object `obj` holds
/// (express's `res.send = function send(body) {..}`); also through a chain
/// (`res.set = res.header = function header(..) {..}`), and `obj[k] =
/// function () {..}`, whose `this` is `obj` but whose name is not known.
pub(super) struct AssignedMethod<'t> {
    /// `F`, `obj`: whose the method is, what `this` is in its body.
    pub owner: Node<'t>,
    /// What to walk before the method: `F.prototype`, `obj`, `obj[k]`.
    pub object: Node<'t>,
    /// `m`; none for `obj[k]`.
    pub method: Option<Node<'t>>,
    /// The right side: the function, or the next assignment of a chain.
    pub value: Node<'t>,
}

impl<'t> AssignedMethod<'t> {
    /// The function assigned when it is the right side itself (not the
    /// end of a chain).
    pub fn function(&self) -> Option<Node<'t>> {
        (self.value.kind() != "assignment_expression").then_some(self.value)
    }
}

pub(super) fn assigned_method<'t>(ctx: &Ctx<'_>, node: Node<'t>) -> Option<AssignedMethod<'t>> {
    if node.kind() != "assignment_expression" || !ctx.lang.is_javascript() {
        return None;
    }
    let value = node.child_by_field_name("right")?;
    let mut function = value;
    while function.kind() == "assignment_expression" {
        function = function.child_by_field_name("right")?;
    }
    if !is_function_value(function.kind()) {
        return None;
    }
    let left = node.child_by_field_name("left")?;
    let plain = |object: Node<'_>| {
        object.kind() == "identifier" && !matches!(ctx.text(object), "exports" | "module" | "this")
    };
    if left.kind() == "subscript_expression" {
        let object = left.child_by_field_name("object")?;
        return plain(object).then_some(AssignedMethod {
            owner: object,
            object: left,
            method: None,
            value,
        });
    }
    let (object, method) = member_access(left)?;
    if object.kind() == "identifier" {
        return plain(object).then_some(AssignedMethod {
            owner: object,
            object,
            method: Some(method),
            value,
        });
    }
    let (class, property) = member_access(object)?;
    (class.kind() == "identifier" && ctx.text(property) == "prototype").then_some(AssignedMethod {
        owner: class,
        object,
        method: Some(method),
        value,
    })
}

/// `module.exports = X` at the top of a CommonJS module: the value
/// assigned, which is what `require()` of the module returns.
pub(super) fn commonjs_module_value<'t>(ctx: &Ctx<'_>, node: Node<'t>) -> Option<Node<'t>> {
    if node.kind() != "assignment_expression"
        || !ctx.lang.is_javascript()
        || ctx.scope_stack.len() > 1
    {
        return None;
    }
    let left = node.child_by_field_name("left")?;
    (left.kind() == "member_expression" && ctx.text(left) == "module.exports")
        .then(|| node.child_by_field_name("right"))
        .flatten()
}

/// The name that stands for a CommonJS module's value, `assignment`
/// (`module.exports = value`): `X` of `module.exports = X`, of `= function
/// X () {..}` or `= class X {..}`, else `v` of `var v = module.exports =
/// ..` (`var v = exports = module.exports = ..` too).
pub(super) fn module_value_name<'t>(assignment: Node<'t>, value: Node<'t>) -> Option<Node<'t>> {
    if is_name(value.kind()) {
        return Some(value);
    }
    value
        .child_by_field_name("name")
        .filter(|n| is_name(n.kind()))
        .or_else(|| {
            // Up through chained assignments (`var app = exports =
            // module.exports = {}`) to the declaration.
            let mut up = assignment.parent();
            while let Some(p) = up.filter(|p| p.kind() == "assignment_expression") {
                up = p.parent();
            }
            up.filter(|p| p.kind() == "variable_declarator")
                .and_then(|p| p.child_by_field_name("name"))
                .filter(|n| is_name(n.kind()))
        })
}

/// `import { a, b as c } from "./m"`, `import * as m from "./m"`,
/// `import d from "./m"`, `export { a } from "./m"`, `export * from "./m"`:
/// what each binds, for the resolver to follow into the module's file; and
/// the module's own `export default`.
pub(super) fn js_imports(ctx: &mut Ctx<'_>, node: Node<'_>) {
    let mut cursor = node.walk();
    let default = node.kind() == "export_statement"
        && node.children(&mut cursor).any(|c| c.kind() == "default");
    if default {
        let exported = node
            .child_by_field_name("declaration")
            .and_then(|d| d.child_by_field_name("name"))
            .or_else(|| node.child_by_field_name("value"))
            .filter(|n| is_name(n.kind()));
        if let Some(exported) = exported {
            ctx.out.default_export = ctx.occ_at(exported);
        }
    }
    let Some(source) = node.child_by_field_name("source") else {
        return;
    };
    let spec = ctx
        .text(source)
        .trim_matches(|c| c == '"' || c == '\'' || c == '`');
    let module = vec![spec.to_owned()];
    let top_level = node.parent().is_some_and(|p| p.parent().is_none());
    let mut imports = Vec::new();
    let mut specifiers = Vec::new();
    let mut stack = vec![node];
    let mut glob = node.kind() == "export_statement";
    while let Some(n) = stack.pop() {
        let mut cursor = n.walk();
        for child in n.named_children(&mut cursor) {
            match child.kind() {
                "import_specifier" | "export_specifier" => specifiers.push(child),
                "namespace_import" => {
                    if let Some(name) = child.named_child(0) {
                        imports.push(Import {
                            local_name: ctx.text(name).to_owned(),
                            module: module.clone(),
                            name: None,
                            glob: false,
                            occurrences: ctx.occ_at(name).into_iter().collect(),
                            top_level,
                        });
                    }
                }
                // `import d from "./m"`: the module's default export.
                "identifier" if n.kind() == "import_clause" => {
                    imports.push(Import {
                        local_name: ctx.text(child).to_owned(),
                        module: module.clone(),
                        name: Some("default".to_owned()),
                        glob: false,
                        occurrences: ctx.occ_at(child).into_iter().collect(),
                        top_level,
                    });
                }
                "import_clause" | "named_imports" | "export_clause" => {
                    glob = false;
                    stack.push(child);
                }
                _ => {}
            }
        }
    }
    for specifier in specifiers {
        let Some(name) = specifier.child_by_field_name("name") else {
            continue;
        };
        let alias = specifier.child_by_field_name("alias");
        let local = alias.unwrap_or(name);
        let occurrences = [Some(name), alias]
            .into_iter()
            .flatten()
            .filter_map(|n| ctx.occ_at(n))
            .collect();
        imports.push(Import {
            local_name: ctx.text(local).to_owned(),
            module: module.clone(),
            name: Some(ctx.text(name).to_owned()),
            glob: false,
            occurrences,
            top_level,
        });
    }
    // `export * from "./m"`: every name of `m` is one of this module's.
    if glob && imports.is_empty() && node.kind() == "export_statement" {
        imports.push(Import {
            local_name: "*".to_owned(),
            module,
            name: None,
            glob: true,
            occurrences: Vec::new(),
            top_level,
        });
    }
    ctx.out.imports.extend(imports);
}
