//! Embedding: giving every chunk its vectors, off the request path, in the
//! order the user needs them (open files, their neighbours, recent files,
//! the rest; see [`crate::focus`]).
//!
//! The writer ([`EngineWriter`]) drives it a step at a time: each step
//! embeds one batch per core (one while the user types or asks), so an edit
//! waits for one batch at most. The backlog — committed chunks without a
//! vector — is computed again after each commit, its texts are read a
//! window at a time and sorted by length (padding goes to the longest text
//! of a batch), and every vector goes to the embedding cache, keyed by the
//! recipe's key of the chunk's content key, so no text is embedded twice.
//! The fast paths embed what was just typed or saved at once, within a
//! budget; HNSW graphs are built by a [`GraphJob`] on a thread of its own.

use std::collections::{HashSet, VecDeque};
use std::sync::Arc;

use dowse_embed::ChunkText;
use dowse_index::cache::Retained;
use dowse_index::lexical::{LexicalIndex, StoredChunk};

use crate::focus::Focus;
use crate::semantic::{Ready, SemanticState, Stored};
use crate::source::SourceReader;
use crate::views::{ChunkViews, batches};
use crate::writer::EngineWriter;
use crate::{Engine, EngineError, Progress, Result};

/// Committed chunks a change on disk embeds at once, at most (about a second
/// of one core); the rest goes to background embedding.
pub const EMBED_NOW_MAX_CHUNKS: usize = 24;

/// Texts read and sorted by length at a time: enough to batch similar
/// lengths, few enough to keep memory flat on large workspaces.
const WINDOW: usize = 1024;

/// How a batch is cut: at most `chunks` texts and about `tokens` estimated
/// tokens of body text.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Batching {
    pub(crate) chunks: usize,
    pub(crate) tokens: usize,
}

/// Cores a step may use: `now` (one while the user types or asks), and
/// `all` for an open file's chunks (the user is waiting for that file).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Cores {
    pub(crate) now: usize,
    pub(crate) all: usize,
}

/// A committed chunk without a vector yet.
#[derive(Clone, Debug)]
pub(crate) struct Pending {
    pub(crate) chunk_id: u64,
    /// The embedding cache's key of its vectors.
    pub(crate) key: u64,
    pub(crate) path: Arc<str>,
}

/// A pending chunk whose views are read, ready to embed.
struct Prepared {
    pending: Pending,
    views: ChunkViews,
}

/// Committed chunks without a vector yet, worked off a batch at a time, in
/// the order of the engine's [`Focus`] (what the user looks at first).
#[derive(Default)]
pub(crate) struct Backlog {
    /// Not yet read.
    pending: VecDeque<Pending>,
    /// The focus `pending` is sorted by.
    focus_version: u64,
    /// The next chunks, views read, sorted by length.
    prepared: VecDeque<Prepared>,
    /// The committed index changed since `pending` was computed.
    pub(crate) stale: bool,
}

impl Backlog {
    /// A backlog to compute before the first step.
    pub(crate) fn stale() -> Backlog {
        Backlog {
            stale: true,
            ..Backlog::default()
        }
    }
}

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
    /// built by a [`GraphJob`]).
    pub maintenance: std::time::Duration,
    /// Cached vectors of text no chunk has any more, dropped from the
    /// embedding cache afterwards (see [`EngineWriter::drop_unused_vectors`]).
    pub unused_vectors_dropped: u64,
}

impl EngineWriter {
    /// The batching the configuration asks for.
    fn batching(&self) -> Batching {
        Batching {
            chunks: self.config.semantic.batch_size,
            tokens: self.config.semantic.batch_tokens,
        }
    }

    /// Gives every chunk of the committed index a vector: drops vectors of
    /// removed chunks, takes cached ones, embeds the rest, one batch after
    /// another until none is left or the engine is cancelled. A no-op when
    /// no model is available, and for a read-only engine (the owner embeds;
    /// cached vectors are loaded all the same).
    pub fn embed(&mut self, progress: &dyn Progress) -> Result<EmbedReport> {
        if !matches!(self.load_semantic(), SemanticState::Ready(_)) {
            return Ok(EmbedReport::default());
        }
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
        self.flush()?;
        if step.remaining == 0 {
            match self.drop_unused_vectors() {
                Ok(retained) => {
                    report.unused_vectors_dropped = retained.map_or(0, |r| r.dropped as u64);
                }
                // The old file is whole: only disk space is not given back.
                Err(err) => tracing::warn!(
                    "could not rewrite the embedding cache without unused vectors: {err}"
                ),
            }
        }
        if total > 0 {
            progress.end();
        }
        report.duration = started.elapsed();
        Ok(report)
    }

