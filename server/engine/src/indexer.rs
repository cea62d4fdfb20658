//! Bringing the index up to date with the disk.
//!
//! The walk lists the files; (size, mtime) equal to the file table's means
//! unchanged and costs nothing more. Other files are read in parallel, hashed
//! with blake3 (a touched but unchanged file is not re-indexed), chunked and
//! handed to the lexical writer, which replaces exactly that file's
//! documents. Files gone from the walk are deleted. One commit at the end
//! makes it all visible at once.

use std::collections::{BTreeMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use dowse_index::files::{FileRecord, FileTable};
use dowse_index::lexical::LexicalWriter;
use dowse_syntax::{CHUNKER_VERSION, Digest};
use rayon::prelude::*;

use crate::walk::{SkipReason, Skipped, WalkedFile, walk};
use crate::writer::EngineWriter;
use crate::{Engine, EngineError, Progress, Result};

/// A file's record still stands for it without reading it: the same size
/// and modification time, chunked by this chunker.
fn unchanged(old: &FileRecord, size: u64, mtime_ns: i128) -> bool {
    old.size == size && old.mtime_ns == mtime_ns && old.chunker == CHUNKER_VERSION
}

/// What an update did.
#[derive(Clone, Debug, Default)]
pub struct IndexReport {
    /// Files in the index afterwards.
    pub files: u64,
    /// Chunks in the index afterwards.
    pub chunks: u64,
    /// Files (re-)indexed because they were new or changed.
    pub files_indexed: u64,
    /// Chunks written by this update.
    pub chunks_indexed: u64,
    /// Files deleted from the index.
    pub files_removed: u64,
    /// Source bytes read and indexed by this update.
    pub bytes_indexed: u64,
    /// Files left out, and why.
    pub skipped: Vec<Skipped>,
    /// Files of a known language cut into line windows instead of by their
    /// syntax, and why (syntax errors over most of the file, a disabled
    /// query): indexed all the same.
    pub windowed: Vec<Windowed>,
    pub duration: Duration,
}

/// A file indexed by line windows although its language has a grammar.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Windowed {
    pub path: String,
    pub reason: String,
}

impl IndexReport {
    /// "3 binary, 1 too large": skipped files by reason.
    pub fn skipped_summary(&self) -> String {
        let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
        for s in &self.skipped {
            *counts.entry(s.reason.category()).or_default() += 1;
        }
        counts
            .iter()
            .map(|(reason, n)| format!("{n} {reason}"))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// What became of one file that needed a look.
enum Outcome {
    /// New or changed: indexed with this many chunks, by line windows for
    /// the reason given.
    Indexed(FileRecord, u64, Option<String>),
    /// Touched but the same content: only the mtime moves.
    Same(FileRecord),
    Skipped(SkipReason),
    /// Not looked at: the work was cancelled. The file keeps its old
    /// documents and record.
    Cancelled,
}

/// What a lexical writer is for, and so how much memory it takes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum WriterSize {
    /// A whole reconcile: every core, the configured memory, let go after.
    Bulk,
    /// A few files (an event, a save): one thread, [`SMALL_WRITER_HEAP`],
    /// kept for the next change.
    Files,
}

/// The memory of the writer kept for single files: tantivy's least for one
/// thread (15 MB) and a little more. The bulk writer's 128 MB buffers,
/// kept after the first index, were most of a language server's memory
/// beside the model.
const SMALL_WRITER_HEAP: usize = 16_000_000;

/// Files read, chunked and indexed between two checks for a commit.
const INDEX_BATCH: usize = 512;
/// During a long update, commit at least this often.
const COMMIT_EVERY: Duration = Duration::from_secs(2);

/// Above this, a NUL byte marks a file as binary, as git and ripgrep do.
const BINARY_SNIFF_BYTES: usize = 8192;

impl EngineWriter {
    /// Reconciles the index with the workspace on disk and commits.
    ///
    /// A whole reconcile indexes with the configured memory (`index_heap_bytes`:
    /// the first index of a large workspace goes faster with more) and then
    /// lets that writer go, with its buffers: a long-running server keeps
    /// only the small writer that single files need (see
    /// [`EngineWriter::update_paths`]).
    pub fn update(&mut self, progress: &dyn Progress) -> Result<IndexReport> {
        let generation = self.generation();
        let mut slot = None;
        self.lexical_writer = None;
        let updated = self
            .engine()
            .update_with(&mut slot, progress, WriterSize::Bulk);
        drop(slot);
        dowse_index::memory::release_free_memory();
        self.committed_since(generation);
        updated
    }

