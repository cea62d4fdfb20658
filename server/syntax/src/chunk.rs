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

use tree_sitter::{Node, Parser, Tree};

use crate::Language;
use crate::queries::{QueryKind, QuerySet};
use crate::text::{LineIndex, has_word, strip_bom};

/// The version of what the chunker makes of a text: bump it whenever a
/// chunk's lines, kind, name or enclosing names can change for text that did
/// not (a query, a grammar, a rule here). An index remembers the version
/// each file was chunked with and chunks a file of another version again on
/// its next update; chunks whose content is the same keep their vectors
/// (embeddings are keyed by content). 2: TypeScript's overload signatures
/// join their implementation's chunk. 3: a `.h` header written in C++ is
/// chunked as C++; definitions read inside an error node are chunked; types
/// declared in a C or C++ function body stay in the function's chunk. 4:
/// Markdown's sections are found by pulldown-cmark (closing `#`s leave the
/// name, sections under a `===` title nest in it, large sections are cut at
/// block starts). 5: JavaScript's `F.prototype.m = function` and
/// `obj.m = function` are methods of `F` and `obj`, and `module.exports =
/// function f` is named `f`.
pub const CHUNKER_VERSION: u32 = 5;

mod split;
mod units;

use split::{Chunker, Cuts, Label, TokenPrefix, make_chunk};
use units::{Unit, collect_units, outline_units};

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

/// A file's sections as a parser without a syntax tree finds them
/// ([`crate::languages::Spec::outline`]); offsets are into the text without
/// its BOM.
#[derive(Debug, Default)]
pub(crate) struct Outline {
    /// In the order of the file; a section runs to the next heading of its
    /// level or an outer one.
    pub headings: Vec<Heading>,
    /// Where each block (a paragraph, a list item, a code block) starts:
    /// where a section too large for one chunk may be cut.
    pub blocks: Vec<usize>,
}

/// A heading that opens a section.
#[derive(Debug)]
pub(crate) struct Heading {
    /// 1 for the outermost.
    pub level: u8,
    /// As written, inline markup included, whitespace collapsed.
    pub name: String,
    /// Where the heading's first line starts.
    pub start: usize,
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
    if let Some(outline) = lang.spec().outline {
        return chunk_outline(lang, &outline(body), text, bom, config);
    }
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
        let chunker = Chunker::new(text, &lines, config);
        let units = collect_units(lang, queries, query, &tree, body, bom, &lines);
        let root = tree.root_node();
        let mut chunks = chunker.level(
            0..lines.line_count(),
            &units,
            &Label::MODULE,
            &[],
            Cuts::Node(root),
        );
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

/// Chunks a file by the sections of its outline: each section on its own,
/// nested in the sections of its enclosing headings, cut at block starts
/// when too large.
fn chunk_outline(
    lang: Language,
    outline: &Outline,
    text: &str,
    bom: usize,
    config: &ChunkConfig,
) -> ChunkedFile {
    let lines = LineIndex::new(text);
    let mut blocks: Vec<usize> = outline
        .blocks
        .iter()
        .map(|&offset| lines.row_of(offset + bom))
        .collect();
    blocks.sort_unstable();
    blocks.dedup();
    let cuts = Cuts::Rows(&blocks);
    let units = outline_units(lang, &outline.headings, &lines, bom, cuts);
    let chunker = Chunker::new(text, &lines, config);
    ChunkedFile {
        language: Some(lang),
        chunks: chunker.level(0..lines.line_count(), &units, &Label::MODULE, &[], cuts),
        has_syntax_errors: false,
        fallback: None,
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

/// Bytes the parser could not place: the tokens an `ERROR` node holds
/// directly, and `ERROR` nodes with nothing inside. A definition that parsed
/// cleanly inside an `ERROR` node is not counted: tree-sitter may wrap a
/// whole file in one when it cannot recover from a single construct (an
/// `#if` that splits an expression in a C++ header), though most of what is
/// inside parses well.
fn error_bytes(root: Node<'_>) -> usize {
    if !root.has_error() {
        return 0;
    }
    let mut total = 0;
    let mut cursor = root.walk();
    // Whether each node on the way down from the root is an ERROR node.
    let mut in_error = vec![root.is_error()];
    'walk: loop {
        let node = cursor.node();
        if node.child_count() == 0 {
            let parent_is_error = in_error.len() > 1 && in_error[in_error.len() - 2];
            if node.is_error() || parent_is_error {
                total += node.byte_range().len();
            }
        } else if node.has_error() && cursor.goto_first_child() {
            in_error.push(cursor.node().is_error());
            continue;
        }
        loop {
            if cursor.goto_next_sibling() {
                *in_error.last_mut().expect("a node on the path") = cursor.node().is_error();
                break;
            }
            if !cursor.goto_parent() {
                break 'walk;
            }
            in_error.pop();
        }
    }
    total
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
