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

use dowse_embed::{Embedder, OnnxEmbedder, OnnxOptions, Resolution};
use dowse_index::lexical::{LexicalIndex, StoredChunk};
use dowse_index::vectors::{
    Embedding, EmbeddingCache, Quantized, VectorConfig, VectorIndex, quantize, quantize4,
};
use dowse_syntax::ChunkKind;
use dowse_syntax::text::split_identifier;

use crate::focus::Focus;
use crate::source::SourceReader;
use crate::{EngineError, Result};

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
        let cost = estimated_tokens(body(view));
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
    // Bodies and names in separate runs, even for an edit's one chunk: a
    // name padded to its body's length costs more than a second run
    // (measured by tests/examples/embed_scaling.rs: 21.8 ms in two runs,
    // 30.1 ms in one).
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
    /// The sha256 of `model.onnx` the user states for a model of their own
    /// in `model_dir` (the default model's is pinned).
    pub model_sha256: Option<String>,
    /// The sha256 of the ONNX Runtime library the user states for a
    /// runtime of their own (the installed one's is pinned).
    pub runtime_sha256: Option<String>,
    /// ONNX Runtime threads per model instance.
    pub threads: usize,
    /// Chunks per batch, at most.
    pub batch_size: usize,
    /// Estimated model tokens per batch, at most. On the CPU with one thread
    /// batching buys little and padding costs: measured on set D's corpus,
    /// 16 chunks / 2048 tokens took 150 s and 660 MB, 16 / 128 took 120 s
    /// and 290 MB (one long text per batch, short ones together).
    pub batch_tokens: usize,
    /// The model's input window in tokens: longer texts are cut there.
    /// MiniLM was trained on 256; a shorter window embeds faster, and
    /// `tests/eval/run.py -- --max-tokens N` measures what it costs.
    pub max_tokens: usize,
    /// A long-running server embeds every query on a session of its own
    /// whose weights stay prepacked (40 MB) for 30% faster short queries;
    /// a one-shot command asks once and saves the memory.
    pub prepack_queries: bool,
    pub vectors: VectorConfig,
}

impl Default for SemanticConfig {
    fn default() -> SemanticConfig {
        SemanticConfig {
            enabled: true,
            model_dir: None,
            model_sha256: None,
            runtime_sha256: None,
            threads: 1,
            batch_size: 16,
            batch_tokens: 128,
            max_tokens: 256,
            prepack_queries: false,
            vectors: VectorConfig::default(),
        }
    }
}

/// The embedding model, loaded once per process and shared by every
/// workspace root's engine: the instance that embeds chunks, more of them
/// to embed on every core while the user is idle, a second one for queries
/// while chunks are being embedded (so that a query never waits behind a
/// batch), and the vectors of recent queries.
///
/// More cores come from more single-thread sessions, each embedding its own
/// batch, not from one session with more intra-op threads: measured with
/// `tests/examples/embed_scaling.rs` on this 2-core machine (1,200
/// chunk-sized texts, batched as the engine does), two sessions embed 2.02x
/// as fast as one, one session with two threads 1.67x (a batch of a few
/// short texts has too little work to split between threads), and dropping
/// to one core costs nothing but not starting the second batch. In the
/// whole pipeline (`scripts/bench`, the CPython stdlib) two sessions give
/// 1.64x: each step waits for its slower batch, and two busy cores run each
/// a little slower. Long-lived helper threads instead of one scoped thread
/// per step were measured too: no difference (idlelib, 62.5 vs 64.1 s).
pub struct Model {
    pub(crate) indexer: Arc<dyn Embedder>,
    /// Single-thread sessions beside `indexer`, loaded when a step first
    /// asks for more workers (or why they could not be).
    helpers: Mutex<Vec<Arc<dyn Embedder>>>,
    helpers_failed: AtomicBool,
    queries: Queries,
    /// True while chunks are being embedded.
    indexing: AtomicBool,
    /// Loaded when first needed.
    query_model: OnceLock<std::result::Result<Arc<dyn Embedder>, String>>,
    model_files: Option<dowse_embed::ModelFiles>,
    options: OnnxOptions,
    /// Queries always on `query_model`, its weights prepacked.
    prepack_queries: bool,
    recent_queries: Mutex<QueryCache>,
}