    /// Brings only these files (workspace-relative) up to date with the
    /// disk and commits if anything changed: the cheap path for file events
    /// and closed buffers. A path the index does not know (a new file, or an
    /// ignored one) needs the walk's ignore rules: then the whole workspace
    /// is reconciled instead.
    pub fn update_paths(&mut self, paths: &[&str]) -> Result<IndexReport> {
        let generation = self.generation();
        let mut slot = self.lexical_writer.take();
        let updated = self.engine().update_paths_with(&mut slot, paths);
        self.lexical_writer = slot;
        self.committed_since(generation);
        updated
    }

    /// After a change that may have committed: the embedding order and the
    /// occurrences of find usages follow the new commit.
    fn committed_since(&mut self, generation: u64) {
        if self.generation() != generation {
            // New files and times: the embedding order is computed again.
            self.focus_version += 1;
            self.sync_usages_if_prepared();
        }
    }

    /// Overlays the text of a file open in an editor (workspace-relative or
    /// absolute path): searches, usages and similar see it in place of the
    /// disk's at once, and nothing is written to disk. The file stays
    /// overlaid until [`EngineWriter::close_buffer`]. Returns false when the
    /// text was already the overlay's, or the walk's rules leave the file
    /// out.
    pub fn set_buffer(&mut self, path: &str, text: &str) -> Result<bool> {
        let rel = self.workspace_relative(path)?;
        // What the walk leaves out stays out when an editor opens it too
        // (hidden, ignored, excluded, secret, too large, binary): agents
        // read this index.
        if let Err(reason) = self.admits_buffer(&rel, text) {
            tracing::info!("{rel} is open in an editor but not indexed: {reason}");
            if self.overlay.view().contains(&rel) {
                self.overlay.remove(&rel)?;
                self.sync_usages_if_prepared();
            }
            return Ok(false);
        }
        let changed = self.overlay.set(&rel, text, &self.config.chunk)?;
        if changed {
            self.sync_usages_if_prepared();
        }
        Ok(changed)
    }

