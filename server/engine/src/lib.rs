//! `dowse-engine`: the facade that front ends (CLI, LSP, MCP) talk to.
//!
//! An [`Engine`] owns one workspace's index. It brings the index up to date
//! with the disk ([`Engine::update`]) and answers queries ([`Engine::search`])
//! with plain data that each front end converts to its own protocol.
//!
//! One writer, many readers: all index mutation goes through the single
//! writer held in the engine; queries take a snapshot (a tantivy `Searcher`)
//! and never wait for indexing.

mod chunked;
pub mod config;
mod context;
mod embedding;
mod focus;
pub mod health;
mod indexer;
mod integrity;
mod lock;
mod named;
mod overlay;
pub mod progress;
pub mod published;
pub mod search;
pub mod semantic;
mod similar;
mod snapshot;
mod source;
mod usages;
pub mod views;
pub mod walk;
mod writer;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock, RwLock};

use dowse_index::files::FileTable;
use dowse_index::lexical::{LexicalError, LexicalIndex};

pub use chunked::test_hooks;
pub use config::{Config, ConfigError, ConfigSources};
pub use context::{ContextChunk, ContextResponse, TokenCount};
pub use dowse_embed as embed;
pub use dowse_embed::{INTERACTIVE_QUIET, ModelHandle, QueryGuard};
pub use dowse_index::memory::release_free_memory;
pub use dowse_index::store::{IndexDir, index_key};
pub use dowse_syntax::{ChunkKind, Language, UsageSupport, symbol_label};
pub use embedding::{EMBED_NOW_MAX_CHUNKS, EmbedReport, EmbedStep, GraphJob};
pub use indexer::{IndexReport, Windowed};
pub use progress::{NoProgress, Progress};
pub use published::{PublishedChunk, PublishedModel, RemoteQuery};
pub use search::{Scope, SearchMode, SearchRequest, SearchResponse, SearchResult};
pub use semantic::SemanticConfig;
pub use similar::SimilarResponse;
pub use usages::{UsageLocation, UsagesQuery, UsagesResponse};
pub use writer::EngineWriter;

#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error("workspace `{0}` does not exist")]
    NoWorkspace(PathBuf),
    #[error("workspace `{0}` is not a directory")]
    NotADirectory(PathBuf),
    #[error("the query is empty: give some words or an identifier to search for")]
    EmptyQuery,
    #[error("{0}")]
    InvalidInput(String),
    #[error(transparent)]
    Walk(#[from] walk::WalkError),
    #[error(transparent)]
    Lexical(#[from] LexicalError),
    #[error(
        "the index is being written by another dowse process (pid {0}); this one only reads it"
    )]
    ReadOnly(u32),
    #[error("interrupted: what was indexed so far is committed; run again to finish")]
    Cancelled,
    #[error("semantic search: {0}")]
    Semantic(String),
    /// The service cannot answer at all (its writer is gone): why, and
    /// what to do.
    #[error("{0}")]
    Unavailable(String),
    #[error("index directory `{path}`: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

impl EngineError {
    /// True for errors in what the user asked (exit code 2 in the CLI,
    /// InvalidParams in the protocols), false for failures of the engine.
    pub fn is_user_error(&self) -> bool {
        matches!(
            self,
            EngineError::NoWorkspace(_)
                | EngineError::NotADirectory(_)
                | EngineError::EmptyQuery
                | EngineError::InvalidInput(_)
                | EngineError::Walk(_)
        )
    }

    fn io(path: &Path, source: std::io::Error) -> EngineError {
        EngineError::Io {
            path: path.to_path_buf(),
            source,
        }
    }
}

pub type Result<T> = std::result::Result<T, EngineError>;

/// What a caught panic said, for logs and health.
pub fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic without a message".to_owned())
}

