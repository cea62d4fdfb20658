//! What is embedded of a chunk, and the keys that name it: pure functions of
//! text, with no state and no imports from the rest of the engine.
//!
//! A chunk has two **views**, each embedded into its own vector: the *body*
//! (its path, a header of enclosing names, kind and name, then its code, cut
//! to about the model's window), which search by meaning retrieves, and the
//! *name* (the header and the signature), mixed in when candidates are
//! ranked.
//!
//! **Keys.** The lexical index stores each chunk's [`content_key`]: a hash of
//! exactly what the views are made from (path, kind, name, enclosing names,
//! code), which depends on nothing about embedding. The embedding cache is
//! keyed by a [`Recipe`]'s key of that content key: the recipe says how the
//! vectors are made (the views' version, the model's window), so a change of
//! either gives every chunk a new key and every vector is made again, once,
//! by itself: no index format bump, no file read again but for the code
//! being embedded. (A different model has a cache file of its own: the
//! cache's header names the model.)

use dowse_embed::ChunkText;
use dowse_index::lexical::StoredChunk;
use std::borrow::Cow;
use std::path::Path;

use dowse_syntax::text::{estimate_tokens, split_identifier, split_identifier_into};
use dowse_syntax::{ChunkKind, Language};

/// The version of the views below: bump it whenever what they contain
/// changes, and every chunk gets a new vector (see [`Recipe`]).
pub const VIEW_VERSION: u32 = 10;

/// The bytes of code kept in a body view: the model reads 256 tokens, code
/// runs about four bytes a token, and the margin covers whitespace and
/// punctuation-heavy code. Cutting here bounds tokenizer work on huge chunks.
pub const MAX_CODE_BYTES: usize = 2048;

/// What a chunk is called: its enclosing definitions, kind and name, and the
/// name's words (`parse_duration` and `parseDuration` read "parse duration"),
/// e.g. `class Uploader > method retry_failed_uploads (retry failed uploads)`.
fn header(kind: ChunkKind, symbol: Option<&str>, enclosing: &[String]) -> String {
    let mut parts: Vec<String> = enclosing.to_vec();
    if let Some(symbol) = symbol {
        let words: Vec<String> = symbol
            .split(", ")
            .flat_map(|name| {
                split_identifier(name)
                    .into_iter()
                    .map(move |r| name[r].to_lowercase())
            })
            .collect();
        let mut named = format!("{kind} {symbol}");
        if words.len() > 1 {
            named.push_str(&format!(" ({})", words.join(" ")));
        }
        parts.push(named);
    }
    parts.join(" > ")
}

fn with_header(header: &str, body: &str) -> String {
    if header.is_empty() {
        body.to_owned()
    } else {
        format!("{header}\n{body}")
    }
}

/// The body view of a chunk: its file's path, its header, then its code
/// from the top (signature, doc comment, body), cut to about the model's
/// window. The path says which part of the program the code belongs to
/// (`pkg/cache.py`, `src/parser/lexer.rs`); measured on set D it lifts
/// search by meaning on question-style queries from .23 to .27 MRR@10.
///
/// In a language that names things in camelCase ([`Language::camel_case`])
/// the code's names have their words apart (`getBool` reads `get Bool`):
/// the model's tokenizer lower-cases first, and `getbool` is no word it
/// knows. MRR@10, hybrid, against the code as written (2026-12-06):
/// docstring / question, C# .471 / .552 -> .530 / .576, Go .565 / .623 ->
/// .592 / .624, Java .618 / .697 -> .615 / .724, TypeScript .555 / .858 ->
/// .550 / .870. In every language it cost set D's questions .009 (Rust's
/// `ArgMatches` as `Arg Matches`) and C/C++'s .026, and gained their
/// docstrings .003 and .009: snake_case languages keep their code as it is.
/// The name view's signature reads the same way (Go's docstrings .592 ->
/// .601, Java's .615 -> .630, TypeScript's and C#'s .004 lower).
pub fn embedding_text(
    path: &str,
    kind: ChunkKind,
    symbol: Option<&str>,
    enclosing: &[String],
    code: &str,
) -> String {
    let header = body_header(path, kind, symbol, enclosing);
    with_header(&header, &as_read(path, cut(code, MAX_CODE_BYTES)))
}