/// The model of a process, loaded on first use, or why it cannot be: one
/// handle shared by every engine of the process.
#[derive(Clone)]
pub struct ModelHandle {
    sourcing: Arc<ModelSourcing>,
    loaded: Arc<OnceLock<std::result::Result<Arc<Model>, String>>>,
}

enum ModelSourcing {
    Resolve(SemanticConfig),
    Given(Arc<dyn Embedder>),
}

/// The model files `config` names, with the digests the user stated for
/// files of their own (the pinned ones otherwise): what is checked before
/// anything is loaded.
pub fn resolve_model(config: &SemanticConfig) -> Resolution {
    match dowse_embed::resolve(config.model_dir.as_deref()) {
        Resolution::Found(mut files) => {
            files.pins = dowse_embed::Pins::stated(
                config.model_sha256.as_deref(),
                config.runtime_sha256.as_deref(),
            );
            Resolution::Found(files)
        }
        missing => missing,
    }
}

impl ModelHandle {
    /// The real model, as `config` says where to find it.
    pub fn resolve(config: &SemanticConfig) -> ModelHandle {
        ModelHandle {
            sourcing: Arc::new(ModelSourcing::Resolve(config.clone())),
            loaded: Arc::default(),
        }
    }

    /// A given embedder (tests that need vectors but not a real model).
    pub fn given(embedder: Arc<dyn Embedder>) -> ModelHandle {
        ModelHandle {
            sourcing: Arc::new(ModelSourcing::Given(embedder)),
            loaded: Arc::default(),
        }
    }

    /// The model, loading it on first call; the reason (with the fix) when
    /// there is none.
    pub fn get(&self) -> std::result::Result<Arc<Model>, String> {
        self.loaded
            .get_or_init(|| Model::load(&self.sourcing).map(Arc::new))
            .clone()
    }

    /// The model if it was loaded already.
    pub fn loaded(&self) -> Option<Arc<Model>> {
        self.loaded.get().and_then(|m| m.as_ref().ok()).cloned()
    }
}

impl Model {
    fn load(sourcing: &ModelSourcing) -> std::result::Result<Model, String> {
        let config = match sourcing {
            ModelSourcing::Given(embedder) => {
                return Ok(Model::with(
                    embedder.clone(),
                    None,
                    OnnxOptions::default(),
                    false,
                ));
            }
            ModelSourcing::Resolve(config) => config,
        };
        if !config.enabled {
            return Err(
                "semantic search is turned off in the configuration (semantic = false)".to_owned(),
            );
        }
        let options = OnnxOptions {
            threads: config.threads.max(1),
            max_tokens: config.max_tokens.clamp(16, 512),
            prepack: false,
        };
        match resolve_model(config) {
            Resolution::Found(files) => match OnnxEmbedder::load(&files, &options) {
                Ok(embedder) => Ok(Model::with(
                    Arc::new(embedder),
                    Some(files),
                    options,
                    config.prepack_queries,
                )),
                Err(err) => Err(format!(
                    "{err}; reinstall it with `dowse model install`, or point DOWSE_MODEL_DIR at a working model"
                )),
            },
            Resolution::Missing { reason, fix } => Err(format!("{reason}; {fix}")),
        }
    }

    fn with(
        indexer: Arc<dyn Embedder>,
        model_files: Option<dowse_embed::ModelFiles>,
        options: OnnxOptions,
        prepack_queries: bool,
    ) -> Model {
        let query_model = OnceLock::new();
        if model_files.is_none() {
            let _ = query_model.set(Ok(indexer.clone()));
        }
        Model {
            indexer,
            helpers: Mutex::new(Vec::new()),
            helpers_failed: AtomicBool::new(false),
            queries: Queries::default(),
            indexing: AtomicBool::new(false),
            query_model,
            model_files,
            options,
            prepack_queries,
            recent_queries: Mutex::new(QueryCache::default()),
        }
    }

