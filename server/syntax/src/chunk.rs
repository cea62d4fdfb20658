//! Chunking: a file's text in, the pieces that search indexes out.
//!
//! A chunk is one definition (function, method, class, struct, enum, trait,
//! impl block, module, macro) with the comments, attributes and decorators
//! that precede it, or the code between definitions. The shape follows what a
//! reader would point at as "the place that does X":
//!
//! - containers (classes, impls, traits, modules) are split into their members,
//!   plus a header chunk holding the container's own lines;
//! - a definition larger than `max_tokens` is split along the boundaries of
//!   its syntax children (statements), each piece a numbered `part`;
//! - runs of tiny siblings (one-line getters, a lone `import`) are merged, so
//!   no chunk is too small to say anything;
//! - files in other languages, and files whose chunks query failed to compile,
//!   fall back to overlapping line windows.
//!
//! Every chunk covers whole lines. Broken code still chunks: tree-sitter's
//! error recovery leaves the valid definitions in the tree.

use std::cell::RefCell;
use std::fmt;
use std::ops::Range;
use std::path::Path;

use tree_sitter::{Node, Parser, QueryCursor, StreamingIterator, Tree};

use crate::Language;
use crate::languages::Spec;
use crate::queries::{QueryKind, QuerySet};
use crate::text::{LineIndex, estimate_tokens, has_word, strip_bom};

/// What a chunk is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ChunkKind {
    Function,
    Method,
    Class,
    Struct,
    Enum,
    Trait,
    Impl,
    Module,
    Macro,
    /// An interface (TypeScript, Go, Java, C#, Kotlin); Swift protocols are
    /// traits.
    Interface,
    /// A type alias: `type X = ...`, `typedef`, `using X = ...`, a delegate.
    TypeAlias,
    /// A constant at the top level of a file: `const`, `#define`.
    Constant,
    /// A Markdown section: a heading and what follows up to the next heading
    /// of its level or above.
    Section,
    /// A line window of a file without a grammar.
    Text,
}

impl ChunkKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ChunkKind::Function => "function",
            ChunkKind::Method => "method",
            ChunkKind::Class => "class",
            ChunkKind::Struct => "struct",
            ChunkKind::Enum => "enum",
            ChunkKind::Trait => "trait",
            ChunkKind::Impl => "impl",
            ChunkKind::Module => "module",
            ChunkKind::Macro => "macro",
            ChunkKind::Interface => "interface",
            ChunkKind::TypeAlias => "type",
            ChunkKind::Constant => "constant",
            ChunkKind::Section => "section",
            ChunkKind::Text => "text",
        }
    }

    pub fn from_name(name: &str) -> Option<ChunkKind> {
        Some(match name {
            "function" => ChunkKind::Function,
            "method" => ChunkKind::Method,
            "class" => ChunkKind::Class,
            "struct" => ChunkKind::Struct,
            "enum" => ChunkKind::Enum,
            "trait" => ChunkKind::Trait,
            "impl" => ChunkKind::Impl,
            "module" => ChunkKind::Module,
            "macro" => ChunkKind::Macro,
            "interface" => ChunkKind::Interface,
            "type" => ChunkKind::TypeAlias,
            "constant" => ChunkKind::Constant,
            "section" => ChunkKind::Section,
            "text" => ChunkKind::Text,
            _ => return None,
        })
    }

    /// Containers are always split into their members.
    fn is_container(self) -> bool {
        self.holds_methods() || matches!(self, ChunkKind::Module | ChunkKind::Section)
    }

    /// A function defined inside one of these is a method.
    fn holds_methods(self) -> bool {
        matches!(
            self,
            ChunkKind::Class
                | ChunkKind::Impl
                | ChunkKind::Trait
                | ChunkKind::Interface
                | ChunkKind::Struct
                | ChunkKind::Enum
        )
    }
}

impl fmt::Display for ChunkKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A blake3 digest of content.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Digest(pub [u8; 32]);

impl Digest {
    pub fn of(bytes: &[u8]) -> Digest {
        Digest(*blake3::hash(bytes).as_bytes())
    }

    pub fn to_hex(&self) -> String {
        blake3::Hash::from_bytes(self.0).to_hex().to_string()
    }

