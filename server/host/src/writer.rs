//! The one writer: a thread that owns every change to the index.
//!
//! Front ends and the watcher only enqueue [`Change`]s. The writer takes
//! them in arrival order, coalesces them (a newer text of a buffer replaces
//! an older one not yet applied; file events within the quiet time join one
//! update), and applies them by priority:
//!
//! 1. closed buffers, then buffers whose debounce has passed (the first
//!    change after a quiet spell at once, the rest when typing pauses):
//!    into the overlay (nothing written to disk), their new chunks
//!    embedded at once;
//! 2. changes on disk (the watcher, the editor's file events, saves) and
//!    reindex requests: the committed index is brought up to date and
//!    committed;
//! 3. in the gaps, one batch of background embedding at a time, so that a
//!    change never waits for more than one batch;
//! 4. when nothing is left to embed, HNSW graphs on a thread of their own:
//!    built from a snapshot and published atomically, so neither edits nor
//!    queries wait for a build (they use exact search meanwhile);
//! 5. when idle for a second, new embedding-cache records are flushed.
//!
//! Changes that race in the editor (open, edit, save, close on two tasks)
//! cannot race here: there is one thread and one queue.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, RecvTimeoutError, Sender};
use dowse_engine::{EngineError, EngineWriter};

use crate::queue::BufferEdit;
use crate::state::{Phase, StateProgress, Work};
use crate::{Root, Shared};

/// A change for the writer.
pub(crate) enum Change {
    /// Edits are pending (buffer texts, closes, files changed on disk):
    /// take them from [`crate::queue::Pending`], where they coalesce.
    Edits,
    /// Reconcile every root with the disk now; answer when committed.
    Reindex {
        reply: Sender<Result<ReindexReport, String>>,
    },
    /// Open a workspace root (the writer holds its index's writer); answer
    /// when open.
    AddRoot {
        path: PathBuf,
        reply: Sender<Result<(), String>>,
    },
    /// Let a workspace root go (its index stays on disk); answer when done.
    RemoveRoot { path: PathBuf, reply: Sender<()> },
    /// Build a root's occurrences for find usages, which reads never build;
    /// answer when done.
    PrepareUsages {
        root: PathBuf,
        reply: Sender<Result<(), String>>,
    },
    /// Quiet time after an edit before it is applied.
    Debounce(Duration),
    /// A graph build finished.
    GraphsBuilt,
    /// Apply everything enqueued so far now (debounce and quiet times cut
    /// short), and with `vectors` embed everything too; answer when done.
    Settle { vectors: bool, reply: Sender<()> },
    /// Flush and stop; answer when done.
    Shutdown { reply: Sender<()> },
}

/// What a reindex did, summed over the roots.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize)]
pub struct ReindexReport {
    pub files: u64,
    pub chunks: u64,
    pub files_indexed: u64,
    pub files_removed: u64,
    pub seconds: f64,
}

/// Quiet time after a file event before the index is brought up to date.
const WATCH_QUIET: Duration = Duration::from_millis(200);

/// Idle time after which new cache records are written to disk.
const FLUSH_IDLE: Duration = Duration::from_secs(1);

/// A change to a file's disk content that touches more files than this is
/// left to background embedding; fewer are embedded at once.
const EMBED_NOW_MAX_FILES: usize = 32;

/// After embedding fails (a broken model, a full disk), how long keyword
/// search goes on alone before embedding is tried again: long enough not
/// to fill the log with the same error, short enough that a fixed model
/// (reinstalled meanwhile) is picked up without a restart.
const EMBED_RETRY: Duration = Duration::from_secs(60);

struct PendingBuffer {
    text: String,
    due: Instant,
    /// The edit's number in the queue (see `queue::Pending::applied`).
    seq: u64,
}

/// Why the loop stops.
enum Stop {
    /// Shutdown asked for it: answer when done.
    Asked(Sender<()>),
    /// Every sender is gone.
    Orphaned,
}

/// Embedding progress since the backlog last started.
#[derive(Clone, Copy, Debug)]
struct Embedding {
    done: u64,
    total: u64,
}

