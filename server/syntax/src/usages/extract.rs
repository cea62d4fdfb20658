//! The walk that extracts a file's occurrences: the tags and locals queries
//! say what each identifier is; the walk adds receivers, local resolution and
//! type facts (the module comment of [`super`]), per language in `python`,
//! `rust` and `generic`.

use std::collections::HashMap;
use std::ops::Range;

use tree_sitter::{Node, QueryCursor, StreamingIterator, Tree};

use super::occurrence::MAX_OCCURRENCES;
use super::{
    DefKind, Expr, ExprId, Facts, FileUsages, Name, OccId, Occurrence, Place, RefKind, Role, arity,
    generic, intern, python, rust,
};
use crate::Language;
use crate::chunk::parse;
use crate::queries::{QueryKind, QuerySet};
use crate::text::{LineIndex, strip_bom};

/// Syntax trees deeper than this are not walked at all. The walks and their
/// helpers recurse over the tree, and a file nested tens of thousands deep
/// (ten thousand parentheses, an attribute chain `a.b.b.b…`, generated or
/// planted in a repository) overflowed the stack and aborted the process:
/// `dowse usages`, and the language server on its first find-references.
/// No code a person writes comes near it (CPython refuses 200 nested
/// parentheses).
pub(crate) const MAX_TREE_DEPTH: usize = 1000;

/// Extracts the occurrences of one file; `None` for languages without a
/// grammar, when the tags query is disabled, for a file of more than
/// [`MAX_OCCURRENCES`] identifiers, or one whose tree is deeper than
/// [`MAX_TREE_DEPTH`].
pub fn extract(lang: Language, text: &str) -> Option<FileUsages> {
    if lang.usages() == crate::UsageSupport::None {
        return None;
    }
    let queries = QuerySet::of(lang);
    let tags = queries.get(QueryKind::Tags)?;
    let (body, bom) = strip_bom(text);
    let first_branches;
    let body = if lang.spec().first_branch_only {
        first_branches = first_branch_only(body);
        first_branches.as_str()
    } else {
        body
    };
    let tree = parse(lang, body)?;
    if deeper_than(&tree, MAX_TREE_DEPTH) {
        tracing::debug!("a syntax tree deeper than {MAX_TREE_DEPTH}: no usages for this file");
        return None;
    }
    let mut ctx = Ctx::new(lang, body, bom, text, &tree);
    ctx.read_tags(tags);
    if let Some(locals) = queries.get(QueryKind::Locals) {
        ctx.read_locals(locals);
    }
    match lang {
        Language::Python => python::walk(&mut ctx),
        Language::Rust => rust::walk(&mut ctx),
        _ => generic::walk(&mut ctx),
    }
    let usages = ctx.finish();
    if usages.occurrences.len() > MAX_OCCURRENCES || usages.exprs.len() > MAX_OCCURRENCES {
        tracing::debug!(
            "{} identifiers: more than find usages keeps for one file",
            usages.occurrences.len()
        );
        return None;
    }
    Some(usages)
}

/// Whether some node of `tree` lies more than `limit` levels below the
/// root, found without recursion.
fn deeper_than(tree: &Tree, limit: usize) -> bool {
    let mut cursor = tree.walk();
    let mut depth = 0;
    loop {
        if cursor.goto_first_child() {
            depth += 1;
            if depth > limit {
                return true;
            }
            continue;
        }
        while !cursor.goto_next_sibling() {
            if !cursor.goto_parent() {
                return false;
            }
            depth -= 1;
        }
    }
}

/// The shared state of one extraction.
pub(crate) struct Ctx<'a> {
    pub lang: Language,
    /// The text without a BOM, as parsed.
    pub body: &'a str,
    pub bom: usize,
    pub tree: &'a Tree,
    lines: LineIndex,
    /// Definition name nodes from tags.scm and locals.scm.
    pub defs: HashMap<usize, DefKind>,
    /// Reference name nodes from tags.scm.
    pub refs: HashMap<usize, RefKind>,
    /// Scope nodes from locals.scm.
    pub scopes: HashMap<usize, ()>,
    pub out: FileUsages,
    /// Bindings visible in each open scope, innermost last.
    pub scope_stack: Vec<Scope>,
    pub owner_stack: Vec<OccId>,
    pub function_stack: Vec<OccId>,
    /// How many macro token trees enclose the walk.
    pub in_macro: u32,
    /// Occurrence ids by start byte of the name.
    pub by_node: HashMap<usize, OccId>,
    /// The names met so far, shared (see [`name`]).
    names: HashMap<&'a str, Name>,
    /// Type facts found so far, by occurrence ([`FileUsages::facts`] when
    /// the walk is done).
    facts: HashMap<OccId, Facts>,
    /// Names met before anything in scope bound them, with the depth of
    /// the scope stack there: a JavaScript function (or `const`) declared
    /// further down its block binds them when the block closes.
    pub unresolved: Vec<(OccId, usize)>,
    /// Go: the names this file's imports give their packages (`flag` for
    /// `flag "github.com/spf13/pflag"`, `http` for `"net/http"`).
    pub packages: Vec<String>,
    /// [`FileUsages::arity`]'s table, in the order occurrences are made.
    arities: Vec<(OccId, super::Arity)>,
    /// [`FileUsages::method_functions`] (sorted when finished).
    pub method_functions: Vec<OccId>,
    parameter_types: Vec<(OccId, Box<[Box<str>]>)>,
    arguments: Vec<(OccId, Box<[ExprId]>)>,
}