    pub fn from_hex(hex: &str) -> Option<Digest> {
        blake3::Hash::from_hex(hex)
            .ok()
            .map(|h| Digest(*h.as_bytes()))
    }

    /// The first eight bytes as a number, for compact keys.
    pub fn short(&self) -> u64 {
        u64::from_le_bytes(self.0[..8].try_into().expect("8 bytes"))
    }
}

impl fmt::Debug for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", &self.to_hex()[..12])
    }
}

/// One piece of a file that search indexes and returns.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Chunk {
    pub kind: ChunkKind,
    /// The defined name; several names joined by ", " for merged siblings.
    pub symbol: Option<String>,
    /// The enclosing definitions, outermost first: `["impl Client"]`.
    pub enclosing: Vec<String>,
    /// Byte range in the file as read (a BOM counts), covering whole lines.
    pub byte_range: Range<usize>,
    /// 1-based, inclusive.
    pub start_line: u32,
    /// 1-based, inclusive.
    pub end_line: u32,
    /// 1-based part number when a definition too large for one chunk was split.
    pub part: Option<u32>,
    /// For a part of a split definition, the whole definition's lines
    /// (1-based, inclusive): search reports the definition, not the piece.
    pub definition: Option<(u32, u32)>,
    /// blake3 of the chunk's text.
    pub digest: Digest,
    /// Test code by the language's own markers (Rust's `#[cfg(test)]`
    /// modules and `#[test]` functions, Java's `@Test`, C#'s `[Fact]`): the
    /// chunk starts or ends inside a definition so marked (a test method's
    /// chunk may open on its class's line). Test files by name are
    /// search's business (their paths say it).
    pub test: bool,
}

impl Chunk {
    pub fn text<'a>(&self, file_text: &'a str) -> &'a str {
        &file_text[self.byte_range.clone()]
    }
}

/// Where chunks are cut. Sizes are estimated model tokens
/// ([`estimate_tokens`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChunkConfig {
    /// A definition larger than this is split into parts.
    pub max_tokens: u32,
    /// Consecutive siblings smaller than this are merged.
    pub min_tokens: u32,
    /// Line windows for files without a grammar: at most this many lines...
    pub window_lines: u32,
    /// ...overlapping the previous window by this many.
    pub window_overlap: u32,
}

impl Default for ChunkConfig {
    fn default() -> ChunkConfig {
        ChunkConfig {
            max_tokens: 768,
            min_tokens: 16,
            window_lines: 40,
            window_overlap: 10,
        }
    }
}

/// The result of chunking one file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChunkedFile {
    /// The grammar used, `None` for line windows.
    pub language: Option<Language>,
    pub chunks: Vec<Chunk>,
    /// Tree-sitter had to recover from syntax errors.
    pub has_syntax_errors: bool,
    /// Why a file of a known language was cut into line windows instead of
    /// by its syntax (a disabled query, a parse given up, syntax errors over
    /// most of the file); `None` when chunked by syntax or of no language.
    pub fallback: Option<String>,
}

thread_local! {
    static PARSERS: RefCell<Vec<(Language, Parser)>> = const { RefCell::new(Vec::new()) };
}

/// Parses `text` (without a BOM) with a parser cached per thread.
pub fn parse(lang: Language, text: &str) -> Option<Tree> {
    PARSERS.with(|parsers| {
        let mut parsers = parsers.borrow_mut();
        let index = match parsers.iter().position(|(l, _)| *l == lang) {
            Some(index) => index,
            None => {
                let mut parser = Parser::new();
                if let Err(err) = parser.set_language(&lang.grammar()) {
                    tracing::error!("cannot load the {lang} grammar: {err}");
                    return None;
                }
                parsers.push((lang, parser));
                parsers.len() - 1
            }
        };
        parsers[index].1.parse(text, None)
    })
}

/// Chunks one file. `path` decides the language; `text` is the whole file.
pub fn chunk_file(path: &Path, text: &str, config: &ChunkConfig) -> ChunkedFile {
    chunk_file_with(
        Language::detect(path, text).map(QuerySet::of),
        path,
        text,
        config,
    )
}

