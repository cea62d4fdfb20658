//! `dowse-engine`: the facade that front ends (CLI, LSP, MCP) talk to.
//!
//! An [`Engine`] owns one workspace's index. It brings the index up to date
//! with the disk ([`Engine::update`]) and answers queries ([`Engine::search`])
//! with plain data that each front end converts to its own protocol.
//!
//! One writer, many readers: all index mutation goes through the single
//! writer held in the engine; queries take a snapshot (a tantivy `Searcher`)
//! and never wait for indexing.

pub mod config;
pub mod health;
mod indexer;
mod integrity;
mod lock;
pub mod progress;
pub mod search;
pub mod semantic;
mod similar;
mod source;
mod usages;
pub mod walk;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock, RwLock};

use dowse_index::files::FileTable;
use dowse_index::lexical::{LexicalError, LexicalIndex, LexicalWriter};
use dowse_index::store::default_index_dir;

pub use config::Config;
pub use dowse_embed as embed;
pub use dowse_index::store::IndexDir;
pub use indexer::IndexReport;
pub use progress::{NoProgress, Progress};
pub use search::{SearchMode, SearchRequest, SearchResponse, SearchResult};
pub use semantic::{EmbedReport, SemanticConfig};
pub use similar::SimilarResponse;
pub use usages::{UsageLocation, UsagesResponse};

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

/// One workspace's index and the queries over it.
pub struct Engine {
    root: PathBuf,
    config: Config,
    dir: IndexDir,
    lexical: LexicalIndex,
    /// What the committed index holds, per file.
    files: RwLock<FileTable>,
    /// The single writer, created on the first change.
    writer: Mutex<Option<LexicalWriter>>,
    sourcing: semantic::ModelSourcing,
    /// Loaded on first use: the model, the embedding cache, the vectors.
    semantic: OnceLock<semantic::SemanticState>,
    /// Occurrences for find usages, built on the first usages query.
    usage_state: usages::SharedUsages,
    /// Files open in an editor: their text overrides the disk.
    buffers: source::Buffers,
    counters: health::Counters,
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
    /// Opens (or creates) the index of the workspace at `root`.
    pub fn open(root: &Path, config: Config) -> Result<Engine> {
        Engine::open_with(root, config, semantic::ModelSourcing::Resolve)
    }

    /// Like [`Engine::open`], with `embedder` instead of the real model (for
    /// tests that need vectors but not a particular model).
    pub fn open_with_embedder(
        root: &Path,
        config: Config,
        embedder: Arc<dyn embed::Embedder>,
    ) -> Result<Engine> {
        Engine::open_with(root, config, semantic::ModelSourcing::Given(embedder))
    }

