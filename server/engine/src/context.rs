//! Context for a query: the code an agent (or a person) should read to
//! answer it, packed into a token budget.
//!
//! The chunks that hybrid search ranks best, each whole (a part of a large
//! definition stays that part, so one huge function cannot eat the budget),
//! in rank order while they fit; chunks of one file that touch or overlap
//! are merged into one span, so nothing is sent twice. Tokens are counted
//! with the embedding model's tokenizer, or estimated the way the chunker
//! sizes chunks when no model is available; the answer says which.

use std::collections::HashMap;

use dowse_syntax::text::LineIndex;
use serde::Serialize;

use crate::search::{SearchMode, SearchRequest};
use crate::source::SourceReader;
use crate::{Engine, EngineError, Result};

/// How the tokens of a context were counted.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum TokenCount {
    /// With the embedding model's tokenizer.
    Model,
    /// With the chunker's estimate (about four bytes a token): no model.
    Estimate,
}

/// One span of code in a context.
#[derive(Clone, Debug, Serialize)]
pub struct ContextChunk {
    /// The workspace root the span belongs to (canonical, absolute).
    pub root: String,
    /// Relative to the workspace root.
    pub path: String,
    /// 1-based, inclusive.
    pub start_line: u32,
    pub end_line: u32,
    /// The definitions in the span, best-ranked first.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub symbols: Vec<String>,
    pub language: String,
    /// The best score among the chunks merged into this span.
    pub score: f32,
    /// Tokens of the span's header line and text.
    pub tokens: usize,
    pub text: String,
}

/// The answer of a context request.
#[derive(Clone, Debug, Serialize)]
pub struct ContextResponse {
    pub query: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub degraded: Option<String>,
    pub max_tokens: usize,
    /// Tokens of everything returned: at most `max_tokens`.
    pub tokens: usize,
    pub token_count: TokenCount,
    pub chunks: Vec<ContextChunk>,
}

impl ContextResponse {
    /// The header line that introduces a span in the packed text.
    pub fn header(chunk: &ContextChunk) -> String {
        format!("{}:{}-{}", chunk.path, chunk.start_line, chunk.end_line)
    }
}

/// Search results considered for a context.
const CANDIDATES: usize = 30;

/// Fewer tokens than a span's header and one line of code take.
const MIN_SPAN_TOKENS: usize = 8;

/// The longest token of the model in bytes, with room to spare (WordPiece
/// pieces are words or parts of words, at most about 20 characters; an
/// unknown character is one token): a text of N bytes has at least
/// N / MAX_TOKEN_BYTES tokens.
const MAX_TOKEN_BYTES: usize = 32;

/// The smallest and largest budgets accepted.
pub const MIN_TOKENS: usize = 100;
pub const MAX_TOKENS: usize = 200_000;

impl Engine {
    /// The best chunks for `query`, whole, merged where they touch, until
    /// `max_tokens` are spent.
    pub fn context(&self, query: &str, max_tokens: usize) -> Result<ContextResponse> {
        if !(MIN_TOKENS..=MAX_TOKENS).contains(&max_tokens) {
            return Err(EngineError::InvalidInput(format!(
                "max_tokens must be between {MIN_TOKENS} and {MAX_TOKENS}, not {max_tokens}"
            )));
        }
        let request = SearchRequest {
            query: query.to_owned(),
            mode: SearchMode::Hybrid,
            limit: CANDIDATES,
            path_prefix: None,
            languages: Vec::new(),
            scope: Default::default(),
        };
        // Parts of large definitions are sent as themselves.
        let response = self.search_chunks(&request, false)?;
        let model = match self.semantic() {
            crate::semantic::SemanticState::Ready(ready) => Some(ready.model.clone()),
            _ => None,
        };
        let token_count = match &model {
            Some(m) if m.count_tokens("probe").is_some() => TokenCount::Model,
            _ => TokenCount::Estimate,
        };
        let count = |text: &str| -> usize {
            model
                .as_ref()
                .and_then(|m| m.count_tokens(text))
                .unwrap_or_else(|| dowse_syntax::text::estimate_tokens(text) as usize)
        };
        let snapshot = self.snapshot();
        let mut sources = SourceReader::new(&self.root, &snapshot.overlay);
        // Each file's lines are indexed once, however many of its chunks
        // are candidates.
        let mut line_indexes: HashMap<String, LineIndex> = HashMap::new();
        let mut chosen: Vec<ContextChunk> = Vec::new();
        let mut used = 0;
        for (score, chunk) in response.chunks {
            // Nothing fits any more: every span has a header of a few tokens.
            if max_tokens - used < MIN_SPAN_TOKENS {
                break;
            }
            // A file changed since it was indexed (not yet indexed again)
            // has other lines where the chunk was: none of it is sent.
            let Some(file) = sources.file_holding(&chunk) else {
                continue;
            };
            let (mut start, mut end) = (chunk.start_line, chunk.end_line);
            let mut symbols: Vec<String> = chunk.symbol.into_iter().collect();
            // A span of the same file that touches or overlaps this chunk
            // grows to cover both.
            let merge_with = chosen.iter().position(|c| {
                c.path == chunk.path && c.start_line <= end + 1 && start <= c.end_line + 1
            });
            let (old_tokens, best) = match merge_with {
                Some(i) => {
                    let c = &chosen[i];
                    start = start.min(c.start_line);
                    end = end.max(c.end_line);
                    let mut merged = c.symbols.clone();
                    merged.extend(symbols.drain(..).filter(|s| !c.symbols.contains(s)));
                    symbols = merged;
                    (c.tokens, c.score.max(score))
                }
                None => (0, score),
            };
            let index = line_indexes
                .entry(chunk.path.clone())
                .or_insert_with(|| LineIndex::new(&file));
            let Some(text) = lines(&file, index, start, end) else {
                continue;
            };
            let mut span = ContextChunk {
                root: self.root.to_string_lossy().into_owned(),
                path: chunk.path,
                start_line: start,
                end_line: end,
                symbols,
                language: chunk.language,
                score: best,
                tokens: 0,
                text,
            };
            // A span whose bytes alone rule it out is not tokenised: no
            // token of the model is longer than MAX_TOKEN_BYTES.
            let header = ContextResponse::header(&span);
            let at_least = (header.len() + span.text.len()) / MAX_TOKEN_BYTES;
            if used - old_tokens + at_least > max_tokens {
                continue;
            }
            span.tokens = count(&header) + count(&span.text);
            if used - old_tokens + span.tokens > max_tokens {
                continue;
            }
            used = used - old_tokens + span.tokens;
            match merge_with {
                Some(i) => chosen[i] = span,
                None => chosen.push(span),
            }
        }
        Ok(ContextResponse {
            query: query.to_owned(),
            degraded: response.degraded,
            max_tokens,
            tokens: used,
            token_count,
            chunks: chosen,
        })
    }
}

/// Lines `start..=end` (1-based) of `text`, indexed by `index`, without the
/// last line's ending.
fn lines(text: &str, index: &LineIndex, start: u32, end: u32) -> Option<String> {
    let (first, last) = (start as usize - 1, end as usize - 1);
    if start == 0 || last >= index.line_count() || first > last {
        return None;
    }
    let from = index.line_start(first);
    let to = index.line_end(text, last);
    Some(text[from..to].trim_start_matches('\u{feff}').to_owned())
}