pub(crate) struct Writer {
    shared: Arc<Shared>,
    inbox: Receiver<Change>,
    /// The one writer of each root's index, by the root's canonical path:
    /// only this thread changes an index.
    engines: HashMap<PathBuf, EngineWriter>,
    debounce: Duration,
    buffers: HashMap<PathBuf, PendingBuffer>,
    /// When each buffer was last applied (for the leading edge of the
    /// debounce).
    applied: HashMap<PathBuf, Instant>,
    /// When the last buffer change came (background embedding keeps to one
    /// core for a while after).
    last_typed: Option<Instant>,
    /// Buffers closed, with the close's number in the queue.
    closes: Vec<(PathBuf, u64)>,
    disk: HashSet<PathBuf>,
    /// Some event could not name its files: reconcile everything.
    disk_all: bool,
    disk_due: Option<Instant>,
    reindex: Vec<Sender<Result<ReindexReport, String>>>,
    embedding: Option<Embedding>,
    building: bool,
    last_activity: Instant,
    unflushed: bool,
    /// The next root to embed for, round robin.
    next_root: usize,
    /// Embedding failed (a broken model): not tried again until then.
    embed_retry: Option<Instant>,
    /// Waiting for everything enqueued before them to be applied: (with
    /// vectors, answer).
    settling: Vec<(bool, Sender<()>)>,
}

impl Writer {
    pub(crate) fn new(
        shared: Arc<Shared>,
        inbox: Receiver<Change>,
        debounce: Duration,
        engines: Vec<EngineWriter>,
    ) -> Writer {
        Writer {
            shared,
            inbox,
            engines: engines
                .into_iter()
                .map(|e| (e.root().to_path_buf(), e))
                .collect(),
            debounce,
            buffers: HashMap::new(),
            applied: HashMap::new(),
            last_typed: None,
            closes: Vec::new(),
            disk: HashSet::new(),
            disk_all: false,
            disk_due: None,
            reindex: Vec::new(),
            embedding: None,
            building: false,
            last_activity: Instant::now(),
            unflushed: false,
            next_root: 0,
            embed_retry: None,
            settling: Vec::new(),
        }
    }

    pub(crate) fn run(mut self) {
        // However the thread ends, health and every request learn of it.
        let _alive = AliveWhileRunning(self.shared.clone());
        self.initial_index();
        loop {
            let first = match self.timeout() {
                None => self
                    .inbox
                    .recv()
                    .map_err(|_| RecvTimeoutError::Disconnected),
                Some(timeout) => self.inbox.recv_timeout(timeout),
            };
            let mut stop = None;
            match first {
                Ok(change) => stop = self.take(change),
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => stop = Some(Stop::Orphaned),
            }
            while stop.is_none()
                && let Ok(change) = self.inbox.try_recv()
            {
                stop = self.take(change);
            }
            if let Some(stop) = stop {
                self.stop(stop);
                return;
            }
            let now = Instant::now();
            let mut worked = self.apply_buffers(now);
            worked |= self.apply_disk(now);
            if worked {
                self.last_activity = Instant::now();
                self.shared.bump_generation();
                self.publish();
            }
            self.answer_settled(false);
            if self.embed_step() {
                self.publish();
                continue;
            }
            self.answer_settled(true);
            self.build_graphs();
            if self.unflushed && self.last_activity.elapsed() >= FLUSH_IDLE {
                self.flush(true);
            }
            self.publish();
        }
    }

    /// How long to wait for the next change: not at all while background
    /// work is left, until the next debounce or quiet time ends, until the
    /// idle flush, or for ever.
    fn timeout(&mut self) -> Option<Duration> {
        if self.has_backlog() {
            return Some(Duration::ZERO);
        }
        let now = Instant::now();
        let mut due: Vec<Instant> = self.buffers.values().map(|b| b.due).collect();
        if !self.closes.is_empty() {
            due.push(now);
        }
        due.extend(self.disk_due);
        if self.unflushed {
            due.push(self.last_activity + FLUSH_IDLE);
        }
        due.into_iter()
            .min()
            .map(|at| at.saturating_duration_since(now))
    }