    pub fn info(&self) -> &dowse_embed::ModelInfo {
        self.indexer.info()
    }

    /// The query's vector, from the recent-query cache or the query model.
    pub(crate) fn embed_query(&self, query: &str) -> std::result::Result<Quantized, String> {
        if let Some(q) = self.recent_queries.lock().expect("query cache").get(query) {
            return Ok(q);
        }
        let q = self.embed_query_uncached(query)?;
        self.recent_queries
            .lock()
            .expect("query cache")
            .put(query, q.clone());
        Ok(q)
    }

    /// The query's vector from the model itself (the health probe).
    pub(crate) fn embed_query_uncached(
        &self,
        query: &str,
    ) -> std::result::Result<Quantized, String> {
        let model = if !self.prepack_queries && !self.indexing.load(Ordering::Acquire) {
            self.indexer.clone()
        } else {
            self.query_model()?
        };
        let vector = model.embed(&[query]).map_err(|e| e.to_string())?;
        Ok(quantize(
            vector.first().ok_or("the model returned no vector")?,
        ))
    }

    fn query_model(&self) -> std::result::Result<Arc<dyn Embedder>, String> {
        self.query_model
            .get_or_init(|| {
                let files = self
                    .model_files
                    .as_ref()
                    .expect("a resolved model has files");
                let options = OnnxOptions {
                    prepack: self.prepack_queries,
                    ..self.options.clone()
                };
                OnnxEmbedder::load(files, &options)
                    .map(|e| Arc::new(e) as Arc<dyn Embedder>)
                    .map_err(|e| e.to_string())
            })
            .clone()
    }

    /// Embeds (body view, name view) pairs of chunks, telling queries to use
    /// the query instance meanwhile.
    pub(crate) fn embed_chunks(
        &self,
        views: &[(&str, &str)],
    ) -> std::result::Result<Vec<Embedding>, String> {
        self.indexing.store(true, Ordering::Release);
        let embedded = embed_views(self.indexer.as_ref(), views);
        self.indexing.store(false, Ordering::Release);
        embedded
    }

    /// Up to `n` instances to embed with, `indexer` first; helpers are
    /// loaded on first need (0.3 s each). A helper that cannot load leaves
    /// fewer workers, never an error: the indexer alone still works.
    fn workers(&self, n: usize) -> Vec<Arc<dyn Embedder>> {
        let mut workers = vec![self.indexer.clone()];
        if n <= 1 {
            return workers;
        }
        let mut helpers = self.helpers.lock().expect("helpers lock");
        while helpers.len() + 1 < n && !self.helpers_failed.load(Ordering::Acquire) {
            let Some(files) = self.model_files.as_ref() else {
                // A given embedder (tests) is shared: it takes `&self`.
                helpers.push(self.indexer.clone());
                continue;
            };
            let single = OnnxOptions {
                threads: 1,
                ..self.options.clone()
            };
            match OnnxEmbedder::load(files, &single) {
                Ok(helper) => helpers.push(Arc::new(helper)),
                Err(err) => {
                    tracing::warn!("embedding stays on {} core(s): {err}", helpers.len() + 1);
                    self.helpers_failed.store(true, Ordering::Release);
                }
            }
        }
        workers.extend(helpers.iter().take(n - 1).cloned());
        workers
    }