    /// Merges the vector index's exact blocks (embedding leaves one per few
    /// thousand vectors) into as few as the configuration allows, for a
    /// process that searches next; returns how long it took. Not part of
    /// [`EngineWriter::embed`]: the merged copy is built while the blocks
    /// still exist, 40 MB more at the very end of `dowse index` of the
    /// CPython stdlib, which exits without searching.
    pub fn merge_vector_blocks(&mut self) -> std::time::Duration {
        let merging = std::time::Instant::now();
        if let SemanticState::Ready(ready) = self.semantic() {
            while ready.vectors.merge_blocks() {}
        }
        merging.elapsed()
    }

    /// One step of embedding the committed chunks that lack a vector: one
    /// batch per core (the `threads` setting), or one batch on one core
    /// while a query is under way or just ended. The host calls it between
    /// other work, so an edit waits for one batch at most.
    pub fn embed_step(&mut self) -> Result<EmbedStep> {
        self.embed_step_with(self.config.worker_threads())
    }

    /// [`EngineWriter::embed_step`] on at most `workers` cores (the host
    /// passes 1 while the user types).
    pub fn embed_step_with(&mut self, workers: usize) -> Result<EmbedStep> {
        if self.read_only.is_some() {
            return Ok(EmbedStep::default());
        }
        if !matches!(self.load_semantic(), SemanticState::Ready(_)) {
            return Ok(EmbedStep::default());
        }
        let focus = self.focus();
        let batching = self.batching();
        let SemanticState::Ready(ready) = self.semantic() else {
            unreachable!("loaded above");
        };
        let all = self.config.worker_threads();
        let now = if ready.model.queries_recent() {
            1
        } else {
            workers.clamp(1, all)
        };
        ready.embed_step(
            &self.root,
            &self.lexical,
            batching,
            &focus,
            Cores { now, all },
        )
    }

    /// Whether [`EngineWriter::embed_step`] has work to do: chunks without
    /// a vector, or a backlog to compute again after a commit (false
    /// without a model and for a read-only engine). Loads the model on
    /// first call.
    pub fn embedding_pending(&mut self) -> bool {
        if self.read_only.is_some() {
            return false;
        }
        match self.load_semantic() {
            SemanticState::Ready(ready) => ready.has_backlog(),
            _ => false,
        }
    }

    /// Gives a vector to the committed chunks of these files
    /// (workspace-relative paths) that lack one — at most
    /// [`EMBED_NOW_MAX_CHUNKS`] through the model, the rest left to
    /// background embedding — and to the overlay's chunks of them: the fast
    /// path after a change on disk, which looks at nothing else.
    pub fn embed_paths(&mut self, paths: &[&str]) -> Result<EmbedReport> {
        self.embed_now(paths, true)
    }

    /// The vectors an open buffer needs now: its chunks whose text is not
    /// a committed chunk of the file (what the user typed). Chunks the
    /// buffer shares with the disk get theirs from background embedding,
    /// which takes open files first; embedding a whole file not embedded
    /// yet on every keystroke would hold the writer for seconds.
    pub fn embed_buffer(&mut self, path: &str) -> Result<EmbedReport> {
        self.embed_now(&[path], false)
    }

    fn embed_now(&mut self, paths: &[&str], committed_too: bool) -> Result<EmbedReport> {
        let batching = self.batching();
        self.load_semantic();
        let engine = self.reader();
        let SemanticState::Ready(ready) = engine.semantic() else {
            return Ok(EmbedReport::default());
        };
        let started = std::time::Instant::now();
        let snapshot = self.snapshot();
        let mut report = EmbedReport::default();
        let mut committed = Vec::new();
        let mut overlaid = Vec::new();
        for path in paths {
            let mut on_disk = HashSet::new();
            if self.read_only.is_none() || !committed_too {
                for doc in snapshot.disk.file_chunks(path)? {
                    let chunk = snapshot.disk.chunk(doc)?;
                    on_disk.insert(chunk.content_key);
                    if committed_too && self.read_only.is_none() {
                        committed.push(chunk);
                    }
                }
            }
            if let Some(file) = snapshot.overlay.files.get(*path) {
                overlaid.extend(
                    file.chunks
                        .iter()
                        .filter(|c| committed_too || !on_disk.contains(&c.content_key))
                        .cloned(),
                );
            }
        }
        // What the user typed is embedded whatever its size (nothing else
        // would embed it); committed chunks up to a budget.
        report.embedded += ready.embed_now(
            &overlaid,
            &mut SourceReader::new(&self.root, &snapshot.overlay),
            false,
            (batching, usize::MAX),
        )?;
        report.embedded += ready.embed_now(
            &committed,
            &mut SourceReader::disk(&self.root),
            true,
            (batching, EMBED_NOW_MAX_CHUNKS),
        )?;
        report.duration = started.elapsed();
        Ok(report)
    }

