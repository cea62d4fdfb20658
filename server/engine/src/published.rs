//! What a workspace gives a team index, and what a query sends to one.
//!
//! Publishing reads the committed index and the files on disk, never the
//! overlay of an editor's unsaved buffers: only what was indexed from disk
//! leaves the machine, and only when the user runs `dowse publish`. A query
//! sends its words and its vector, no code.
//!
//! The lexical side is a sparse vector of dowse's own terms (the tokenizer
//! the keyword index uses, so `parse_duration` is `parse_duration`, `parse`
//! and `duration`): each term's index is a hash of the term, its value a
//! saturated term frequency (BM25's `k1` = 1.2 without length
//! normalisation); the store weights terms by their inverse document
//! frequency over the whole collection (Qdrant's `idf` modifier).

use std::collections::{BTreeSet, HashMap};

use dowse_index::tokenizer;

use crate::semantic::SemanticState;
use crate::source::SourceReader;
use crate::views::cut;
use crate::{Engine, EngineError, Result};

/// The most bytes of a chunk's text a published point carries: enough for
/// the snippet a remote result shows, bounded for the payload.
pub const PUBLISHED_TEXT_BYTES: usize = 4096;

/// One chunk as a team index stores it.
#[derive(Clone, Debug)]
pub struct PublishedChunk {
    /// Workspace-relative, `/`-separated.
    pub path: String,
    /// Names the chunk within its file across republishing: its content
    /// key, and which of the file's chunks with that key it is.
    pub chunk_key: String,
    /// A hash of everything the point holds but the vectors' model (which
    /// the collection records): equal hashes need not be sent again.
    pub hash: String,
    /// 1-based, inclusive: the whole definition for a part of one.
    pub start_line: u32,
    pub end_line: u32,
    pub symbol: Option<String>,
    pub kind: String,
    pub language: String,
    pub enclosing: Vec<String>,
    /// The chunk's text, cut to [`PUBLISHED_TEXT_BYTES`].
    pub text: String,
    pub dense: Vec<f32>,
    pub sparse: Vec<(u32, f32)>,
}

/// The model that made a workspace's vectors.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PublishedModel {
    pub id: String,
    pub dimensions: usize,
}

/// What a query sends to a team index: no code, only the query.
#[derive(Clone, Debug)]
pub struct RemoteQuery {
    /// `None` when search by meaning is unavailable here: the remote side
    /// answers by keywords alone.
    pub dense: Option<Vec<f32>>,
    pub sparse: Vec<(u32, f32)>,
    /// The query's terms, for snippets of remote results.
    pub terms: Vec<String>,
}

/// The index of a term in the sparse vector.
fn term_index(term: &str) -> u32 {
    let hash = blake3::hash(term.as_bytes());
    u32::from_le_bytes(hash.as_bytes()[..4].try_into().expect("4 bytes"))
}

/// The sparse vector of an indexed text: each term once, valued by its
/// saturated frequency.
pub fn sparse_document(text: &str) -> Vec<(u32, f32)> {
    const K1: f32 = 1.2;
    let mut counts: HashMap<u32, f32> = HashMap::new();
    for (term, _) in tokenizer::term_spans(&mut tokenizer::code_analyzer(), text) {
        *counts.entry(term_index(&term)).or_default() += 1.0;
    }
    let mut sparse: Vec<(u32, f32)> = counts
        .into_iter()
        .map(|(index, tf)| (index, tf * (K1 + 1.0) / (tf + K1)))
        .collect();
    sparse.sort_by_key(|(index, _)| *index);
    sparse
}

/// The sparse vector of a query: each of its terms (stop words dropped,
/// as the keyword index does) with weight 1.
pub fn sparse_query(query: &str) -> Vec<(u32, f32)> {
    sparse_terms(&dowse_index::lexical::LexicalSnapshot::query_terms(query))
}

/// The sparse vector of a query's terms, each with weight 1.
fn sparse_terms(terms: &[String]) -> Vec<(u32, f32)> {
    let indices: BTreeSet<u32> = terms.iter().map(|term| term_index(term)).collect();
    indices.into_iter().map(|index| (index, 1.0)).collect()
}

impl Engine {
    /// The model of this workspace's vectors; an error that says why when
    /// there are none (publishing needs them).
    pub fn published_model(&self) -> Result<PublishedModel> {
        match self.semantic() {
            SemanticState::Ready(ready) => {
                let info = ready.model.info();
                Ok(PublishedModel {
                    id: info.id.clone(),
                    dimensions: info.dimensions,
                })
            }
            state => Err(EngineError::Semantic(format!(
                "publishing needs the embedding model's vectors: {}",
                state.unavailable().unwrap_or("not loaded")
            ))),
        }
    }