    /// Embeds several batches at once, one per worker (the indexer takes
    /// the first on this thread); vectors in the batches' order.
    pub(crate) fn embed_batches(
        &self,
        batches: &[Vec<(&str, &str)>],
    ) -> std::result::Result<Vec<Vec<Embedding>>, String> {
        if batches.len() <= 1 {
            return batches.iter().map(|b| self.embed_chunks(b)).collect();
        }
        let workers = self.workers(batches.len());
        self.indexing.store(true, Ordering::Release);
        // Batches beyond the workers loaded run on the indexer, after its
        // own.
        let mut lanes: Vec<Vec<usize>> = vec![Vec::new(); workers.len()];
        for i in 0..batches.len() {
            lanes[i % workers.len()].push(i);
        }
        let mut results: Vec<Option<std::result::Result<Vec<Embedding>, String>>> =
            (0..batches.len()).map(|_| None).collect();
        std::thread::scope(|scope| {
            let run = |worker: &Arc<dyn Embedder>, lane: &[usize]| {
                lane.iter()
                    .map(|&i| (i, embed_views(worker.as_ref(), &batches[i])))
                    .collect::<Vec<_>>()
            };
            let handles: Vec<_> = workers
                .iter()
                .zip(&lanes)
                .skip(1)
                .map(|(worker, lane)| scope.spawn(move || run(worker, lane)))
                .collect();
            for (i, result) in run(&workers[0], &lanes[0]) {
                results[i] = Some(result);
            }
            for handle in handles {
                match handle.join() {
                    Ok(done) => {
                        for (i, result) in done {
                            results[i] = Some(result);
                        }
                    }
                    Err(_) => {
                        tracing::error!("an embedding worker panicked");
                    }
                }
            }
        });
        self.indexing.store(false, Ordering::Release);
        results
            .into_iter()
            .map(|r| r.unwrap_or_else(|| Err("an embedding worker failed".to_owned())))
            .collect()
    }
}

/// How long after a query or an edit embedding stays on one core: a user
/// who asked or typed is likely to again (a second query, the next
/// keystroke), and going back to all cores costs only the next batch.
pub const INTERACTIVE_QUIET: std::time::Duration = std::time::Duration::from_millis(500);

/// Queries (search, similar, context) under way with one model, and when
/// the last one ended: background embedding keeps to one core while the
/// user is asking, so that the answer has the other cores.
#[derive(Default)]
struct Queries {
    in_flight: std::sync::atomic::AtomicUsize,
    last_ended: Mutex<Option<std::time::Instant>>,
}

/// Marks a query under way until dropped.
pub(crate) struct QueryGuard(Arc<Model>);

impl Model {
    pub(crate) fn query_started(self: &Arc<Model>) -> QueryGuard {
        self.queries.in_flight.fetch_add(1, Ordering::AcqRel);
        QueryGuard(self.clone())
    }

    /// Whether a query is under way or ended within [`INTERACTIVE_QUIET`].
    pub(crate) fn queries_recent(&self) -> bool {
        self.queries.in_flight.load(Ordering::Acquire) > 0
            || self
                .queries
                .last_ended
                .lock()
                .expect("queries lock")
                .is_some_and(|at| at.elapsed() < INTERACTIVE_QUIET)
    }
}

impl Drop for QueryGuard {
    fn drop(&mut self) {
        *self.0.queries.last_ended.lock().expect("queries lock") = Some(std::time::Instant::now());
        self.0.queries.in_flight.fetch_sub(1, Ordering::AcqRel);
    }
}

/// Semantic search, ready or not.
pub(crate) enum SemanticState {
    /// Keyword-only, and why (with the fix).
    Unavailable(String),
    Ready(Box<Ready>),
}

/// One engine's vectors: the embedding cache and the vector index of its
/// committed chunks (the overlay's vectors are read from the cache by key),
/// and the backlog of chunks still to embed.
pub(crate) struct Ready {
    pub(crate) model: Arc<Model>,
    pub(crate) cache: EmbeddingCache,
    pub(crate) vectors: VectorIndex,
    backlog: Mutex<Backlog>,
}

/// Committed chunks without a vector yet, worked off a batch at a time, in
/// the order of the engine's [`Focus`] (what the user looks at first).
#[derive(Default)]
struct Backlog {
    /// (chunk id, embedding key, file), not yet read.
    pending: VecDeque<(u64, u64, Arc<str>)>,
    /// The focus `pending` is sorted by.
    focus_version: u64,
    /// The next chunks' views, sorted by length: (id, key, body, name).
    prepared: VecDeque<Prepared>,
    /// The committed index changed since `pending` was computed.
    stale: bool,
}

