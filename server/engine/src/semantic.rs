//! Semantic search's state for one root: the process's model (from the
//! pool in `dowse-embed`), this index's embedding cache and vector index,
//! and how they are kept in step with the lexical index (the work itself
//! is [`crate::embedding`]'s).
//!
//! The writer loads it after the first index (0.3–1 s for the model). If
//! the model cannot be loaded the state records why, and searches fall back
//! to keywords with that reason.

use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use dowse_embed::{ChunkText, Model, ModelHandle, PoolConfig, ViewVectors};
use dowse_index::cache::{EmbeddingCache, Retained};
use dowse_index::lexical::LexicalIndex;
use dowse_index::quantize::{Embedding, Quantized, Quantized4, quantize, quantize4};
use dowse_index::vectors::{VectorConfig, VectorIndex};

use crate::embedding::{Backlog, Pending};
use crate::snapshot::Snapshot;
use crate::views::{MAX_WINDOWS, Recipe, window_key};
use crate::{EngineError, Result};

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
    /// The version of the embedded views (not a user setting: the views'
    /// own, [`crate::views::VIEW_VERSION`]; a test sets another to see
    /// every vector made again).
    pub view_version: u32,
    /// Cached vectors that no chunk uses are dropped once they outnumber
    /// those in use and are at least this many ([`UNUSED_RECORDS_MIN`]; a
    /// test sets fewer).
    pub unused_records_min: usize,
    pub vectors: VectorConfig,
}

impl SemanticConfig {
    /// What the process's model pool needs of these settings.
    pub fn pool(&self) -> PoolConfig {
        PoolConfig {
            enabled: self.enabled,
            model_dir: self.model_dir.clone(),
            model_sha256: self.model_sha256.clone(),
            runtime_sha256: self.runtime_sha256.clone(),
            threads: self.threads,
            window: self.window(),
            prepack_queries: self.prepack_queries,
        }
    }

    /// How this configuration makes vectors.
    pub fn recipe(&self) -> Recipe {
        Recipe {
            view_version: self.view_version,
            window: self.window(),
        }
    }

    /// The model's window as it is run: what was asked, within what a
    /// MiniLM-sized model can take (below 16 tokens a name does not fit,
    /// above 512 the position table ends).
    pub fn window(&self) -> usize {
        self.max_tokens.clamp(16, 512)
    }
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
            view_version: crate::views::VIEW_VERSION,
            unused_records_min: UNUSED_RECORDS_MIN,
            vectors: VectorConfig::default(),
        }
    }
}

/// Semantic search, ready or not.
pub(crate) enum SemanticState {
    /// Keyword-only, and why (with the fix).
    Unavailable(String),
    Ready(Box<Ready>),
    /// The writer has not loaded it yet (it does so after the first index):
    /// keyword-only for now.
    NotLoaded,
}

/// The embedding cache keeps the vectors of text no chunk has any more
/// (a file deleted, a function rewritten) while they are no more than those
/// in use: switching back to a branch or undoing a large change finds its
/// vectors again. Once they outnumber them — a recipe change leaves every
/// record behind at once — and are at least this many (about 6 MB of
/// MiniLM's 596-byte records: a smaller file is not worth a rewrite), the
/// cache is rewritten without them.
pub const UNUSED_RECORDS_MIN: usize = 10_000;

/// Why searches are by keywords while the writer has not loaded the model.
const LOADING: &str = "search by meaning is starting (the embedding model is being loaded)";

impl SemanticState {
    /// Why search by meaning cannot answer now (`None` when it can).
    pub(crate) fn unavailable(&self) -> Option<&str> {
        match self {
            SemanticState::Unavailable(reason) => Some(reason),
            SemanticState::NotLoaded => Some(LOADING),
            SemanticState::Ready(_) => None,
        }
    }
}

/// One engine's vectors: the embedding cache and the vector index of its
/// committed chunks (the overlay's vectors are read from the cache by key),
/// and the backlog of chunks still to embed.
pub(crate) struct Ready {
    pub(crate) model: Arc<Model>,
    /// How vectors are made: the cache's keys derive from it.
    pub(crate) recipe: Recipe,
    pub(crate) cache: EmbeddingCache,
    pub(crate) vectors: VectorIndex,
    pub(crate) backlog: Mutex<Backlog>,
}

impl SemanticState {
    pub(crate) fn load(
        model: &ModelHandle,
        cache_path: &std::path::Path,
        read_only: bool,
        (vectors, recipe): (&VectorConfig, Recipe),
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
            recipe,
            cache,
            vectors: VectorIndex::new(info.dimensions, vectors.clone()),
            backlog: Mutex::new(Backlog::stale()),
        }))
    }
}

/// A chunk's vectors as the index stores them: the body in int8, the name
/// in 4 bits, and each window of a body read in several, in int8.
pub(crate) struct Stored {
    pub(crate) embedding: Embedding,
    pub(crate) windows: Vec<Quantized>,
}