/// [`chunk_file`] with the given queries for the file's language.
pub fn chunk_file_with(
    queries: Option<&QuerySet>,
    path: &Path,
    text: &str,
    config: &ChunkConfig,
) -> ChunkedFile {
    let (body, bom) = strip_bom(text);
    let Some(lang) = Language::detect(path, text) else {
        return windows(text, config, None);
    };
    let Some(query) = queries.and_then(|q| q.get(QueryKind::Chunks)) else {
        let reason = format!("the {lang} chunks query is disabled");
        return windows(text, config, Some(reason));
    };
    let Some(tree) = parse(lang, body) else {
        let reason = format!("the {lang} parser gave up");
        return windows(text, config, Some(reason));
    };
    let broken = error_bytes(tree.root_node());
    if broken * 2 > body.len() && body.len() > 256 {
        let share = broken * 100 / body.len().max(1);
        let reason = format!("syntax errors over {share}% of the file");
        return windows(text, config, Some(reason));
    }
    let queries = queries.expect("a chunks query comes from a query set");
    {
        let lines = LineIndex::new(text);
        let chunker = Chunker {
            text,
            lines: &lines,
            tokens: TokenPrefix::new(text, &lines),
            config,
        };
        let units = collect_units(lang, queries, query, &tree, body, bom, &lines);
        let root = tree.root_node();
        let module = Label {
            kind: ChunkKind::Module,
            symbol: None,
            enclosing: &[],
        };
        let mut chunks = chunker.level(0..lines.line_count(), &units, &module, &[], root);
        let mut tests = Vec::new();
        test_rows(&units, &mut tests);
        for chunk in &mut chunks {
            // A class header opens its first member's chunk: the chunk of a
            // test method may start on the class's line.
            let (first, last) = (chunk.start_line as usize - 1, chunk.end_line as usize - 1);
            chunk.test = tests
                .iter()
                .any(|rows| rows.contains(&first) || rows.contains(&last));
        }
        ChunkedFile {
            language: Some(lang),
            chunks,
            has_syntax_errors: root.has_error(),
            fallback: None,
        }
    }
}

/// The rows of the definitions marked as test code (outermost ones).
fn test_rows(units: &[Unit<'_>], out: &mut Vec<Range<usize>>) {
    for unit in units {
        if unit.test {
            out.push(unit.rows.clone());
        } else {
            test_rows(&unit.children, out);
        }
    }
}

fn windows(text: &str, config: &ChunkConfig, fallback: Option<String>) -> ChunkedFile {
    ChunkedFile {
        language: None,
        chunks: line_windows(text, config),
        has_syntax_errors: false,
        fallback,
    }
}

/// Bytes under `ERROR` nodes (the outermost ones).
fn error_bytes(root: Node<'_>) -> usize {
    if !root.has_error() {
        return 0;
    }
    let mut total = 0;
    let mut cursor = root.walk();
    'walk: loop {
        let node = cursor.node();
        if node.is_error() {
            total += node.byte_range().len();
        } else if node.has_error() && cursor.goto_first_child() {
            continue;
        }
        while !cursor.goto_next_sibling() {
            if !cursor.goto_parent() {
                break 'walk;
            }
        }
    }
    total
}

/// A definition found by the chunks query, with the definitions nested in it.
struct Unit<'tree> {
    node: Node<'tree>,
    kind: ChunkKind,
    name: Option<String>,
    /// How enclosed chunks name this one: "impl Client", "class Foo".
    display: String,
    /// The type a method defined outside it belongs to (a Go receiver,
    /// C++'s `Socket::send`, Lua's `M.send`): its enclosing name.
    owner: Option<String>,
    /// 0-based rows, inclusive, including leading comments and attributes.
    rows: Range<usize>,
    /// An attribute or annotation above it marks it as test code.
    test: bool,
    children: Vec<Unit<'tree>>,
}

