//! How many arguments a method takes and a call passes, for languages whose
//! methods of one name are told apart by their parameters
//! ([`crate::languages::Spec::overloads_by_arity`]: Java, C#, C++). Read
//! from the grammars' shared field names (`parameters`, `arguments`,
//! `function`, `name`) and their parameter kinds.

use tree_sitter::Node;

/// The numbers of arguments a definition accepts, or the one a call
/// passes (`min == max`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Arity {
    pub min: u8,
    /// `u8::MAX`: any number from `min` on (varargs, `params`, `...`).
    pub max: u8,
}

impl Arity {
    /// Whether a call with `args` arguments fits.
    pub fn accepts(self, args: u8) -> bool {
        (self.min..=self.max).contains(&args)
    }
}

/// The parameters of the method or function whose name is `name`.
pub(crate) fn parameters(name: Node<'_>, text: &str) -> Option<Arity> {
    parameter_list(name).map(|list| count_parameters(list, text))
}

/// The parameter list of the method or function whose name is `name`: the
/// `parameters` field of the nearest node above it whose name (or
/// declarator) holds it — Java's and C#'s method declarations, C++'s
/// function declarator (`int Socket::send(..)`).
fn parameter_list(name: Node<'_>) -> Option<Node<'_>> {
    let mut node = name;
    for _ in 0..3 {
        node = node.parent()?;
        if let Some(list) = node.child_by_field_name("parameters") {
            let declared = node
                .child_by_field_name("name")
                .or_else(|| node.child_by_field_name("declarator"))?;
            return holds(declared, name).then_some(list);
        }
    }
    None
}

/// The arguments of the call whose callee is `name`: the name itself
/// (`send(x)`) or the member it ends (`a.send(x)`, `ns::send(x)`); `None`
/// where `name` is not what is called. C#'s `argument` nodes are given as
/// the expressions in them.
pub(crate) fn arguments(name: Node<'_>) -> Option<Vec<Node<'_>>> {
    let mut callee = name;
    for _ in 0..2 {
        let parent = callee.parent()?;
        if let Some(args) = parent.child_by_field_name("arguments") {
            let function = parent
                .child_by_field_name("function")
                .or_else(|| parent.child_by_field_name("name"))?;
            if function.id() != callee.id() {
                return None;
            }
            let mut cursor = args.walk();
            let list = args
                .named_children(&mut cursor)
                .filter(|a| a.kind() != "comment")
                .map(|a| match a.kind() {
                    "argument" => {
                        let last = u32::try_from(a.named_child_count().saturating_sub(1));
                        last.ok().and_then(|i| a.named_child(i)).unwrap_or(a)
                    }
                    _ => a,
                })
                .collect();
            return Some(list);
        }
        // Up through a member access only when `callee` is its member.
        let member = ["name", "field", "property"]
            .iter()
            .find_map(|f| parent.child_by_field_name(f));
        if member.is_none_or(|m| m.id() != callee.id()) {
            return None;
        }
        callee = parent;
    }
    None
}

/// Whether an argument of [`arguments`] is passed by reference: C#'s
/// `ref x`, `out x`, `out var x`.
pub(crate) fn by_reference(argument: Node<'_>) -> bool {
    argument.parent().is_some_and(|p| p.kind() == "argument")
        && argument
            .prev_sibling()
            .is_some_and(|m| matches!(m.kind(), "ref" | "out"))
}

/// The declared type of each parameter of the method or function whose
/// name is `name`, in order (`None` for one without a written type, and
/// for a rest parameter, which takes anything); a C# parameter taken by
/// reference reads with its modifier (`ref bool`, `out int`).
pub(crate) fn parameter_types<'t>(name: Node<'_>, text: &'t str) -> Vec<Option<&'t str>> {
    let Some(list) = parameter_list(name) else {
        return Vec::new();
    };
    let mut cursor = list.walk();
    list.named_children(&mut cursor)
        .filter(|p| {
            matches!(
                p.kind(),
                "formal_parameter"
                    | "parameter"
                    | "parameter_declaration"
                    | "optional_parameter_declaration"
            ) && &text[p.byte_range()] != "void"
        })
        .map(|p| {
            let ty = p.child_by_field_name("type")?;
            let mut cursor = p.walk();
            let by_reference = p
                .named_children(&mut cursor)
                .find(|m| m.kind() == "modifier" && matches!(&text[m.byte_range()], "ref" | "out"));
            let start = by_reference.map_or(ty.start_byte(), |m| m.start_byte());
            Some(&text[start..ty.end_byte()])
        })
        .collect()
}

fn holds(outer: Node<'_>, inner: Node<'_>) -> bool {
    outer.start_byte() <= inner.start_byte() && inner.end_byte() <= outer.end_byte()
}

/// A parameter list: each parameter counts, one with a default value
/// (C#'s and C++'s `int n = 0`) or C#'s `this` of an extension method
/// (called as `x.Method()`, or with `x` first) may be left out, and a rest
/// parameter (Java's `String... xs`, C#'s `params object[] xs`, C++'s
/// `...`) takes any number.
fn count_parameters(list: Node<'_>, text: &str) -> Arity {
    let (mut min, mut max, mut rest) = (0u8, 0u8, false);
    let mut cursor = list.walk();
    let params: Vec<Node<'_>> = list.children(&mut cursor).collect();
    for p in &params {
        match p.kind() {
            "..." | "params" | "spread_parameter" | "variadic_parameter_declaration" => rest = true,
            "optional_parameter_declaration" => max = max.saturating_add(1),
            // C's and C++'s `f(void)` takes none.
            "parameter_declaration" if &text[p.byte_range()] == "void" => {}
            "formal_parameter" | "parameter" | "parameter_declaration" => {
                max = max.saturating_add(1);
                if !may_be_left_out(*p, text) {
                    min = min.saturating_add(1);
                }
            }
            _ => {}
        }
    }
    Arity {
        min,
        max: if rest { u8::MAX } else { max },
    }
}

/// A C# parameter with a default value (`int n = 0`) or the `this` of an
/// extension method.
fn may_be_left_out(p: Node<'_>, text: &str) -> bool {
    let mut cursor = p.walk();
    p.kind() == "parameter"
        && p.children(&mut cursor)
            .any(|c| c.kind() == "=" || (c.kind() == "modifier" && &text[c.byte_range()] == "this"))
}