/// The default index directory of a workspace: under the user cache dir
/// (`$XDG_CACHE_HOME/dowse/indexes` or `~/.cache/dowse/indexes`, else
/// `$XDG_RUNTIME_DIR/dowse/indexes`), named after the workspace and a hash
/// of its canonical path, so two checkouts of one project never share an
/// index. Never a shared temporary directory: without any of those, an
/// error that says what to set.
pub fn default_index_dir(workspace: &Path) -> Result<PathBuf> {
    dowse_embed::user_cache_root()
        .map(|root| root.join("indexes").join(index_key(workspace)))
        .ok_or_else(|| {
            EngineError::InvalidInput(
                "there is no user cache directory for the index (HOME, XDG_CACHE_HOME and \
                 XDG_RUNTIME_DIR are all unset): set one of them, or give --index-dir or \
                 DOWSE_INDEX_DIR"
                    .to_owned(),
            )
        })
}

/// One workspace root's index and the queries over it.
///
/// Reads (search, similar, usages, context, health, stats) may come from any
/// thread at any time and never wait for writes. Writes are the
/// [`EngineWriter`]'s, which [`Engine::open`] returns: one per index, owned
/// by the workspace host's writer thread or a one-shot CLI command.
pub struct Engine {
    root: PathBuf,
    config: Config,
    dir: IndexDir,
    lexical: LexicalIndex,
    /// What the committed index holds, per file.
    files: RwLock<FileTable>,
    model: ModelHandle,
    /// Loaded by the writer: the embedding cache, the vectors.
    semantic: OnceLock<semantic::SemanticState>,
    /// Occurrences for find usages, built and kept by the writer.
    usage_state: usages::SharedUsages,
    /// Files open in an editor: their unsaved text, in memory.
    overlay: overlay::Overlay,
    /// The include and exclude settings, compiled: a buffer the walk would
    /// leave out is not overlaid.
    filters: walk::Filters,
    counters: health::Counters,
    /// The health probes that cost a model run or a disk write, shared by
    /// checks close together.
    probes: health::Probes,
    opened: std::time::Instant,
    /// What recovery did when the index was opened, for health and stats.
    recovered: Mutex<Vec<String>>,
    /// Stamps of segment files, which never change once written.
    stamps: Mutex<std::collections::HashMap<String, dowse_index::manifest::FileStamp>>,
    /// The advisory lock that makes this process the index's one writer
    /// (released when the engine is dropped or the process dies).
    _lock: Option<std::fs::File>,
    /// Another process writes the index: its pid. This engine only reads.
    read_only: Option<u32>,
    /// Set to stop long work (indexing, embedding) at the next safe point.
    cancel: Arc<std::sync::atomic::AtomicBool>,
}

impl Engine {
    /// Opens (or creates) the index of the workspace at `root`, with the
    /// model `config` names (loaded when the writer first needs it), and
    /// returns its one writer (readers get theirs from
    /// [`EngineWriter::reader`]).
    pub fn open(root: &Path, config: Config) -> Result<EngineWriter> {
        let model = ModelHandle::resolve(&config.semantic.pool());
        Engine::open_with(root, config, model)
    }

    /// Like [`Engine::open`], with `embedder` instead of the real model (for
    /// tests that need vectors but not a particular model).
    pub fn open_with_embedder(
        root: &Path,
        config: Config,
        embedder: Arc<dyn embed::Embedder>,
    ) -> Result<EngineWriter> {
        Engine::open_with(root, config, ModelHandle::given(embedder))
    }