/// What a body view starts with: the path, then the header.
fn body_header(path: &str, kind: ChunkKind, symbol: Option<&str>, enclosing: &[String]) -> String {
    let header = header(kind, symbol, enclosing);
    if header.is_empty() {
        path.to_owned()
    } else {
        format!("{path}\n{header}")
    }
}

/// `code` as the model is given it: with its names' words apart in a
/// camelCase language (see [`embedding_text`]), as written otherwise.
fn as_read<'c>(path: &str, code: &'c str) -> Cow<'c, str> {
    if Language::from_path(Path::new(path)).is_some_and(Language::camel_case) {
        Cow::Owned(words_apart(code))
    } else {
        Cow::Borrowed(code)
    }
}

/// `code` with a space between two words of one name, where
/// [`split_identifier_into`] splits it (`getBool` reads `get Bool`,
/// `HTTPServer` reads `HTTP Server`, `utf8Decode` reads `utf 8 Decode`).
fn words_apart(code: &str) -> String {
    let mut words = Vec::new();
    split_identifier_into(code, 0, &mut words);
    let mut out = String::with_capacity(code.len() + code.len() / 8);
    let mut copied = 0;
    for pair in words.windows(2) {
        if pair[0].end == pair[1].start {
            out.push_str(&code[copied..pair[1].start]);
            out.push(' ');
            copied = pair[1].start;
        }
    }
    out.push_str(&code[copied..]);
    out
}

/// `text` cut to at most `max` bytes, on a character boundary.
pub(crate) fn cut(text: &str, max: usize) -> &str {
    &text[..text.floor_char_boundary(max)]
}

/// The name view of a chunk: its header and the first line of its code
/// (the signature), without comments, attributes or decorators.
pub fn name_text(
    path: &str,
    kind: ChunkKind,
    symbol: Option<&str>,
    enclosing: &[String],
    code: &str,
) -> String {
    let signature = code
        .lines()
        .map(str::trim)
        .find(|l| {
            !l.is_empty() && !l.starts_with('#') && !l.starts_with("//") && !l.starts_with('@')
        })
        .unwrap_or("");
    with_header(&header(kind, symbol, enclosing), &as_read(path, signature))
}

/// The views of a stored chunk whose code is `code`: its body view, the
/// body's further windows ([`more_windows`]) and its name view.
pub(crate) struct ChunkViews {
    pub body: String,
    pub more: Vec<String>,
    pub name: String,
}

impl ChunkViews {
    pub fn of(chunk: &StoredChunk, code: &str) -> ChunkViews {
        let (path, kind) = (chunk.path.as_str(), chunk.kind);
        let (symbol, enclosing) = (chunk.symbol.as_deref(), &chunk.enclosing);
        ChunkViews {
            body: embedding_text(path, kind, symbol, enclosing, code),
            more: more_windows(path, kind, symbol, enclosing, code),
            name: name_text(path, kind, symbol, enclosing, code),
        }
    }

    pub fn text(&self) -> ChunkText<'_> {
        ChunkText {
            body: &self.body,
            more: &self.more,
            name: &self.name,
        }
    }

    /// Estimated model tokens of every text of the body.
    pub fn body_tokens(&self, window: usize) -> usize {
        let more: usize = self.more.iter().map(|m| view_tokens(m, window)).sum();
        view_tokens(&self.body, window) + more
    }
}

/// About the bytes of code the model reads of a body view (256 tokens at
/// about three bytes a token, less the header): a longer chunk's code is
/// read in further windows of this size, at line breaks.
pub const WINDOW_CODE_BYTES: usize = 700;

