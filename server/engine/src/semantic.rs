//! Semantic search: the embedding model, the embedding cache and the vector
//! index, and the work that keeps them in step with the lexical index.
//!
//! Nothing here runs unless a search or an index run needs vectors: the model
//! is resolved and loaded on first use (0.3–1 s). If it cannot be loaded the
//! state records why, and searches fall back to keywords with that reason.
//!
//! Embeddings are computed after lexical indexing, off the query path, in
//! batches of texts sorted by length (padding goes to the longest text of a
//! batch). Each chunk's embedding text has a content key; the cache is keyed
//! by it, so a chunk is embedded once, whatever edits or restarts follow.

use std::collections::{HashMap, HashSet, VecDeque};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Instant;

use dowse_embed::{Embedder, OnnxEmbedder, OnnxOptions, Resolution};
use dowse_index::lexical::{LexicalIndex, StoredChunk};
use dowse_index::vectors::{
    Embedding, EmbeddingCache, Quantized, VectorConfig, VectorIndex, quantize, quantize4,
};
use dowse_syntax::ChunkKind;
use dowse_syntax::text::split_identifier;

use crate::source::SourceReader;
use crate::{EngineError, Progress, Result};

/// The bytes of code kept in an embedding text: the model reads 256 tokens,
/// code runs about four bytes a token, and the margin covers whitespace and
/// punctuation-heavy code. Cutting here bounds tokenizer work on huge chunks.
const MAX_CODE_BYTES: usize = 2048;

/// Bumped whenever the texts below or the way their vectors are combined
/// change, so that old cache entries are never taken for new ones.
const EMBEDDING_VERSION: &str = "dowse-embedding-3";

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
/// (`jinja2/bccache.py`, `src/parser/lexer.rs`); measured on set D it lifts
/// search by meaning on question-style queries from .23 to .27 MRR@10.
pub fn embedding_text(
    path: &str,
    kind: ChunkKind,
    symbol: Option<&str>,
    enclosing: &[String],
    code: &str,
) -> String {
    let mut end = code.len().min(MAX_CODE_BYTES);
    while !code.is_char_boundary(end) {
        end -= 1;
    }
    let header = header(kind, symbol, enclosing);
    let header = if header.is_empty() {
        path.to_owned()
    } else {
        format!("{path}\n{header}")
    };
    with_header(&header, &code[..end])
}

/// The name view of a chunk: its header and the first line of its code
/// (the signature), without comments, attributes or decorators.
pub fn name_text(
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
    with_header(&header(kind, symbol, enclosing), signature)
}

/// The cache key of a chunk's vector: a hash of its body view (which
/// determines the name view) and of [`EMBEDDING_VERSION`].
pub fn embed_key(body_text: &str) -> u64 {
    let mut hasher = blake3::Hasher::new();
    hasher.update(EMBEDDING_VERSION.as_bytes());
    hasher.update(&[0]);
    hasher.update(body_text.as_bytes());
    u64::from_le_bytes(
        hasher.finalize().as_bytes()[..8]
            .try_into()
            .expect("8 bytes"),
    )
}

/// The two views of a stored chunk whose code is `code`.
pub(crate) fn chunk_views(chunk: &StoredChunk, code: &str) -> (String, String) {
    let (symbol, enclosing) = (chunk.symbol.as_deref(), &chunk.enclosing);
    (
        embedding_text(&chunk.path, chunk.kind, symbol, enclosing, code),
        name_text(chunk.kind, symbol, enclosing, code),
    )
}