/// A chunk of the backlog whose texts are read: (id, key, file, body view,
/// name view).
type Prepared = (u64, u64, Arc<str>, String, String);

/// What one step of background embedding did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct EmbedStep {
    /// Chunks that got a vector in this step (from the model or the cache).
    pub embedded: u64,
    /// Chunks whose file changed since it was indexed: left for the update
    /// that re-indexes them.
    pub skipped_stale: u64,
    /// Chunks still without a vector.
    pub remaining: u64,
}

impl SemanticState {
    pub(crate) fn load(
        model: &ModelHandle,
        cache_path: &std::path::Path,
        read_only: bool,
        vectors: &VectorConfig,
    ) -> SemanticState {
        let model = match model.get() {
            Ok(model) => model,
            Err(reason) => return SemanticState::Unavailable(reason),
        };
        let info = model.info().clone();
        let opened = if read_only {
            EmbeddingCache::open_read_only(cache_path, &info.id, info.dimensions)
        } else {
            EmbeddingCache::open(cache_path, &info.id, info.dimensions)
        };
        let (cache, cache_load) = match opened {
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
        SemanticState::Ready(Box::new(Ready {
            model,
            cache,
            vectors: VectorIndex::new(info.dimensions, vectors.clone()),
            backlog: Mutex::new(Backlog {
                stale: true,
                ..Backlog::default()
            }),
        }))
    }
}

impl Ready {
    pub(crate) fn embed_query(&self, query: &str) -> std::result::Result<Quantized, String> {
        self.model.embed_query(query)
    }

    /// The committed index changed: the backlog is computed again before
    /// the next step.
    pub(crate) fn mark_stale(&self) {
        self.backlog.lock().expect("backlog lock").stale = true;
    }

    /// Brings the vector index in line with the lexical index: vectors of
    /// chunks that are gone are dropped, chunks whose text is in the cache
    /// get their vector at once. Returns the chunks that still need one.
    pub(crate) fn sync(&self, lexical: &LexicalIndex) -> Result<Vec<(u64, u64, Arc<str>)>> {
        let live = lexical.snapshot().live_chunks_with_paths()?;
        let live_ids: HashSet<u64> = live.iter().map(|(id, _, _)| *id).collect();
        let removed: Vec<u64> = self
            .vectors
            .chunk_ids()
            .into_iter()
            .filter(|id| !live_ids.contains(id))
            .collect();
        let mut added = Vec::new();
        let mut pending = Vec::new();
        for (id, key, path) in live {
            if self.vectors.contains(id) {
                continue;
            }
            if self.cache.contains(key) {
                added.push((id, key));
            } else {
                pending.push((id, key, path));
            }
        }
        // Each vector is copied from the cache as it is stored: a whole
        // index's worth at start must not be held twice on the way.
        self.vectors
            .apply_with(&removed, &added, |key| self.cache.get(*key));
        Ok(pending)
    }

    /// Whether a step has work: the backlog must be computed again, or
    /// holds chunks.
    pub(crate) fn has_backlog(&self) -> bool {
        let backlog = self.backlog.lock().expect("backlog lock");
        backlog.stale || !backlog.pending.is_empty() || !backlog.prepared.is_empty()
    }

