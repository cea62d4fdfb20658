//! The code-aware tokenizer of the lexical index.
//!
//! Code names things with compound identifiers, and people search for them
//! both whole (`parse_duration`) and by word ("parse a duration"). Each
//! identifier is indexed as the whole identifier *and* its words
//! ([`dowse_syntax::text::split_identifier`]), all lower-cased, then stemmed
//! (English) so that "retries" finds `retry`. Queries go through the same
//! analyzer plus an English stop-word filter.

use dowse_syntax::text::split_identifier_into;
use rustc_hash::FxHashMap;
use tantivy::tokenizer::{
    LowerCaser, RemoveLongFilter, StopWordFilter, TextAnalyzer, TextAnalyzerBuilder, Token,
    TokenFilter, TokenStream, Tokenizer,
};

/// The name the index analyzer is registered under in tantivy.
pub const CODE: &str = "dowse_code";

/// Tokens longer than this (base64 blobs, hashes) are not worth indexing.
const MAX_TOKEN_BYTES: usize = 64;

/// The analyzer for indexed text.
pub fn code_analyzer() -> TextAnalyzer {
    code_words().filter(CachedStemmer).build()
}

/// The words every analyzer here starts from: code words (an identifier
/// and its words), the overlong dropped, lower-cased.
fn code_words() -> TextAnalyzerBuilder<impl Tokenizer> {
    TextAnalyzer::builder(CodeTokenizer)
        .filter(RemoveLongFilter::limit(MAX_TOKEN_BYTES))
        .filter(LowerCaser)
}

/// English stop words: Lucene's list, as tantivy ships it. Dropped from
/// queries only (a larger list of question words and verbs measured no
/// better on set D), and not counted as content words.
pub const STOP_WORDS: &[&str] = &[
    "a", "an", "and", "are", "as", "at", "be", "but", "by", "for", "if", "in", "into", "is", "it",
    "no", "not", "of", "on", "or", "such", "that", "the", "their", "then", "there", "these",
    "they", "this", "to", "was", "will", "with",
];

/// The analyzer for queries: the index analyzer without English stop words.
pub fn query_analyzer() -> TextAnalyzer {
    let stop_words: Vec<String> = STOP_WORDS.iter().map(|w| (*w).to_owned()).collect();
    code_words()
        .filter(StopWordFilter::remove(stop_words))
        .filter(CachedStemmer)
        .build()
}

/// The number of words of `query` that are not stop words: `parse_duration`
/// is one word, "where do we retry failed uploads" five.
pub fn content_words(query: &str) -> usize {
    query
        .split(|c: char| !is_word_char(c))
        .filter(|w| !w.is_empty() && !STOP_WORDS.contains(&w.to_lowercase().as_str()))
        .count()
}

/// Runs `analyzer` over `text` and returns the distinct terms, in order.
pub fn terms(analyzer: &mut TextAnalyzer, text: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut stream = analyzer.token_stream(text);
    while stream.advance() {
        let term = &stream.token().text;
        if !out.iter().any(|t| t == term) {
            out.push(term.clone());
        }
    }
    out
}

/// Runs `analyzer` over `text` and returns every term with its byte range
/// in `text` (an identifier and each of its words, in order).
pub fn term_spans(
    analyzer: &mut TextAnalyzer,
    text: &str,
) -> Vec<(String, std::ops::Range<usize>)> {
    let mut out = Vec::new();
    let mut stream = analyzer.token_stream(text);
    while stream.advance() {
        let token = stream.token();
        out.push((token.text.clone(), token.offset_from..token.offset_to));
    }
    out
}

/// Finds a query's terms in text as [`code_analyzer`] would: code words,
/// lower-cased, then stemmed. Snippets run it over every line of the chunks
/// they show, and stemming every word there (on a fresh memo each call) was
/// most of their cost; English (Snowball) stemming keeps a word's first
/// letter, so only a word that begins as some term does can stem to one,
/// and only those are stemmed (words that begin with a letter outside ASCII
/// always are).
pub struct TermFinder<'t> {
    terms: &'t [String],
    words: TextAnalyzer,
    stemmer: frostem::Stemmer,
}