/// A scope being walked: its bindings by name.
pub(crate) struct Scope {
    pub kind: ScopeKind,
    pub bindings: HashMap<String, OccId>,
    /// Names declared `global` / `nonlocal` here (Python).
    pub globals: Vec<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ScopeKind {
    /// The file, or a Rust `mod` body: names bound here are top level.
    Module,
    /// A Python class body: its names are not visible in its methods.
    Class,
    /// A function, lambda, closure, comprehension or block.
    Local,
}

impl<'a> Ctx<'a> {
    fn new(lang: Language, body: &'a str, bom: usize, text: &str, tree: &'a Tree) -> Ctx<'a> {
        Ctx {
            lang,
            body,
            bom,
            tree,
            lines: LineIndex::new(text),
            defs: HashMap::new(),
            refs: HashMap::new(),
            scopes: HashMap::new(),
            out: FileUsages::default(),
            scope_stack: vec![Scope {
                kind: ScopeKind::Module,
                bindings: HashMap::new(),
                globals: Vec::new(),
            }],
            owner_stack: Vec::new(),
            function_stack: Vec::new(),
            by_node: HashMap::new(),
            in_macro: 0,
            names: HashMap::new(),
            facts: HashMap::new(),
            unresolved: Vec::new(),
            packages: Vec::new(),
            arities: Vec::new(),
            method_functions: Vec::new(),
            parameter_types: Vec::new(),
            arguments: Vec::new(),
        }
    }

    /// The shared copy of a name of this file.
    pub fn name(&mut self, text: &'a str) -> Name {
        self.names
            .entry(text)
            .or_insert_with(|| intern(text))
            .clone()
    }

    fn read_tags(&mut self, query: &tree_sitter::Query) {
        let names = query.capture_names();
        let mut cursor = QueryCursor::new();
        let mut matches = cursor.matches(query, self.tree.root_node(), self.body.as_bytes());
        while let Some(m) = matches.next() {
            let mut name_node = None;
            let mut role = None;
            for capture in m.captures() {
                let capture_name = names[capture.index as usize];
                if capture_name == "name" {
                    name_node = Some(capture.node);
                } else if let Some(kind) = capture_name.strip_prefix("definition.") {
                    role = DefKind::from_capture(kind).map(Role::Definition);
                } else if let Some(kind) = capture_name.strip_prefix("reference.") {
                    role = Some(Role::Reference(match kind {
                        "call" => RefKind::Call,
                        "type" | "implementation" => RefKind::Type,
                        "import" => RefKind::Import,
                        "macro" => RefKind::Macro,
                        "field" | "attribute" => RefKind::Attribute,
                        _ => RefKind::Name,
                    }));
                }
            }
            let (Some(node), Some(role)) = (name_node, role) else {
                continue;
            };
            // A capture may be a whole path (`use a::b`); its identifiers are
            // the names.
            for id in identifiers_in(node) {
                match role {
                    Role::Definition(kind) => {
                        self.defs.entry(id.id()).or_insert(kind);
                    }
                    Role::Reference(kind) => {
                        // A call outranks a plain attribute access.
                        let entry = self.refs.entry(id.id()).or_insert(kind);
                        if kind == RefKind::Call {
                            *entry = kind;
                        }
                    }
                }
            }
        }
    }

    fn read_locals(&mut self, query: &tree_sitter::Query) {
        let names = query.capture_names();
        let mut cursor = QueryCursor::new();
        let mut captures = cursor.captures(query, self.tree.root_node(), self.body.as_bytes());
        while let Some((m, index)) = captures.next() {
            let capture = m.captures()[*index];
            let name = names[capture.index as usize];
            if name == "local.scope" {
                self.scopes.insert(capture.node.id(), ());
            } else if let Some(kind) = name.strip_prefix("local.definition.")
                && let Some(kind) = DefKind::from_capture(kind)
            {
                self.defs.entry(capture.node.id()).or_insert(kind);
            }
        }
    }