fn collect_units<'tree>(
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
            u.node.start_byte(),
            std::cmp::Reverse(u.node.end_byte()),
            u.kind,
        )
    });
    found.dedup_by_key(|u| u.node.id());
    nest(found)
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
        node,
        kind,
        name,
        display,
        owner,
        rows,
        test,
        children: Vec::new(),
    })
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
            if unit.node.start_byte() >= top.node.end_byte() {
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

/// Where a definition's chunk starts: at the wrappers that carry it
/// (decorators, `export`, `template <..>`), and before the comments,
/// attributes and decorators directly above it.
fn leading_start(lang: Language, node: Node<'_>, body: &str) -> usize {
    let spec = lang.spec();
    let mut first = node;
    while let Some(parent) = first.parent()
        && spec.wrappers.contains(&parent.kind())
    {
        first = parent;
    }
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

/// Prefix sums of estimated tokens per line, so any row range is O(1).
struct TokenPrefix(Vec<u32>);

impl TokenPrefix {
    fn new(text: &str, lines: &LineIndex) -> TokenPrefix {
        let mut sums = Vec::with_capacity(lines.line_count() + 1);
        let mut total = 0;
        sums.push(0);
        for row in 0..lines.line_count() {
            total += estimate_tokens(&text[lines.line_start(row)..lines.line_end(text, row)]);
            sums.push(total);
        }
        TokenPrefix(sums)
    }

    fn of(&self, rows: &Range<usize>) -> u32 {
        self.0[rows.end] - self.0[rows.start]
    }
}

/// How chunks cut from code that is not itself a definition are labelled.
struct Label<'a> {
    kind: ChunkKind,
    symbol: Option<&'a str>,
    enclosing: &'a [String],
}

struct Chunker<'a> {
    text: &'a str,
    lines: &'a LineIndex,
    tokens: TokenPrefix,
    config: &'a ChunkConfig,
}