impl<'t> TermFinder<'t> {
    pub fn new(terms: &'t [String]) -> TermFinder<'t> {
        TermFinder {
            terms,
            words: code_words().build(),
            stemmer: frostem::Stemmer::new(frostem::Algorithm::English),
        }
    }

    /// Every term found in `text`: its index in the terms and the byte range
    /// of the word (an identifier or one of its words), in order.
    pub fn find(&mut self, text: &str) -> Vec<(usize, std::ops::Range<usize>)> {
        let TermFinder {
            terms,
            words,
            stemmer,
        } = self;
        let mut out = Vec::new();
        if terms.is_empty() {
            return out;
        }
        let mut stream = words.token_stream(text);
        while stream.advance() {
            let token = stream.token();
            let Some(first) = token.text.chars().next() else {
                continue;
            };
            if first.is_ascii() && !terms.iter().any(|t| t.starts_with(first)) {
                continue;
            }
            let stem = stemmer.stem(&token.text);
            if let Some(index) = terms.iter().position(|t| *t == stem) {
                out.push((index, token.offset_from..token.offset_to));
            }
        }
        out
    }
}

/// Emits, for every run of letters, digits and `_`, the whole run and then its
/// words when there is more than one.
#[derive(Clone, Copy, Debug, Default)]
pub struct CodeTokenizer;

impl Tokenizer for CodeTokenizer {
    type TokenStream<'a> = CodeTokenStream<'a>;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> CodeTokenStream<'a> {
        CodeTokenStream {
            text,
            offset: 0,
            token: Token::default(),
            parts: Vec::new(),
            next_part: 0,
            position: 0,
        }
    }
}

pub struct CodeTokenStream<'a> {
    text: &'a str,
    /// Where scanning for the next identifier resumes.
    offset: usize,
    token: Token,
    /// Byte ranges of the words of the current identifier still to emit.
    parts: Vec<std::ops::Range<usize>>,
    next_part: usize,
    position: usize,
}

impl CodeTokenStream<'_> {
    fn emit(&mut self, range: std::ops::Range<usize>) {
        self.token.text.clear();
        self.token.text.push_str(&self.text[range.clone()]);
        self.token.offset_from = range.start;
        self.token.offset_to = range.end;
        self.token.position = self.position;
        self.token.position_length = 1;
        self.position += 1;
    }
}

fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

impl TokenStream for CodeTokenStream<'_> {
    fn advance(&mut self) -> bool {
        if self.next_part < self.parts.len() {
            let range = self.parts[self.next_part].clone();
            self.next_part += 1;
            self.emit(range);
            return true;
        }
        let rest = &self.text[self.offset..];
        let Some(skip) = rest.find(is_word_char) else {
            self.offset = self.text.len();
            return false;
        };
        let start = self.offset + skip;
        let len = self.text[start..]
            .find(|c: char| !is_word_char(c))
            .unwrap_or(self.text.len() - start);
        let end = start + len;
        self.offset = end;
        self.parts.clear();
        self.next_part = 0;
        split_identifier_into(&self.text[start..end], start, &mut self.parts);
        // A one-word identifier is its own word: emit it once.
        if self.parts.len() == 1 && self.parts[0] == (start..end) {
            self.parts.clear();
        }
        // An identifier of only underscores has no words; emit it as is.
        self.emit(start..end);
        true
    }

    fn token(&self) -> &Token {
        &self.token
    }

    fn token_mut(&mut self) -> &mut Token {
        &mut self.token
    }
}

/// English (Snowball) stemming with a memo of recent words. Code repeats its
/// vocabulary endlessly, and stemming every occurrence again was a tenth of
/// indexing time. Each analyzer clone (one per indexing thread) has its own
/// memo, cleared when it grows past `STEM_MEMO_WORDS`.
#[derive(Clone, Copy, Debug, Default)]
pub struct CachedStemmer;

const STEM_MEMO_WORDS: usize = 200_000;

impl TokenFilter for CachedStemmer {
    type Tokenizer<T: Tokenizer> = CachedStemmerFilter<T>;

    fn transform<T: Tokenizer>(self, inner: T) -> CachedStemmerFilter<T> {
        CachedStemmerFilter {
            inner,
            memo: FxHashMap::default(),
        }
    }
}

#[derive(Clone)]
pub struct CachedStemmerFilter<T> {
    inner: T,
    memo: FxHashMap<String, String>,
}

impl<T: Tokenizer> Tokenizer for CachedStemmerFilter<T> {
    type TokenStream<'a> = CachedStemmerStream<'a, T::TokenStream<'a>>;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> Self::TokenStream<'a> {
        if self.memo.len() > STEM_MEMO_WORDS {
            self.memo.clear();
        }
        CachedStemmerStream {
            tail: self.inner.token_stream(text),
            memo: &mut self.memo,
            stemmer: frostem::Stemmer::new(frostem::Algorithm::English),
        }
    }
}