/// The further windows of a chunk's body view: its code after the first
/// [`WINDOW_CODE_BYTES`], in windows of about that size cut at line
/// breaks, each under the body's header (none for code that fits in one
/// window with a little to spare), up to [`MAX_WINDOWS`] in all. The
/// model reads only the top of a long chunk; a question about what the
/// bottom does found nothing there. The
/// body's vector takes half of each window's (`dowse_embed::MORE_WEIGHT`),
/// and each window's own vector is kept ([`window_key`]): a candidate
/// counts by its best window or its one vector, whichever is nearer the
/// query. Hybrid MRR@10, the one vector -> the best (2026-12-06): set D
/// question .437 -> .454 (R@10 .700 -> .720), typed .481 -> .495,
/// handwritten .568 -> .574, docstring .492 -> .488; Java question .703 ->
/// .761, docstring .636 -> .626; TypeScript question .873 -> .883; C/C++,
/// Go and C# within .004. The one vector alone, against no windows
/// (2026-12-06): set D handwritten .529 ->
/// .568, typed .472 -> .481, question .443 -> .437 (R@10 .680 -> .700);
/// docstrings up on every set (C# .526 -> .538, TypeScript .546 -> .563);
/// questions of Java .720 -> .703 and C/C++ .708 -> .680 (at a quarter
/// weight, compared query by query: four and three queries moved, most by
/// one place). A quarter of each window, or windows only past
/// 1,400 bytes, kept that cost and gained less.
pub fn more_windows(
    path: &str,
    kind: ChunkKind,
    symbol: Option<&str>,
    enclosing: &[String],
    code: &str,
) -> Vec<String> {
    let code = cut(code, 2 * MAX_CODE_BYTES);
    if code.len() <= WINDOW_CODE_BYTES + 200 {
        return Vec::new();
    }
    let header = body_header(path, kind, symbol, enclosing);
    let mut windows = Vec::with_capacity(MAX_WINDOWS);
    let mut start = 0;
    for (end, _) in code.match_indices('\n') {
        if end + 1 - start >= WINDOW_CODE_BYTES {
            windows.push(&code[start..=end]);
            start = end + 1;
            if windows.len() == MAX_WINDOWS {
                break;
            }
        }
    }
    if windows.len() < MAX_WINDOWS && !code[start..].trim().is_empty() {
        windows.push(&code[start..]);
    }
    windows
        .into_iter()
        .skip(1)
        .map(|window| with_header(&header, &as_read(path, window)))
        .collect()
}

/// The content key of a chunk: a hash of everything its views are made
/// from, stored in the lexical index. Two chunks with the same key have
/// the same views, under any recipe.
pub fn content_key(
    path: &str,
    kind: ChunkKind,
    symbol: Option<&str>,
    enclosing: &[String],
    code: &str,
) -> u64 {
    let mut hasher = blake3::Hasher::new();
    for part in [path, kind.as_str(), symbol.unwrap_or(""), code] {
        hasher.update(&(part.len() as u64).to_le_bytes());
        hasher.update(part.as_bytes());
    }
    for name in enclosing {
        hasher.update(&(name.len() as u64).to_le_bytes());
        hasher.update(name.as_bytes());
    }
    first_u64(hasher.finalize())
}

/// How vectors are made: which views, through which window. Its key of a
/// chunk's content key is the embedding cache's key of the chunk's
/// vectors.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Recipe {
    pub view_version: u32,
    /// The model's input window, in tokens.
    pub window: usize,
}

impl Recipe {
    pub fn new(window: usize) -> Recipe {
        Recipe {
            view_version: VIEW_VERSION,
            window,
        }
    }

    /// The embedding cache's key of the chunk whose content key is
    /// `content`.
    pub fn key(&self, content: u64) -> u64 {
        let mut hasher = blake3::Hasher::new();
        hasher.update(b"dowse-embedding");
        hasher.update(&self.view_version.to_le_bytes());
        hasher.update(&(self.window as u64).to_le_bytes());
        hasher.update(&content.to_le_bytes());
        first_u64(hasher.finalize())
    }
}