    /// Returns a file to its disk content after its editor closed it: drops
    /// its overlay, and brings its committed copy up to date if the disk
    /// changed meanwhile (a save). Costs that one file.
    pub fn close_buffer(&mut self, path: &str) -> Result<()> {
        let rel = self.workspace_relative(path)?;
        if !self.overlay.remove(&rel)? {
            return Ok(());
        }
        if self.read_only.is_some() {
            self.sync_usages_if_prepared();
            return Ok(());
        }
        let known = self
            .files
            .read()
            .expect("file table lock")
            .files
            .contains_key(&rel);
        if known || self.root.join(&rel).is_file() {
            self.update_paths(&[&rel])?;
        }
        // The buffer's occurrences go back to the disk's.
        self.sync_usages_if_prepared();
        Ok(())
    }
}

impl Engine {
    /// The lexical index's writer in `slot`, created on first need, of
    /// `size`.
    fn lexical_writer<'a>(
        &self,
        slot: &'a mut Option<LexicalWriter>,
        size: WriterSize,
    ) -> Result<&'a mut LexicalWriter> {
        if slot.is_none() {
            let (threads, heap) = match size {
                WriterSize::Bulk => (self.config.worker_threads(), self.config.index_heap_bytes),
                WriterSize::Files => (1, SMALL_WRITER_HEAP),
            };
            *slot = Some(self.lexical.writer(threads, heap)?);
        }
        Ok(slot.as_mut().expect("the writer was just created"))
    }

    fn update_with(
        &self,
        slot: &mut Option<LexicalWriter>,
        progress: &dyn Progress,
        size: WriterSize,
    ) -> Result<IndexReport> {
        let started = Instant::now();
        if self.read_only.is_some() {
            // Another process owns the index: answer from its last commit.
            let table = self.files.read().expect("file table lock");
            return Ok(IndexReport {
                files: table.files.len() as u64,
                chunks: table.chunk_count(),
                ..IndexReport::default()
            });
        }
        let skip_dirs = vec![self.dir.root().to_path_buf()];
        let walked = walk(&self.root, &self.config.walk_options(skip_dirs))?;
        tracing::info!(
            "walked {} files in {:?}",
            walked.files.len(),
            started.elapsed()
        );
        let mut report = IndexReport {
            skipped: walked.skipped,
            ..IndexReport::default()
        };

        // The committed index holds what is on disk, whatever an editor
        // holds: unsaved text lives in the overlay.
        let (todo, removed) = {
            let table = self.files.read().expect("file table lock");
            let seen: HashSet<&str> = walked.files.iter().map(|f| f.rel_path.as_str()).collect();
            let removed: Vec<String> = table
                .files
                .keys()
                .filter(|path| !seen.contains(path.as_str()))
                .cloned()
                .collect();
            let todo: Vec<(&WalkedFile, Option<FileRecord>)> = walked
                .files
                .iter()
                .filter_map(|file| match table.files.get(&file.rel_path) {
                    Some(old) if unchanged(old, file.size, file.mtime_ns) => None,
                    old => Some((file, old.cloned())),
                })
                .collect();
            (todo, removed)
        };

        if !todo.is_empty() || !removed.is_empty() {
            let writer = self.lexical_writer(slot, size)?;
            {
                let mut table = self.files.write().expect("file table lock");
                for path in &removed {
                    writer.delete_file(path);
                    table.files.remove(path);
                    report.files_removed += 1;
                }
            }
            // Files go in batches; a long first index commits every few
            // seconds, so that queries meanwhile see what is done so far.
            progress.begin("indexing", todo.len() as u64);
            let mut last_commit = Instant::now();
            let batches: Vec<_> = todo.chunks(INDEX_BATCH).collect();
            let last_batch = batches.len().saturating_sub(1);
            for (n, batch) in batches.into_iter().enumerate() {
                let outcomes = self.index_files(writer, batch, progress)?;
                let mut table = self.files.write().expect("file table lock");
                for ((file, old), outcome) in batch.iter().zip(outcomes) {
                    match outcome {
                        Outcome::Indexed(record, chunks, windowed) => {
                            report.files_indexed += 1;
                            report.chunks_indexed += chunks;
                            report.bytes_indexed += record.size;
                            if let Some(reason) = windowed {
                                report.windowed.push(Windowed {
                                    path: file.rel_path.clone(),
                                    reason,
                                });
                            }
                            table.files.insert(file.rel_path.clone(), record);
                        }
                        Outcome::Same(record) => {
                            table.files.insert(file.rel_path.clone(), record);
                        }
                        Outcome::Skipped(reason) => {
                            if old.is_some() {
                                writer.delete_file(&file.rel_path);
                                table.files.remove(&file.rel_path);
                                report.files_removed += 1;
                            }
                            report.skipped.push(Skipped {
                                path: file.rel_path.clone(),
                                reason,
                            });
                        }
                        Outcome::Cancelled => {}
                    }
                }
                let cancelled = self.cancelled();
                if n < last_batch && !cancelled && last_commit.elapsed() < COMMIT_EVERY {
                    continue;
                }
                let commit_started = Instant::now();
                self.commit(writer, &mut table)?;
                tracing::info!(
                    "committed generation {} in {:?}",
                    table.generation,
                    commit_started.elapsed()
                );
                last_commit = Instant::now();
                if cancelled {
                    progress.end();
                    tracing::info!("cancelled after committing generation {}", table.generation);
                    return Err(EngineError::Cancelled);
                }
            }
            if todo.is_empty() {
                let mut table = self.files.write().expect("file table lock");
                self.commit(writer, &mut table)?;
            }
            progress.end();
            tracing::info!("indexed {} files in {:?}", todo.len(), started.elapsed());
            // A verified copy to fall back on.
            let generation = self.files.read().expect("file table lock").generation;
            if let Ok(Some(manifest)) = dowse_index::manifest::Manifest::load(&self.dir)
                && manifest.generation == generation
            {
                self.backup(&manifest);
            }
        }

        let table = self.files.read().expect("file table lock");
        report.files = table.files.len() as u64;
        report.chunks = table.chunk_count();
        report.skipped.sort_by(|a, b| a.path.cmp(&b.path));
        report.windowed.sort_by(|a, b| a.path.cmp(&b.path));
        report.duration = started.elapsed();
        if report.files_indexed > 0 || report.files_removed > 0 {
            self.counters.indexed(report.duration);
        }
        Ok(report)
    }

    /// Reads, hashes, chunks and indexes `todo` in parallel.
    fn index_files(
        &self,
        writer: &LexicalWriter,
        todo: &[(&WalkedFile, Option<FileRecord>)],
        progress: &dyn Progress,
    ) -> Result<Vec<Outcome>> {
        let done = AtomicU64::new(0);
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(self.config.worker_threads())
            .thread_name(|i| format!("dowse-index-{i}"))
            .build()
            .map_err(|e| {
                EngineError::InvalidInput(format!("cannot start indexing threads: {e}"))
            })?;
        let outcomes: Vec<Result<Outcome>> = pool.install(|| {
            todo.par_iter()
                .map(|(file, old)| {
                    let outcome = if self.cancelled() {
                        Ok(Outcome::Cancelled)
                    } else {
                        self.index_file(writer, file, old.as_ref())
                    };
                    let n = done.fetch_add(1, Ordering::Relaxed) + 1;
                    if n.is_multiple_of(16) {
                        progress.advance(16);
                    }
                    outcome
                })
                .collect()
        });
        progress.advance(done.load(Ordering::Relaxed) % 16);
        outcomes.into_iter().collect()
    }

    /// Reads, chunks and indexes one file. A file dowse fails on (a panic:
    /// a bug) is skipped with the reason, and the others are indexed all
    /// the same.
    fn index_file(
        &self,
        writer: &LexicalWriter,
        file: &WalkedFile,
        old: Option<&FileRecord>,
    ) -> Result<Outcome> {
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            self.read_and_index(writer, file, old)
        }))
        .unwrap_or_else(|panic| {
            let reason = crate::panic_message(panic.as_ref());
            tracing::error!("indexing {}: {reason}", file.rel_path);
            Ok(Outcome::Skipped(SkipReason::Failed(reason)))
        })
    }

    fn read_and_index(
        &self,
        writer: &LexicalWriter,
        file: &WalkedFile,
        old: Option<&FileRecord>,
    ) -> Result<Outcome> {
        let bytes = match std::fs::read(&file.abs_path) {
            Ok(bytes) => bytes,
            Err(err) => return Ok(Outcome::Skipped(SkipReason::Unreadable(err.to_string()))),
        };
        if bytes[..bytes.len().min(BINARY_SNIFF_BYTES)].contains(&0) {
            return Ok(Outcome::Skipped(SkipReason::Binary));
        }
        let Ok(text) = String::from_utf8(bytes) else {
            return Ok(Outcome::Skipped(SkipReason::NotUtf8));
        };
        self.index_text(
            writer,
            &file.rel_path,
            &text,
            (file.size, file.mtime_ns),
            old,
        )
    }

    /// Chunks and indexes one file's text (from the disk or a buffer),
    /// replacing its documents; unchanged text is left alone.
    fn index_text(
        &self,
        writer: &LexicalWriter,
        rel_path: &str,
        text: &str,
        (size, mtime_ns): (u64, i128),
        old: Option<&FileRecord>,
    ) -> Result<Outcome> {
        let digest = Digest::of(text.as_bytes()).to_hex();
        if let Some(old) = old
            && old.digest == digest
            && old.chunker == CHUNKER_VERSION
        {
            return Ok(Outcome::Same(FileRecord {
                size,
                mtime_ns,
                ..old.clone()
            }));
        }
        let crate::chunked::Chunked {
            file: chunked,
            language,
            keys,
        } = crate::chunked::chunk_and_key(rel_path, text, &self.config.chunk);
        if old.is_some() {
            writer.delete_file(rel_path);
        }
        writer.add_file(rel_path, language, &chunked.chunks, text, &keys)?;
        let chunks = chunked.chunks.len() as u64;
        Ok(Outcome::Indexed(
            FileRecord {
                size,
                mtime_ns,
                digest,
                chunks: chunks as u32,
                language: language.to_owned(),
                chunker: CHUNKER_VERSION,
            },
            chunks,
            chunked.fallback,
        ))
    }

    fn update_paths_with(
        &self,
        slot: &mut Option<LexicalWriter>,
        paths: &[&str],
    ) -> Result<IndexReport> {
        if self.read_only.is_some() {
            return self.update_with(slot, &crate::NoProgress, WriterSize::Files);
        }
        let started = Instant::now();
        let known: Vec<(String, FileRecord)> = {
            let table = self.files.read().expect("file table lock");
            let mut known = Vec::with_capacity(paths.len());
            for path in paths {
                match table.files.get(*path) {
                    Some(record) => known.push(((*path).to_owned(), record.clone())),
                    None => {
                        drop(table);
                        return self.update_with(slot, &crate::NoProgress, WriterSize::Files);
                    }
                }
            }
            known
        };
        let mut report = IndexReport::default();
        let writer = self.lexical_writer(slot, WriterSize::Files)?;
        let mut table = self.files.write().expect("file table lock");
        let mut changed = false;
        for (path, old) in known {
            let abs = self.root.join(&path);
            let meta = match std::fs::metadata(&abs) {
                Ok(meta) if meta.is_file() => meta,
                _ => {
                    writer.delete_file(&path);
                    table.files.remove(&path);
                    report.files_removed += 1;
                    changed = true;
                    continue;
                }
            };
            let mtime_ns = crate::walk::mtime_ns(&meta);
            if unchanged(&old, meta.len(), mtime_ns) {
                continue;
            }
            let file = WalkedFile {
                rel_path: path.clone(),
                abs_path: abs,
                size: meta.len(),
                mtime_ns,
            };
            match self.index_file(writer, &file, Some(&old))? {
                Outcome::Indexed(record, chunks, windowed) => {
                    report.files_indexed += 1;
                    report.chunks_indexed += chunks;
                    report.bytes_indexed += record.size;
                    if let Some(reason) = windowed {
                        report.windowed.push(Windowed {
                            path: path.clone(),
                            reason,
                        });
                    }
                    table.files.insert(path, record);
                    changed = true;
                }
                Outcome::Same(record) => {
                    table.files.insert(path, record);
                    changed = true;
                }
                Outcome::Skipped(reason) => {
                    writer.delete_file(&path);
                    table.files.remove(&path);
                    report.files_removed += 1;
                    report.skipped.push(Skipped { path, reason });
                    changed = true;
                }
                Outcome::Cancelled => {}
            }
        }
        if changed {
            self.commit(writer, &mut table)?;
        }
        report.files = table.files.len() as u64;
        report.chunks = table.chunk_count();
        report.duration = started.elapsed();
        if report.files_indexed > 0 || report.files_removed > 0 {
            self.counters.indexed(report.duration);
        }
        Ok(report)
    }

    /// Whether the walk's rules let a buffer of `text` at `rel` in: a file
    /// the last walk indexed is in (if its text is still text of a size the
    /// walk takes); any other is checked as the walk would check it.
    fn admits_buffer(&self, rel: &str, text: &str) -> std::result::Result<(), SkipReason> {
        if text.as_bytes()[..text.len().min(BINARY_SNIFF_BYTES)].contains(&0) {
            return Err(SkipReason::Binary);
        }
        let size = text.len() as u64;
        let known = self
            .files
            .read()
            .expect("file table lock")
            .files
            .contains_key(rel);
        if !known {
            return self.filters.check(rel, size, self.config.max_file_size);
        }
        if size > self.config.max_file_size {
            return Err(SkipReason::TooLarge {
                size,
                limit: self.config.max_file_size,
            });
        }
        Ok(())
    }

    fn commit(&self, writer: &mut LexicalWriter, table: &mut FileTable) -> Result<()> {
        let generation = table.generation + 1;
        writer.commit(generation)?;
        table.generation = generation;
        self.lexical.reload()?;
        self.counters.committed();
        if let Some(crate::semantic::SemanticState::Ready(ready)) = self.semantic.get() {
            ready.mark_stale();
        }
        table.save(&self.dir.files()).map_err(|e| EngineError::Io {
            path: self.dir.files(),
            source: e,
        })?;
        self.write_manifest(generation)?;
        Ok(())
    }
}
