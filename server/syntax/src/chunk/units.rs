//! The definitions a chunks query finds in a tree, nested: each with its
//! kind, name, display name, rows (leading comments, attributes and
//! decorators included) and whether it is test code.

use std::ops::Range;

use tree_sitter::{Node, QueryCursor, StreamingIterator, Tree};

use super::split::Cuts;
use super::{ChunkKind, Heading};
use crate::Language;
use crate::languages::Spec;
use crate::queries::QuerySet;
use crate::text::LineIndex;

/// A definition found by the chunks query, with the definitions nested in it.
pub(super) struct Unit<'tree> {
    /// Where its rows may be cut: its syntax node, or an outline's blocks.
    pub(super) cuts: Cuts<'tree>,
    pub(super) kind: ChunkKind,
    pub(super) name: Option<String>,
    /// How enclosed chunks name this one: "impl Client", "class Foo".
    pub(super) display: String,
    /// The type a method defined outside it belongs to (a Go receiver,
    /// C++'s `Socket::send`, Lua's `M.send`): its enclosing name.
    pub(super) owner: Option<String>,
    /// 0-based rows, inclusive, including leading comments and attributes.
    pub(super) rows: Range<usize>,
    /// An attribute or annotation above it marks it as test code.
    pub(super) test: bool,
    pub(super) children: Vec<Unit<'tree>>,
}

pub(super) fn collect_units<'tree>(
    lang: Language,
    queries: &QuerySet,
    query: &tree_sitter::Query,
    tree: &'tree Tree,
    body: &str,
    bom: usize,
    lines: &LineIndex,
) -> Vec<Unit<'tree>> {
    let mut found: Vec<Unit<'tree>> = Vec::new();
    let mut cursor = QueryCursor::new();
    let take_matches =
        |cursor: &mut QueryCursor, node: Node<'tree>, found: &mut Vec<Unit<'tree>>| {
            let mut matches = cursor.matches(query, node, body.as_bytes());
            while let Some(m) = matches.next() {
                if let Some(unit) = unit_from_match(lang, query, m, body, bom, lines) {
                    found.push(unit);
                }
            }
        };
    match queries.chunk_roots() {
        // Run the query only on nodes that can start a match, and never look
        // inside expressions: the same units as a whole-tree query, at a
        // fraction of the cost.
        Some(roots) => {
            cursor.set_max_start_depth(Some(0));
            let opaque = lang.opaque_kinds();
            let mut walk = tree.walk();
            'walk: loop {
                let node = walk.node();
                if roots.binary_search(&node.kind_id()).is_ok() {
                    take_matches(&mut cursor, node, &mut found);
                }
                let descend = !opaque
                    .get(node.kind_id() as usize)
                    .copied()
                    .unwrap_or(false);
                if descend && walk.goto_first_child() {
                    continue;
                }
                while !walk.goto_next_sibling() {
                    if !walk.goto_parent() {
                        break 'walk;
                    }
                }
            }
        }
        None => take_matches(&mut cursor, tree.root_node(), &mut found),
    }
    // Nest by byte range: sort by start, the longest first. Where two
    // patterns name one node, the kind listed first in `ChunkKind` wins (a
    // `const f = () => ..` is a function, not a constant).
    found.sort_by_key(|u| {
        (
            u.cuts.syntax().start_byte(),
            std::cmp::Reverse(u.cuts.syntax().end_byte()),
            u.kind,
        )
    });
    found.dedup_by_key(|u| u.cuts.syntax().id());
    nest(merge_overloads(lang.spec(), found))
}

/// Folds each signature the language calls an overload into the definition
/// of the same name and kind right below it (nothing but comments between,
/// as TypeScript requires of overloads): the definition's rows start at the
/// first signature. A chain of signatures folds into its body; signatures
/// with no body below (a declaration file) fold into the last of them.
/// `sorted` is in start order, and a signature has nothing nested in it, so
/// the definition below is the next unit.
fn merge_overloads<'tree>(spec: &Spec, sorted: Vec<Unit<'tree>>) -> Vec<Unit<'tree>> {
    if spec.overloads.is_empty() {
        return sorted;
    }
    let mut out: Vec<Unit<'tree>> = Vec::with_capacity(sorted.len());
    for mut unit in sorted {
        if let Some(prev) = out.last()
            && spec.overloads.contains(&prev.cuts.syntax().kind())
            && prev.kind == unit.kind
            && prev.name.is_some()
            && prev.name == unit.name
            && only_attached_between(spec, prev.cuts.syntax(), unit.cuts.syntax())
        {
            let signature = out.pop().expect("a last unit");
            unit.rows.start = signature.rows.start;
            unit.test |= signature.test;
        }
        out.push(unit);
    }
    out
}