impl Chunker<'_> {
    /// Chunks `rows` holding the definitions `units`: each unit on its own,
    /// the code between them labelled with `gap`. `enclosing` is what the units'
    /// chunks report as their enclosing names; `container` is the syntax node
    /// the rows belong to (its statements are where gaps may be split).
    fn level(
        &self,
        rows: Range<usize>,
        units: &[Unit<'_>],
        gap: &Label<'_>,
        enclosing: &[String],
        container: Node<'_>,
    ) -> Vec<Chunk> {
        let mut chunks = Vec::new();
        let mut next_row = rows.start;
        for unit in units {
            let unit_rows = unit.rows.start.max(next_row)..unit.rows.end;
            if unit_rows.is_empty() {
                continue;
            }
            if unit_rows.start > next_row {
                self.gap(next_row..unit_rows.start, gap, container, &mut chunks);
            }
            self.unit(unit, unit_rows.clone(), enclosing, &mut chunks);
            next_row = unit_rows.end;
        }
        if next_row < rows.end {
            self.gap(next_row..rows.end, gap, container, &mut chunks);
        }
        self.merge_tiny(chunks)
    }

    fn unit(
        &self,
        unit: &Unit<'_>,
        rows: Range<usize>,
        enclosing: &[String],
        out: &mut Vec<Chunk>,
    ) {
        let owned;
        let enclosing = match &unit.owner {
            Some(owner) => {
                owned = [enclosing, std::slice::from_ref(owner)].concat();
                &owned[..]
            }
            None => enclosing,
        };
        let label = Label {
            kind: unit.kind,
            symbol: unit.name.as_deref(),
            enclosing,
        };
        let fits = self.tokens.of(&rows) <= self.config.max_tokens;
        if unit.children.is_empty() || (fits && !unit.kind.is_container()) {
            if fits {
                out.push(self.chunk(&label, rows, None));
            } else {
                let first = out.len();
                self.split(&label, rows.clone(), unit.node, out);
                let rows = self.trim_blank(rows);
                if out.len() - first > 1 {
                    for part in &mut out[first..] {
                        part.definition = Some((rows.start as u32 + 1, rows.end as u32));
                    }
                }
            }
            return;
        }
        let mut inner = enclosing.to_vec();
        inner.push(unit.display.clone());
        let mut members = self.level(rows, &unit.children, &label, &inner, unit.node);
        // A header with nothing to say on its own (`class Foo(Base):`, `impl
        // Foo {`) opens its first member's chunk instead of being a chunk.
        if members.len() >= 2
            && members[0].enclosing == enclosing
            && members[0].part.is_none()
            && members[1].enclosing == inner
            && self.tokens.of(&self.rows_of(&members[0])) < self.config.min_tokens
        {
            let header = members.remove(0);
            let first = &members[0];
            let rows = self.rows_of(&header).start..self.rows_of(first).end;
            let label = Label {
                kind: first.kind,
                symbol: first.symbol.as_deref(),
                enclosing: &first.enclosing,
            };
            let definition = first
                .definition
                .map(|(_, end)| (rows.start as u32 + 1, end));
            members[0] = self.chunk(&label, rows, first.part);
            members[0].definition = definition;
        }
        out.extend(members);
    }

    /// Code between definitions: dropped when it has no words (a closing
    /// brace), split at statement boundaries when too large.
    fn gap(
        &self,
        rows: Range<usize>,
        label: &Label<'_>,
        container: Node<'_>,
        out: &mut Vec<Chunk>,
    ) {
        let rows = self.trim_blank(rows);
        if rows.is_empty() || !has_word(self.rows_text(&rows)) || closes_only(self.rows_text(&rows))
        {
            return;
        }
        if self.tokens.of(&rows) <= self.config.max_tokens {
            out.push(self.chunk(label, rows, None));
        } else {
            self.split(label, rows, container, out);
        }
    }

    /// Splits `rows` of `node` into parts no larger than `max_tokens`, cutting
    /// only where a statement (a syntax child) starts, going into children that
    /// are themselves too large, and cutting by lines as the last resort.
    fn split(&self, label: &Label<'_>, rows: Range<usize>, node: Node<'_>, out: &mut Vec<Chunk>) {
        let mut boundaries = Vec::new();
        self.boundaries(node, &rows, &mut boundaries);
        boundaries.sort_unstable();
        boundaries.dedup();
        let max = self.config.max_tokens;
        let mut pieces: Vec<Range<usize>> = Vec::new();
        let mut start = rows.start;
        let mut last_cut = rows.start;
        for &b in boundaries
            .iter()
            .filter(|&&b| b > rows.start && b < rows.end)
        {
            if self.tokens.of(&(start..b)) > max && last_cut > start {
                pieces.push(start..last_cut);
                start = last_cut;
            }
            last_cut = b;
        }
        if self.tokens.of(&(start..rows.end)) > max && last_cut > start {
            pieces.push(start..last_cut);
            start = last_cut;
        }
        pieces.push(start..rows.end);
        let mut parts = Vec::new();
        for piece in pieces {
            self.cut_lines(piece, &mut parts);
        }
        parts.retain(|part| has_word(self.rows_text(part)));
        let numbered = parts.len() > 1;
        for (i, part) in parts.into_iter().enumerate() {
            let part = self.trim_blank(part);
            out.push(self.chunk(label, part, numbered.then_some(i as u32 + 1)));
        }
    }

    fn rows_text(&self, rows: &Range<usize>) -> &str {
        &self.text[self.lines.line_start(rows.start)..self.lines.line_end(self.text, rows.end - 1)]
    }

    /// Drops blank lines at both ends.
    fn trim_blank(&self, mut rows: Range<usize>) -> Range<usize> {
        let blank = |row: usize| self.rows_text(&(row..row + 1)).trim().is_empty();
        while !rows.is_empty() && blank(rows.start) {
            rows.start += 1;
        }
        while !rows.is_empty() && blank(rows.end - 1) {
            rows.end -= 1;
        }
        rows
    }

    /// Start rows of `node`'s descendants where a part may begin: each named
    /// child's first row, and inside children too large to stay whole.
    fn boundaries(&self, node: Node<'_>, rows: &Range<usize>, out: &mut Vec<usize>) {
        let mut cursor = node.walk();
        for child in node.named_children(&mut cursor) {
            let child_rows = child.start_position().row..child.end_position().row + 1;
            if child_rows.end <= rows.start || child_rows.start >= rows.end {
                continue;
            }
            out.push(child_rows.start);
            if child_rows.len() > 1
                && self.tokens.of(&clamp(&child_rows, rows)) > self.config.max_tokens
            {
                self.boundaries(child, rows, out);
            }
        }
    }

    /// The last resort for a statement too large on its own: cut by lines.
    fn cut_lines(&self, rows: Range<usize>, out: &mut Vec<Range<usize>>) {
        let max = self.config.max_tokens;
        let mut start = rows.start;
        while start < rows.end {
            let mut end = start + 1;
            while end < rows.end && self.tokens.of(&(start..end + 1)) <= max {
                end += 1;
            }
            out.push(start..end);
            start = end;
        }
    }

    /// Merges runs of adjacent siblings that are each smaller than
    /// `min_tokens`, as long as the merged chunk stays within a quarter of
    /// `max_tokens` (a run of one-line getters, not a whole file of them).
    /// Only chunks of one kind merge, so a one-line function is not reported
    /// as an `import` nor a class header as a function.
    fn merge_tiny(&self, chunks: Vec<Chunk>) -> Vec<Chunk> {
        let min = self.config.min_tokens;
        let cap = self.config.max_tokens / 4;
        let mut out: Vec<Chunk> = Vec::with_capacity(chunks.len());
        let mut run_is_tiny = false;
        for chunk in chunks {
            let rows = self.rows_of(&chunk);
            let tiny = chunk.part.is_none() && self.tokens.of(&rows) < min;
            if tiny
                && run_is_tiny
                && let Some(prev) = out.last_mut()
                && prev.enclosing == chunk.enclosing
                && prev.kind == chunk.kind
                && prev.symbol.is_some() == chunk.symbol.is_some()
            {
                let merged_rows = self.rows_of(prev).start..rows.end;
                if self.tokens.of(&merged_rows) <= cap {
                    let symbol = match (prev.symbol.take(), chunk.symbol) {
                        (Some(a), Some(b)) if a != b => Some(format!("{a}, {b}")),
                        (a, b) => a.or(b),
                    };
                    let label = Label {
                        kind: prev.kind,
                        symbol: symbol.as_deref(),
                        enclosing: &chunk.enclosing,
                    };
                    *prev = self.chunk(&label, merged_rows, None);
                    continue;
                }
            }
            run_is_tiny = tiny;
            out.push(chunk);
        }
        out
    }

    fn rows_of(&self, chunk: &Chunk) -> Range<usize> {
        chunk.start_line as usize - 1..chunk.end_line as usize
    }

    fn chunk(&self, label: &Label<'_>, rows: Range<usize>, part: Option<u32>) -> Chunk {
        make_chunk(
            self.text,
            self.lines,
            label.kind,
            label.symbol.map(str::to_owned),
            label.enclosing.to_vec(),
            rows,
            part,
        )
    }
}

