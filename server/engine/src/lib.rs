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
mod focus;
pub mod health;
mod indexer;
mod integrity;
mod lock;
mod overlay;
pub mod progress;
pub mod search;
pub mod semantic;
mod similar;
mod snapshot;
mod source;
mod usages;
pub mod walk;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock, RwLock};

use dowse_index::files::FileTable;
use dowse_index::lexical::{LexicalError, LexicalIndex, LexicalWriter};

pub use chunked::test_hooks;
pub use config::{Config, ConfigError, ConfigSources};
pub use context::{ContextChunk, ContextResponse, TokenCount};
pub use dowse_embed as embed;
pub use dowse_index::memory::release_free_memory;
pub use dowse_index::store::{IndexDir, index_key};
pub use dowse_syntax::ChunkKind;
pub use indexer::IndexReport;
pub use progress::{NoProgress, Progress};
pub use search::{SearchMode, SearchRequest, SearchResponse, SearchResult};
pub use semantic::{EmbedReport, EmbedStep, INTERACTIVE_QUIET, ModelHandle, SemanticConfig};
pub use similar::SimilarResponse;
pub use usages::{UsageLocation, UsagesQuery, UsagesResponse};

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
/// thread at any time and never wait for writes. Writes (`update`,
/// `set_buffer`, `close_buffer`, `embed_step`, `embed_paths`, `flush`) must
/// come from one thread at a time: the workspace host's writer, or a
/// one-shot CLI command.
pub struct Engine {
    root: PathBuf,
    config: Config,
    dir: IndexDir,
    lexical: LexicalIndex,
    /// What the committed index holds, per file.
    files: RwLock<FileTable>,
    /// The single writer, created on the first change.
    writer: Mutex<Option<LexicalWriter>>,
    model: ModelHandle,
    /// Loaded on first use: the embedding cache, the vectors.
    semantic: OnceLock<semantic::SemanticState>,
    /// Occurrences for find usages, built on the first usages query.
    usage_state: usages::SharedUsages,
    /// Files open in an editor: their unsaved text, in memory.
    overlay: overlay::Overlay,
    /// The include and exclude settings, compiled: a buffer the walk would
    /// leave out is not overlaid.
    filters: walk::Filters,
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
    /// Files open in an editor, which are embedded first (see [`focus`]).
    focused: Mutex<std::collections::BTreeSet<String>>,
    /// Bumped when `focused` changes.
    focus_version: std::sync::atomic::AtomicU64,
    /// The embedding order for `focus_version`, once computed.
    focus: Mutex<Option<(u64, Arc<focus::Focus>)>>,
}

impl Engine {
    /// Opens (or creates) the index of the workspace at `root`, with the
    /// model `config` names (loaded on first use).
    pub fn open(root: &Path, config: Config) -> Result<Engine> {
        let model = ModelHandle::resolve(&config.semantic);
        Engine::open_with(root, config, model)
    }

    /// Like [`Engine::open`], with `embedder` instead of the real model (for
    /// tests that need vectors but not a particular model).
    pub fn open_with_embedder(
        root: &Path,
        config: Config,
        embedder: Arc<dyn embed::Embedder>,
    ) -> Result<Engine> {
        Engine::open_with(root, config, ModelHandle::given(embedder))
    }

