//! `dowse-host`: the workspace host, one per process, that every front end
//! borrows.
//!
//! The host owns the engines of the workspace roots (one [`Engine`] per
//! root, sharing one embedding model), the change queue and its one writer
//! thread, the file watcher, shutdown, and the index state. The language
//! server and the MCP endpoint are front ends: they enqueue changes (an
//! editor's buffers, file events, reindex) and read answers, and neither
//! owns the index nor coordinates writes. Nothing here knows LSP or MCP
//! types.
//!
//! - **Changes** go through [`Host::buffer`], [`Host::close`],
//!   [`Host::files_changed`], [`Host::reindex`]: the writer applies them in
//!   order, coalesced and debounced (see the `writer` module).
//! - **Reads** ([`Host::search`], [`Host::usages`], [`Host::similar`],
//!   [`Host::context`], [`Host::health`], [`Host::stats`]) run on the
//!   caller's thread against a snapshot and never wait for the writer; over
//!   several roots they are answered by each and merged, every result
//!   naming its root.
//! - **State** ([`Host::state`], [`Host::subscribe`]) says what the host is
//!   doing and how much can be searched by meaning.

mod queue;
mod quiet;
pub mod requests;
mod roots;
mod state;
mod watcher;
mod writer;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use crossbeam_channel::Sender;
use dowse_engine::health::{Component, Health, Stats, Status};
use dowse_engine::{
    Config, ConfigSources, ContextResponse, Engine, EngineError, ModelHandle, SearchRequest,
    SearchResponse, SimilarResponse, UsagesQuery, UsagesResponse,
};

pub use requests::{LANGUAGE_LABELS, SearchAsked, Spelling, language_filter};
pub use state::{HealthSummary, IndexState, Phase, RootState, Work};
pub use writer::ReindexReport;

use state::WRITER_GONE;
use writer::{Change, Writer};

/// How to start a host.
#[derive(Clone)]
pub struct HostOptions {
    /// Settings from every source but each root's `dowse.toml`.
    pub sources: ConfigSources,
    /// Quiet time after an edit before the buffer is re-indexed.
    pub debounce: Duration,
    /// Watch the roots for changes made outside the editor.
    pub watch: bool,
    /// The embedding model (default: the one the settings name).
    pub model: Option<ModelHandle>,
}

impl Default for HostOptions {
    fn default() -> HostOptions {
        HostOptions {
            sources: ConfigSources::default(),
            debounce: Duration::from_millis(100),
            watch: true,
            model: None,
        }
    }
}

/// A workspace root and its engine, as readers see it (the writer thread
/// holds the one [`EngineWriter`] of each root).
pub struct Root {
    /// The directory's name (with a number when two roots share one).
    pub name: String,
    /// Canonical.
    pub path: PathBuf,
    /// Read-only: searches, usages, health, stats.
    pub engine: Arc<Engine>,
}

/// The workspace host. Cheap to clone: clones share the host.
#[derive(Clone)]
pub struct Host {
    shared: Arc<Shared>,
}

pub(crate) struct Shared {
    roots: RwLock<Vec<Arc<Root>>>,
    /// Control messages and wake-ups for the writer (bounded).
    inbox: Sender<Change>,
    /// Edits not yet taken by the writer, coalesced per path.
    pending: queue::Pending,
    /// False once the writer thread is gone (it ends only at shutdown, or
    /// by a bug its panic boundary did not catch).
    writer_alive: AtomicBool,
    /// Paths the writer skipped after failing on them (a panic: a bug),
    /// with the reason, newest last, for health and logs.
    failures: Mutex<Vec<(String, String)>>,
    state: tokio::sync::watch::Sender<IndexState>,
    stopping: AtomicBool,
    /// Problems for the front ends to show (bad settings, failed indexing),
    /// each once.
    errors: Mutex<Vec<String>>,
    sources: ConfigSources,
    model: ModelHandle,
    watcher: Mutex<Option<watcher::Watcher>>,
    /// Directories the watcher ignores (the index directories).
    ignored: Arc<RwLock<Vec<PathBuf>>>,
    writer: Mutex<Option<std::thread::JoinHandle<()>>>,
    /// Bumped whenever answers may have changed (see [`IndexState::generation`]).
    generation: std::sync::atomic::AtomicU64,
    /// Reads answered (searches, usages, similar code, context), for the
    /// idle memory release (see the `quiet` module).
    reads: std::sync::atomic::AtomicU64,
    /// The team index, connected on the first search beyond the local
    /// index, with the settings it was connected with.
    team: Mutex<Option<(dowse_engine::config::RemoteConfig, Arc<dowse_team::Team>)>>,
}