    /// Takes one change into the pending state; `Some` to stop (with the
    /// sender to answer, if any).
    fn take(&mut self, change: Change) -> Option<Stop> {
        let now = Instant::now();
        match change {
            Change::Edits => {
                let edits = self.shared.pending.take();
                for (path, (seq, edit)) in edits.buffers {
                    match edit {
                        BufferEdit::Text(text) => self.take_buffer(path, text, seq, now),
                        BufferEdit::Close => {
                            self.buffers.remove(&path);
                            self.applied.remove(&path);
                            self.closes.retain(|(p, _)| p != &path);
                            self.closes.push((path, seq));
                        }
                    }
                }
                if edits.files_all || !edits.files.is_empty() {
                    self.disk_all |= edits.files_all;
                    self.disk.extend(edits.files);
                    if self.disk.len() > crate::queue::MAX_PATHS {
                        self.disk.clear();
                        self.disk_all = true;
                    }
                    self.disk_due.get_or_insert(now + WATCH_QUIET);
                }
            }
            Change::Reindex { reply } => {
                self.reindex.push(reply);
                self.disk_all = true;
                self.disk_due = Some(now);
            }
            Change::AddRoot { path, reply } => {
                let opened = match self.shared.open_root(&path) {
                    Ok(Some(engine)) => {
                        self.engines.insert(engine.root().to_path_buf(), engine);
                        // Its first index, in the background.
                        self.disk_all = true;
                        self.disk_due = Some(now);
                        Ok(())
                    }
                    Ok(None) => Ok(()),
                    Err(err) => Err(err.to_string()),
                };
                let _ = reply.send(opened);
            }
            Change::RemoveRoot { path, reply } => {
                if self.shared.close_root(&path) {
                    let canonical = path.canonicalize().unwrap_or(path);
                    if let Some(mut engine) = self.engines.remove(&canonical) {
                        let _ = engine.flush();
                    }
                }
                let _ = reply.send(());
            }
            Change::PrepareUsages { root, reply } => {
                let prepared = match self.engines.get_mut(&root) {
                    None => Err(format!("{} is not a workspace root", root.display())),
                    Some(engine) => guarded(&self.shared, &root.display().to_string(), || {
                        engine.prepare_usages()
                    })
                    .unwrap_or_else(|| {
                        Err(EngineError::Unavailable(
                            "dowse failed while preparing find usages (a bug: see the log)"
                                .to_owned(),
                        ))
                    })
                    .map_err(|e| e.to_string()),
                };
                let _ = reply.send(prepared);
            }
            Change::Debounce(debounce) => self.debounce = debounce,
            Change::GraphsBuilt => self.building = false,
            Change::Settle { vectors, reply } => {
                for pending in self.buffers.values_mut() {
                    pending.due = now;
                }
                if self.disk_due.is_some() {
                    self.disk_due = Some(now);
                }
                self.settling.push((vectors, reply));
            }
            Change::Shutdown { reply } => return Some(Stop::Asked(reply)),
        }
        None
    }

    /// A buffer's newest text. It supersedes one not yet applied; a
    /// reopened buffer cancels its pending close. The first change after a
    /// quiet spell applies at once (an isolated edit, a paste, an open is
    /// searchable without waiting); changes that follow within the debounce
    /// wait for typing to pause, so a burst costs two applications, not one
    /// a keystroke.
    fn take_buffer(&mut self, path: PathBuf, text: String, seq: u64, now: Instant) {
        self.closes.retain(|(p, _)| p != &path);
        self.last_typed = Some(now);
        let quiet = !self.buffers.contains_key(&path)
            && self
                .applied
                .get(&path)
                .is_none_or(|at| now.duration_since(*at) >= self.debounce);
        let due = if quiet { now } else { now + self.debounce };
        self.buffers.insert(path, PendingBuffer { text, due, seq });
    }

    fn roots(&self) -> Vec<Arc<Root>> {
        self.shared.roots()
    }

    /// Closes, then buffers whose debounce has passed, into the overlay;
    /// their chunks are embedded at once.
    fn apply_buffers(&mut self, now: Instant) -> bool {
        let closes = std::mem::take(&mut self.closes);
        let due: Vec<PathBuf> = self
            .buffers
            .iter()
            .filter(|(_, b)| b.due <= now)
            .map(|(p, _)| p.clone())
            .collect();
        if closes.is_empty() && due.is_empty() {
            return false;
        }
        for (path, seq) in closes {
            self.close_buffer(&path);
            // Readers waiting for the editor's latest text may go on.
            self.shared.pending.applied(&path, seq);
        }
        for path in due {
            let Some(pending) = self.buffers.remove(&path) else {
                continue;
            };
            let seq = pending.seq;
            self.apply_buffer(&path, pending);
            self.shared.pending.applied(&path, seq);
        }
        true
    }