/// At most this many windows of one body are read: the first and one more,
/// about 1,400 bytes of code. The CPython standard library's first
/// embedding on 2 cores, one day (2026-12-06): 2,062 s with no windows,
/// 2,432 s with two (1.18 times), 2,545 s with every window (code cut at
/// 4 KiB, up to six; 1.23 times); set D 70.0, 78.4 and 89.1 s (1.12 and
/// 1.27 times). Every window was first measured against no windows of
/// other, faster days (1,518-1,611 s), which overstated its cost as 1.6
/// times; two stay the cheaper, ranking about level. MRR@10 hybrid,
/// every window -> two (2026-12-06): set D question .454 -> .456, typed
/// .495 -> .493, handwritten .574 -> .565, docstring .488 -> .488; Java
/// question .761 -> .736; C/C++ question .677 -> .695, docstring .561 ->
/// .552.
pub const MAX_WINDOWS: usize = 2;

/// The embedding cache's key of window `window` (0 for the first) of the
/// chunk whose cache key is `key`: a long body's windows are records of
/// their own beside the chunk's.
pub fn window_key(key: u64, window: usize) -> u64 {
    let mut hasher = blake3::Hasher::new();
    hasher.update(b"dowse-window");
    hasher.update(&key.to_le_bytes());
    hasher.update(&(window as u64).to_le_bytes());
    first_u64(hasher.finalize())
}

fn first_u64(hash: blake3::Hash) -> u64 {
    u64::from_le_bytes(hash.as_bytes()[..8].try_into().expect("8 bytes"))
}

/// Estimated model tokens of a view (the one estimate dowse uses: the
/// chunker sizes chunks by it, batches are cut by it), counted no higher
/// than the window the model reads.
pub fn view_tokens(text: &str, window: usize) -> usize {
    (estimate_tokens(text) as usize).clamp(1, window.max(1))
}