impl Host {
    /// Opens every root (each with its own index and `dowse.toml`) and
    /// starts the writer, which indexes them in the background. Fails only
    /// when no root can be opened.
    pub fn start(roots: &[PathBuf], options: HostOptions) -> Result<Host, String> {
        if roots.is_empty() {
            return Err("no workspace root to open".to_owned());
        }
        let model = options.model.clone().unwrap_or_else(|| {
            let (mut config, _) = Config::layered(&roots[0], &options.sources);
            // A server answers many queries: a prepacked query session.
            config.semantic.prepack_queries = true;
            ModelHandle::resolve(&config.semantic.pool())
        });
        let (inbox, receiver) = crossbeam_channel::bounded(queue::CHANNEL_CAPACITY);
        let shared = Arc::new(Shared {
            roots: RwLock::new(Vec::new()),
            inbox,
            pending: queue::Pending::default(),
            writer_alive: AtomicBool::new(true),
            failures: Mutex::new(Vec::new()),
            state: tokio::sync::watch::Sender::new(IndexState::default()),
            stopping: AtomicBool::new(false),
            team: Mutex::new(None),
            errors: Mutex::new(Vec::new()),
            sources: options.sources.clone(),
            model,
            watcher: Mutex::new(None),
            ignored: Arc::new(RwLock::new(Vec::new())),
            writer: Mutex::new(None),
            generation: std::sync::atomic::AtomicU64::new(0),
            reads: std::sync::atomic::AtomicU64::new(0),
        });
        if options.watch {
            match watcher::Watcher::start(Arc::downgrade(&shared), shared.ignored.clone()) {
                Ok(w) => *shared.watcher.lock().expect("watcher lock") = Some(w),
                Err(err) => tracing::warn!(
                    "cannot watch the workspace: {err}; relying on the editor's file events"
                ),
            }
        }
        let mut failures = Vec::new();
        let mut writers = Vec::new();
        for root in roots {
            match shared.open_root(root) {
                Ok(Some(writer)) => writers.push(writer),
                Ok(None) => {}
                Err(err) => failures.push(format!("{}: {err}", root.display())),
            }
        }
        if shared.roots().is_empty() {
            return Err(format!(
                "cannot open the workspace: {}",
                failures.join("; ")
            ));
        }
        for failure in failures {
            shared.report_error(format!("dowse could not open {failure}"));
        }
        let writer = Writer::new(shared.clone(), receiver, options.debounce, writers);
        let handle = std::thread::Builder::new()
            .name("dowse-writer".into())
            .spawn(move || writer.run())
            .map_err(|e| format!("cannot start the index writer: {e}"))?;
        *shared.writer.lock().expect("writer lock") = Some(handle);
        quiet::start(Arc::downgrade(&shared));
        Ok(Host { shared })
    }

    /// The state now.
    pub fn state(&self) -> IndexState {
        self.shared.state.borrow().clone()
    }

    /// The state, and every change to it.
    pub fn subscribe(&self) -> tokio::sync::watch::Receiver<IndexState> {
        self.shared.state.subscribe()
    }

    /// Waits until the first reconciliation of the roots with the disk is
    /// committed (vectors may still be coming), or `timeout` passes. For
    /// front ends that must not answer from an empty index: the first
    /// question of an agent on a workspace never indexed before.
    pub async fn indexed(&self, timeout: Duration) -> bool {
        let mut updates = self.subscribe();
        let waiting = async {
            loop {
                if !matches!(
                    updates.borrow_and_update().phase,
                    Phase::Starting | Phase::Indexing
                ) {
                    return;
                }
                if updates.changed().await.is_err() {
                    return;
                }
            }
        };
        tokio::time::timeout(timeout, waiting).await.is_ok()
    }

    /// Problems to show to the user (rejected settings, roots that failed to
    /// open or index), each returned once.
    pub fn take_errors(&self) -> Vec<String> {
        std::mem::take(&mut *self.shared.errors.lock().expect("errors lock"))
    }

