//! Find similar code: the nearest neighbours of the chunk at a line.
//!
//! The chunk at `FILE:LINE` (the smallest one covering the line) is looked up
//! in the index; its vector comes from the embedding cache (or the model, if
//! it has not been embedded yet) and the vector index returns its
//! neighbours, minus the chunk itself and anything overlapping it. Without a
//! model, the chunk's own words are the query of a keyword search, and the
//! answer says so; while the first embedding is still running, that keyword
//! search fills the places the few embedded neighbours leave, and the answer
//! says how much was compared by meaning.

use std::path::Path;

use dowse_index::lexical::{Boosts, StoredChunk};
use serde::Serialize;

use crate::search::{SearchResult, collapse, keyword_only, to_result};
use crate::semantic::SemanticState;
use crate::source::SourceReader;
use crate::views::ChunkViews;
use crate::{Engine, EngineError, Result};

/// The answer of `dowse similar`.
#[derive(Clone, Debug, Serialize)]
pub struct SimilarResponse {
    /// The chunk at the line asked about.
    pub source: SearchResult,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub degraded: Option<String>,
    pub results: Vec<SearchResult>,
}

/// Bytes of a chunk used as the query of the keyword fallback.
const FALLBACK_QUERY_BYTES: usize = 2000;

/// Candidates beyond the limit that may be the source chunk itself or its
/// overlapping parts.
const SOURCE_SLACK: usize = 10;