    pub fn text(&self, node: Node<'_>) -> &'a str {
        &self.body[node.byte_range()]
    }

    /// Adds an occurrence for an identifier node.
    pub fn occurrence(&mut self, node: Node<'_>, role: Role, receiver: Option<ExprId>) -> OccId {
        let new = self.out.occurrences.len() as OccId;
        let id = self.occurrence_with(node.byte_range(), role, receiver);
        if id == new && self.lang.spec().overloads_by_arity {
            self.overload_facts(node, role, id);
        }
        id
    }

    /// What tells overloads apart ([`FileUsages::arity`],
    /// [`FileUsages::parameter_types`], [`FileUsages::arguments`]): a
    /// method's parameters, a call's arguments.
    fn overload_facts(&mut self, node: Node<'_>, role: Role, id: OccId) {
        match role {
            Role::Definition(DefKind::Method | DefKind::Function) => {
                if let Some(arity) = arity::parameters(node, self.body) {
                    self.arities.push((id, arity));
                    let types: Box<[Box<str>]> = arity::parameter_types(node, self.body)
                        .into_iter()
                        .map(|t| t.unwrap_or_default().into())
                        .collect();
                    if !types.is_empty() {
                        self.parameter_types.push((id, types));
                    }
                }
            }
            Role::Reference(_) => {
                let Some(args) = arity::arguments(node) else {
                    return;
                };
                let Ok(n) = u8::try_from(args.len()) else {
                    return;
                };
                self.arities.push((id, super::Arity { min: n, max: n }));
                if !args.is_empty() {
                    let exprs: Box<[ExprId]> = args
                        .into_iter()
                        .map(|a| {
                            let e = match generic::literal_type(self.lang, a.kind()) {
                                Some(ty) => {
                                    let ty = self.name(ty);
                                    self.push_expr(Expr::Literal(ty))
                                }
                                None => generic::expr(self, a, 0),
                            };
                            if arity::by_reference(a) {
                                self.push_expr(Expr::ByRef(e))
                            } else {
                                e
                            }
                        })
                        .collect();
                    self.arguments.push((id, exprs));
                }
            }
            Role::Definition(_) => {}
        }
    }

    /// Adds an occurrence for a byte range of the parsed text (a name inside
    /// a string, a name in a re-parsed macro argument).
    pub fn occurrence_at(&mut self, range: Range<usize>, role: Role) -> OccId {
        self.occurrence_with(range, role, None)
    }

    fn occurrence_with(
        &mut self,
        range: Range<usize>,
        role: Role,
        receiver: Option<ExprId>,
    ) -> OccId {
        // Keyed by start byte: a name met twice (a macro argument parsed
        // again) is one occurrence.
        if let Some(&id) = self.by_node.get(&range.start) {
            return id;
        }
        let name = self.name(&self.body[range.clone()]);
        let key = range.start;
        let start = range.start + self.bom;
        let id = self.out.occurrences.len() as OccId;
        let top_level = self
            .scope_stack
            .last()
            .is_some_and(|s| s.kind == ScopeKind::Module);
        // `u32::MAX` on the owner stack stands for "no owner" (items
        // nested in a function): the link's none.
        let owner = self.owner_stack.last().copied().filter(|&o| o != u32::MAX);
        let function = self.function_stack.last().copied();
        let place = Place {
            top_level,
            in_macro: self.in_macro > 0,
            in_function: function.is_some(),
            function_is_owner: function.is_some() && function == owner,
        };
        self.out.occurrences.push(Occurrence::new(
            name,
            start as u32,
            role,
            receiver,
            owner,
            place,
        ));
        self.by_node.insert(key, id);
        id
    }

    /// The role tags.scm / locals.scm gave an identifier node, if any.
    pub fn tagged(&self, node: Node<'_>) -> Option<Role> {
        if let Some(kind) = self.defs.get(&node.id()) {
            return Some(Role::Definition(*kind));
        }
        self.refs.get(&node.id()).map(|k| Role::Reference(*k))
    }

    /// The occurrence of a name node already walked.
    pub fn occ_at(&self, node: Node<'_>) -> Option<OccId> {
        self.by_node.get(&node.start_byte()).copied()
    }

    pub fn push_expr(&mut self, expr: Expr) -> ExprId {
        self.out.exprs.push(expr);
        (self.out.exprs.len() - 1) as ExprId
    }

    pub fn push_scope(&mut self, kind: ScopeKind) {
        self.scope_stack.push(Scope {
            kind,
            bindings: HashMap::new(),
            globals: Vec::new(),
        });
    }

    pub fn pop_scope(&mut self) {
        self.scope_stack.pop();
    }

    /// Binds `name` in the innermost scope.
    pub fn bind(&mut self, name: &str, occ: OccId) {
        if let Some(scope) = self.scope_stack.last_mut() {
            scope.bindings.insert(name.to_owned(), occ);
        }
    }

    /// The binding `name` resolves to outside the innermost scope.
    pub fn lookup_outer(&self, name: &str) -> Option<OccId> {
        let outer = self.scope_stack.len().saturating_sub(1);
        self.scope_stack[..outer]
            .iter()
            .rev()
            .filter(|s| s.kind != ScopeKind::Class || self.lang != Language::Python)
            .find_map(|s| s.bindings.get(name).copied())
    }

    /// `global name` / `nonlocal name`: assignments to `name` in the
    /// innermost scope bind the outer name.
    pub fn shadow_global(&mut self, name: &str) {
        if let Some(scope) = self.scope_stack.last_mut() {
            scope.bindings.remove(name);
            scope.globals.push(name.to_owned());
        }
    }

    pub fn is_global(&self, name: &str) -> bool {
        self.scope_stack
            .last()
            .is_some_and(|s| s.globals.iter().any(|g| g == name))
    }

    /// The binding `name` resolves to in the open scopes. Python skips
    /// enclosing class bodies from inside their methods.
    pub fn lookup(&self, name: &str) -> Option<OccId> {
        let innermost = self.scope_stack.len() - 1;
        for (depth, scope) in self.scope_stack.iter().enumerate().rev() {
            if scope.kind == ScopeKind::Class && depth != innermost && self.lang == Language::Python
            {
                continue;
            }
            if let Some(&occ) = scope.bindings.get(name) {
                return Some(occ);
            }
        }
        None
    }

    pub fn facts(&mut self, occ: OccId) -> &mut Facts {
        self.facts.entry(occ).or_default()
    }

    fn finish(mut self) -> FileUsages {
        // Kept for as long as the file is unchanged: no growth slack (a
        // third of the occurrences' memory, on average, before).
        self.out.occurrences.shrink_to_fit();
        self.out.exprs.shrink_to_fit();
        self.out.facts = self.facts.drain().collect();
        self.out.imports.shrink_to_fit();
        self.out.impls.shrink_to_fit();
        self.out.attributes.shrink_to_fit();
        self.out.line_starts = self.lines.starts().map(|s| s as u32).collect();
        self.out.arities = self.arities.into_boxed_slice();
        self.method_functions.sort_unstable();
        self.method_functions.dedup();
        self.out.method_functions = self.method_functions.into_boxed_slice();
        self.out.parameter_types = self.parameter_types.into_boxed_slice();
        self.out.arguments = self.arguments.into_boxed_slice();
        self.out
    }
}

/// The text with conditional compilation resolved the simple way: the first
/// branch of each `#if` kept, the `#elif` and `#else` branches and the
/// directives' lines blanked (spaces in place of each byte, so that every
/// offset and line stays where it was).
fn first_branch_only(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    // For each open `#if`: whether a branch of it was already taken.
    let mut open: Vec<bool> = Vec::new();
    for line in text.split_inclusive('\n') {
        let directive = line.trim_start();
        let word = directive.strip_prefix('#').map(|d| {
            d.trim_start()
                .split(|c: char| !c.is_ascii_alphabetic())
                .next()
                .unwrap_or("")
        });
        let blank = match word {
            Some("if") => {
                open.push(false);
                true
            }
            Some("elif" | "else") => {
                if let Some(taken) = open.last_mut() {
                    *taken = true;
                }
                true
            }
            Some("endif") => {
                open.pop();
                true
            }
            _ => open.iter().any(|&taken| taken),
        };
        if blank {
            for c in line.chars() {
                match c {
                    '\n' | '\r' => out.push(c),
                    _ => out.extend(std::iter::repeat_n(' ', c.len_utf8())),
                }
            }
        } else {
            out.push_str(line);
        }
    }
    out
}

/// The identifier-like nodes at or under `node`.
pub(crate) fn identifiers_in(node: Node<'_>) -> Vec<Node<'_>> {
    if is_identifier(node.kind()) {
        return vec![node];
    }
    let mut out = Vec::new();
    let mut cursor = node.walk();
    for child in node.named_children(&mut cursor) {
        out.extend(identifiers_in(child));
    }
    out
}

fn is_identifier(kind: &str) -> bool {
    matches!(
        kind,
        "identifier"
            | "type_identifier"
            | "field_identifier"
            | "shorthand_field_identifier"
            // Other grammars' names: TypeScript/JavaScript members, Swift,
            // Ruby constants, PHP names, Bash words (only where a query
            // captures them), C++ namespaces.
            | "property_identifier"
            | "private_property_identifier"
            | "shorthand_property_identifier"
            | "simple_identifier"
            | "constant"
            | "name"
            | "word"
            | "variable_name"
            | "namespace_identifier"
    )
}