    /// One step of the backlog: computes it again if the index changed,
    /// prepares the next window of texts when needed, and embeds one batch
    /// (bounded by `batch_size` chunks and `batch_tokens` tokens), so that
    /// a caller can do other work between steps.
    pub(crate) fn embed_step(
        &self,
        root: &std::path::Path,
        lexical: &LexicalIndex,
        (batch_size, batch_tokens): (usize, usize),
        focus: &(u64, Arc<Focus>),
        (workers, open_workers): (usize, usize),
    ) -> Result<EmbedStep> {
        let mut step = EmbedStep::default();
        let mut backlog = self.backlog.lock().expect("backlog lock");
        if backlog.stale {
            let pending = self.sync(lexical)?;
            backlog.pending = pending.into();
            backlog.prepared.clear();
            backlog.stale = false;
            backlog.focus_version = u64::MAX;
        }
        if backlog.focus_version != focus.0 {
            // The prepared window goes back to the queue: an opened file
            // must not wait for a thousand chunks read before it opened.
            let prepared: Vec<Prepared> = backlog.prepared.drain(..).collect();
            for (id, key, path, _, _) in prepared.into_iter().rev() {
                backlog.pending.push_front((id, key, path));
            }
            // Stable: within a class and a file, chunks keep their order.
            let (version, order) = (focus.0, &focus.1);
            backlog
                .pending
                .make_contiguous()
                .sort_by_cached_key(|(_, _, path)| (order.rank(path), path.clone()));
            backlog.focus_version = version;
        }
        if backlog.prepared.is_empty() && !backlog.pending.is_empty() {
            // Texts are read and sorted a window at a time, to keep memory
            // flat on large workspaces while still batching similar
            // lengths (padding goes to the longest text of a batch).
            const WINDOW: usize = 1024;
            let take = backlog.pending.len().min(WINDOW);
            let window: Vec<(u64, u64, Arc<str>)> = backlog.pending.drain(..take).collect();
            let snapshot = lexical.snapshot();
            let mut sources = SourceReader::disk(root);
            let mut prepared = Vec::with_capacity(window.len());
            let mut cached = Vec::new();
            let mut seen: HashSet<u64> = HashSet::new();
            for (id, key, path) in window {
                // The same text twice (a copied function) embeds once; the
                // second copy takes its vector from the cache afterwards.
                if let Some(q) = self.cache.get(key) {
                    cached.push((id, q));
                    continue;
                }
                if !seen.insert(key) {
                    backlog.pending.push_back((id, key, path));
                    continue;
                }
                // A chunk whose file changed since it was indexed is left
                // for the update that re-indexes that file.
                if let Some(doc) = snapshot.find(id)? {
                    let chunk = snapshot.chunk(doc)?;
                    match sources.text(&chunk) {
                        Some(code) => {
                            let (body, name) = chunk_views(&chunk, &code);
                            prepared.push((id, key, path, body, name));
                        }
                        None => step.skipped_stale += 1,
                    }
                }
            }
            // Open files first; then by length, so that a batch pads little.
            prepared.sort_by_key(|(_, _, path, body, _)| (focus.1.rank(path).0, body.len()));
            backlog.prepared = prepared.into();
            step.embedded += cached.len() as u64;
            self.vectors.apply(&[], &cached);
        }
        // One batch per worker from the front of the prepared window; every
        // worker for a file open in an editor, even while the user asks (the
        // user is waiting for that file).
        let open_first = backlog
            .prepared
            .front()
            .is_some_and(|(_, _, path, _, _)| focus.1.rank(path).0 == crate::focus::OPEN);
        let workers = if open_first {
            workers.max(open_workers)
        } else {
            workers
        };
        let mut batches: Vec<Vec<Prepared>> = Vec::new();
        while batches.len() < workers.max(1) && !backlog.prepared.is_empty() {
            let mut tokens = 0;
            let mut count = 0;
            for (_, _, _, body, _) in &backlog.prepared {
                let cost = estimated_tokens(body);
                if count > 0 && (count == batch_size.max(1) || tokens + cost > batch_tokens) {
                    break;
                }
                tokens += cost;
                count += 1;
            }
            batches.push(backlog.prepared.drain(..count).collect());
        }
        if !batches.is_empty() {
            let views: Vec<Vec<(&str, &str)>> = batches
                .iter()
                .map(|batch| {
                    batch
                        .iter()
                        .map(|(_, _, _, b, n)| (b.as_str(), n.as_str()))
                        .collect()
                })
                .collect();
            let embeddings = self
                .model
                .embed_batches(&views)
                .map_err(EngineError::Semantic)?;
            let mut added = Vec::new();
            let mut cached = Vec::new();
            for (batch, embeddings) in batches.iter().zip(embeddings) {
                for ((id, key, _, _, _), embedding) in batch.iter().zip(embeddings) {
                    added.push((*id, embedding.body.clone()));
                    cached.push((*key, embedding));
                }
            }
            self.cache.put(&cached);
            self.vectors.apply(&[], &added);
            step.embedded += added.len() as u64;
        }
        if backlog.prepared.is_empty() {
            // A window is done: make its vectors durable.
            self.flush()?;
        }
        step.remaining = (backlog.pending.len() + backlog.prepared.len()) as u64;
        Ok(step)
    }

