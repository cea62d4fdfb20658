//! The model pool: the embedding model of a process, loaded once and shared
//! by every engine (one per workspace root) and every session of the
//! process, with one copy of the weights (see [`crate::onnx`]).
//!
//! The host builds one [`ModelHandle`] and hands it to each root's engine;
//! the first engine that needs vectors loads it. The pool keeps the session
//! that embeds chunks, helper sessions to embed on every core while the
//! user is idle, a session for queries while chunks are being embedded (so
//! a query never waits behind a batch), the vectors of recent queries, and
//! whether a query is under way (background embedding keeps to one core
//! then). Vectors come out as `f32`; what is stored of them, and how, is
//! the index's business.

use std::collections::{HashMap, VecDeque};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use crate::{Embedder, OnnxEmbedder, OnnxOptions, Resolution};

/// Where the model is and how to run it: the part of the settings the
/// pool reads.
#[derive(Clone, Debug)]
pub struct PoolConfig {
    /// Semantic search on at all.
    pub enabled: bool,
    /// The model directory (`DOWSE_MODEL_DIR`); the user cache otherwise.
    pub model_dir: Option<PathBuf>,
    /// Digests the user stated for a model or runtime of their own.
    pub model_sha256: Option<String>,
    pub runtime_sha256: Option<String>,
    /// ONNX Runtime threads per session.
    pub threads: usize,
    /// The model's input window, in tokens.
    pub window: usize,
    /// A long-running server embeds every query on a session of its own
    /// whose weights stay prepacked.
    pub prepack_queries: bool,
}

/// The vectors of a chunk: its body view's and its name view's, and, for a
/// body read in further windows, each window's own (the first window's
/// first; empty for a body the model reads whole).
#[derive(Clone, Debug)]
pub struct ViewVectors {
    pub body: Vec<f32>,
    pub name: Vec<f32>,
    pub windows: Vec<Vec<f32>>,
}

/// What is embedded of one chunk: its body view, the further windows of a
/// body longer than the model reads (`more`, each with the body's header),
/// and its name view.
#[derive(Clone, Copy, Debug)]
pub struct ChunkText<'a> {
    pub body: &'a str,
    pub more: &'a [String],
    pub name: &'a str,
}

/// How much each further window of a long body adds to its first window's
/// vector (see [`ChunkText`]).
pub const MORE_WEIGHT: f32 = 0.5;