fn unit_from_match<'tree>(
    lang: Language,
    query: &tree_sitter::Query,
    m: &tree_sitter::QueryMatch<'_, 'tree>,
    body: &str,
    bom: usize,
    lines: &LineIndex,
) -> Option<Unit<'tree>> {
    let names = query.capture_names();
    let mut node = None;
    let mut kind = None;
    let mut name = None;
    let mut trait_name = None;
    let mut receiver = None;
    let mut name_start = None;
    for capture in m.captures() {
        let capture_name = names[capture.index as usize];
        let text = capture.node.utf8_text(body.as_bytes()).unwrap_or("");
        if let Some(k) = capture_name.strip_prefix("chunk.") {
            node = Some(capture.node);
            kind = ChunkKind::from_name(k);
        } else if capture_name == "name" {
            name = Some(text.to_owned());
            name_start = Some(capture.node.start_byte());
        } else if capture_name == "trait" {
            trait_name = Some(collapse_whitespace(text));
        } else if capture_name == "receiver" {
            receiver = Some(bare_type(text));
        }
    }
    let (node, mut kind) = (node?, kind?);
    let spec = lang.spec();
    if kind == ChunkKind::Constant && !at_top_level(spec, node) {
        return None;
    }
    // `Socket::send`, `M.send`, `M:send`: a method of its qualifier.
    let mut name = name.map(|n| collapse_whitespace(&n));
    let mut owner = receiver;
    if matches!(kind, ChunkKind::Function | ChunkKind::Method)
        && let Some(written) = name.take()
    {
        match written.rfind([':', '.']) {
            Some(at) if at > 0 && at + 1 < written.len() => {
                let qualifier = written[..at].trim_end_matches(':');
                owner = Some(bare_type(qualifier));
                name = Some(written[at + 1..].to_owned());
                kind = ChunkKind::Method;
            }
            _ => name = Some(written),
        }
    }
    if owner.is_some() {
        kind = ChunkKind::Method;
    }
    let (name, display) = describe(lang, kind, name, trait_name);
    let start = leading_start(lang, node, body);
    let end = node.end_byte().max(start + 1);
    let rows = lines.row_of(start + bom)..lines.row_of(end - 1 + bom) + 1;
    // Attributes above the definition and annotations in its header, up to
    // its name (Java's and C#'s are inside the declaration).
    let header_end = name_start.unwrap_or(node.start_byte()).clamp(start, end);
    let leading = &body[start..header_end];
    // On attribute lines only: a doc comment may mention `#[test]`.
    let test = leading.lines().any(|line| {
        let line = line.trim_start();
        line.starts_with(['#', '@', '['])
            && spec.test_markers.iter().any(|marker| line.contains(marker))
    });
    Some(Unit {
        cuts: Cuts::Node(node),
        kind,
        name,
        display,
        owner,
        rows,
        test,
        children: Vec::new(),
    })
}