    /// Opens the index of `root` sharing `model` with other engines of the
    /// process (one per workspace root), so the model is in memory once.
    pub fn open_with(root: &Path, config: Config, model: ModelHandle) -> Result<EngineWriter> {
        if !root.exists() {
            return Err(EngineError::NoWorkspace(root.to_path_buf()));
        }
        if !root.is_dir() {
            return Err(EngineError::NotADirectory(root.to_path_buf()));
        }
        let root = root.canonicalize().map_err(|e| EngineError::io(root, e))?;
        let dir_path = match &config.index_dir {
            Some(dir) => dir.clone(),
            None => default_index_dir(&root)?,
        };
        let dir = IndexDir::open(&dir_path).map_err(|e| EngineError::io(&dir_path, e))?;
        let (lock, read_only) = lock::acquire(&dir)?;
        let checked = match read_only {
            // The owner may be mid-commit: read what is there, fix nothing.
            Some(_) => integrity::Checked::default(),
            None => {
                // Links and special files are never followed: removed first,
                // then the check finds what they stood for missing.
                let scrubbed = dir.scrub();
                let mut checked = integrity::check(&dir);
                if !scrubbed.is_empty() {
                    checked.recoveries.insert(
                        0,
                        format!(
                            "removed what dowse never writes from the index directory (symbolic \
                             links or special files, not followed): {}",
                            scrubbed.join(", ")
                        ),
                    );
                }
                checked
            }
        };
        dir.create().map_err(|e| EngineError::io(dir.root(), e))?;
        let filters =
            walk::Filters::new(&root, &config.walk_options(vec![dir.root().to_path_buf()]))?;
        let lexical = LexicalIndex::open(&dir.lexical())?;
        let mut files = FileTable::load(&dir.files()).unwrap_or_else(|err| {
            tracing::warn!("the file table is unreadable ({err}); every file will be checked");
            FileTable::default()
        });
        let committed = lexical.committed_generation()?.unwrap_or(0);
        if files.generation != committed {
            // A crash between the index commit and the table write: the table
            // may describe another version. Keep it, but distrust its mtimes
            // so that every file is compared by content.
            tracing::warn!(
                "the file table (generation {}) does not match the index (generation {committed}); \
                 every file will be compared by content",
                files.generation
            );
            for record in files.files.values_mut() {
                record.mtime_ns = -1;
            }
            files.generation = committed;
        }
        let engine = Engine {
            root,
            config,
            dir,
            lexical,
            files: RwLock::new(files),
            model,
            semantic: OnceLock::new(),
            usage_state: Default::default(),
            overlay: Default::default(),
            filters,
            counters: Default::default(),
            probes: Default::default(),
            opened: std::time::Instant::now(),
            recovered: Mutex::new(Vec::new()),
            stamps: Mutex::new(std::collections::HashMap::new()),
            _lock: lock,
            read_only,
            cancel: Arc::new(std::sync::atomic::AtomicBool::new(false)),
        };
        *engine.recovered.lock().expect("recoveries lock") = checked.recoveries;
        if checked.rewrite_manifest {
            let generation = engine.files.read().expect("file table lock").generation;
            engine.write_manifest(generation)?;
        }
        Ok(EngineWriter::new(engine))
    }

