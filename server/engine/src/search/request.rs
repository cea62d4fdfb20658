//! What a search asks and what it answers: the request (mode, scope,
//! limit, filters), its validation, and the results as front ends receive
//! them.

use std::fmt;
use std::str::FromStr;

use dowse_syntax::ChunkKind;
use serde::Serialize;

use crate::{EngineError, Result};

/// How to search.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SearchMode {
    /// Keywords and meaning, fused; the default.
    #[default]
    Hybrid,
    /// Keywords only (BM25).
    Lexical,
    /// Meaning only (embeddings).
    Semantic,
}

impl SearchMode {
    pub const NAMES: [&'static str; 3] = ["hybrid", "lexical", "semantic"];

    pub fn as_str(self) -> &'static str {
        match self {
            SearchMode::Hybrid => "hybrid",
            SearchMode::Lexical => "lexical",
            SearchMode::Semantic => "semantic",
        }
    }
}

impl fmt::Display for SearchMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for SearchMode {
    type Err = EngineError;

    fn from_str(s: &str) -> Result<SearchMode> {
        match s {
            "hybrid" => Ok(SearchMode::Hybrid),
            "lexical" => Ok(SearchMode::Lexical),
            "semantic" => Ok(SearchMode::Semantic),
            other => Err(EngineError::InvalidInput(format!(
                "unknown search mode `{other}`: use one of {}",
                SearchMode::NAMES.join(", ")
            ))),
        }
    }
}

/// Where a search looks.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Scope {
    /// The workspace's own index (with the editor's unsaved buffers).
    #[default]
    Local,
    /// The team index alone, as published (`dowse publish`).
    Team,
    /// Both; the workspace's own files from its own index.
    All,
}

impl Scope {
    pub const NAMES: [&'static str; 3] = ["local", "team", "all"];
}

impl FromStr for Scope {
    type Err = EngineError;

    fn from_str(s: &str) -> Result<Scope> {
        match s {
            "local" => Ok(Scope::Local),
            "team" => Ok(Scope::Team),
            "all" => Ok(Scope::All),
            other => Err(EngineError::InvalidInput(format!(
                "unknown scope `{other}`: use one of {}",
                Scope::NAMES.join(", ")
            ))),
        }
    }
}

/// A search as asked.
#[derive(Clone, Debug)]
pub struct SearchRequest {
    pub query: String,
    pub mode: SearchMode,
    pub limit: usize,
    /// Only chunks of files under this workspace-relative path (`src/net`
    /// or `src/net/`; a file's own path works too).
    pub path_prefix: Option<String>,
    /// Only chunks of files in these languages (names as in results:
    /// "typescript", "go", "markdown", "text"); empty for all.
    pub languages: Vec<String>,
    /// Where to look; the engine answers `Local` itself, a front end with a
    /// team index the others (`dowse-team`).
    pub scope: Scope,
}

impl SearchRequest {
    pub const DEFAULT_LIMIT: usize = 10;
    pub const MAX_LIMIT: usize = 1000;

    pub fn new(query: impl Into<String>) -> SearchRequest {
        SearchRequest {
            query: query.into(),
            mode: SearchMode::default(),
            limit: SearchRequest::DEFAULT_LIMIT,
            path_prefix: None,
            languages: Vec::new(),
            scope: Scope::Local,
        }
    }

    /// The one check of what a search may ask, for every front end: a
    /// query with something in it, a limit from 1 to [`Self::MAX_LIMIT`].
    pub fn validate(&self) -> Result<()> {
        if self.query.trim().is_empty() {
            return Err(EngineError::EmptyQuery);
        }
        validate_limit(self.limit)
    }
}

/// A result limit must be from 1 to [`SearchRequest::MAX_LIMIT`].
pub fn validate_limit(limit: usize) -> Result<()> {
    if limit == 0 || limit > SearchRequest::MAX_LIMIT {
        return Err(EngineError::InvalidInput(format!(
            "limit must be between 1 and {}, not {limit}",
            SearchRequest::MAX_LIMIT
        )));
    }
    Ok(())
}

/// The answer, in the shape of `dowse search --json`.
#[derive(Clone, Debug, Serialize)]
pub struct SearchResponse {
    pub query: String,
    pub mode: SearchMode,
    /// Why the results are not what the mode promises, and what to do.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub degraded: Option<String>,
    pub results: Vec<SearchResult>,
}

/// One ranked chunk.
#[derive(Clone, Debug, Serialize)]
pub struct SearchResult {
    /// The workspace root the result belongs to (canonical, absolute).
    pub root: String,
    /// Relative to the workspace root, `/`-separated.
    pub path: String,
    /// 1-based, inclusive.
    pub start_line: u32,
    /// 1-based, inclusive.
    pub end_line: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub symbol: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub enclosing: Vec<String>,
    #[serde(serialize_with = "serialize_kind")]
    pub kind: ChunkKind,
    pub language: String,
    pub score: f32,
    /// The best-matching lines of the chunk.
    pub snippet: String,
    /// 1-based line of the snippet's first line.
    pub snippet_line: u32,
    /// Byte range of the chunk in the file.
    #[serde(skip)]
    pub byte_range: std::ops::Range<usize>,
    /// Where the query's words occur in the snippet, for highlighting.
    #[serde(skip)]
    pub matches: Vec<SnippetMatch>,
    /// Where the defined name is: its line (1-based, in the file) and byte
    /// range in that line; symbol pickers point there.
    #[serde(skip)]
    pub name: Option<NameAt>,
    /// Further matches in this result's file that the answer folded away to
    /// show other places (on the file's first result only).
    #[serde(skip_serializing_if = "is_zero")]
    pub more_in_file: u32,
    /// The repository of a result from a team index (`dowse publish`);
    /// `None` for this workspace's own results.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub repo: Option<String>,
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

/// Where a result's defined name is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NameAt {
    /// 1-based, in the file.
    pub line: u32,
    /// The byte range of the name in the line.
    pub bytes: std::ops::Range<usize>,
    /// The line, for converting bytes to an editor's columns.
    pub line_text: String,
}

/// A query word in a snippet: its line (1-based, in the file) and the byte
/// range of the word in that line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SnippetMatch {
    pub line: u32,
    pub bytes: std::ops::Range<usize>,
}

/// Kinds serialise as their lower-case names: `function`, `method`, ...
pub(crate) fn serialize_kind<S: serde::Serializer>(
    kind: &ChunkKind,
    serializer: S,
) -> std::result::Result<S::Ok, S::Error> {
    serializer.serialize_str(kind.as_str())
}