/// Lines that only close blocks: `end` (Ruby, Lua), `fi`, `done`, `esac`
/// (shells), with braces and semicolons.
fn closes_only(text: &str) -> bool {
    text.lines().all(|line| {
        let word = line.trim().trim_end_matches([';', ')', '}', ',']).trim();
        matches!(
            word,
            "" | "end" | "fi" | "done" | "esac" | "endif" | "endwhile" | "endforeach"
        )
    })
}

fn clamp(rows: &Range<usize>, to: &Range<usize>) -> Range<usize> {
    rows.start.max(to.start)..rows.end.min(to.end).max(rows.start.max(to.start))
}

fn make_chunk(
    text: &str,
    lines: &LineIndex,
    kind: ChunkKind,
    symbol: Option<String>,
    enclosing: Vec<String>,
    rows: Range<usize>,
    part: Option<u32>,
) -> Chunk {
    let mut start = lines.line_start(rows.start);
    // The BOM is not part of the first chunk's text.
    if start == 0 && text.starts_with(crate::text::BOM) {
        start = crate::text::BOM.len();
    }
    let end = lines.line_end(text, rows.end - 1).max(start);
    Chunk {
        kind,
        symbol,
        enclosing,
        byte_range: start..end,
        start_line: rows.start as u32 + 1,
        end_line: rows.end as u32,
        part,
        definition: None,
        digest: Digest::of(&text.as_bytes()[start..end]),
        test: false,
    }
}