    /// Embeds the given chunks now (the fast path after an edit or a
    /// change on disk): their texts from `sources`, into the cache; the
    /// committed ones (`index_vectors`) into the vector index too.
    pub(crate) fn embed_now(
        &self,
        chunks: &[StoredChunk],
        sources: &mut SourceReader<'_>,
        index_vectors: bool,
        (batch_size, batch_tokens, budget): (usize, usize, usize),
    ) -> Result<u64> {
        let mut views = Vec::new();
        let mut seen = HashSet::new();
        let mut cached = Vec::new();
        for chunk in chunks {
            // A committed chunk that has its vector already keeps it (an
            // edit of one function leaves the rest of the file as it was).
            if index_vectors && self.vectors.contains(chunk.chunk_id) {
                continue;
            }
            if let Some(q) = self.cache.get(chunk.embed_key) {
                cached.push((chunk.chunk_id, q));
                continue;
            }
            if !seen.insert(chunk.embed_key) {
                continue;
            }
            if let Some(code) = sources.text(chunk) {
                let (body, name) = chunk_views(chunk, &code);
                views.push((chunk.chunk_id, chunk.embed_key, body, name));
            }
        }
        // At most `budget` chunks through the model now; committed ones
        // left over are the background's (the backlog has them, the open
        // file's first). Sorted by length and cut by tokens as the backlog
        // is: one batch of many long texts grows ONNX Runtime's arena for
        // the life of the process.
        views.truncate(budget);
        views.sort_by_key(|(_, _, body, _)| body.len());
        let mut embedded = 0;
        for batch in batches(
            &views,
            |(_, _, body, _)| body.as_str(),
            batch_size,
            batch_tokens,
        ) {
            let pairs: Vec<(&str, &str)> = batch
                .iter()
                .map(|(_, _, b, n)| (b.as_str(), n.as_str()))
                .collect();
            let embeddings = self
                .model
                .embed_chunks(&pairs)
                .map_err(EngineError::Semantic)?;
            let mut entries = Vec::with_capacity(batch.len());
            for ((id, key, _, _), embedding) in batch.iter().zip(embeddings) {
                cached.push((*id, embedding.body.clone()));
                entries.push((*key, embedding));
            }
            self.cache.put(&entries);
            embedded += batch.len() as u64;
        }
        if index_vectors {
            // Copies of one text share a vector.
            for chunk in chunks {
                if !self.vectors.contains(chunk.chunk_id)
                    && !cached.iter().any(|(id, _)| *id == chunk.chunk_id)
                    && let Some(q) = self.cache.get(chunk.embed_key)
                {
                    cached.push((chunk.chunk_id, q));
                }
            }
            self.vectors.apply(&[], &cached);
        }
        Ok(embedded)
    }

    /// Writes new cache records to disk.
    pub(crate) fn flush(&self) -> Result<()> {
        self.cache.flush().map_err(|e| EngineError::Io {
            path: self.cache.path().to_path_buf(),
            source: e,
        })
    }
}

/// About four bytes a token; the model reads at most 256.
fn estimated_tokens(text: &str) -> usize {
    (text.len() / 4).clamp(1, 256)
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