impl Engine {
    /// The chunks most like the one covering `line` (1-based) of `path`
    /// (workspace-relative, or absolute inside the workspace).
    pub fn similar(&self, path: &str, line: u32, limit: usize) -> Result<SimilarResponse> {
        crate::search::validate_limit(limit)?;
        let _query = self.query_started();
        let rel = self.workspace_relative(path)?;
        let snapshot = self.snapshot();
        let chunks = snapshot.file_chunks(&rel)?;
        if chunks.is_empty() {
            return Err(EngineError::InvalidInput(format!(
                "`{rel}` is not in the index (is it ignored, binary, or outside the workspace?)"
            )));
        }
        let Some(source) = chunks
            .into_iter()
            .filter(|c| c.start_line <= line && line <= c.end_line)
            .min_by_key(|c| c.end_line - c.start_line)
        else {
            return Err(EngineError::InvalidInput(format!(
                "no chunk of `{rel}` covers line {line} (blank lines between definitions belong to none)"
            )));
        };
        let mut sources = SourceReader::results(&self.root, &snapshot.overlay);
        let source_text = sources.text(&source).ok_or_else(|| {
            EngineError::InvalidInput(format!(
                "`{rel}` changed since it was indexed; index it again and retry"
            ))
        })?;
        let overlaps_source = |c: &StoredChunk| {
            c.path == source.path
                && c.start_line <= source.end_line
                && source.start_line <= c.end_line
        };

        let keyword_query = || {
            format!(
                "{} {}",
                source.symbol.as_deref().unwrap_or(""),
                crate::views::cut(&source_text, FALLBACK_QUERY_BYTES)
            )
        };
        let keyword_hits = |depth: usize| -> Result<Vec<(f32, StoredChunk)>> {
            let mut ranked = Vec::new();
            for hit in snapshot.lexical(&keyword_query(), &Boosts::default(), depth)? {
                if let Some(chunk) = snapshot.chunk(hit.chunk_id)? {
                    ranked.push((hit.score, chunk));
                }
            }
            Ok(ranked)
        };

        // As deep as a search ranks for the limit, and a few more: the
        // source chunk and its own file's neighbours are dropped after.
        let depth = limit * crate::search::OVERSHOOT + SOURCE_SLACK;
        let (ranked, degraded): (Vec<(f32, StoredChunk)>, Option<String>) = match self.semantic() {
            SemanticState::Ready(ready) => {
                let vector = match ready.cached(source.content_key) {
                    Some(q) => q,
                    None => {
                        let views = ChunkViews::of(&source, &source_text);
                        ready
                            .embed_chunks(&[views.text()])
                            .map_err(EngineError::Semantic)?
                            .pop()
                            .ok_or_else(|| EngineError::Semantic("no vector".into()))?
                            .embedding
                            .body
                    }
                };
                let mut ranked = Vec::new();
                for (chunk_id, score) in snapshot.vector_hits(ready, &vector, depth) {
                    if chunk_id == source.chunk_id {
                        continue;
                    }
                    if let Some(chunk) = snapshot.chunk(chunk_id)? {
                        ranked.push((score, chunk));
                    }
                }
                // While the first embedding runs, most chunks have no vector
                // yet and the nearest neighbours may be few or none: an empty
                // answer would read as "nothing is similar". Keyword matches
                // fill the places left, after every match by meaning, and the
                // answer says how much of the workspace was compared.
                let (embedded, pending) = self.vector_coverage();
                let found = ranked.iter().filter(|(_, c)| !overlaps_source(c)).count();
                let mut degraded = None;
                if pending > 0 && found < limit {
                    let floor = ranked.iter().map(|(s, _)| *s).fold(f32::INFINITY, f32::min);
                    // With no match by meaning at all, keyword scores stand alone.
                    let floor = if floor.is_finite() {
                        floor.max(0.0)
                    } else {
                        2.0
                    };
                    let seen: std::collections::HashSet<u64> =
                        ranked.iter().map(|(_, c)| c.chunk_id).collect();
                    let hits = keyword_hits(depth)?;
                    let best = hits.first().map_or(1.0, |(s, _)| *s).max(f32::EPSILON);
                    for (score, chunk) in hits {
                        if !seen.contains(&chunk.chunk_id) {
                            // Below every match by meaning, in keyword order.
                            ranked.push((floor * 0.5 * score / best, chunk));
                        }
                    }
                    degraded = Some(format!(
                        "semantic coverage is partial ({embedded} of {} chunks embedded so far); \
                         keyword matches fill the results that meaning could not",
                        embedded + pending
                    ));
                }
                (ranked, degraded)
            }
            state @ (SemanticState::Unavailable(_) | SemanticState::NotLoaded) => {
                let reason = state.unavailable().unwrap_or_default();
                (keyword_hits(depth)?, Some(keyword_only(reason)))
            }
        };
        let ranked: Vec<(f32, StoredChunk)> = ranked
            .into_iter()
            .filter(|(_, c)| !overlaps_source(c))
            .collect();
        let results = collapse(ranked, limit)
            .into_iter()
            .map(|(score, chunk)| {
                let text = sources.text(&chunk);
                to_result(&self.root, score, chunk, text.as_deref(), &[])
            })
            .collect();
        Ok(SimilarResponse {
            source: to_result(&self.root, 1.0, source, Some(&source_text), &[]),
            degraded,
            results,
        })
    }

    /// `path` relative to the workspace root, `/`-separated. Absolute paths
    /// must lie inside the workspace; `..` may not climb out of it.
    pub fn workspace_relative(&self, path: &str) -> Result<String> {
        let given = Path::new(path);
        let outside = || {
            EngineError::InvalidInput(format!(
                "`{path}` is outside the workspace `{}`",
                self.root.display()
            ))
        };
        let rel = if given.is_absolute() {
            let canonical = given.canonicalize().unwrap_or_else(|_| given.to_path_buf());
            canonical
                .strip_prefix(&self.root)
                .map_err(|_| outside())?
                .to_path_buf()
        } else {
            given.to_path_buf()
        };
        let mut parts: Vec<&str> = Vec::new();
        for component in rel.components() {
            match component {
                std::path::Component::Normal(part) => {
                    parts.push(part.to_str().ok_or_else(outside)?)
                }
                std::path::Component::CurDir => {}
                std::path::Component::ParentDir => {
                    parts.pop().ok_or_else(outside)?;
                }
                _ => return Err(outside()),
            }
        }
        Ok(parts.join("/"))
    }
}