    fn open_with(root: &Path, config: Config, sourcing: semantic::ModelSourcing) -> Result<Engine> {
        if !root.exists() {
            return Err(EngineError::NoWorkspace(root.to_path_buf()));
        }
        if !root.is_dir() {
            return Err(EngineError::NotADirectory(root.to_path_buf()));
        }
        let root = root.canonicalize().map_err(|e| EngineError::io(root, e))?;
        let dir = IndexDir::new(
            config
                .index_dir
                .clone()
                .unwrap_or_else(|| default_index_dir(&root)),
        );
        std::fs::create_dir_all(dir.root()).map_err(|e| EngineError::io(dir.root(), e))?;
        let (lock, read_only) = lock::acquire(&dir)?;
        let checked = match read_only {
            // The owner may be mid-commit: read what is there, fix nothing.
            Some(_) => integrity::Checked::default(),
            None => integrity::check(&dir),
        };
        dir.create().map_err(|e| EngineError::io(dir.root(), e))?;
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
            writer: Mutex::new(None),
            sourcing,
            semantic: OnceLock::new(),
            usage_state: Default::default(),
            buffers: Default::default(),
            counters: Default::default(),
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
        Ok(engine)
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

    /// Semantic search's state, loading the model on first use.
    pub(crate) fn semantic(&self) -> &semantic::SemanticState {
        self.semantic.get_or_init(|| {
            semantic::SemanticState::load(
                &self.sourcing,
                &self.config.semantic,
                &self.dir.embeddings(),
            )
        })
    }

    /// Why semantic search is unavailable, or `None` when it is ready.
    pub fn semantic_unavailable(&self) -> Option<String> {
        match self.semantic() {
            semantic::SemanticState::Unavailable(reason) => Some(reason.clone()),
            semantic::SemanticState::Ready(_) => None,
        }
    }

    /// Gives every chunk of the committed index a vector: drops vectors of
    /// removed chunks, takes cached ones, embeds the rest. A no-op (with the
    /// reason) when no model is available.
    pub fn embed(&self, progress: &dyn Progress) -> Result<EmbedReport> {
        match self.semantic() {
            semantic::SemanticState::Unavailable(_) => Ok(EmbedReport::default()),
            semantic::SemanticState::Ready(ready) => {
                let pending = ready.sync(&self.lexical)?;
                if self.read_only.is_some() {
                    // Vectors from the cache only: the owner embeds.
                    return Ok(EmbedReport::default());
                }
                let mut report = ready.embed_pending(
                    (&self.root, &self.buffers, &self.cancel),
                    &self.lexical,
                    pending,
                    (
                        self.config.semantic.batch_size,
                        self.config.semantic.batch_tokens,
                    ),
                    progress,
                )?;
                let started = std::time::Instant::now();
                while ready.vectors.merge_blocks() {}
                report.maintenance = started.elapsed();
                Ok(report)
            }
        }
    }

    /// Seals large exact vector blocks into HNSW graphs and rebuilds graphs
    /// with many removed entries, until nothing is left to do or the engine
    /// is cancelled; returns the time spent. Graphs live in memory only, so
    /// this is for long-running processes (the language server runs it at
    /// the end of its indexing, and after edits); queries are answered
    /// throughout, from exact search until a graph is published.
    pub fn optimize_vectors(&self) -> std::time::Duration {
        let started = std::time::Instant::now();
        if let Some(semantic::SemanticState::Ready(ready)) = self.semantic.get() {
            while !self.cancel.load(std::sync::atomic::Ordering::Acquire)
                && ready.vectors.maintain()
            {}
        }
        started.elapsed()
    }

    /// Gives a vector to every chunk of these files (workspace-relative
    /// paths) that lacks one: the fast path after an edit, which looks at
    /// nothing else. [`Engine::embed`] does the whole index.
    pub fn embed_paths(&self, paths: &[&str]) -> Result<EmbedReport> {
        let semantic::SemanticState::Ready(ready) = self.semantic() else {
            return Ok(EmbedReport::default());
        };
        let snapshot = self.lexical.snapshot();
        let mut live = Vec::new();
        for path in paths {
            for doc in snapshot.file_chunks(path)? {
                let keys = snapshot.keys(doc)?;
                live.push((keys.chunk_id, keys.embed_key));
            }
        }
        let pending = ready.add_cached(live);
        ready.embed_pending(
            (&self.root, &self.buffers, &self.cancel),
            &self.lexical,
            pending,
            (
                self.config.semantic.batch_size,
                self.config.semantic.batch_tokens,
            ),
            &NoProgress,
        )
    }

    /// (chunks with a vector, chunks without one yet); (0, 0) without a model.
    pub fn vector_coverage(&self) -> (u64, u64) {
        match self.semantic.get() {
            Some(semantic::SemanticState::Ready(ready)) => {
                let (_, chunks) = self.counts();
                let have = ready.vectors.len() as u64;
                (have, chunks.saturating_sub(have))
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

    /// What recovery did when the index was opened (empty when nothing).
    pub fn recoveries(&self) -> Vec<String> {
        self.recovered.lock().expect("recoveries lock").clone()
    }

    /// The pid of the process that owns the index when this engine may only
    /// read it.
    pub fn read_only_owner(&self) -> Option<u32> {
        self.read_only
    }

    /// An error for writes attempted by a read-only engine.
    pub(crate) fn check_writable(&self) -> Result<()> {
        match self.read_only {
            Some(pid) => Err(EngineError::ReadOnly(pid)),
            None => Ok(()),
        }
    }

    /// The number of indexed files and chunks.
    pub fn counts(&self) -> (u64, u64) {
        let files = self.files.read().expect("file table lock");
        (files.files.len() as u64, files.chunk_count())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A one-shot process answers from exact search and never pays for a
    /// graph build; the server's optimiser builds the graph later, and the
    /// answers stay those of exact search.
    #[test]
    fn graphs_are_built_by_the_optimiser_not_by_embedding() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("ws");
        std::fs::create_dir_all(&root).unwrap();
        for i in 0..40 {
            std::fs::write(
                root.join(format!("m{i}.py")),
                format!("def handler_{i}(request):\n    return request.reply({i})\n"),
            )
            .unwrap();
        }
        let mut config = Config {
            index_dir: Some(dir.path().join("index")),
            ..Config::default()
        };
        config.semantic.vectors.seal_threshold = 16;
        let engine =
            Engine::open_with_embedder(&root, config, Arc::new(dowse_embed::FakeEmbedder::new(32)))
                .unwrap();
        engine.update(&NoProgress).unwrap();
        engine.embed(&NoProgress).unwrap();
        let (graphs, blocks) = engine.vector_segments();
        assert_eq!(graphs, 0, "embedding built a graph");
        assert!(blocks >= 1);
        let request = SearchRequest {
            mode: SearchMode::Semantic,
            ..SearchRequest::new("handler_7 request reply")
        };
        let before = engine.search(&request).unwrap();
        assert!(!before.results.is_empty());

        engine.optimize_vectors();
        assert_eq!(engine.vector_segments(), (1, 0));
        let after = engine.search(&request).unwrap();
        assert_eq!(after.results[0].path, before.results[0].path);
    }
}