/// Overlapping line windows for files without a grammar: at most
/// `window_lines` lines and `max_tokens` tokens each, the next one starting
/// `window_overlap` lines before the previous one ended.
pub fn line_windows(text: &str, config: &ChunkConfig) -> Vec<Chunk> {
    let lines = LineIndex::new(text);
    let tokens = TokenPrefix::new(text, &lines);
    let count = lines.line_count();
    let mut chunks = Vec::new();
    let mut start = 0;
    while start < count {
        let mut end = start + 1;
        while end < count
            && end - start < config.window_lines as usize
            && tokens.of(&(start..end + 1)) <= config.max_tokens
        {
            end += 1;
        }
        let chunk_text = &text[lines.line_start(start)..lines.line_end(text, end - 1)];
        if has_word(chunk_text) {
            chunks.push(make_chunk(
                text,
                &lines,
                ChunkKind::Text,
                None,
                Vec::new(),
                start..end,
                None,
            ));
        }
        if end >= count {
            break;
        }
        let overlap = (config.window_overlap as usize).min(end - start - 1);
        start = end - overlap;
    }
    chunks
}

/// Where a chunk's defined name is: the 0-based line of `text` (the chunk's
/// text) and the byte range in that line of the first whole-word `name` that
/// is not in a comment, a decorator or an attribute above the definition.
/// Editors point at this, not at the chunk's first line (a doc comment, a
/// decorator).
pub fn name_position(text: &str, kind: ChunkKind, name: &str) -> Option<(usize, Range<usize>)> {
    if name.is_empty() {
        return None;
    }
    let is_word = |c: char| c.is_alphanumeric() || c == '_' || c == '$';
    for (index, line) in text.lines().enumerate() {
        let code = line.trim_start();
        // Comments, decorators, annotations and attributes; a Markdown
        // heading is where a section's name is.
        let skipped = kind != ChunkKind::Section
            && (["//", "/*", "*", "--", "@", "<!--", "[", "#[", "#!", "# "]
                .iter()
                .any(|p| code.starts_with(p))
                || code == "#");
        if skipped {
            continue;
        }
        let mut from = 0;
        while let Some(found) = line[from..].find(name) {
            let start = from + found;
            let end = start + name.len();
            let before = line[..start].chars().next_back();
            let after = line[end..].chars().next();
            if !before.is_some_and(is_word) && !after.is_some_and(is_word) {
                return Some((index, start..end));
            }
            from = end;
        }
    }
    None
}

/// How a chunk is listed in a symbol picker: its name; for merged small
/// definitions the first name and how many more (`parse + 4`); for code
/// between definitions its kind and line (`module, line 1150`).
pub fn symbol_label(kind: ChunkKind, symbol: Option<&str>, start_line: u32) -> String {
    match symbol {
        Some(symbol) => {
            let mut names = symbol.split(", ");
            let first = names.next().unwrap_or(symbol);
            match names.count() {
                0 => first.to_owned(),
                more => format!("{first} + {more}"),
            }
        }
        None => format!("{kind}, line {start_line}"),
    }
}

#[cfg(test)]
mod name_tests {
    use super::*;

    #[test]
    fn the_name_is_found_past_doc_comments_decorators_and_attributes() {
        let text = "/// Sends `send` once.\n#[inline]\n@retry(send)\npub fn send(x: u8) {}\n";
        assert_eq!(
            name_position(text, ChunkKind::Function, "send"),
            Some((3, 7..11))
        );
        // A longer identifier holding the name is not it.
        let text = "def resend():\n    pass\ndef send():\n";
        assert_eq!(
            name_position(text, ChunkKind::Function, "send"),
            Some((2, 4..8))
        );
        let text = "## Install\n\nRun it.\n";
        assert_eq!(
            name_position(text, ChunkKind::Section, "Install"),
            Some((0, 3..10))
        );
        assert_eq!(name_position("x = 1\n", ChunkKind::Function, "y"), None);
    }

    #[test]
    fn merged_chunks_are_labelled_by_their_first_name_and_a_count() {
        let merged =
            "ConnectionResetError, ReadTimeout, WriteTimeout, PoolClosed, TooManyRedirects";
        assert_eq!(
            symbol_label(ChunkKind::Class, Some(merged), 3),
            "ConnectionResetError + 4"
        );
        assert_eq!(symbol_label(ChunkKind::Function, Some("parse"), 3), "parse");
        assert_eq!(
            symbol_label(ChunkKind::Module, None, 1150),
            "module, line 1150"
        );
    }
}