    /// Writes what is only in memory and should last (new embedding cache
    /// records) to disk: the host calls it when idle and at shutdown.
    pub fn flush(&mut self) -> Result<()> {
        match self.semantic() {
            SemanticState::Ready(ready) if self.read_only.is_none() => ready.flush(),
            _ => Ok(()),
        }
    }

    /// Rewrites the embedding cache without the vectors of text that
    /// nothing indexed or open has any more, once they are most of it (see
    /// [`crate::semantic::UNUSED_RECORDS_MIN`]): `dowse index` after
    /// embedding, the host when idle. `None` when it kept the cache as it is.
    pub fn drop_unused_vectors(&mut self) -> Result<Option<Retained>> {
        let SemanticState::Ready(ready) = self.semantic() else {
            return Ok(None);
        };
        if self.read_only.is_some() {
            return Ok(None);
        }
        let min = self.config.semantic.unused_records_min;
        let retained = ready.drop_unused(&self.snapshot(), min)?;
        if let Some(r) = retained {
            tracing::info!(
                "embedding cache: dropped {} vectors no chunk uses any more, kept {} ({:.1} -> {:.1} MB)",
                r.dropped,
                r.kept,
                r.bytes_before as f64 / 1e6,
                r.bytes_after as f64 / 1e6
            );
        }
        Ok(retained)
    }

    /// A file (workspace-relative) was opened in an editor (`open`) or
    /// closed: its chunks and the files around it are embedded first.
    pub fn set_focus(&mut self, rel: &str, open: bool) {
        let changed = if open {
            self.focused.insert(rel.to_owned())
        } else {
            self.focused.remove(rel)
        };
        if changed {
            self.focus_version += 1;
        }
    }