    /// A closed buffer's file returns to its committed (disk) content.
    fn close_buffer(&mut self, path: &Path) {
        let Some((root, rel)) = self.shared.locate(path) else {
            return;
        };
        let Some(engine) = self.engines.get_mut(&root.path) else {
            return;
        };
        engine.set_focus(&rel, false);
        // The file's committed chunks that lack a vector are the
        // background's: closing costs only the overlay.
        let closed = guarded(&self.shared, &path.display().to_string(), || {
            engine.close_buffer(&rel)
        });
        if let Some(Err(err)) = closed {
            tracing::warn!("closing {}: {err}", path.display());
        }
    }

    /// A buffer's newest text into its root's overlay, then embedded.
    fn apply_buffer(&mut self, path: &Path, pending: PendingBuffer) {
        self.applied.insert(path.to_path_buf(), Instant::now());
        let Some((root, rel)) = self.shared.locate(path) else {
            return;
        };
        let Some(engine) = self.engines.get_mut(&root.path) else {
            return;
        };
        // Open files are embedded first (their neighbours next).
        engine.set_focus(&rel, true);
        let text = pending.text;
        let started = Instant::now();
        let applied = guarded(&self.shared, &path.display().to_string(), || {
            engine.set_buffer(&rel, &text).and_then(|changed| {
                let overlaid = started.elapsed();
                if changed {
                    let report = engine.embed_buffer(&rel)?;
                    tracing::debug!(
                        "buffer {rel}: overlaid in {overlaid:?}, {} chunks embedded in {:?}",
                        report.embedded,
                        report.duration
                    );
                }
                Ok(())
            })
        });
        match applied {
            Some(Ok(())) => self.unflushed = true,
            Some(Err(err)) => tracing::warn!("re-indexing {}: {err}", path.display()),
            None => {}
        }
    }

    /// Changes on disk, once their quiet time has passed (at once for a
    /// reindex): the committed index brought up to date and committed.
    fn apply_disk(&mut self, now: Instant) -> bool {
        if self.disk_due.is_none_or(|due| due > now) {
            return false;
        }
        self.disk_due = None;
        let all = std::mem::take(&mut self.disk_all);
        let paths = std::mem::take(&mut self.disk);
        let started = Instant::now();
        let mut report = ReindexReport::default();
        let mut failure = None;
        for root in self.roots() {
            let rels: Vec<String> = paths
                .iter()
                .filter_map(|p| self.shared.locate(p))
                .filter(|(r, _)| Arc::ptr_eq(r, &root))
                .map(|(_, rel)| rel)
                .collect();
            if !all && rels.is_empty() {
                continue;
            }
            let Some(engine) = self.engines.get_mut(&root.path) else {
                continue;
            };
            let updated = guarded(&self.shared, &root.path.display().to_string(), || {
                if all {
                    engine.update(&dowse_engine::NoProgress)
                } else {
                    let rels: Vec<&str> = rels.iter().map(String::as_str).collect();
                    engine.update_paths(&rels)
                }
            });
            let Some(updated) = updated else {
                failure = Some(format!(
                    "dowse failed while updating {} (a bug: see the log)",
                    root.path.display()
                ));
                continue;
            };
            match updated {
                Ok(update) => {
                    record_failed_files(&self.shared, &root, &update);
                    report.files += update.files;
                    report.chunks += update.chunks;
                    report.files_indexed += update.files_indexed;
                    report.files_removed += update.files_removed;
                    // A few changed files get their vectors now; a large
                    // change is left to background embedding.
                    if !all && (1..=EMBED_NOW_MAX_FILES).contains(&rels.len()) {
                        let rels: Vec<&str> = rels.iter().map(String::as_str).collect();
                        let embedded =
                            guarded(&self.shared, &rels.join(", "), || engine.embed_paths(&rels));
                        if let Some(Err(err)) = embedded {
                            tracing::warn!("embedding changed files: {err}");
                        }
                    }
                }
                Err(EngineError::Cancelled) => {}
                Err(err) => {
                    tracing::warn!("updating {}: {err}", root.path.display());
                    failure = Some(err.to_string());
                }
            }
        }
        report.seconds = started.elapsed().as_secs_f64();
        for reply in self.reindex.drain(..) {
            let _ = reply.send(match &failure {
                Some(err) => Err(err.clone()),
                None => Ok(report.clone()),
            });
        }
        self.unflushed = true;
        true
    }