    /// The canonical workspace root.
    pub fn root(&self) -> &Path {
        &self.root
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    pub fn index_dir(&self) -> &IndexDir {
        &self.dir
    }

    /// Semantic search's state as readers see it: what the writer loaded
    /// ([`EngineWriter::load_semantic`]), or not loaded yet.
    pub(crate) fn semantic(&self) -> &semantic::SemanticState {
        static NOT_LOADED: semantic::SemanticState = semantic::SemanticState::NotLoaded;
        self.semantic.get().unwrap_or(&NOT_LOADED)
    }

    /// The model handle this engine uses (shared with the other roots'
    /// engines of the process).
    pub fn model(&self) -> &ModelHandle {
        &self.model
    }

    /// Why semantic search is unavailable, or `None` when it is ready (or
    /// not loaded yet: the writer loads it in a moment).
    pub fn semantic_unavailable(&self) -> Option<String> {
        match self.semantic() {
            semantic::SemanticState::Unavailable(reason) => Some(reason.clone()),
            semantic::SemanticState::Ready(_) | semantic::SemanticState::NotLoaded => None,
        }
    }

    /// What a query reads: the committed index and the overlay, now.
    pub(crate) fn snapshot(&self) -> snapshot::Snapshot {
        snapshot::Snapshot::new(self.lexical.snapshot(), self.overlay.view())
    }

    /// Marks a query under way (for the embedding's choice of cores) until
    /// the guard is dropped; nothing without a loaded model.
    pub(crate) fn query_started(&self) -> Option<QueryGuard> {
        self.model.loaded().map(|model| model.query_started())
    }

    /// How many of a file's committed chunks have a vector, of how many.
    pub fn file_coverage(&self, rel: &str) -> Result<(u64, u64)> {
        let snapshot = self.lexical.snapshot();
        let docs = snapshot.file_chunks(rel)?;
        let total = docs.len() as u64;
        let with = match self.semantic.get() {
            Some(semantic::SemanticState::Ready(ready)) => {
                let mut with = 0;
                for doc in docs {
                    if ready.vectors.contains(snapshot.keys(doc)?.chunk_id) {
                        with += 1;
                    }
                }
                with
            }
            _ => 0,
        };
        Ok((with, total))
    }

    /// (chunks with a vector, chunks without one yet) of the committed
    /// index; (0, 0) without a model.
    pub fn vector_coverage(&self) -> (u64, u64) {
        match self.semantic() {
            semantic::SemanticState::Ready(ready) => {
                let (_, chunks) = self.counts();
                let have = (ready.vectors.len() as u64).min(chunks);
                (have, chunks - have)
            }
            _ => (0, 0),
        }
    }

    /// Recall@`k` of the vector index's approximate search against exact
    /// search, for the vectors of `queries`: a check that sealed HNSW
    /// segments still find what an exhaustive scan finds. `None` without a
    /// model.
    pub fn vector_recall(&self, queries: &[&str], k: usize) -> Result<Option<f64>> {
        let semantic::SemanticState::Ready(ready) = self.semantic() else {
            return Ok(None);
        };
        let snapshot = ready.vectors.snapshot();
        let (mut found, mut wanted) = (0usize, 0usize);
        for query in queries {
            let vector = ready.embed_query(query).map_err(EngineError::Semantic)?;
            let approximate: std::collections::HashSet<u64> = snapshot
                .search(&vector, k)
                .iter()
                .map(|h| h.chunk_id)
                .collect();
            let exact = snapshot.exact_search(&vector, k);
            wanted += exact.len();
            found += exact
                .iter()
                .filter(|h| approximate.contains(&h.chunk_id))
                .count();
        }
        Ok((wanted > 0).then(|| found as f64 / wanted as f64))
    }

    /// (HNSW segments, exact blocks) of the vector index.
    pub fn vector_segments(&self) -> (usize, usize) {
        match self.semantic.get() {
            Some(semantic::SemanticState::Ready(ready)) => {
                ready.vectors.snapshot().segment_counts()
            }
            _ => (0, 0),
        }
    }

    /// A flag that stops indexing and embedding at the next safe point (a
    /// commit of what is done): set it on SIGTERM / SIGINT / shutdown.
    pub fn cancel_handle(&self) -> Arc<std::sync::atomic::AtomicBool> {
        self.cancel.clone()
    }

    pub(crate) fn cancelled(&self) -> bool {
        self.cancel.load(std::sync::atomic::Ordering::Acquire)
    }

    /// Whether long work was told to stop (a signal, shutdown).
    pub fn is_cancelled(&self) -> bool {
        self.cancelled()
    }

    /// What recovery did when the index was opened (empty when nothing).
    pub fn recoveries(&self) -> Vec<String> {
        self.recovered.lock().expect("recoveries lock").clone()
    }

    /// The pid of the process that owns the index when this engine may only
    /// read it.
    pub fn read_only_owner(&self) -> Option<u32> {
        self.read_only
    }

    /// What changed lately, cheaply (for the host's state): buffers in the
    /// overlay, disk commits since the engine opened.
    pub fn activity(&self) -> health::Activity {
        health::Activity {
            open_buffers: self.overlay.view().files.len() as u64,
            disk_commits: self.counters.commits(),
        }
    }

    /// The number of indexed files and chunks.
    pub fn counts(&self) -> (u64, u64) {
        let files = self.files.read().expect("file table lock");
        (files.files.len() as u64, files.chunk_count())
    }
}

#[cfg(test)]
mod tests;