    /// Calls `visit` with every committed chunk as a team index stores it,
    /// file by file (paths in order), from the disk. A chunk without a
    /// vector yet (embedding interrupted) is an error: run `dowse index`.
    pub fn published_chunks(
        &self,
        mut visit: impl FnMut(PublishedChunk) -> Result<()>,
    ) -> Result<()> {
        let SemanticState::Ready(ready) = self.semantic() else {
            return Err(self.published_model().err().unwrap_or_else(|| {
                EngineError::Semantic("publishing needs the embedding model".into())
            }));
        };
        let snapshot = self.lexical.snapshot();
        let live = snapshot.live_chunks_with_paths()?;
        let paths: BTreeSet<&str> = live.iter().map(|(_, _, path)| &**path).collect();
        let missing = live
            .iter()
            .filter(|(_, content, _)| !ready.cache.contains(ready.recipe.key(*content)))
            .count();
        if missing > 0 {
            return Err(EngineError::InvalidInput(format!(
                "{missing} of {} chunks have no vector yet: run `dowse index` to finish embedding, then publish",
                live.len()
            )));
        }
        let mut sources = SourceReader::disk(&self.root);
        for path in paths {
            let mut chunks = snapshot
                .file_chunks(path)?
                .into_iter()
                .map(|doc| snapshot.chunk(doc))
                .collect::<std::result::Result<Vec<_>, _>>()?;
            chunks.sort_by_key(|c| (c.start_line, c.byte_range.start));
            let mut seen: HashMap<u64, u32> = HashMap::new();
            for chunk in chunks {
                // A file edited since it was indexed gives no text: its
                // chunks wait for the next index and publish.
                let Some(text) = sources.text(&chunk) else {
                    continue;
                };
                let Some(embedding) = ready.cached_embedding(chunk.content_key) else {
                    continue;
                };
                let ordinal = seen.entry(chunk.content_key).or_default();
                let chunk_key = format!("{:016x}.{ordinal}", chunk.content_key);
                *ordinal += 1;
                let body = embedding.body;
                let dense: Vec<f32> = body.values.iter().map(|v| *v as f32 * body.scale).collect();
                let enclosing = chunk.enclosing.join(" > ");
                let sparse = sparse_document(&format!(
                    "{}\n{enclosing}\n{}",
                    chunk.path,
                    if let Some(symbol) = &chunk.symbol {
                        format!("{symbol}\n{text}")
                    } else {
                        text.clone()
                    }
                ));
                let (start_line, end_line) = chunk.reported_lines();
                let text = cut(&text, PUBLISHED_TEXT_BYTES).to_owned();
                let hash = blake3::hash(
                    format!(
                        "{chunk_key}\n{start_line}\n{end_line}\n{}\n{}",
                        chunk.language,
                        blake3::hash(text.as_bytes())
                    )
                    .as_bytes(),
                )
                .to_hex()[..32]
                    .to_owned();
                visit(PublishedChunk {
                    path: chunk.path.clone(),
                    chunk_key,
                    hash,
                    start_line,
                    end_line,
                    symbol: chunk.symbol,
                    kind: chunk.kind.as_str().to_owned(),
                    language: chunk.language,
                    enclosing: chunk.enclosing,
                    text,
                    dense,
                    sparse,
                })?;
            }
        }
        Ok(())
    }

    /// What a search of a team index sends: the query, its vector when the
    /// model is here, its terms. No code.
    pub fn remote_query(&self, query: &str) -> RemoteQuery {
        let dense = match self.semantic() {
            SemanticState::Ready(ready) => ready
                .model
                .embed_query(self.config.ranking.meaning_text(query))
                .ok()
                .map(|v| v.to_vec()),
            _ => None,
        };
        let terms = dowse_index::lexical::LexicalSnapshot::query_terms(query);
        RemoteQuery {
            dense,
            sparse: sparse_terms(&terms),
            terms,
        }
    }

    /// The cosine between `query`'s vector and the body vector of the
    /// chunk `result` came from (committed or overlaid), when both exist.
    pub fn similarity(&self, result: &crate::SearchResult, query: &[f32]) -> Option<f32> {
        let SemanticState::Ready(ready) = self.semantic() else {
            return None;
        };
        let chunk = self
            .snapshot()
            .file_chunks(&result.path)
            .ok()?
            .into_iter()
            .find(|chunk| chunk.byte_range == result.byte_range)?;
        let body = ready.cached_embedding(chunk.content_key)?.body;
        Some(body.similarity(&dowse_index::quantize::quantize(query)))
    }

    /// Whether the committed index or the overlay holds `path`.
    pub fn has_file(&self, path: &str) -> bool {
        self.snapshot().overlay.files.contains_key(path)
            || self
                .files
                .read()
                .map(|files| files.files.contains_key(path))
                .unwrap_or(false)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sparse_vectors_share_the_keyword_index_terms() {
        let doc = sparse_document("fn parse_duration(s: &str) { parse(s) }");
        let query = sparse_query("the parse duration");
        // Every query term is a document term ("the" is a stop word).
        assert_eq!(query.len(), 2, "{query:?}");
        for (index, _) in &query {
            assert!(doc.iter().any(|(i, _)| i == index), "{query:?} in {doc:?}");
        }
        // `parse` occurs twice (alone and in the identifier): saturated,
        // above a single occurrence, below twice its value.
        // Terms as the analyzers make them (stemmed): by way of a query.
        let value = |word: &str| {
            let index = sparse_query(word)[0].0;
            doc.iter().find(|(i, _)| *i == index).unwrap().1
        };
        assert!(value("parse") > value("duration"));
        assert!(value("parse") < 2.0 * value("duration"));
        assert!(doc.windows(2).all(|w| w[0].0 < w[1].0), "sorted, unique");
    }
}