impl Stored {
    pub(crate) fn of(vectors: ViewVectors) -> Stored {
        Stored {
            embedding: Embedding {
                body: quantize(&vectors.body),
                name: quantize4(&vectors.name),
            },
            windows: vectors.windows.iter().map(|w| quantize(w)).collect(),
        }
    }

    /// The embedding cache's records of the chunk whose cache key is
    /// `key`: its embedding, then each window's vector as a record of its
    /// own under its [`window_key`], with an empty name vector.
    pub(crate) fn records(self, key: u64) -> impl Iterator<Item = (u64, Embedding)> {
        let Stored { embedding, windows } = self;
        let no_name = Quantized4 {
            scale: 0.0,
            packed: vec![0; embedding.body.values.len().div_ceil(2)],
        };
        std::iter::once((key, embedding)).chain(windows.into_iter().enumerate().map(
            move |(i, body)| {
                let name = no_name.clone();
                (window_key(key, i), Embedding { body, name })
            },
        ))
    }
}

impl Ready {
    pub(crate) fn embed_query(&self, query: &str) -> std::result::Result<Quantized, String> {
        Ok(quantize(&self.model.embed_query(query)?))
    }

    /// Embeds chunks' views into the vectors the index stores.
    pub(crate) fn embed_chunks(
        &self,
        views: &[ChunkText<'_>],
    ) -> std::result::Result<Vec<Stored>, String> {
        Ok(self
            .model
            .embed_chunks(views)?
            .into_iter()
            .map(Stored::of)
            .collect())
    }

    /// The body vector of the chunk whose content key is `content`, if
    /// the cache has it for this recipe.
    pub(crate) fn cached(&self, content: u64) -> Option<Quantized> {
        self.cache.get(self.recipe.key(content))
    }

    /// Both vectors of the chunk whose content key is `content`.
    pub(crate) fn cached_embedding(&self, content: u64) -> Option<Embedding> {
        self.cache.get_embedding(self.recipe.key(content))
    }

    /// Both vectors of the chunk whose content key is `content`, and the
    /// vector of each of its windows, the first window's first (none for a
    /// body the model reads whole): search reads them for every candidate,
    /// with one cache key.
    pub(crate) fn cached_with_windows(&self, content: u64) -> Option<(Embedding, Vec<Quantized>)> {
        let key = self.recipe.key(content);
        let embedding = self.cache.get_embedding(key)?;
        let windows = (0..MAX_WINDOWS)
            .map_while(|i| self.cache.get(window_key(key, i)))
            .collect();
        Some((embedding, windows))
    }

    /// Brings the vector index in line with the lexical index: vectors of
    /// chunks that are gone are dropped, chunks whose text is in the cache
    /// get their vector at once. Returns the chunks that still need one.
    pub(crate) fn sync(&self, lexical: &LexicalIndex) -> Result<Vec<Pending>> {
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
        for (id, content, path) in live {
            if self.vectors.contains(id) {
                continue;
            }
            let key = self.recipe.key(content);
            if self.cache.contains(key) {
                added.push((id, key));
            } else {
                pending.push(Pending {
                    chunk_id: id,
                    key,
                    path,
                });
            }
        }
        // Each vector is copied from the cache as it is stored: a whole
        // index's worth at start must not be held twice on the way.
        self.vectors
            .apply_with(&removed, &added, |key| self.cache.get(*key));
        Ok(pending)
    }

    /// Rewrites the embedding cache without the records that no chunk of
    /// `snapshot` (the committed index and the open buffers) uses, once
    /// they outnumber those in use and are at least `min` (see
    /// [`UNUSED_RECORDS_MIN`]).
    pub(crate) fn drop_unused(&self, snapshot: &Snapshot, min: usize) -> Result<Option<Retained>> {
        let records = self.cache.len();
        if records < min {
            return Ok(None);
        }
        let mut used: HashSet<u64> = snapshot
            .disk
            .live_chunks()?
            .into_iter()
            .map(|(_, content)| self.recipe.key(content))
            .collect();
        used.extend(
            snapshot
                .overlay
                .chunks()
                .map(|c| self.recipe.key(c.content_key)),
        );
        // A long chunk's windows are records of their own.
        let windows: Vec<u64> = used
            .iter()
            .flat_map(|&key| {
                (0..MAX_WINDOWS)
                    .map(move |i| window_key(key, i))
                    .take_while(|&window| self.cache.contains(window))
            })
            .collect();
        used.extend(windows);
        let in_use = used.iter().filter(|&&key| self.cache.contains(key)).count();
        let unused = records - in_use;
        if unused < min || unused <= in_use {
            return Ok(None);
        }
        self.cache
            .retain(|key| used.contains(&key))
            .map_err(|source| EngineError::Io {
                path: self.cache.path().to_path_buf(),
                source,
            })
    }
}
