//! Search: a query in, ranked chunks out.
//!
//! Lexical search is boosted BM25 over chunks ([`dowse_index::lexical`]).
//! Results are over-fetched and then collapsed: chunks that overlap one
//! another (the parts of one large function, say) are reported once, by the
//! best of them. Each result carries a snippet: the few lines of the chunk
//! that match the query best.

use std::fmt;
use std::str::FromStr;

use dowse_index::lexical::{Boosts, StoredChunk};
use dowse_index::tokenizer;
use serde::Serialize;

use crate::{Engine, EngineError, Result};

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

/// A search as asked.
#[derive(Clone, Debug)]
pub struct SearchRequest {
    pub query: String,
    pub mode: SearchMode,
    pub limit: usize,
}

impl SearchRequest {
    pub const DEFAULT_LIMIT: usize = 10;
    pub const MAX_LIMIT: usize = 1000;

    pub fn new(query: impl Into<String>) -> SearchRequest {
        SearchRequest {
            query: query.into(),
            mode: SearchMode::default(),
            limit: SearchRequest::DEFAULT_LIMIT,
        }
    }
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
    pub kind: &'static str,
    pub language: String,
    pub score: f32,
    /// The best-matching lines of the chunk.
    pub snippet: String,
    /// 1-based line of the snippet's first line.
    pub snippet_line: u32,
    /// Byte range of the chunk in the file.
    #[serde(skip)]
    pub byte_range: std::ops::Range<usize>,
}

/// The reason hybrid and semantic searches fall back to keywords until an
/// embedding model is available.
pub const NO_MODEL: &str = "semantic search is unavailable: no embedding model is loaded; \
     results are from keyword search";

/// Lines in a snippet.
const SNIPPET_LINES: usize = 4;

impl Engine {
    /// Answers `request` from the current snapshot.
    pub fn search(&self, request: &SearchRequest) -> Result<SearchResponse> {
        let query = request.query.trim();
        if query.is_empty() {
            return Err(EngineError::EmptyQuery);
        }
        if request.limit == 0 || request.limit > SearchRequest::MAX_LIMIT {
            return Err(EngineError::InvalidInput(format!(
                "limit must be between 1 and {}, not {}",
                SearchRequest::MAX_LIMIT,
                request.limit
            )));
        }
        let degraded = match request.mode {
            SearchMode::Lexical => None,
            SearchMode::Hybrid | SearchMode::Semantic => Some(NO_MODEL.to_owned()),
        };
        let mut snapshot = self.lexical.snapshot();
        let terms = snapshot.query_terms(query);
        let hits = snapshot.search(query, &Boosts::default(), request.limit * 3 + 10)?;
        let mut chunks = Vec::with_capacity(hits.len());
        for hit in hits {
            chunks.push((hit.score, snapshot.chunk(hit.doc)?));
        }
        let results = collapse(chunks, request.limit)
            .into_iter()
            .map(|(score, chunk)| to_result(score, chunk, &terms))
            .collect();
        Ok(SearchResponse {
            query: request.query.clone(),
            mode: request.mode,
            degraded,
            results,
        })
    }
}

/// Keeps the best of chunks that overlap in one file, in score order.
fn collapse(ranked: Vec<(f32, StoredChunk)>, limit: usize) -> Vec<(f32, StoredChunk)> {
    let mut kept: Vec<(f32, StoredChunk)> = Vec::with_capacity(limit);
    for (score, chunk) in ranked {
        let overlaps = kept.iter().any(|(_, k)| {
            k.path == chunk.path && k.start_line <= chunk.end_line && chunk.start_line <= k.end_line
        });
        if !overlaps {
            kept.push((score, chunk));
            if kept.len() == limit {
                break;
            }
        }
    }
    kept
}

fn to_result(score: f32, chunk: StoredChunk, terms: &[String]) -> SearchResult {
    let (snippet, offset) = snippet(&chunk.content, terms);
    SearchResult {
        path: chunk.path,
        start_line: chunk.start_line,
        end_line: chunk.end_line,
        symbol: chunk.symbol,
        enclosing: chunk.enclosing,
        kind: chunk.kind.as_str(),
        language: chunk.language,
        score,
        snippet,
        snippet_line: chunk.start_line + offset as u32,
        byte_range: chunk.byte_range,
    }
}

/// The `SNIPPET_LINES` consecutive lines of `content` holding the most
/// distinct query terms (the first lines when nothing matches), and the
/// 0-based index of the first of them.
pub fn snippet(content: &str, terms: &[String]) -> (String, usize) {
    let lines: Vec<&str> = content.lines().collect();
    if lines.is_empty() {
        return (String::new(), 0);
    }
    let mut analyzer = tokenizer::code_analyzer();
    let line_terms: Vec<Vec<usize>> = lines
        .iter()
        .map(|line| {
            let found = tokenizer::terms(&mut analyzer, line);
            terms
                .iter()
                .enumerate()
                .filter(|(_, t)| found.contains(t))
                .map(|(i, _)| i)
                .collect()
        })
        .collect();
    let window = SNIPPET_LINES.min(lines.len());
    let mut best = (0, 0usize);
    for start in 0..=lines.len() - window {
        let mut distinct: Vec<usize> = line_terms[start..start + window]
            .iter()
            .flatten()
            .copied()
            .collect();
        distinct.sort_unstable();
        distinct.dedup();
        if distinct.len() > best.0 {
            best = (distinct.len(), start);
        }
    }
    let start = best.1;
    let mut text: Vec<&str> = lines[start..start + window].to_vec();
    while text.last().is_some_and(|l| l.trim().is_empty()) {
        text.pop();
    }
    (text.join("\n"), start)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snippet_picks_the_lines_with_most_query_terms() {
        let content = "def handler(event):\n    log(event)\n    x = 1\n    y = 2\n    z = 3\n    w = 4\n    retry_upload(event.file)\n    notify(user)\n";
        let terms = vec!["retri".to_owned(), "upload".to_owned()];
        let (text, offset) = snippet(content, &terms);
        assert_eq!(offset, 3);
        assert!(text.contains("retry_upload"), "{text}");
        let (text, offset) = snippet(content, &["nothing".to_owned()]);
        assert_eq!(offset, 0);
        assert!(text.starts_with("def handler"));
    }

    #[test]
    fn modes_parse_and_unknown_modes_name_the_choices() {
        assert_eq!(
            "lexical".parse::<SearchMode>().unwrap(),
            SearchMode::Lexical
        );
        let err = "fuzzy".parse::<SearchMode>().unwrap_err().to_string();
        assert_eq!(
            err,
            "unknown search mode `fuzzy`: use one of hybrid, lexical, semantic"
        );
    }
}