    pub fn roots(&self) -> Vec<Arc<Root>> {
        self.shared.roots()
    }

    /// The root and workspace-relative path of an absolute path inside a
    /// root; `None` outside every root.
    pub fn locate(&self, path: &Path) -> Option<(Arc<Root>, String)> {
        self.shared.locate(path)
    }

    /// A path a client gave (relative to the first root, or absolute), with
    /// symbolic links resolved, confined to the roots: `..`, absolute paths
    /// elsewhere and links that lead out are refused.
    pub fn resolve(&self, path: &str) -> Result<(Arc<Root>, String), EngineError> {
        let roots = self.roots();
        let first = roots
            .first()
            .ok_or_else(|| EngineError::InvalidInput("the workspace has no roots".into()))?;
        let given = Path::new(path);
        let joined = if given.is_absolute() {
            given.to_path_buf()
        } else {
            first.path.join(given)
        };
        let outside = || {
            EngineError::InvalidInput(format!(
                "`{path}` is outside the workspace ({}); give a path inside it",
                roots
                    .iter()
                    .map(|r| r.path.display().to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            ))
        };
        // `..` climbing out is refused before anything is looked up; links
        // are resolved next, so a link that leads out is refused too.
        let mut lexical = PathBuf::new();
        for component in joined.components() {
            match component {
                std::path::Component::ParentDir => {
                    if !lexical.pop() {
                        return Err(outside());
                    }
                }
                std::path::Component::CurDir => {}
                other => lexical.push(other),
            }
        }
        if self.shared.locate_exact(&lexical).is_none() {
            return Err(outside());
        }
        let joined = lexical;
        let resolved = match joined.canonicalize() {
            Ok(resolved) => resolved,
            Err(_) => {
                // A file that does not exist: its directory must.
                let parent = joined.parent().ok_or_else(outside)?;
                let name = joined.file_name().ok_or_else(outside)?;
                parent
                    .canonicalize()
                    .map_err(|_| EngineError::InvalidInput(format!("`{path}` does not exist")))?
                    .join(name)
            }
        };
        self.shared.locate_exact(&resolved).ok_or_else(outside)
    }

    /// A buffer's text, opened or edited in an editor: applied at once
    /// after a quiet spell, else when typing pauses for the debounce,
    /// superseding a text of the same file not yet applied.
    /// Nothing is written to disk.
    pub fn buffer(&self, path: &Path, text: String) {
        self.shared
            .buffer_edit(path.to_path_buf(), queue::BufferEdit::Text(text));
    }

    /// A buffer closed: the file returns to its disk content.
    pub fn close(&self, path: &Path) {
        self.shared
            .buffer_edit(path.to_path_buf(), queue::BufferEdit::Close);
    }

    /// Files changed on disk (a save, the editor's file events); an empty
    /// list when it is not known which.
    pub fn files_changed(&self, paths: Vec<PathBuf>) {
        self.shared.files_changed(paths);
    }

    /// Reconciles every root with the disk now; the answer arrives when the
    /// change is committed (vectors follow in the background).
    pub fn reindex(&self) -> crossbeam_channel::Receiver<Result<ReindexReport, String>> {
        let (reply, answer) = crossbeam_channel::bounded(1);
        self.send(Change::Reindex { reply });
        answer
    }

    /// Applies every change enqueued so far without waiting for debounce
    /// or quiet times, and waits for it up to `timeout` (with `vectors`,
    /// until every chunk is embedded too). True when done in time.
    pub fn settle(&self, vectors: bool, timeout: Duration) -> bool {
        let (reply, done) = crossbeam_channel::bounded(1);
        self.send(Change::Settle { vectors, reply });
        done.recv_timeout(timeout).is_ok()
    }

    /// Quiet time after an edit before the buffer is re-indexed.
    pub fn set_debounce(&self, debounce: Duration) {
        self.send(Change::Debounce(debounce));
    }

    /// Adds a workspace root: the writer opens its index (then builds it in
    /// the background); a root already there is left alone. Waits for the
    /// writer to have opened it.
    pub fn add_root(&self, path: &Path) -> Result<(), String> {
        let (reply, answer) = crossbeam_channel::bounded(1);
        self.send(Change::AddRoot {
            path: path.to_path_buf(),
            reply,
        });
        answer
            .recv()
            .map_err(|_| "dowse is shutting down".to_owned())?
            .map_err(|e| format!("cannot open {}: {e}", path.display()))
    }

    /// Removes a workspace root; its index stays on disk for next time.
    /// Waits for the writer to have let it go.
    pub fn remove_root(&self, path: &Path) {
        let (reply, answer) = crossbeam_channel::bounded(1);
        self.send(Change::RemoveRoot {
            path: path.to_path_buf(),
            reply,
        });
        let _ = answer.recv();
    }

    /// Stops intake, stops long work at its next safe point, flushes and
    /// waits for the writer up to `timeout`. True when it finished in time.
    pub fn shutdown(&self, timeout: Duration) -> bool {
        if self.shared.stopping.swap(true, Ordering::AcqRel) {
            return true;
        }
        for root in self.roots() {
            root.engine.cancel_handle().store(true, Ordering::Release);
        }
        let (reply, done) = crossbeam_channel::bounded(1);
        if self.shared.inbox.send(Change::Shutdown { reply }).is_err() {
            return true;
        }
        let finished = done.recv_timeout(timeout).is_ok();
        if !finished {
            tracing::warn!("in-flight work did not stop within {timeout:?}");
        }
        self.shared.watcher.lock().expect("watcher lock").take();
        finished
    }

    fn send(&self, change: Change) {
        self.shared.send(change);
    }

    /// Counts a read, and fails it when the writer thread is gone: answers
    /// would be stale and edits are no longer applied.
    fn begin_read(&self) -> Result<(), EngineError> {
        self.shared.reads.fetch_add(1, Ordering::Relaxed);
        if self.shared.writer_alive.load(Ordering::Acquire)
            || self.shared.stopping.load(Ordering::Acquire)
        {
            return Ok(());
        }
        Err(EngineError::Unavailable(WRITER_GONE.to_owned()))
    }

    /// Searches every root and merges the answers by score.
    pub fn search(&self, request: &SearchRequest) -> Result<SearchResponse, EngineError> {
        request.validate()?;
        self.begin_read()?;
        if request.scope == dowse_engine::Scope::Local {
            return self.search_local(request);
        }
        let team = self.team()?.ok_or_else(|| {
            EngineError::InvalidInput(format!(
                "scope `{}` searches the team index, and none is set: set remote_url in your own \
                 config file, the editor's settings or DOWSE_REMOTE_URL (see `dowse publish`)",
                if request.scope == dowse_engine::Scope::Team {
                    "team"
                } else {
                    "all"
                }
            ))
        })?;
        let roots = self.roots();
        let engines: Vec<&Engine> = roots.iter().map(|root| &*root.engine).collect();
        dowse_team::search(&team, &engines, request, || self.search_local(request))
    }

    /// [`Host::search`] of the workspace roots alone.
    fn search_local(&self, request: &SearchRequest) -> Result<SearchResponse, EngineError> {
        let mut merged: Option<SearchResponse> = None;
        for root in self.roots() {
            let response = root.engine.search(request)?;
            merged = Some(match merged {
                None => response,
                Some(mut all) => {
                    all.results.extend(response.results);
                    all.degraded = all.degraded.or(response.degraded);
                    all
                }
            });
        }
        let mut response = merged.ok_or_else(no_roots)?;
        response.results.sort_by(|a, b| b.score.total_cmp(&a.score));
        response.results.truncate(request.limit);
        Ok(response)
    }

    /// Usages of a symbol in every root, or of the symbol at a position in
    /// its root.
    pub fn usages(&self, query: &UsagesQuery) -> Result<UsagesResponse, EngineError> {
        self.begin_read()?;
        self.settle_buffers();
        match query {
            UsagesQuery::Position { path, line, column } => {
                let (root, rel) = self.resolve(path)?;
                self.prepare_usages(&root)?;
                root.engine.usages(&UsagesQuery::Position {
                    path: rel,
                    line: *line,
                    column: *column,
                })
            }
            UsagesQuery::Symbol(_) => {
                let mut merged: Option<UsagesResponse> = None;
                for root in self.roots() {
                    self.prepare_usages(&root)?;
                    let response = root.engine.usages(query)?;
                    merged = Some(match merged {
                        None => response,
                        Some(mut all) => {
                            all.definitions.extend(response.definitions);
                            all.references.extend(response.references);
                            all
                        }
                    });
                }
                merged.ok_or_else(no_roots)
            }
        }
    }

    /// Has the writer build `root`'s occurrences for find usages if it has
    /// not yet (reads never build them: about 4 s for the CPython standard
    /// library, once; the writer keeps them up to date after that).
    fn prepare_usages(&self, root: &Arc<Root>) -> Result<(), EngineError> {
        if root.engine.usages_prepared() {
            return Ok(());
        }
        let (reply, answer) = crossbeam_channel::bounded(1);
        self.send(Change::PrepareUsages {
            root: root.path.clone(),
            reply,
        });
        match answer.recv_timeout(USAGES_WAIT) {
            Ok(prepared) => prepared.map_err(EngineError::Unavailable),
            Err(_) => Err(EngineError::Unavailable(format!(
                "find usages is still being prepared after {} s: try again in a moment",
                USAGES_WAIT.as_secs()
            ))),
        }
    }

    /// The chunks most like the one at `line` of `path` (relative to the
    /// first root, or absolute), from its root.
    pub fn similar(
        &self,
        path: &str,
        line: u32,
        limit: usize,
    ) -> Result<SimilarResponse, EngineError> {
        self.begin_read()?;
        self.settle_buffers();
        let (root, rel) = self.resolve(path)?;
        root.engine.similar(&rel, line, limit)
    }

    /// Waits, up to [`BUFFER_WAIT`], until the editor's edits sent so far
    /// are applied. Find usages and similar take a position in the
    /// editor's newest text, and the user asks them once, pointing at a
    /// name: the debounce that batches keystrokes for search would let
    /// them read the text before the last edit, and miss the symbol at the
    /// position or a call just typed in another buffer. With nothing
    /// pending (the usual case) this costs a lock.
    fn settle_buffers(&self) {
        if !self.shared.pending.buffers_applied() && !self.settle(false, BUFFER_WAIT) {
            tracing::debug!(
                "edits not applied after {BUFFER_WAIT:?}: answering from the text before them"
            );
        }
    }

    /// Context for `query` within `max_tokens`, from every root: each
    /// root's best spans, merged by score while they fit.
    pub fn context(&self, query: &str, max_tokens: usize) -> Result<ContextResponse, EngineError> {
        self.begin_read()?;
        let roots = self.roots();
        let mut responses = Vec::with_capacity(roots.len());
        for root in &roots {
            responses.push(root.engine.context(query, max_tokens)?);
        }
        if responses.len() == 1 {
            return responses.pop().ok_or_else(no_roots);
        }
        let mut all: Vec<dowse_engine::ContextChunk> = Vec::new();
        let mut first = None;
        for response in responses {
            all.extend(response.chunks.iter().cloned());
            first.get_or_insert(response);
        }
        let mut merged = first.ok_or_else(no_roots)?;
        all.sort_by(|a, b| b.score.total_cmp(&a.score));
        merged.chunks.clear();
        merged.tokens = 0;
        for chunk in all {
            if merged.tokens + chunk.tokens <= max_tokens {
                merged.tokens += chunk.tokens;
                merged.chunks.push(chunk);
            }
        }
        Ok(merged)
    }

    /// Every component probed, per root (named by root when there are
    /// several), with the host's watcher.
    pub fn health(&self) -> Health {
        let roots = self.roots();
        let mut components = BTreeMap::new();
        for root in &roots {
            for (name, component) in root.engine.health().components {
                let name = if roots.len() > 1 {
                    format!("{}: {name}", root.name)
                } else {
                    name
                };
                components.insert(name, component);
            }
        }
        let watching = self.shared.watcher.lock().expect("watcher lock").is_some();
        let mut health = Health {
            status: Status::Healthy,
            components,
        };
        health.add(
            "watcher",
            Component {
                status: if watching {
                    Status::Healthy
                } else {
                    Status::Degraded
                },
                message: if watching {
                    "watching the workspace for changes made outside the editor".into()
                } else {
                    "not watching: changes made outside the editor arrive only through the editor's file events"
                        .into()
                },
                latency_ms: None,
            },
        );
        health.add("writer", self.shared.writer_component());
        if let Ok(Some(team)) = self.team() {
            health.add("team", team.status().component());
        }
        health
    }

    /// The team index of the settings (user-level only), connected once;
    /// `None` when there is none.
    pub fn team(&self) -> Result<Option<Arc<dowse_team::Team>>, EngineError> {
        let Some(root) = self.roots().into_iter().next() else {
            return Ok(None);
        };
        let config = root.engine.config().remote.clone();
        if config.url.is_none() {
            return Ok(None);
        }
        let mut slot = self.shared.team.lock().expect("team lock");
        if let Some((connected, team)) = slot.as_ref()
            && *connected == config
        {
            return Ok(Some(team.clone()));
        }
        let team = Arc::new(
            dowse_team::Team::connect(&config)
                .map_err(|err| EngineError::Unavailable(err.to_string()))?,
        );
        *slot = Some((config, team.clone()));
        Ok(Some(team))
    }

    /// Counts and timings, summed over the roots.
    pub fn stats(&self) -> Stats {
        let mut merged: Option<Stats> = None;
        for root in self.roots() {
            let stats = root.engine.stats();
            merged = Some(match merged {
                None => stats,
                Some(mut all) => {
                    all.files += stats.files;
                    all.chunks += stats.chunks;
                    all.vectors += stats.vectors;
                    all.pending_embeddings += stats.pending_embeddings;
                    all.index_bytes += stats.index_bytes;
                    all.last_index_seconds =
                        match (all.last_index_seconds, stats.last_index_seconds) {
                            (Some(a), Some(b)) => Some(a.max(b)),
                            (a, b) => a.or(b),
                        };
                    if stats.queries > all.queries {
                        all.query_p50_ms = stats.query_p50_ms;
                        all.query_p99_ms = stats.query_p99_ms;
                    }
                    all.queries += stats.queries;
                    all.recoveries.extend(stats.recoveries);
                    all.uptime_seconds = all.uptime_seconds.max(stats.uptime_seconds);
                    all.read_only |= stats.read_only;
                    all.disk_commits += stats.disk_commits;
                    all.open_buffers += stats.open_buffers;
                    dowse_engine::health::merge_languages(&mut all.languages, stats.languages);
                    all
                }
            });
        }
        let mut stats = merged.unwrap_or_else(|| Stats {
            files: 0,
            chunks: 0,
            vectors: 0,
            pending_embeddings: 0,
            index_bytes: 0,
            last_index_seconds: None,
            queries: 0,
            query_p50_ms: None,
            query_p99_ms: None,
            recoveries: Vec::new(),
            uptime_seconds: 0.0,
            read_only: false,
            disk_commits: 0,
            open_buffers: 0,
            languages: Vec::new(),
            remote: None,
        });
        if let Ok(Some(team)) = self.team() {
            stats.remote = serde_json::to_value(team.status()).ok();
        }
        stats
    }
}

/// How long a usages query waits for the writer to prepare find usages
/// (the CPython standard library takes about 4 s; the writer may first
/// finish a batch of embedding).
const USAGES_WAIT: Duration = Duration::from_secs(120);

/// How long find usages and similar wait for the editor's pending edits
/// (see `Host::settle_buffers`): applying a buffer takes milliseconds, but
/// the writer may be in the middle of a batch of background work.
const BUFFER_WAIT: Duration = Duration::from_secs(1);

fn no_roots() -> EngineError {
    EngineError::InvalidInput("the workspace has no roots".into())
}

impl Shared {
    pub(crate) fn roots(&self) -> Vec<Arc<Root>> {
        self.roots.read().expect("roots lock").clone()
    }

    /// Sends a control message to the writer; waits while the channel is
    /// full (back-pressure), never drops it. Nothing after shutdown.
    pub(crate) fn send(&self, change: Change) {
        if self.stopping.load(Ordering::Acquire) {
            return;
        }
        let _ = self.inbox.send(change);
    }

    fn buffer_edit(&self, path: PathBuf, edit: queue::BufferEdit) {
        if self.pending.buffer(path, edit) {
            self.send(Change::Edits);
        }
    }

    pub(crate) fn files_changed(&self, paths: Vec<PathBuf>) {
        if self.pending.files(paths) {
            self.send(Change::Edits);
        }
    }
}