/// Splits `views` (sorted by length) into batches of at most `max_chunks`
/// chunks and about `max_tokens` estimated tokens of body text (`tokens`
/// of each).
pub fn batches<T>(
    views: &[T],
    tokens_of: impl Fn(&T) -> usize,
    (max_chunks, max_tokens): (usize, usize),
) -> Vec<&[T]> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut tokens = 0;
    for (i, view) in views.iter().enumerate() {
        let cost = tokens_of(view);
        if i > start && (i - start == max_chunks.max(1) || tokens + cost > max_tokens) {
            out.push(&views[start..i]);
            start = i;
            tokens = 0;
        }
        tokens += cost;
    }
    if start < views.len() {
        out.push(&views[start..]);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn texts_are_cut_on_character_boundaries() {
        assert_eq!(cut("héllo", 2), "h");
        assert_eq!(cut("héllo", 3), "hé");
        assert_eq!(cut("abc", 10), "abc");
    }

    #[test]
    fn a_long_body_is_read_in_further_windows_under_its_header() {
        let line = |i: usize| format!("    total += weigh(item_{i}, rates, limits)\n");
        let code: String = (0..60).map(line).collect();
        let more = more_windows(
            "pkg/cost.py",
            ChunkKind::Function,
            Some("sum_costs"),
            &[],
            &code,
        );
        // The first window is the body view itself; the second follows it
        // under the same header, and code past the second is not read.
        assert_eq!(more.len(), MAX_WINDOWS - 1, "{more:?}");
        let (header, window) = more[0].split_once("(sum costs)\n").unwrap();
        assert_eq!(header, "pkg/cost.py\nfunction sum_costs ");
        let start = code.find(window).unwrap();
        assert!(
            (WINDOW_CODE_BYTES..WINDOW_CODE_BYTES + line(0).len()).contains(&start),
            "the second window starts at byte {start}"
        );
        assert!(window.len() >= WINDOW_CODE_BYTES);
        assert!(code.len() > start + window.len() + WINDOW_CODE_BYTES);
        // A body a little over one window: the rest of it is the second.
        let over: String = (0..25).map(line).collect();
        let more = more_windows("pkg/cost.py", ChunkKind::Function, None, &[], &over);
        assert_eq!(more.len(), 1, "{more:?}");
        assert!(more[0].ends_with(&line(24)), "{more:?}");
        assert!(!more[0].contains(&line(0)), "{more:?}");
        // Code that fits in one window has no further ones.
        let short: String = (0..10).map(line).collect();
        assert!(more_windows("pkg/cost.py", ChunkKind::Function, None, &[], &short).is_empty());
    }

    #[test]
    fn batches_are_bounded_by_count_and_tokens() {
        let short = "word ".repeat(10); // 10 tokens
        let long = "word ".repeat(1000); // the window's 256
        let views: Vec<&str> = std::iter::repeat_n(short.as_str(), 20)
            .chain(std::iter::repeat_n(long.as_str(), 10))
            .collect();
        let sizes: Vec<usize> = batches(&views, |v| view_tokens(v, 256), (16, 2048))
            .iter()
            .map(|b| b.len())
            .collect();
        assert_eq!(sizes, [16, 11, 3]);
        assert_eq!(sizes.iter().sum::<usize>(), 30);
    }

    #[test]
    fn views_lead_with_the_path_and_the_name() {
        let enclosing = ["class Uploader".to_owned()];
        let code = "@retrying\ndef retry_failed_uploads(self):\n    pass";
        assert_eq!(
            embedding_text(
                "net/upload.py",
                ChunkKind::Method,
                Some("retry_failed_uploads"),
                &enclosing,
                code
            ),
            "net/upload.py\nclass Uploader > method retry_failed_uploads (retry failed uploads)\n\
             @retrying\ndef retry_failed_uploads(self):\n    pass"
        );
        assert_eq!(
            name_text(
                "net/upload.py",
                ChunkKind::Method,
                Some("retry_failed_uploads"),
                &enclosing,
                code
            ),
            "class Uploader > method retry_failed_uploads (retry failed uploads)\n\
             def retry_failed_uploads(self):"
        );
        assert_eq!(
            embedding_text("setup.py", ChunkKind::Module, None, &[], "import os"),
            "setup.py\nimport os"
        );
        // Go names in camelCase: the model reads the words apart.
        assert_eq!(
            embedding_text(
                "flag/bool.go",
                ChunkKind::Function,
                Some("GetBool"),
                &[],
                "func (f *FlagSet) GetBool(name string) (bool, error) {\n\treturn parseHTTPHeader(utf8Str)"
            ),
            "flag/bool.go\nfunction GetBool (get bool)\n\
             func (f *Flag Set) Get Bool(name string) (bool, error) {\n\treturn parse HTTP Header(utf 8 Str)"
        );
        assert_eq!(
            name_text(
                "flag/bool.go",
                ChunkKind::Function,
                Some("GetBool"),
                &[],
                "// GetBool returns the flag's value.\nfunc (f *FlagSet) GetBool(name string) (bool, error) {"
            ),
            "function GetBool (get bool)\nfunc (f *Flag Set) Get Bool(name string) (bool, error) {"
        );
        let long = "é".repeat(MAX_CODE_BYTES);
        assert!(embedding_text("a", ChunkKind::Text, None, &[], &long).len() <= MAX_CODE_BYTES + 2);
    }

    #[test]
    fn keys_follow_the_content_and_the_recipe() {
        let key = |path, code| content_key(path, ChunkKind::Function, Some("f"), &[], code);
        assert_eq!(key("a.py", "x"), key("a.py", "x"));
        assert_ne!(key("a.py", "x"), key("a.py", "y"));
        assert_ne!(key("a.py", "x"), key("b.py", "x"));
        // Parts cannot run into each other.
        assert_ne!(
            content_key("ab", ChunkKind::Function, Some("c"), &[], "d"),
            content_key("a", ChunkKind::Function, Some("bc"), &[], "d")
        );
        let recipe = Recipe::new(256);
        let content = key("a.py", "x");
        assert_eq!(recipe.key(content), Recipe::new(256).key(content));
        let other_view = Recipe {
            view_version: VIEW_VERSION + 1,
            ..recipe
        };
        assert_ne!(recipe.key(content), other_view.key(content));
        assert_ne!(recipe.key(content), Recipe::new(128).key(content));
    }
}