    /// The embedding order now: computed again when the open files changed
    /// (their imports are read) or the committed index did.
    fn focus(&mut self) -> (u64, Arc<Focus>) {
        let version = self.focus_version;
        if let Some((v, focus)) = self.focus.as_ref()
            && *v == version
        {
            return (*v, focus.clone());
        }
        let open: Vec<(String, String)> = {
            let overlay = self.overlay.view();
            self.focused
                .iter()
                .map(|rel| {
                    let text = match overlay.files.get(rel) {
                        Some(file) => file.text.to_string(),
                        None => std::fs::read_to_string(self.root.join(rel)).unwrap_or_default(),
                    };
                    (rel.clone(), text)
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
        let focus = Arc::new(Focus::new(&open, mtimes));
        self.focus = Some((version, focus.clone()));
        (version, focus)
    }

    /// The graph builds the vectors need now, as a job to run on a thread
    /// of its own (`None` when there is nothing to build). Only the writer
    /// hands out jobs, so builds never race each other.
    pub fn graph_job(&self) -> Option<GraphJob> {
        self.vectors_need_optimizing().then(|| GraphJob {
            engine: self.reader(),
        })
    }
}

impl Engine {
    /// True when a [`GraphJob`] has work to do.
    pub fn vectors_need_optimizing(&self) -> bool {
        match self.semantic() {
            SemanticState::Ready(ready) => ready.vectors.needs_maintenance(),
            _ => false,
        }
    }
}

/// Seals large exact vector blocks into HNSW graphs and rebuilds graphs
/// with many removed entries: what [`EngineWriter::graph_job`] hands out.
/// Graphs live in memory only, so this is for long-running processes, on a
/// thread of their own: it builds from a snapshot and publishes atomically,
/// and neither edits nor queries wait for it (queries use exact search
/// meanwhile).
pub struct GraphJob {
    engine: Arc<Engine>,
}

impl GraphJob {
    /// Builds until nothing is left to do or the engine is cancelled;
    /// returns the time spent.
    pub fn run(self) -> std::time::Duration {
        let started = std::time::Instant::now();
        if let SemanticState::Ready(ready) = self.engine.semantic() {
            while !self.engine.cancelled() && ready.vectors.maintain() {}
        }
        started.elapsed()
    }

    /// The engine the job builds for.
    pub fn engine(&self) -> &Arc<Engine> {
        &self.engine
    }
}

impl Ready {
    /// The committed index changed: the backlog is computed again before
    /// the next step.
    pub(crate) fn mark_stale(&self) {
        self.backlog.lock().expect("backlog lock").stale = true;
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
        batching: Batching,
        focus: &(u64, Arc<Focus>),
        cores: Cores,
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
            for chunk in prepared.into_iter().rev() {
                backlog.pending.push_front(chunk.pending);
            }
            // Stable: within a class and a file, chunks keep their order.
            let (version, order) = (focus.0, &focus.1);
            backlog
                .pending
                .make_contiguous()
                .sort_by_cached_key(|p| (order.rank(&p.path), p.path.clone()));
            backlog.focus_version = version;
        }
        if backlog.prepared.is_empty() && !backlog.pending.is_empty() {
            let take = backlog.pending.len().min(WINDOW);
            let window: Vec<Pending> = backlog.pending.drain(..take).collect();
            let snapshot = lexical.snapshot();
            let mut sources = SourceReader::disk(root);
            let mut prepared = Vec::with_capacity(window.len());
            let mut cached = Vec::new();
            let mut seen: HashSet<u64> = HashSet::new();
            for pending in window {
                // The same text twice (a copied function) embeds once; the
                // second copy takes its vector from the cache afterwards.
                if let Some(q) = self.cache.get(pending.key) {
                    cached.push((pending.chunk_id, q));
                    continue;
                }
                if !seen.insert(pending.key) {
                    backlog.pending.push_back(pending);
                    continue;
                }
                // A chunk whose file changed since it was indexed is left
                // for the update that re-indexes that file.
                if let Some(doc) = snapshot.find(pending.chunk_id)? {
                    let chunk = snapshot.chunk(doc)?;
                    match sources.text(&chunk) {
                        Some(code) => {
                            prepared.push(Prepared {
                                pending,
                                views: ChunkViews::of(&chunk, &code),
                            });
                        }
                        None => step.skipped_stale += 1,
                    }
                }
            }
            // Open files first; then by length, so that a batch pads little.
            prepared.sort_by_key(|p| (focus.1.rank(&p.pending.path).0, p.views.body.len()));
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
            .is_some_and(|p| focus.1.rank(&p.pending.path).0 == crate::focus::OPEN);
        let workers = if open_first {
            cores.now.max(cores.all)
        } else {
            cores.now
        }
        .max(1);
        // No batch holds more than `batching.chunks`: the first `workers`
        // batches come from that many chunks at the front.
        let prepared = backlog.prepared.make_contiguous();
        let front = &prepared[..prepared.len().min(workers * batching.chunks.max(1))];
        let sizes: Vec<usize> = batches(
            front,
            |p| p.views.body_tokens(self.recipe.window),
            (batching.chunks, batching.tokens),
        )
        .iter()
        .take(workers)
        .map(|batch| batch.len())
        .collect();
        let batches: Vec<Vec<Prepared>> = sizes
            .into_iter()
            .map(|size| backlog.prepared.drain(..size).collect())
            .collect();
        if !batches.is_empty() {
            let views: Vec<Vec<ChunkText<'_>>> = batches
                .iter()
                .map(|batch| batch.iter().map(|p| p.views.text()).collect())
                .collect();
            let embeddings = self
                .model
                .embed_batches(&views)
                .map_err(EngineError::Semantic)?;
            let mut added = Vec::new();
            let mut cached = Vec::new();
            for (batch, embeddings) in batches.iter().zip(embeddings) {
                for (prepared, embedding) in batch.iter().zip(embeddings) {
                    let stored = Stored::of(embedding);
                    added.push((prepared.pending.chunk_id, stored.embedding.body.clone()));
                    cached.extend(stored.records(prepared.pending.key));
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
        (batching, budget): (Batching, usize),
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
            let key = self.recipe.key(chunk.content_key);
            if let Some(q) = self.cache.get(key) {
                cached.push((chunk.chunk_id, q));
                continue;
            }
            if !seen.insert(key) {
                continue;
            }
            if let Some(code) = sources.text(chunk) {
                views.push((chunk.chunk_id, key, ChunkViews::of(chunk, &code)));
            }
        }
        // At most `budget` chunks through the model now; committed ones
        // left over are the background's (the backlog has them, the open
        // file's first). Sorted by length and cut by tokens as the backlog
        // is: one batch of many long texts grows ONNX Runtime's arena for
        // the life of the process.
        views.truncate(budget);
        views.sort_by_key(|(_, _, views)| views.body.len());
        let mut embedded = 0;
        for batch in batches(
            &views,
            |(_, _, views)| views.body_tokens(self.recipe.window),
            (batching.chunks, batching.tokens),
        ) {
            let texts: Vec<ChunkText<'_>> = batch.iter().map(|(_, _, v)| v.text()).collect();
            let embeddings = self.embed_chunks(&texts).map_err(EngineError::Semantic)?;
            let mut entries = Vec::with_capacity(batch.len());
            for ((id, key, _), stored) in batch.iter().zip(embeddings) {
                cached.push((*id, stored.embedding.body.clone()));
                entries.extend(stored.records(*key));
            }
            self.cache.put(&entries);
            embedded += batch.len() as u64;
        }
        if index_vectors {
            // Copies of one text share a vector.
            for chunk in chunks {
                if !self.vectors.contains(chunk.chunk_id)
                    && !cached.iter().any(|(id, _)| *id == chunk.chunk_id)
                    && let Some(q) = self.cached(chunk.content_key)
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
