//! Go's rules in the generic walker: a method's receiver, packages named
//! by imports, values by their place in a list, struct literals.

use tree_sitter::Node;

use super::super::{Ctx, RefKind, Role};
use super::{expr, visit};

/// A Go method declaration's receiver list and the type named in it:
/// `(c *Client)`, `(l List[T])` give `Client`, `List`.
pub(super) fn receiver_type(node: Node<'_>) -> Option<(Node<'_>, Node<'_>)> {
    if node.kind() != "method_declaration" {
        return None;
    }
    let list = node.child_by_field_name("receiver")?;
    let mut ty = list.named_child(0)?.child_by_field_name("type")?;
    loop {
        ty = match ty.kind() {
            "type_identifier" => return Some((list, ty)),
            "pointer_type" | "parenthesized_type" => ty.named_child(0)?,
            "generic_type" => ty.child_by_field_name("type")?,
            _ => return None,
        };
    }
}

/// Go: the value a name in a list is bound to, by its place in the list:
/// `a, b := f(), g()`, `var a, b = f(), g()`; in `for _, v := range xs`,
/// `v` is an element of `xs` (whose type, as written, names its elements').
pub(super) fn go_value<'t>(parent: Node<'t>, name: Node<'t>) -> Option<Node<'t>> {
    let place = |list: Node<'t>| {
        let mut cursor = list.walk();
        let names: Vec<usize> = list
            .named_children(&mut cursor)
            .filter(|c| c.kind() == "identifier")
            .map(|c| c.id())
            .collect();
        names
            .iter()
            .position(|&id| id == name.id())
            .map(|i| (i, names.len()))
    };
    let (values, (at, count)) = match parent.kind() {
        "expression_list" => {
            let statement = parent.parent()?;
            let values = statement.child_by_field_name("right")?;
            match statement.kind() {
                "short_var_declaration" | "assignment_statement" => (values, place(parent)?),
                "range_clause" => {
                    return (place(parent)? == (1, 2)).then_some(values);
                }
                _ => return None,
            }
        }
        "var_spec" | "const_spec" => (parent.child_by_field_name("value")?, place(parent)?),
        _ => return None,
    };
    (values.named_child_count() == count).then(|| values.named_child(at as u32))?
}

/// Go: `Command{Use: "run", Run: run}`: each key is a field of the named
/// type (a map's keys are values, and are walked as such). True when
/// `node` was such a literal, walked here.
pub(super) fn go_struct_literal(ctx: &mut Ctx<'_>, node: Node<'_>, depth: usize) -> bool {
    if node.kind() != "composite_literal" {
        return false;
    }
    let (Some(ty), Some(body)) = (
        node.child_by_field_name("type"),
        node.child_by_field_name("body"),
    ) else {
        return false;
    };
    if !matches!(
        ty.kind(),
        "type_identifier" | "qualified_type" | "generic_type"
    ) {
        return false;
    }
    visit(ctx, ty, depth + 1);
    // The literal's value: an instance of its type.
    let instance = expr(ctx, node, 0);
    let mut cursor = body.walk();
    let elements: Vec<Node<'_>> = body.named_children(&mut cursor).collect();
    for element in elements {
        let key = (element.kind() == "keyed_element")
            .then(|| element.named_child(0))
            .flatten()
            .and_then(|k| k.named_child(0))
            .filter(|k| k.kind() == "identifier");
        match key {
            Some(key) => {
                ctx.occurrence(key, Role::Reference(RefKind::Attribute), Some(instance));
                if let Some(value) = element.named_child(1) {
                    visit(ctx, value, depth + 1);
                }
            }
            None => visit(ctx, element, depth + 1),
        }
    }
    true
}

/// Go: `node` names an imported package (and nothing in scope hides it).
pub(super) fn is_package(ctx: &Ctx<'_>, node: Node<'_>) -> bool {
    node.kind() == "identifier"
        && ctx.packages.iter().any(|p| p == ctx.text(node))
        && ctx.lookup(ctx.text(node)).is_none()
}

/// Go: the names a file's imports give their packages: the alias, or the
/// last element of the path (`yaml` for `gopkg.in/yaml.v3`).
pub(super) fn go_packages(ctx: &Ctx<'_>, top: &[Node<'_>]) -> Vec<String> {
    let mut out = Vec::new();
    let mut specs = Vec::new();
    for node in top.iter().filter(|n| n.kind() == "import_declaration") {
        let mut cursor = node.walk();
        for child in node.named_children(&mut cursor) {
            match child.kind() {
                "import_spec" => specs.push(child),
                "import_spec_list" => {
                    let mut inner = child.walk();
                    specs.extend(
                        child
                            .named_children(&mut inner)
                            .filter(|c| c.kind() == "import_spec"),
                    );
                }
                _ => {}
            }
        }
    }
    for spec in specs {
        let name = match spec.child_by_field_name("name") {
            Some(alias) if alias.kind() == "package_identifier" => ctx.text(alias).to_owned(),
            Some(_) => continue, // `.` or `_`
            None => {
                let Some(path) = spec.child_by_field_name("path") else {
                    continue;
                };
                let path = ctx.text(path).trim_matches(|c| c == '"' || c == '`');
                let last = path.rsplit('/').next().unwrap_or(path);
                let last = last.split('.').next().unwrap_or(last);
                last.trim_start_matches("go-").to_owned()
            }
        };
        out.push(name);
    }
    out
}