pub struct CachedStemmerStream<'a, T> {
    tail: T,
    memo: &'a mut FxHashMap<String, String>,
    stemmer: frostem::Stemmer,
}

impl<T: TokenStream> TokenStream for CachedStemmerStream<'_, T> {
    fn advance(&mut self) -> bool {
        if !self.tail.advance() {
            return false;
        }
        let token = self.tail.token_mut();
        match self.memo.get(&token.text) {
            Some(stem) => {
                token.text.clear();
                token.text.push_str(stem);
            }
            None => {
                let stem = self.stemmer.stem(&token.text).into_owned();
                self.memo
                    .insert(std::mem::replace(&mut token.text, stem.clone()), stem);
            }
        }
        true
    }

    fn token(&self) -> &Token {
        self.tail.token()
    }

    fn token_mut(&mut self) -> &mut Token {
        self.tail.token_mut()
    }
}

/// Groups of words that name one action or thing in code and in its docs:
/// a question says "remove" where the code says `delete`, "start" where it
/// says `init`. General programming vocabulary, not any corpus's.
const RELATED: &[&[&str]] = &[
    &["remove", "delete", "drop", "erase", "discard"],
    &["create", "make", "build", "construct", "new"],
    &["fetch", "retrieve", "obtain", "load"],
    &["store", "save", "persist", "write"],
    &["check", "validate", "verify", "ensure"],
    &["start", "begin", "init", "initialize", "launch"],
    &["stop", "finish", "terminate", "shutdown", "close"],
    &["error", "failure", "exception", "fault"],
    &["find", "search", "locate", "lookup"],
    &["split", "separate", "divide"],
    &["join", "concat", "concatenate", "merge", "combine"],
    &["convert", "transform", "translate", "coerce"],
    &["parse", "decode", "interpret"],
    &["print", "output", "display", "show", "render"],
    &["count", "number", "total"],
    &["size", "length", "len"],
    &["copy", "clone", "duplicate"],
    &["compare", "equal", "equals", "cmp"],
    &["add", "append", "insert", "push"],
    &["run", "execute", "invoke", "call", "perform"],
    &["wait", "sleep", "pause"],
    &["retry", "repeat", "attempt"],
    &["send", "dispatch", "transmit", "publish", "emit"],
    &["receive", "accept"],
    &["config", "configuration", "settings", "options"],
    &["argument", "arg", "parameter", "param"],
    &["message", "msg"],
    &["temporary", "temp", "tmp"],
    &["directory", "dir", "folder"],
    &["identifier", "id"],
    &["function", "func", "fn", "callable"],
    &["variable", "var"],
    &["attribute", "attr", "property", "field"],
    &["string", "str", "text"],
    &["default", "fallback"],
    &["flag", "switch", "option"],
    &["command", "cmd", "subcommand"],
    &["template", "tmpl"],
    &["environment", "env"],
    &["cache", "memo", "memoize"],
    &["escape", "quote", "sanitize"],
    &["ignore", "skip"],
    &["missing", "undefined", "absent"],
    &["update", "modify", "change"],
    &["contain", "include", "has"],
];