/// Splits `views` (sorted by length) into batches of at most `max_chunks`
/// chunks and about `max_tokens` estimated tokens of body text.
pub fn batches<T>(
    views: &[T],
    body: impl Fn(&T) -> &str,
    max_chunks: usize,
    max_tokens: usize,
) -> Vec<&[T]> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut tokens = 0;
    for (i, view) in views.iter().enumerate() {
        // About four bytes a token; the model reads at most 256.
        let cost = (body(view).len() / 4).clamp(1, 256);
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

/// Embeds chunks given as (body view, name view) pairs. Each view keeps its
/// own vector: the body is what search by meaning retrieves; the name is
/// mixed in per query when candidates are ranked (see `search`).
pub(crate) fn embed_views(
    model: &dyn Embedder,
    views: &[(&str, &str)],
) -> std::result::Result<Vec<Embedding>, String> {
    let bodies: Vec<&str> = views.iter().map(|(b, _)| *b).collect();
    let names: Vec<&str> = views.iter().map(|(_, n)| *n).collect();
    let bodies = model.embed(&bodies).map_err(|e| e.to_string())?;
    let names = model.embed(&names).map_err(|e| e.to_string())?;
    Ok(bodies
        .into_iter()
        .zip(names)
        .map(|(b, n)| Embedding {
            body: quantize(&b),
            name: quantize4(&n),
        })
        .collect())
}

/// How the engine gets its model.
#[derive(Clone, Debug)]
pub struct SemanticConfig {
    /// Turn semantic search off altogether.
    pub enabled: bool,
    /// The model directory (`DOWSE_MODEL_DIR`); the user cache otherwise.
    pub model_dir: Option<PathBuf>,
    /// ONNX Runtime threads per model instance.
    pub threads: usize,
    /// Chunks per batch, at most.
    pub batch_size: usize,
    /// Estimated model tokens per batch, at most. On the CPU with one thread
    /// batching buys little and padding costs: measured on set D's corpus,
    /// 16 chunks / 2048 tokens took 150 s and 660 MB, 16 / 128 took 120 s
    /// and 290 MB (one long text per batch, short ones together).
    pub batch_tokens: usize,
    pub vectors: VectorConfig,
}

impl Default for SemanticConfig {
    fn default() -> SemanticConfig {
        SemanticConfig {
            enabled: true,
            model_dir: None,
            threads: 1,
            batch_size: 16,
            batch_tokens: 128,
            vectors: VectorConfig::default(),
        }
    }
}

/// Where the embedders come from: the real model, or one given by a test.
pub(crate) enum ModelSourcing {
    Resolve,
    Given(Arc<dyn Embedder>),
}

/// Semantic search, ready or not.
pub(crate) enum SemanticState {
    /// Keyword-only, and why (with the fix).
    Unavailable(String),
    Ready(Box<Ready>),
}

pub(crate) struct Ready {
    /// The model instance that embeds chunks.
    pub(crate) indexer: Arc<dyn Embedder>,
    /// True while chunks are being embedded.
    indexing: AtomicBool,
    /// The instance that embeds queries while chunks are being embedded, so
    /// that a query never waits behind a batch; loaded when first needed.
    query_model: OnceLock<std::result::Result<Arc<dyn Embedder>, String>>,
    model_files: Option<dowse_embed::ModelFiles>,
    options: OnnxOptions,
    pub(crate) cache: EmbeddingCache,
    pub(crate) vectors: VectorIndex,
    recent_queries: Mutex<QueryCache>,
}

impl SemanticState {
    pub(crate) fn load(
        sourcing: &ModelSourcing,
        config: &SemanticConfig,
        cache_path: &std::path::Path,
    ) -> SemanticState {
        if !config.enabled {
            return SemanticState::Unavailable(
                "semantic search is turned off in the configuration (semantic.enabled = false)"
                    .to_owned(),
            );
        }
        let options = OnnxOptions {
            threads: config.threads.max(1),
            max_tokens: 256,
        };
        let (indexer, model_files): (Arc<dyn Embedder>, _) = match sourcing {
            ModelSourcing::Given(embedder) => (embedder.clone(), None),
            ModelSourcing::Resolve => match dowse_embed::resolve(config.model_dir.as_deref()) {
                Resolution::Found(files) => match OnnxEmbedder::load(&files, &options) {
                    Ok(embedder) => (Arc::new(embedder), Some(files)),
                    Err(err) => {
                        return SemanticState::Unavailable(format!(
                            "{err}; reinstall it with `dowse model install`, or point DOWSE_MODEL_DIR at a working model"
                        ));
                    }
                },
                Resolution::Missing { reason, fix } => {
                    return SemanticState::Unavailable(format!("{reason}; {fix}"));
                }
            },
        };
        let info = indexer.info().clone();
        let (cache, cache_load) = match EmbeddingCache::open(cache_path, &info.id, info.dimensions)
        {
            Ok(opened) => opened,
            Err(err) => {
                return SemanticState::Unavailable(format!(
                    "cannot open the embedding cache `{}`: {err}",
                    cache_path.display()
                ));
            }
        };
        if cache_load.dropped_bytes > 0 {
            tracing::warn!(
                "the embedding cache had a damaged tail ({} bytes dropped); those chunks will be embedded again",
                cache_load.dropped_bytes
            );
        }
        let query_model = OnceLock::new();
        if model_files.is_none() {
            let _ = query_model.set(Ok(indexer.clone()));
        }
        SemanticState::Ready(Box::new(Ready {
            indexer,
            indexing: AtomicBool::new(false),
            query_model,
            model_files,
            options,
            cache,
            vectors: VectorIndex::new(info.dimensions, config.vectors.clone()),
            recent_queries: Mutex::new(QueryCache::default()),
        }))
    }
}

impl Ready {
    /// The query's vector, from the recent-query cache or the query model.
    pub(crate) fn embed_query(&self, query: &str) -> std::result::Result<Quantized, String> {
        if let Some(q) = self.recent_queries.lock().expect("query cache").get(query) {
            return Ok(q);
        }
        let model = if !self.indexing.load(Ordering::Acquire) {
            self.indexer.clone()
        } else {
            self.query_model()?
        };
        let vector = model.embed(&[query]).map_err(|e| e.to_string())?;
        let q = quantize(vector.first().ok_or("the model returned no vector")?);
        self.recent_queries
            .lock()
            .expect("query cache")
            .put(query, q.clone());
        Ok(q)
    }

    fn query_model(&self) -> std::result::Result<Arc<dyn Embedder>, String> {
        self.query_model
            .get_or_init(|| {
                let files = self
                    .model_files
                    .as_ref()
                    .expect("a resolved model has files");
                OnnxEmbedder::load(files, &self.options)
                    .map(|e| Arc::new(e) as Arc<dyn Embedder>)
                    .map_err(|e| e.to_string())
            })
            .clone()
    }

    /// Brings the vector index in line with the lexical index: vectors of
    /// chunks that are gone are dropped, chunks whose text is in the cache
    /// get their vector at once. Returns the chunks that still need one.
    pub(crate) fn sync(&self, lexical: &LexicalIndex) -> Result<Vec<(u64, u64)>> {
        let live = lexical.snapshot().live_chunks()?;
        let live_ids: HashSet<u64> = live.iter().map(|(id, _)| *id).collect();
        let removed: Vec<u64> = self
            .vectors
            .chunk_ids()
            .into_iter()
            .filter(|id| !live_ids.contains(id))
            .collect();
        let mut added = Vec::new();
        let mut pending = Vec::new();
        for (id, key) in live {
            if self.vectors.contains(id) {
                continue;
            }
            match self.cache.get(key) {
                Some(q) => added.push((id, q)),
                None => pending.push((id, key)),
            }
        }
        self.vectors.apply(&removed, &added);
        Ok(pending)
    }

    /// Gives vectors from the cache to those of `live` chunks that lack one;
    /// returns the chunks that still need embedding. Unlike [`Ready::sync`]
    /// it removes nothing: vectors of deleted chunks stay until the next
    /// sync, harmless meanwhile (a hit is only returned if its chunk is in
    /// the lexical snapshot).
    pub(crate) fn add_cached(&self, live: Vec<(u64, u64)>) -> Vec<(u64, u64)> {
        let mut added = Vec::new();
        let mut pending = Vec::new();
        for (id, key) in live {
            if self.vectors.contains(id) {
                continue;
            }
            match self.cache.get(key) {
                Some(q) => added.push((id, q)),
                None => pending.push((id, key)),
            }
        }
        self.vectors.apply(&[], &added);
        pending
    }

    /// Embeds `pending` chunks, batch by batch, adding each batch's vectors
    /// to the cache and the index as it completes.
    pub(crate) fn embed_pending(
        &self,
        (root, buffers, cancel): (&std::path::Path, &crate::source::Buffers, &AtomicBool),
        lexical: &LexicalIndex,
        pending: Vec<(u64, u64)>,
        (batch_size, batch_tokens): (usize, usize),
        progress: &dyn Progress,
    ) -> Result<EmbedReport> {
        let started = Instant::now();
        let mut report = EmbedReport::default();
        if pending.is_empty() {
            return Ok(report);
        }
        progress.begin("embedding", pending.len() as u64);
        self.indexing.store(true, Ordering::Release);
        let result = self.embed_windows(
            (root, buffers, cancel),
            lexical,
            &pending,
            (batch_size, batch_tokens),
            progress,
            &mut report,
        );
        self.indexing.store(false, Ordering::Release);
        result?;
        progress.end();
        report.duration = started.elapsed();
        Ok(report)
    }

    fn embed_windows(
        &self,
        (root, buffers, cancel): (&std::path::Path, &crate::source::Buffers, &AtomicBool),
        lexical: &LexicalIndex,
        pending: &[(u64, u64)],
        (batch_size, batch_tokens): (usize, usize),
        progress: &dyn Progress,
        report: &mut EmbedReport,
    ) -> Result<()> {
        // Texts are fetched and sorted a window at a time, to keep memory
        // flat on large workspaces while still batching similar lengths.
        const WINDOW: usize = 1024;
        let snapshot = lexical.snapshot();
        let mut sources = SourceReader::new(root, buffers);
        let mut seen_keys: HashMap<u64, Quantized> = HashMap::new();
        for window in pending.chunks(WINDOW) {
            if cancel.load(Ordering::Acquire) {
                // Everything embedded so far is in the cache already.
                return Ok(());
            }
            let mut texts: Vec<(u64, u64, (String, String))> = Vec::with_capacity(window.len());
            let mut ready = Vec::new();
            for &(id, key) in window {
                // Two chunks with one text (a copied function) embed once.
                if let Some(q) = seen_keys.get(&key).cloned().or_else(|| self.cache.get(key)) {
                    ready.push((id, q));
                    continue;
                }
                // A chunk whose file changed since it was indexed is left
                // for the next update, which re-indexes that file.
                if let Some(doc) = snapshot.find(id)? {
                    let chunk = snapshot.chunk(doc)?;
                    match sources.text(&chunk) {
                        Some(code) => texts.push((id, key, chunk_views(&chunk, &code))),
                        None => report.skipped_stale += 1,
                    }
                }
            }
            if !ready.is_empty() {
                progress.advance(ready.len() as u64);
                self.vectors.apply(&[], &ready);
            }
            texts.sort_by_key(|(_, _, (body, _))| body.len());
            for batch in batches(&texts, |(_, _, (body, _))| body, batch_size, batch_tokens) {
                if cancel.load(Ordering::Acquire) {
                    return Ok(());
                }
                let views: Vec<(&str, &str)> = batch
                    .iter()
                    .map(|(_, _, (b, n))| (b.as_str(), n.as_str()))
                    .collect();
                let embeddings =
                    embed_views(self.indexer.as_ref(), &views).map_err(EngineError::Semantic)?;
                let mut added = Vec::with_capacity(batch.len());
                let mut cached = Vec::with_capacity(batch.len());
                for ((id, key, _), embedding) in batch.iter().zip(embeddings) {
                    seen_keys.insert(*key, embedding.body.clone());
                    added.push((*id, embedding.body.clone()));
                    cached.push((*key, embedding));
                }
                self.cache.put(&cached).map_err(|e| EngineError::Io {
                    path: self.cache.path().to_path_buf(),
                    source: e,
                })?;
                self.vectors.apply(&[], &added);
                report.embedded += batch.len() as u64;
                progress.advance(batch.len() as u64);
            }
            self.cache.flush().map_err(|e| EngineError::Io {
                path: self.cache.path().to_path_buf(),
                source: e,
            })?;
        }
        Ok(())
    }
}

/// What an embedding run did.
#[derive(Clone, Debug, Default)]
pub struct EmbedReport {
    /// Chunks whose text went through the model.
    pub embedded: u64,
    /// Chunks not embedded because their file changed since it was indexed.
    pub skipped_stale: u64,
    /// Time spent embedding.
    pub duration: std::time::Duration,
    /// Time spent afterwards merging exact vector blocks (HNSW graphs are
    /// built by [`crate::Engine::optimize_vectors`]).
    pub maintenance: std::time::Duration,
}

/// The last few query vectors: typing in a picker repeats queries.
#[derive(Default)]
struct QueryCache {
    order: VecDeque<String>,
    vectors: HashMap<String, Quantized>,
}

impl QueryCache {
    const CAPACITY: usize = 256;

    fn get(&self, query: &str) -> Option<Quantized> {
        self.vectors.get(query).cloned()
    }

    fn put(&mut self, query: &str, q: Quantized) {
        if self.vectors.insert(query.to_owned(), q).is_none() {
            self.order.push_back(query.to_owned());
            if self.order.len() > Self::CAPACITY
                && let Some(old) = self.order.pop_front()
            {
                self.vectors.remove(&old);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batches_are_bounded_by_count_and_tokens() {
        let short = "x".repeat(40); // 10 tokens
        let long = "x".repeat(4000); // 256 tokens (capped)
        let views: Vec<&str> = std::iter::repeat_n(short.as_str(), 20)
            .chain(std::iter::repeat_n(long.as_str(), 10))
            .collect();
        let sizes: Vec<usize> = batches(&views, |v| v, 16, 2048)
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
        let long = "é".repeat(MAX_CODE_BYTES);
        assert!(embedding_text("a", ChunkKind::Text, None, &[], &long).len() <= MAX_CODE_BYTES + 2);
    }

    #[test]
    fn the_key_changes_with_the_text() {
        assert_eq!(embed_key("a"), embed_key("a"));
        assert_ne!(embed_key("a"), embed_key("b"));
    }
}
