//! C++: a member function defined outside its class (`double Shape::area()
//! const { .. }`) is the member its class declares: its name is read as a
//! member of the class the qualifier names, and its body sees that class's
//! members (`w * h`, `this->w`) as the body of a method written in the
//! class does.

use tree_sitter::Node;

/// The qualified name of a function definition's declarator, under
/// pointers and references (`Shape& Shape::get()`), if it has one.
fn qualified_declarator(definition: Node<'_>) -> Option<Node<'_>> {
    if definition.kind() != "function_definition" {
        return None;
    }
    let mut declarator = definition.child_by_field_name("declarator")?;
    loop {
        declarator = match declarator.kind() {
            "function_declarator" => {
                let inner = declarator.child_by_field_name("declarator")?;
                return (inner.kind() == "qualified_identifier").then_some(inner);
            }
            // A reference declarator names no field: its one declarator.
            "pointer_declarator" | "reference_declarator" => {
                declarator.child_by_field_name("declarator").or_else(|| {
                    let last = declarator.named_child_count().checked_sub(1)?;
                    declarator.named_child(u32::try_from(last).ok()?)
                })?
            }
            _ => return None,
        };
    }
}

/// The innermost qualified name of `ns::Shape::area`: `Shape::area`.
fn innermost(mut qualified: Node<'_>) -> Node<'_> {
    while let Some(name) = qualified.child_by_field_name("name")
        && name.kind() == "qualified_identifier"
    {
        qualified = name;
    }
    qualified
}

/// The class a qualified name's last part belongs to: in `Shape::area` or
/// `ns::Shape::area`, `Shape`; in `Box<T>::get`, `Box`.
fn class_of(qualified: Node<'_>) -> Option<Node<'_>> {
    let scope = innermost(qualified).child_by_field_name("scope")?;
    match scope.kind() {
        "namespace_identifier" | "type_identifier" => Some(scope),
        "template_type" => scope
            .child_by_field_name("name")
            .filter(|n| n.kind() == "type_identifier"),
        _ => None,
    }
}

/// For a member function defined outside its class: the declarator child
/// of the definition and the name of the class, which owns the body.
pub(super) fn out_of_line_owner(node: Node<'_>) -> Option<(Node<'_>, Node<'_>)> {
    let qualified = qualified_declarator(node)?;
    let declarator = node.child_by_field_name("declarator")?;
    Some((declarator, class_of(qualified)?))
}

/// For the name of a member function defined outside its class, the name of
/// the class (the qualifier before it).
pub(super) fn out_of_line_class(name: Node<'_>) -> Option<Node<'_>> {
    let parent = name.parent()?;
    let mut definition = parent;
    while matches!(
        definition.kind(),
        "qualified_identifier"
            | "function_declarator"
            | "pointer_declarator"
            | "reference_declarator"
    ) {
        definition = definition.parent()?;
    }
    let qualified = qualified_declarator(definition)?;
    let named = innermost(qualified).child_by_field_name("name")?;
    if named.id() != name.id() {
        return None;
    }
    class_of(qualified)
}