/// Embeds chunks' views. Each view keeps its own vector: the body is what
/// search by meaning retrieves; the name is mixed in per query when
/// candidates are ranked. A body with further windows gets one vector,
/// its first window's plus [`MORE_WEIGHT`] of each further one's,
/// normalised, which search by meaning retrieves; each window's vector is
/// kept too, for scoring a candidate by its best window.
fn embed_views(
    model: &dyn Embedder,
    views: &[ChunkText<'_>],
) -> std::result::Result<Vec<ViewVectors>, String> {
    let bodies: Vec<&str> = views.iter().map(|v| v.body).collect();
    let names: Vec<&str> = views.iter().map(|v| v.name).collect();
    let (owners, more): (Vec<usize>, Vec<&str>) = views
        .iter()
        .enumerate()
        .flat_map(|(i, v)| v.more.iter().map(move |m| (i, m.as_str())))
        .unzip();
    // Bodies and names in separate runs, even for an edit's one chunk: a
    // name padded to its body's length costs more than a second run
    // (measured by tests/examples/embed_scaling.rs: 21.8 ms in two runs,
    // 30.1 ms in one).
    let bodies = model.embed(&bodies).map_err(|e| e.to_string())?;
    let names = model.embed(&names).map_err(|e| e.to_string())?;
    let mut vectors: Vec<ViewVectors> = bodies
        .into_iter()
        .zip(names)
        .map(|(body, name)| ViewVectors {
            body,
            name,
            windows: Vec::new(),
        })
        .collect();
    if !more.is_empty() {
        let more = model.embed(&more).map_err(|e| e.to_string())?;
        for (&owner, vector) in owners.iter().zip(more) {
            let chunk = &mut vectors[owner];
            if chunk.windows.is_empty() {
                chunk.windows.push(chunk.body.clone());
            }
            chunk.windows.push(vector);
        }
        for chunk in vectors.iter_mut().filter(|c| !c.windows.is_empty()) {
            let (first, further) = chunk.windows.split_first().expect("a first window");
            chunk.body = first.clone();
            for window in further {
                for (b, m) in chunk.body.iter_mut().zip(window) {
                    *b += MORE_WEIGHT * m;
                }
            }
            crate::normalize(&mut chunk.body);
        }
    }
    Ok(vectors)
}

/// One text's vector.
fn embed_one(model: &dyn Embedder, text: &str) -> std::result::Result<Arc<[f32]>, String> {
    let vector = model.embed(&[text]).map_err(|e| e.to_string())?;
    Ok(vector
        .into_iter()
        .next()
        .ok_or("the model returned no vector")?
        .into())
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
    indexer: Arc<dyn Embedder>,
    /// Single-thread sessions beside `indexer`, loaded when a step first
    /// asks for more workers (or why they could not be).
    helpers: Mutex<Vec<Arc<dyn Embedder>>>,
    helpers_failed: AtomicBool,
    queries: Queries,
    /// True while chunks are being embedded.
    indexing: AtomicBool,
    /// Loaded when first needed, or why it could not be; dropped when the
    /// process has been idle for long ([`Model::release_idle`]).
    query_model: Mutex<Option<std::result::Result<Arc<dyn Embedder>, String>>>,
    model_files: Option<crate::ModelFiles>,
    options: OnnxOptions,
    /// Queries always on `query_model`, its weights prepacked.
    prepack_queries: bool,
    recent_queries: Mutex<QueryCache>,
    token_counts: Mutex<TokenCounts>,
}

/// The model of a process, loaded on first use, or why it cannot be: one
/// handle shared by every engine of the process.
#[derive(Clone)]
pub struct ModelHandle {
    sourcing: Arc<ModelSourcing>,
    loaded: Arc<OnceLock<std::result::Result<Arc<Model>, String>>>,
}

enum ModelSourcing {
    Resolve(PoolConfig),
    Given(Arc<dyn Embedder>),
}

/// The model files `config` names, with the digests the user stated for
/// files of their own (the pinned ones otherwise): what is checked before
/// anything is loaded.
pub fn resolve_model(config: &PoolConfig) -> Resolution {
    match crate::resolve(config.model_dir.as_deref()) {
        Resolution::Found(mut files) => {
            files.pins = crate::Pins::stated(
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
    pub fn resolve(config: &PoolConfig) -> ModelHandle {
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

    /// Hands back the sessions an idle process does not need (see
    /// [`Model::release_idle`]); true when something was dropped.
    pub fn release_idle(&self) -> bool {
        self.loaded().is_some_and(|model| model.release_idle())
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
            max_tokens: config.window,
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
        model_files: Option<crate::ModelFiles>,
        options: OnnxOptions,
        prepack_queries: bool,
    ) -> Model {
        Model {
            indexer,
            helpers: Mutex::new(Vec::new()),
            helpers_failed: AtomicBool::new(false),
            queries: Queries::default(),
            indexing: AtomicBool::new(false),
            query_model: Mutex::new(None),
            model_files,
            options,
            prepack_queries,
            recent_queries: Mutex::new(QueryCache::default()),
            token_counts: Mutex::new(TokenCounts::default()),
        }
    }

    pub fn info(&self) -> &crate::ModelInfo {
        self.indexer.info()
    }

    /// The model's own token count of `text`, when it has a tokenizer;
    /// never waits for an embedding under way.
    pub fn count_tokens(&self, text: &str) -> Option<usize> {
        let key = TokenCounts::key(text);
        if let Some(n) = self.token_counts.lock().expect("token counts").get(key) {
            return Some(n);
        }
        let n = self.indexer.count_tokens(text)?;
        self.token_counts.lock().expect("token counts").put(key, n);
        Some(n)
    }

    /// The query's vector, from the recent-query cache or the query model.
    pub fn embed_query(&self, query: &str) -> std::result::Result<Arc<[f32]>, String> {
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

    /// The query's vector from the model itself, not the recent-query cache.
    pub fn embed_query_uncached(&self, query: &str) -> std::result::Result<Arc<[f32]>, String> {
        let model = if !self.prepack_queries && !self.indexing.load(Ordering::Acquire) {
            self.indexer.clone()
        } else {
            self.query_model()?
        };
        embed_one(model.as_ref(), query)
    }

    /// Runs the model on `text` for the health check: on the query session
    /// if it is loaded, else on the indexer's while nothing is being
    /// embedded, so that a check does not load back what an idle process
    /// dropped ([`Model::release_idle`]). A query session that failed to
    /// load fails the check.
    pub fn probe(&self, text: &str) -> std::result::Result<Arc<[f32]>, String> {
        let loaded = self.query_model.lock().expect("query model lock").clone();
        let model = match loaded {
            Some(loaded) => loaded?,
            None if !self.indexing.load(Ordering::Acquire) => self.indexer.clone(),
            None => self.query_model()?,
        };
        embed_one(model.as_ref(), text)
    }

    fn query_model(&self) -> std::result::Result<Arc<dyn Embedder>, String> {
        let Some(files) = self.model_files.as_ref() else {
            // A given embedder (tests) takes `&self`: it serves queries too.
            return Ok(self.indexer.clone());
        };
        self.query_model
            .lock()
            .expect("query model lock")
            .get_or_insert_with(|| {
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

    /// Drops what only a busy process needs, once it has been idle for long:
    /// the query session (its prepacked weights, 42 MB, and its arena),
    /// which the next query loads again in about 50 ms
    /// (`examples/session_timing.rs`), and the helper sessions, which the
    /// next backlog loads again; then the model's mapped pages. Nothing
    /// while chunks are being embedded or a query is under way. True when
    /// something was dropped.
    pub fn release_idle(&self) -> bool {
        if self.indexing.load(Ordering::Acquire)
            || self.queries.in_flight.load(Ordering::Acquire) > 0
        {
            return false;
        }
        let query = self
            .query_model
            .lock()
            .expect("query model lock")
            .take_if(|loaded| loaded.is_ok());
        let helpers = std::mem::take(&mut *self.helpers.lock().expect("helpers lock"));
        let dropped = query.is_some() || !helpers.is_empty();
        // A query or a batch that holds a session finishes on it first.
        drop((query, helpers));
        crate::release_unused_weights();
        dropped
    }

    /// Whether queries have a session of their own loaded now.
    pub fn query_session_loaded(&self) -> bool {
        matches!(
            *self.query_model.lock().expect("query model lock"),
            Some(Ok(_))
        )
    }

    /// Embeds chunks' views, telling queries to use the query instance
    /// meanwhile.
    pub fn embed_chunks(
        &self,
        views: &[ChunkText<'_>],
    ) -> std::result::Result<Vec<ViewVectors>, String> {
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
    pub fn embed_batches(
        &self,
        batches: &[Vec<ChunkText<'_>>],
    ) -> std::result::Result<Vec<Vec<ViewVectors>>, String> {
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
        let mut results: Vec<Option<std::result::Result<Vec<ViewVectors>, String>>> =
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
pub struct QueryGuard(Arc<Model>);

impl Model {
    pub fn query_started(self: &Arc<Model>) -> QueryGuard {
        self.queries.in_flight.fetch_add(1, Ordering::AcqRel);
        QueryGuard(self.clone())
    }

    /// Whether a query is under way or ended within [`INTERACTIVE_QUIET`].
    pub fn queries_recent(&self) -> bool {
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

/// The last few query vectors: typing in a picker repeats queries.
#[derive(Default)]
struct QueryCache {
    order: VecDeque<String>,
    vectors: HashMap<String, Arc<[f32]>>,
}

/// Token counts of texts counted lately, by a hash of the text: context
/// packing counts the same chunks for query after query, and the model's
/// tokenizer took 4.5% of the server's CPU under the benchmark's 64-client
/// MCP load (`scripts/bench --only mcp`, perf; its allocations besides),
/// where a tenth of the calls pack context. A hash collision costs a wrong
/// count for one span, never a wrong answer elsewhere.
#[derive(Default)]
struct TokenCounts {
    counts: HashMap<u64, usize>,
}

impl TokenCounts {
    /// Enough for the chunks of a few hundred recent questions; emptied
    /// whole when full (16 bytes an entry).
    const CAPACITY: usize = 16_384;

    fn key(text: &str) -> u64 {
        use std::hash::{Hash, Hasher};
        let mut hasher = std::hash::DefaultHasher::new();
        text.hash(&mut hasher);
        hasher.finish()
    }

    fn get(&self, key: u64) -> Option<usize> {
        self.counts.get(&key).copied()
    }

    fn put(&mut self, key: u64, n: usize) {
        if self.counts.len() >= Self::CAPACITY {
            self.counts.clear();
        }
        self.counts.insert(key, n);
    }
}

impl QueryCache {
    const CAPACITY: usize = 256;

    fn get(&self, query: &str) -> Option<Arc<[f32]>> {
        self.vectors.get(query).cloned()
    }

    fn put(&mut self, query: &str, q: Arc<[f32]>) {
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
    use std::sync::atomic::AtomicUsize;

    use super::*;
    use crate::{EmbedError, FakeEmbedder, ModelInfo};

    /// The fake model with a tokenizer of one token a word, counting how
    /// often it is asked.
    struct Tokenizing {
        inner: FakeEmbedder,
        counted: AtomicUsize,
    }

    impl Embedder for Tokenizing {
        fn info(&self) -> &ModelInfo {
            self.inner.info()
        }

        fn embed(&self, texts: &[&str]) -> std::result::Result<Vec<Vec<f32>>, EmbedError> {
            self.inner.embed(texts)
        }

        fn count_tokens(&self, text: &str) -> Option<usize> {
            self.counted.fetch_add(1, Ordering::SeqCst);
            Some(text.split_whitespace().count())
        }
    }

    #[test]
    fn a_long_body_has_one_vector_of_its_windows() {
        let model = FakeEmbedder::new(8);
        let more = vec!["b tail one".to_owned(), "b tail two".to_owned()];
        let views = [
            ChunkText {
                body: "a head",
                more: &[],
                name: "a",
            },
            ChunkText {
                body: "b head",
                more: &more,
                name: "b",
            },
        ];
        let got = embed_views(&model, &views).unwrap();
        let alone = model.embed(&["a head", "b head"]).unwrap();
        // A body without further windows is its one text's vector.
        assert_eq!(got[0].body, alone[0]);
        // One with them: the first window's plus half of each further one's,
        // normalised.
        let tails = model.embed(&["b tail one", "b tail two"]).unwrap();
        let mut expected: Vec<f32> = (0..8)
            .map(|i| alone[1][i] + MORE_WEIGHT * tails[0][i] + MORE_WEIGHT * tails[1][i])
            .collect();
        crate::normalize(&mut expected);
        assert_eq!(got[1].body, expected);
        assert_ne!(got[1].body, alone[1]);
        assert_eq!(got[1].name, model.embed(&["b"]).unwrap()[0]);
        // Each window's own vector is kept, the first window's first; a
        // body the model reads whole has none beside its body.
        assert_eq!(
            got[1].windows,
            [alone[1].clone(), tails[0].clone(), tails[1].clone()]
        );
        assert!(got[0].windows.is_empty());
    }

    #[test]
    fn a_text_is_tokenised_once_and_counted_from_memory_after() {
        let tokenizer = Arc::new(Tokenizing {
            inner: FakeEmbedder::new(8),
            counted: AtomicUsize::new(0),
        });
        let model = Model::with(tokenizer.clone(), None, OnnxOptions::default(), false);
        let texts = [
            "def retry(part):",
            "    return upload(part, attempts=3)",
            "",
        ];
        for _ in 0..3 {
            let counts: Vec<Option<usize>> = texts.iter().map(|t| model.count_tokens(t)).collect();
            assert_eq!(counts, [Some(2), Some(3), Some(0)]);
        }
        assert_eq!(tokenizer.counted.load(Ordering::SeqCst), texts.len());
        // A text that differs by one character is a text of its own.
        assert_eq!(model.count_tokens("def retry(part): "), Some(2));
        assert_eq!(tokenizer.counted.load(Ordering::SeqCst), texts.len() + 1);
    }
}