    /// The first reconciliation of every root with the disk, with progress.
    fn initial_index(&mut self) {
        self.set_phase(Phase::Indexing, None);
        for root in self.roots() {
            let progress = StateProgress {
                shared: &self.shared,
            };
            let Some(engine) = self.engines.get_mut(&root.path) else {
                continue;
            };
            let updated = guarded(&self.shared, &root.path.display().to_string(), || {
                engine.update(&progress)
            });
            let Some(updated) = updated else {
                self.shared.report_error(format!(
                    "dowse failed while indexing {} (a bug: see the log); it goes on with what it has",
                    root.path.display()
                ));
                continue;
            };
            match updated {
                Ok(report) => {
                    record_failed_files(&self.shared, &root, &report);
                    tracing::info!(
                        "indexed {} files ({} chunks) of {} in {:?}",
                        report.files,
                        report.chunks,
                        root.path.display(),
                        report.duration
                    )
                }
                Err(EngineError::Cancelled) => return,
                Err(err) => {
                    tracing::warn!("indexing {}: {err}", root.path.display());
                    self.shared.report_error(format!(
                        "dowse could not index {}: {err}",
                        root.path.display()
                    ));
                }
            }
        }
        self.shared.bump_generation();
        self.publish();
    }

    /// Whether embedding has work (loads the model on first call).
    fn has_backlog(&mut self) -> bool {
        if self.embed_retry.is_some_and(|at| Instant::now() < at) {
            return false;
        }
        self.embedding.is_some_and(|e| e.done < e.total)
            || self.engines.values_mut().any(|e| e.embedding_pending())
    }

    /// Cores for the next embedding step: one while the user types (a
    /// buffer waits, or changed within the quiet time), so that the edit's
    /// own embedding finds a free core; every core otherwise (the engine
    /// also keeps to one while a query runs).
    fn embed_workers(&self) -> usize {
        let typing = !self.buffers.is_empty()
            || !self.closes.is_empty()
            || self
                .last_typed
                .is_some_and(|at| at.elapsed() < dowse_engine::INTERACTIVE_QUIET);
        if typing { 1 } else { usize::MAX }
    }

    /// One batch of background embedding, for the next root with work.
    fn embed_step(&mut self) -> bool {
        if self.embed_retry.is_some_and(|at| Instant::now() < at) {
            return false;
        }
        let roots = self.roots();
        if roots.is_empty() {
            return false;
        }
        for i in 0..roots.len() {
            let root = &roots[(self.next_root + i) % roots.len()];
            let workers = self.embed_workers();
            let Some(engine) = self.engines.get_mut(&root.path) else {
                continue;
            };
            let step = guarded(&self.shared, &root.path.display().to_string(), || {
                engine.embed_step_with(workers)
            })
            .unwrap_or_else(|| {
                Err(EngineError::Semantic(
                    "dowse failed while embedding (a bug: see the log)".to_owned(),
                ))
            });
            match step {
                Ok(step) if step.embedded > 0 || step.remaining > 0 => {
                    self.next_root = (self.next_root + i + 1) % roots.len();
                    let so_far = self.embedding.unwrap_or(Embedding { done: 0, total: 0 });
                    let done = so_far.done + step.embedded;
                    let total = so_far.total.max(done + step.remaining);
                    self.embedding = Some(Embedding { done, total });
                    self.unflushed = true;
                    return true;
                }
                Ok(_) => {}
                Err(err) => {
                    // Keyword search goes on; embedding is tried again later.
                    tracing::warn!(
                        "embedding {}: {err}; trying again in a minute",
                        root.path.display()
                    );
                    self.embed_retry = Some(Instant::now() + EMBED_RETRY);
                    return false;
                }
            }
        }
        if self.embedding.take().is_some() {
            // The backlog is done: the embedding sessions' weights need not
            // stay resident while only queries run.
            dowse_engine::embed::release_unused_weights();
        }
        false
    }

    /// Answers settle requests whose work is done: everything applied, and
    /// (when they asked) nothing left to embed.
    fn answer_settled(&mut self, embedded: bool) {
        if !self.buffers.is_empty() || !self.closes.is_empty() || self.disk_due.is_some() {
            return;
        }
        self.settling.retain(|(vectors, reply)| {
            if *vectors && !embedded {
                return true;
            }
            let _ = reply.send(());
            false
        });
    }