    /// Opens the index of `root` sharing `model` with other engines of the
    /// process (one per workspace root), so the model is in memory once.
    pub fn open_with(root: &Path, config: Config, model: ModelHandle) -> Result<Engine> {
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
            writer: Mutex::new(None),
            model,
            semantic: OnceLock::new(),
            usage_state: Default::default(),
            overlay: Default::default(),
            filters,
            counters: Default::default(),
            opened: std::time::Instant::now(),
            recovered: Mutex::new(Vec::new()),
            stamps: Mutex::new(std::collections::HashMap::new()),
            _lock: lock,
            read_only,
            cancel: Arc::new(std::sync::atomic::AtomicBool::new(false)),
            focused: Mutex::new(std::collections::BTreeSet::new()),
            focus_version: std::sync::atomic::AtomicU64::new(1),
            focus: Mutex::new(None),
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

    /// Semantic search's state, loading the model and the cached vectors of
    /// the committed chunks on first use.
    pub(crate) fn semantic(&self) -> &semantic::SemanticState {
        self.semantic.get_or_init(|| {
            let state = semantic::SemanticState::load(
                &self.model,
                &self.dir.embeddings(),
                self.read_only.is_some(),
                &self.config.semantic.vectors,
            );
            if let semantic::SemanticState::Ready(ready) = &state
                && let Err(err) = ready.sync(&self.lexical)
            {
                tracing::warn!("loading cached vectors: {err}");
            }
            state
        })
    }

    /// The model handle this engine uses (shared with the other roots'
    /// engines of the process).
    pub fn model(&self) -> &ModelHandle {
        &self.model
    }

    /// Why semantic search is unavailable, or `None` when it is ready.
    pub fn semantic_unavailable(&self) -> Option<String> {
        match self.semantic() {
            semantic::SemanticState::Unavailable(reason) => Some(reason.clone()),
            semantic::SemanticState::Ready(_) => None,
        }
    }

    /// What a query reads: the committed index and the overlay, now.
    pub(crate) fn snapshot(&self) -> snapshot::Snapshot {
        snapshot::Snapshot {
            disk: self.lexical.snapshot(),
            overlay: self.overlay.view(),
        }
    }

    /// Gives every chunk of the committed index a vector: drops vectors of
    /// removed chunks, takes cached ones, embeds the rest, one batch after
    /// another until none is left or the engine is cancelled. A no-op when
    /// no model is available, and for a read-only engine (the owner embeds;
    /// cached vectors are loaded all the same).
    pub fn embed(&self, progress: &dyn Progress) -> Result<EmbedReport> {
        let semantic::SemanticState::Ready(ready) = self.semantic() else {
            return Ok(EmbedReport::default());
        };
        let started = std::time::Instant::now();
        let mut report = EmbedReport::default();
        if self.read_only.is_some() {
            return Ok(report);
        }
        let mut step = self.embed_step()?;
        let total = step.embedded + step.remaining;
        if total > 0 {
            progress.begin("embedding", total);
            progress.advance(step.embedded);
        }
        report.embedded += step.embedded;
        report.skipped_stale += step.skipped_stale;
        while step.remaining > 0 && !self.cancelled() {
            step = self.embed_step()?;
            report.embedded += step.embedded;
            report.skipped_stale += step.skipped_stale;
            progress.advance(step.embedded);
        }
        ready.flush()?;
        if total > 0 {
            progress.end();
        }
        report.duration = started.elapsed();
        Ok(report)
    }

    /// Merges the vector index's exact blocks (embedding leaves one per few
    /// thousand vectors) into as few as the configuration allows, for a
    /// process that searches next; returns how long it took. Not part of
    /// [`Engine::embed`]: the merged copy is built while the blocks still
    /// exist, 40 MB more at the very end of `dowse index` of the CPython
    /// stdlib, which exits without searching.
    pub fn merge_vector_blocks(&self) -> std::time::Duration {
        let merging = std::time::Instant::now();
        if let Some(semantic::SemanticState::Ready(ready)) = self.semantic.get() {
            while ready.vectors.merge_blocks() {}
        }
        merging.elapsed()
    }

    /// One step of embedding the committed chunks that lack a vector: one
    /// batch per core (the `threads` setting), or one batch on one core
    /// while a query is under way or just ended. The host calls it between
    /// other work, so an edit waits for one batch at most.
    pub fn embed_step(&self) -> Result<EmbedStep> {
        self.embed_step_with(self.config.worker_threads())
    }

    /// [`Engine::embed_step`] on at most `workers` cores (the host passes 1
    /// while the user types).
    pub fn embed_step_with(&self, workers: usize) -> Result<EmbedStep> {
        let semantic::SemanticState::Ready(ready) = self.semantic() else {
            return Ok(EmbedStep::default());
        };
        if self.read_only.is_some() {
            return Ok(EmbedStep::default());
        }
        let all = self.config.worker_threads();
        let workers = if ready.model.queries_recent() {
            1
        } else {
            workers.clamp(1, all)
        };
        let focus = self.focus();
        ready.embed_step(
            &self.root,
            &self.lexical,
            (
                self.config.semantic.batch_size,
                self.config.semantic.batch_tokens,
            ),
            &focus,
            (workers, all),
        )
    }

    /// A file (workspace-relative) was opened in an editor (`open`) or
    /// closed: its chunks and the files around it are embedded first.
    pub fn set_focus(&self, rel: &str, open: bool) {
        let mut focused = self.focused.lock().expect("focus lock");
        let changed = if open {
            focused.insert(rel.to_owned())
        } else {
            focused.remove(rel)
        };
        if changed {
            self.focus_version
                .fetch_add(1, std::sync::atomic::Ordering::AcqRel);
        }
    }

    /// The embedding order now: computed again when the open files changed
    /// (their imports are read) or the committed index did.
    fn focus(&self) -> (u64, Arc<focus::Focus>) {
        let version = self
            .focus_version
            .load(std::sync::atomic::Ordering::Acquire);
        let mut slot = self.focus.lock().expect("focus lock");
        if let Some((v, focus)) = slot.as_ref()
            && *v == version
        {
            return (*v, focus.clone());
        }
        let open: Vec<(String, String)> = {
            let overlay = self.overlay.view();
            let focused = self.focused.lock().expect("focus lock").clone();
            focused
                .into_iter()
                .map(|rel| {
                    let text = match overlay.files.get(&rel) {
                        Some(file) => file.text.to_string(),
                        None => std::fs::read_to_string(self.root.join(&rel)).unwrap_or_default(),
                    };
                    (rel, text)
                })
                .collect()
        };
        let mtimes = self
            .files
            .read()
            .expect("files lock")
            .files
            .iter()
            .map(|(path, record)| (path.clone(), record.mtime_ns))
            .collect();
        let focus = Arc::new(focus::Focus::new(&open, mtimes));
        *slot = Some((version, focus.clone()));
        (version, focus)
    }

    /// Marks a query under way (for the embedding's choice of cores) until
    /// the guard is dropped; nothing without a loaded model.
    pub(crate) fn query_started(&self) -> Option<semantic::QueryGuard> {
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

    /// Whether [`Engine::embed_step`] has work to do: chunks without a
    /// vector, or a backlog to compute again after a commit (false without
    /// a model and for a read-only engine). Loads the model on first call.
    pub fn embedding_pending(&self) -> bool {
        if self.read_only.is_some() {
            return false;
        }
        match self.semantic() {
            semantic::SemanticState::Ready(ready) => ready.has_backlog(),
            semantic::SemanticState::Unavailable(_) => false,
        }
    }

    /// Seals large exact vector blocks into HNSW graphs and rebuilds graphs
    /// with many removed entries, until nothing is left to do or the engine
    /// is cancelled; returns the time spent. Graphs live in memory only, so
    /// this is for long-running processes, on a thread of their own: it
    /// builds from a snapshot and publishes atomically, and neither edits
    /// nor queries wait for it (queries use exact search meanwhile).
    pub fn optimize_vectors(&self) -> std::time::Duration {
        let started = std::time::Instant::now();
        if let Some(semantic::SemanticState::Ready(ready)) = self.semantic.get() {
            while !self.cancelled() && ready.vectors.maintain() {}
        }
        started.elapsed()
    }

    /// True when [`Engine::optimize_vectors`] has work to do.
    pub fn vectors_need_optimizing(&self) -> bool {
        match self.semantic.get() {
            Some(semantic::SemanticState::Ready(ready)) => ready.vectors.needs_maintenance(),
            _ => false,
        }
    }

    /// Gives a vector to the committed chunks of these files
    /// (workspace-relative paths) that lack one — at most
    /// [`EMBED_NOW_MAX_CHUNKS`] through the model, the rest left to
    /// background embedding — and to the overlay's chunks of them: the fast
    /// path after a change on disk, which looks at nothing else.
    pub fn embed_paths(&self, paths: &[&str]) -> Result<EmbedReport> {
        self.embed_now(paths, true)
    }

    /// The vectors an open buffer needs now: its chunks whose text is not
    /// a committed chunk of the file (what the user typed). Chunks the
    /// buffer shares with the disk get theirs from background embedding,
    /// which takes open files first; embedding a whole file not embedded
    /// yet on every keystroke would hold the writer for seconds.
    pub fn embed_buffer(&self, path: &str) -> Result<EmbedReport> {
        self.embed_now(&[path], false)
    }

    fn embed_now(&self, paths: &[&str], committed_too: bool) -> Result<EmbedReport> {
        let semantic::SemanticState::Ready(ready) = self.semantic() else {
            return Ok(EmbedReport::default());
        };
        let started = std::time::Instant::now();
        let snapshot = self.snapshot();
        let mut report = EmbedReport::default();
        let mut committed = Vec::new();
        let mut overlaid = Vec::new();
        for path in paths {
            let mut on_disk = std::collections::HashSet::new();
            if self.read_only.is_none() || !committed_too {
                for doc in snapshot.disk.file_chunks(path)? {
                    let chunk = snapshot.disk.chunk(doc)?;
                    on_disk.insert(chunk.embed_key);
                    if committed_too && self.read_only.is_none() {
                        committed.push(chunk);
                    }
                }
            }
            if let Some(file) = snapshot.overlay.files.get(*path) {
                overlaid.extend(
                    file.chunks
                        .iter()
                        .filter(|c| committed_too || !on_disk.contains(&c.embed_key))
                        .cloned(),
                );
            }
        }
        let batching = (
            self.config.semantic.batch_size,
            self.config.semantic.batch_tokens,
        );
        // What the user typed is embedded whatever its size (nothing else
        // would embed it); committed chunks up to a budget.
        report.embedded += ready.embed_now(
            &overlaid,
            &mut source::SourceReader::new(&self.root, &snapshot.overlay),
            false,
            (batching.0, batching.1, usize::MAX),
        )?;
        report.embedded += ready.embed_now(
            &committed,
            &mut source::SourceReader::disk(&self.root),
            true,
            (batching.0, batching.1, EMBED_NOW_MAX_CHUNKS),
        )?;
        report.duration = started.elapsed();
        Ok(report)
    }

    /// Writes what is only in memory and should last (new embedding cache
    /// records) to disk: the host calls it when idle and at shutdown.
    pub fn flush(&self) -> Result<()> {
        match self.semantic.get() {
            Some(semantic::SemanticState::Ready(ready)) if self.read_only.is_none() => {
                ready.flush()
            }
            _ => Ok(()),
        }
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
            semantic::SemanticState::Unavailable(_) => (0, 0),
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

/// Committed chunks a change on disk embeds at once, at most (about a second
/// of one core); the rest goes to background embedding.
const EMBED_NOW_MAX_CHUNKS: usize = 24;

#[cfg(test)]
mod tests {
    use super::*;

    /// An engine on `root` with the fake embedder, its index in
    /// `index_dir`, the configuration adjusted by `tweak`; indexed by
    /// keywords, nothing embedded yet.
    fn fake_engine(root: &Path, index_dir: PathBuf, tweak: impl FnOnce(&mut Config)) -> Engine {
        let mut config = Config {
            index_dir: Some(index_dir),
            ..Config::default()
        };
        tweak(&mut config);
        let engine =
            Engine::open_with_embedder(root, config, Arc::new(dowse_embed::FakeEmbedder::new(32)))
                .unwrap();
        engine.update(&NoProgress).unwrap();
        engine
    }

    /// Open files are embedded before anything else, then the files around
    /// them (same directory, imports), then the rest: checked by coverage
    /// after each step, not by timing.
    #[test]
    fn open_files_and_their_neighbours_are_embedded_first() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("ws");
        for package in ["alpha", "beta", "gamma", "delta"] {
            std::fs::create_dir_all(root.join(package)).unwrap();
            for i in 0..6 {
                let text = (0..3)
                    .map(|f| {
                        format!(
                            "def {package}_{i}_{f}(value, scale):\n    \"\"\"Scales the {package} value {f} of batch {i}.\"\"\"\n    \
                             total = value * scale\n    if total > {f}:\n        total -= {i}\n    return total + {f}\n\n\n"
                        )
                    })
                    .collect::<String>();
                std::fs::write(root.join(format!("{package}/m{i}.py")), text).unwrap();
            }
        }
        // beta/m3 imports a module of delta.
        let opened = "beta/m3.py";
        let mut text = std::fs::read_to_string(root.join(opened)).unwrap();
        text.insert_str(0, "from delta import m5\n\n\n");
        std::fs::write(root.join(opened), text).unwrap();
        let engine = fake_engine(&root, dir.path().join("index"), |_| {});
        let (_, total) = engine.vector_coverage();
        assert!(total > 60, "{total} chunks");
        engine.set_focus(opened, true);
        let covered = |paths: &[String]| -> bool {
            paths.iter().all(|p| {
                let (with, all) = engine.file_coverage(p).unwrap();
                all > 0 && with == all
            })
        };
        let batch = engine.config.semantic.batch_size as u64;
        let near: Vec<String> = (0..6)
            .map(|i| format!("beta/m{i}.py"))
            .chain(["delta/m5.py".to_owned()])
            .collect();
        let near_chunks: u64 = near
            .iter()
            .map(|p| engine.file_coverage(p).unwrap().1)
            .sum();
        let own = engine.file_coverage(opened).unwrap().1;
        let mut steps = 0;
        while !covered(&[opened.to_owned()]) {
            engine.embed_step_with(1).unwrap();
            steps += 1;
            assert!(steps < 100);
        }
        let (done, _) = engine.vector_coverage();
        assert!(
            done < own + batch,
            "{done} chunks embedded before the open file's {own} were done"
        );
        while !covered(&near) {
            engine.embed_step_with(1).unwrap();
            steps += 1;
            assert!(steps < 200);
        }
        let (done, left) = engine.vector_coverage();
        assert!(
            done < near_chunks + batch,
            "{done} chunks embedded before the neighbours' {near_chunks} were done"
        );
        assert!(left > 0, "the rest is still to do");
        // The rest goes newest first: nothing of it before the neighbours
        // but the tail of their last batch.
        let far: u64 = ["alpha", "gamma"]
            .iter()
            .flat_map(|p| (0..6).map(move |i| format!("{p}/m{i}.py")))
            .map(|p| engine.file_coverage(&p).unwrap().0)
            .sum();
        assert!(far < batch, "{far} chunks of unrelated files came early");
    }

    /// A step on two cores embeds two batches, and the vectors are the ones
    /// one core computes.
    #[test]
    fn embedding_on_two_cores_halves_the_steps_and_changes_no_vector() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("ws");
        std::fs::create_dir_all(&root).unwrap();
        for i in 0..24 {
            std::fs::write(
                root.join(format!("m{i}.py")),
                format!(
                    "def settle_{i}(ledger, amount):\n    \"\"\"Settles entry {i}.\"\"\"\n    \
                     return ledger.post(amount * {i})\n"
                ),
            )
            .unwrap();
        }
        let run = |workers: usize, index: &str| {
            let engine = fake_engine(&root, dir.path().join(index), |config| config.threads = 2);
            let mut steps = 0;
            loop {
                let step = engine.embed_step_with(workers).unwrap();
                steps += 1;
                if step.remaining == 0 {
                    break;
                }
            }
            let similar = engine.similar("m5.py", 1, 10).unwrap();
            let ranked: Vec<(String, u32)> = similar
                .results
                .iter()
                .map(|r| (r.path.clone(), (r.score * 1e4) as u32))
                .collect();
            (steps, engine.vector_coverage(), ranked)
        };
        let (one_steps, one_coverage, one_ranked) = run(1, "one");
        let (two_steps, two_coverage, two_ranked) = run(2, "two");
        assert_eq!(one_coverage, (24, 0));
        assert_eq!(two_coverage, (24, 0));
        assert_eq!(one_ranked, two_ranked);
        assert!(
            two_steps * 2 <= one_steps + 2,
            "{two_steps} steps on two cores, {one_steps} on one"
        );
    }

    /// An edit to a file the first embedding has not reached embeds what
    /// was typed, not the whole file; closing embeds nothing; the rest is
    /// the background's, open files first.
    #[test]
    fn an_edit_embeds_what_was_typed_not_the_whole_file() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("ws");
        std::fs::create_dir_all(&root).unwrap();
        let text: String = (0..20)
            .map(|i| {
                format!(
                    "def step_{i}(ledger, entry):\n    \"\"\"Posts entry {i} to the ledger.\"\"\"\n    \
                     amount = entry.amount * {i}\n    if amount > {i}:\n        amount -= 1\n    \
                     ledger.post(entry.account, amount)\n    return amount\n\n\n"
                )
            })
            .collect();
        std::fs::write(root.join("steps.py"), &text).unwrap();
        let engine = fake_engine(&root, dir.path().join("index"), |_| {});
        assert_eq!(engine.file_coverage("steps.py").unwrap().0, 0);
        let edited = format!(
            "def settle_all(ledger):\n    \"\"\"Closes the ledger after the last entry.\"\"\"\n    \
             ledger.flush()\n    ledger.seal()\n    return ledger.close()\n\n\n{text}"
        );
        assert!(engine.set_buffer("steps.py", &edited).unwrap());
        let report = engine.embed_buffer("steps.py").unwrap();
        assert_eq!(report.embedded, 1, "only the typed function");
        let found = engine
            .search(&SearchRequest {
                mode: SearchMode::Semantic,
                ..SearchRequest::new("settle_all closes the ledger after the last entry")
            })
            .unwrap();
        assert_eq!(found.results[0].symbol.as_deref(), Some("settle_all"));
        engine.close_buffer("steps.py").unwrap();
        assert_eq!(engine.file_coverage("steps.py").unwrap().0, 0);
        engine.embed(&NoProgress).unwrap();
        assert_eq!(engine.file_coverage("steps.py").unwrap(), (20, 20));
    }

    /// While the first embedding runs, similar code still answers: the few
    /// neighbours by meaning first, keyword matches in the places left, and
    /// a note saying how much of the workspace was compared.
    #[test]
    fn similar_fills_in_with_keywords_while_coverage_is_partial() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("ws");
        std::fs::create_dir_all(&root).unwrap();
        for i in 0..30 {
            std::fs::write(
                root.join(format!("m{i}.py")),
                format!(
                    "def parse_duration_{i}(text):\n    \"\"\"Parses a duration such as 5m.\"\"\"\n    \
                     return int(text[:-1]) * {i}\n"
                ),
            )
            .unwrap();
        }
        let engine = fake_engine(&root, dir.path().join("index"), |_| {});
        engine.set_focus("m3.py", true);
        while engine.file_coverage("m3.py").unwrap().0 == 0 {
            engine.embed_step_with(1).unwrap();
        }
        let (embedded, pending) = engine.vector_coverage();
        assert!(
            pending > 0 && embedded < 30,
            "{embedded} embedded, {pending} pending"
        );
        assert!(embedded < 10, "one batch embedded {embedded} chunks");
        let response = engine.similar("m3.py", 1, 10).unwrap();
        assert_eq!(response.results.len(), 10, "{response:#?}");
        assert!(response.results.iter().all(|r| r.path != "m3.py"));
        let note = response.degraded.expect("a note on partial coverage");
        assert!(
            note.contains(&format!("{embedded} of 30 chunks embedded")),
            "{note}"
        );

        engine.embed(&NoProgress).unwrap();
        let response = engine.similar("m3.py", 1, 10).unwrap();
        assert_eq!(response.degraded, None);
        assert_eq!(response.results.len(), 10);
    }

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
        let engine = fake_engine(&root, dir.path().join("index"), |config| {
            config.semantic.vectors.seal_threshold = 16;
        });
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