/// The words related to a query term (stemmed, as the index holds them),
/// by [`RELATED`]; empty for most words.
pub fn related(term: &str) -> &'static [String] {
    static TABLE: std::sync::OnceLock<FxHashMap<String, Vec<String>>> = std::sync::OnceLock::new();
    let table = TABLE.get_or_init(|| {
        let mut analyzer = code_analyzer();
        let mut table: FxHashMap<String, Vec<String>> = FxHashMap::default();
        for group in RELATED {
            let stems: Vec<String> = group
                .iter()
                .filter_map(|w| terms(&mut analyzer, w).into_iter().next())
                .collect();
            for stem in &stems {
                let entry = table.entry(stem.clone()).or_default();
                for other in &stems {
                    if other != stem && !entry.contains(other) {
                        entry.push(other.clone());
                    }
                }
            }
        }
        table
    });
    table.get(term).map_or(&[], Vec::as_slice)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The finder's shortcut holds: English stemming keeps a word's first
    /// letter, over every word of the README and this crate's sources, and
    /// over the words Snowball treats as exceptions.
    #[test]
    fn stems_keep_their_first_letter() {
        let text = concat!(
            include_str!("../../../README.md"),
            include_str!("lexical.rs"),
            include_str!("tokenizer.rs"),
            "skis skies dying lying tying idly gently ugly early only singly news ",
            "generate generously communism arsenal yelled year yying Yield",
        );
        let stemmer = frostem::Stemmer::new(frostem::Algorithm::English);
        let mut words = TextAnalyzer::builder(CodeTokenizer)
            .filter(LowerCaser)
            .build();
        let mut stream = words.token_stream(text);
        let mut seen = 0;
        while stream.advance() {
            let word = &stream.token().text;
            let stem = stemmer.stem(word);
            assert_eq!(stem.chars().next(), word.chars().next(), "{word} -> {stem}");
            seen += 1;
        }
        assert!(seen > 10_000, "{seen} words");
    }

    /// The finder finds what the index's analyzer makes of each line, and
    /// nothing else, for a question.
    #[test]
    fn term_finder_agrees_with_the_analyzer() {
        let terms = terms(
            &mut query_analyzer(),
            "how do we retry the failed uploads, reading the index in parallel?",
        );
        assert!(terms.len() >= 6, "{terms:?}");
        let mut finder = TermFinder::new(&terms);
        let mut analyzer = code_analyzer();
        let mut found = 0;
        for line in include_str!("../../../README.md").lines() {
            let expected: Vec<(usize, std::ops::Range<usize>)> = term_spans(&mut analyzer, line)
                .into_iter()
                .filter_map(|(term, range)| Some((terms.iter().position(|t| *t == term)?, range)))
                .collect();
            assert_eq!(finder.find(line), expected, "{line}");
            found += expected.len();
        }
        assert!(found > 100, "{found} matches");
    }

    #[test]
    fn index_terms() {
        let table: &[(&str, &[&str])] = &[
            ("parse_duration", &["parse_dur", "pars", "durat"]),
            (
                "HTTPServer.retries",
                &["httpserver", "http", "server", "retri"],
            ),
            ("utf8Decode(x)", &["utf8decod", "utf", "8", "decod", "x"]),
            ("self.send(request)", &["self", "send", "request"]),
            ("// retry the upload", &["retri", "the", "upload"]),
            ("MAX_RETRIES = 404", &["max_retri", "max", "retri", "404"]),
            ("__init__", &["__init__", "init"]),
            ("a  -> b", &["a", "b"]),
            ("", &[]),
        ];
        for (text, expected) in table {
            assert_eq!(
                &terms(&mut code_analyzer(), text),
                expected,
                "indexing {text:?}"
            );
        }
    }

    #[test]
    fn query_terms_drop_stop_words() {
        assert_eq!(
            terms(
                &mut query_analyzer(),
                "where do we retry the failed uploads"
            ),
            ["where", "do", "we", "retri", "fail", "upload"]
        );
        assert_eq!(
            terms(&mut query_analyzer(), "parseDuration"),
            ["parsedur", "pars", "durat"]
        );
    }

    #[test]
    fn content_words_skip_stop_words_and_keep_identifiers_whole() {
        assert_eq!(content_words("parse_duration"), 1);
        assert_eq!(content_words("where do we retry the failed uploads?"), 6);
        assert_eq!(content_words("Client::send"), 2);
        assert_eq!(content_words("  "), 0);
    }

    #[test]
    fn offsets_point_at_the_source() {
        let text = "fooBar baz";
        let mut analyzer = code_analyzer();
        let mut stream = analyzer.token_stream(text);
        let mut spans = Vec::new();
        while stream.advance() {
            let t = stream.token();
            spans.push(&text[t.offset_from..t.offset_to]);
        }
        assert_eq!(spans, ["fooBar", "foo", "Bar", "baz"]);
    }

    #[test]
    fn long_tokens_are_dropped() {
        let blob = "a".repeat(100);
        assert!(terms(&mut code_analyzer(), &blob).is_empty());
    }

    #[test]
    fn related_words_go_both_ways_as_the_index_holds_them() {
        let mut analyzer = query_analyzer();
        let mut stem = |w: &str| terms(&mut analyzer, w).remove(0);
        let remove = stem("remove");
        let delete = stem("delete");
        assert!(related(&remove).contains(&delete), "{:?}", related(&remove));
        assert!(related(&delete).contains(&remove));
        assert!(!related(&remove).contains(&remove));
        assert!(related(&stem("upload")).is_empty());
    }
}