    /// Starts a graph build on its own thread when vectors need one and
    /// none is running.
    fn build_graphs(&mut self) {
        if self.building || self.shared.stopping.load(Ordering::Acquire) {
            return;
        }
        // Only the writer hands out graph jobs: one build at a time.
        let Some(job) = self.engines.values().find_map(|e| e.graph_job()) else {
            return;
        };
        let engine = job.engine().clone();
        let shared = self.shared.clone();
        let spawned = std::thread::Builder::new()
            .name("dowse-graphs".into())
            .spawn(move || {
                let built = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| job.run()));
                let took = match built {
                    Ok(took) => took,
                    Err(panic) => {
                        let reason = dowse_engine::panic_message(panic.as_ref());
                        tracing::error!("building vector graphs failed (a bug): {reason}");
                        shared.record_failure("the vector graphs", &reason);
                        let _ = shared.inbox.send(Change::GraphsBuilt);
                        return;
                    }
                };
                let (graphs, blocks) = engine.vector_segments();
                tracing::info!(
                    "vector graphs of {} built in {took:?}: {graphs} HNSW segments, {blocks} exact blocks",
                    engine.root().display()
                );
                let _ = shared.inbox.send(Change::GraphsBuilt);
            });
        match spawned {
            Ok(_) => {
                self.building = true;
                self.publish();
            }
            Err(err) => tracing::warn!("could not start building vector graphs: {err}"),
        }
    }

    /// Writes new embedding cache records; when `idle`, also drops the
    /// cached vectors nothing uses any more once they are most of a cache.
    fn flush(&mut self, idle: bool) {
        for (root, engine) in &mut self.engines {
            let flushed = guarded(&self.shared, &root.display().to_string(), || {
                engine.flush()?;
                if idle {
                    engine.drop_unused_vectors()?;
                }
                Ok::<(), EngineError>(())
            });
            if let Some(Err(err)) = flushed {
                tracing::warn!("writing the embedding cache: {err}");
            }
        }
        self.unflushed = false;
    }

    fn stop(&mut self, stop: Stop) {
        self.set_phase(Phase::Stopping, None);
        self.flush(false);
        if let Stop::Asked(reply) = stop {
            let _ = reply.send(());
        }
    }

    fn set_phase(&self, phase: Phase, work: Option<Work>) {
        self.shared.update_state(|state| {
            state.phase = phase;
            state.work = work;
        });
    }

    /// Publishes the state as the engines have it now.
    fn publish(&mut self) {
        let phase = if self.shared.stopping.load(Ordering::Acquire) {
            Phase::Stopping
        } else if self.has_backlog() {
            Phase::Embedding
        } else {
            Phase::Ready
        };
        let work = match (phase, self.embedding) {
            (Phase::Embedding, Some(Embedding { done, total })) => Some(Work {
                stage: "embedding".to_owned(),
                done,
                total,
            }),
            _ => None,
        };
        let building = self.building;
        self.shared.refresh_state(phase, work, building);
    }
}

/// Runs one step on `what` (a path, a root): a panic in it (a bug) is
/// caught, logged and kept for health, and the writer goes on with the
/// rest; `None` then.
fn guarded<T>(shared: &Shared, what: &str, step: impl FnOnce() -> T) -> Option<T> {
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(step)) {
        Ok(value) => Some(value),
        Err(panic) => {
            let reason = dowse_engine::panic_message(panic.as_ref());
            tracing::error!(
                "dowse failed on {what} (a bug): {reason}; skipped it, the writer goes on"
            );
            shared.record_failure(what, &reason);
            None
        }
    }
}

/// Files an update skipped because dowse failed on them, for health.
fn record_failed_files(shared: &Shared, root: &Root, report: &dowse_engine::IndexReport) {
    for skipped in &report.skipped {
        if let dowse_engine::walk::SkipReason::Failed(reason) = &skipped.reason {
            let path = root.path.join(&skipped.path);
            shared.record_failure(&path.display().to_string(), reason);
        }
    }
}

/// Marks the writer gone when its thread ends, by return or by a panic its
/// steps did not catch.
struct AliveWhileRunning(Arc<Shared>);

impl Drop for AliveWhileRunning {
    fn drop(&mut self) {
        self.0.writer_alive.store(false, Ordering::Release);
        // Front ends waiting for the state see it change.
        self.0.bump_generation();
        self.0.update_state(|_| {});
    }
}