/// The sections of an outline's `headings`, nested: each runs from its
/// heading to the next heading of its level or an outer one.
pub(super) fn outline_units<'a>(
    lang: Language,
    headings: &[Heading],
    lines: &LineIndex,
    bom: usize,
    cuts: Cuts<'a>,
) -> Vec<Unit<'a>> {
    // Open sections, outermost first, with their levels.
    let mut open: Vec<(u8, Unit<'a>)> = Vec::new();
    let mut roots = Vec::new();
    let close = |open: &mut Vec<(u8, Unit<'a>)>, roots: &mut Vec<Unit<'a>>, end: usize| {
        let (_, mut done) = open.pop().expect("an open section");
        done.rows.end = end;
        match open.last_mut() {
            Some((_, parent)) => parent.children.push(done),
            None => roots.push(done),
        }
    };
    for heading in headings {
        let row = lines.row_of(heading.start + bom);
        while open
            .last()
            .is_some_and(|(level, _)| *level >= heading.level)
        {
            close(&mut open, &mut roots, row);
        }
        let (name, display) = describe(lang, ChunkKind::Section, Some(heading.name.clone()), None);
        open.push((
            heading.level,
            Unit {
                cuts,
                kind: ChunkKind::Section,
                name,
                display,
                owner: None,
                rows: row..row + 1,
                test: false,
                children: Vec::new(),
            },
        ));
    }
    while !open.is_empty() {
        close(&mut open, &mut roots, lines.line_count());
    }
    roots
}

/// `Server` for `*Server`, `Map[K, V]`, `&'a mut Server<T>`, `a::b::Server`.
fn bare_type(written: &str) -> String {
    let bare = written.split(['<', '[', '(']).next().unwrap_or(written);
    let bare = bare.rsplit("::").next().unwrap_or(bare);
    let bare = bare.rsplit('.').next().unwrap_or(bare);
    bare.trim_start_matches(['*', '&', ' '])
        .rsplit(' ')
        .next()
        .unwrap_or("")
        .trim()
        .to_owned()
}

/// True when `node` (inside its wrappers) sits directly in the file, not in a
/// function, class or block.
fn at_top_level(spec: &Spec, node: Node<'_>) -> bool {
    let mut parent = node.parent();
    while let Some(p) = parent
        && (spec.wrappers.contains(&p.kind()) || p.kind() == "export_statement")
    {
        parent = p.parent();
    }
    parent.is_some_and(|p| p.parent().is_none())
}

/// Turns a list sorted by (start, longest first) into a forest by containment.
fn nest(sorted: Vec<Unit<'_>>) -> Vec<Unit<'_>> {
    fn close<'t>(stack: &mut Vec<Unit<'t>>, roots: &mut Vec<Unit<'t>>) {
        let done = stack.pop().expect("non-empty stack");
        match stack.last_mut() {
            Some(parent) => parent.children.push(done),
            None => roots.push(done),
        }
    }
    let mut roots = Vec::new();
    let mut stack: Vec<Unit<'_>> = Vec::new();
    for mut unit in sorted {
        while let Some(top) = stack.last() {
            if unit.cuts.syntax().start_byte() >= top.cuts.syntax().end_byte() {
                close(&mut stack, &mut roots);
            } else {
                break;
            }
        }
        if unit.kind == ChunkKind::Function && stack.last().is_some_and(|p| p.kind.holds_methods())
        {
            unit.kind = ChunkKind::Method;
        }
        stack.push(unit);
    }
    while !stack.is_empty() {
        close(&mut stack, &mut roots);
    }
    roots
}

/// The symbol and the display name of a definition.
fn describe(
    lang: Language,
    kind: ChunkKind,
    name: Option<String>,
    trait_name: Option<String>,
) -> (Option<String>, String) {
    let spec = lang.spec();
    let keyword = spec
        .keywords
        .iter()
        .find(|(k, _)| *k == kind)
        .map_or(kind.as_str(), |(_, word)| *word);
    if kind == ChunkKind::Impl && lang == Language::Rust {
        let written = name.map(|n| collapse_whitespace(&n)).unwrap_or_default();
        let display = match trait_name {
            Some(t) => format!("impl {t} for {written}"),
            None => format!("impl {written}"),
        };
        // `a::Client<T>` is searched for as `Client`.
        let bare = written.split('<').next().unwrap_or("").trim();
        let bare = bare
            .rsplit("::")
            .next()
            .unwrap_or(bare)
            .trim_start_matches('&');
        let symbol = (!bare.is_empty()).then(|| bare.to_owned());
        return (symbol, display);
    }
    let display = match &name {
        Some(n) if keyword.is_empty() => n.clone(),
        Some(n) => format!("{keyword} {n}"),
        None => keyword.to_owned(),
    };
    (name, display)
}

fn collapse_whitespace(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The node with the wrappers that carry it (`export`, decorators).
fn outermost<'tree>(spec: &Spec, node: Node<'tree>) -> Node<'tree> {
    let mut first = node;
    while let Some(parent) = first.parent()
        && spec.wrappers.contains(&parent.kind())
    {
        first = parent;
    }
    first
}

/// True when `below` (with its wrappers) follows `above` (with its) as a
/// sibling with only attached nodes (comments) between them.
fn only_attached_between(spec: &Spec, above: Node<'_>, below: Node<'_>) -> bool {
    let (above, below) = (outermost(spec, above), outermost(spec, below));
    let mut next = above.next_sibling();
    while let Some(node) = next {
        if node.id() == below.id() {
            return true;
        }
        if !spec.attached.contains(&node.kind()) {
            return false;
        }
        next = node.next_sibling();
    }
    false
}

/// Where a definition's chunk starts: at the wrappers that carry it
/// (decorators, `export`, `template <..>`), and before the comments,
/// attributes and decorators directly above it.
fn leading_start(lang: Language, node: Node<'_>, body: &str) -> usize {
    let spec = lang.spec();
    let mut first = outermost(spec, node);
    while let Some(prev) = first.prev_sibling() {
        let attached = spec.attached.contains(&prev.kind())
            && !(prev.start_byte() == 0 && body.starts_with("#!"));
        let adjacent = prev.end_position().row + 1 >= first.start_position().row;
        if !(attached && adjacent && starts_line(body, prev.start_byte())) {
            break;
        }
        first = prev;
    }
    first.start_byte()
}

/// True when only whitespace precedes `offset` on its line: the comment is not
/// trailing the previous statement.
fn starts_line(body: &str, offset: usize) -> bool {
    body[..offset]
        .bytes()
        .rev()
        .take_while(|&b| b != b'\n')
        .all(|b| b == b' ' || b == b'\t')
}
