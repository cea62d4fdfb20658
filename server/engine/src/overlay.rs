//! The live overlay: files open in an editor, whose unsaved text the disk
//! does not have.
//!
//! A tantivy commit to disk costs an fsync, too slow per keystroke, and the
//! persisted index must only ever hold what is on disk (a crash must not
//! leave an editor's unsaved text in it). So a buffer's chunks live here, in
//! memory: a lexical index in RAM with the committed index's schema, the
//! chunks themselves, and (through the embedding cache, by content key)
//! their vectors. Searches read the overlay beside the committed index, with
//! the committed copy of every overlaid file masked. Editing writes nothing
//! to disk.
//!
//! One writer (the host's) changes the overlay; readers take a view, an
//! `Arc` that stays consistent for as long as they hold it.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock};

use dowse_index::lexical::{LexicalIndex, LexicalSnapshot, LexicalWriter, StoredChunk, chunk_id};
use dowse_syntax::{ChunkConfig, Digest};

use crate::{EngineError, Result};

/// One file's text in the overlay, chunked.
pub(crate) struct OverlayFile {
    pub(crate) text: Arc<String>,
    /// blake3 of `text`, hex, as the file table writes digests.
    pub(crate) digest: String,
    pub(crate) chunks: Vec<StoredChunk>,
}

/// What readers see of the overlay: consistent for as long as it is held.
#[derive(Default)]
pub(crate) struct OverlayView {
    pub(crate) files: HashMap<String, Arc<OverlayFile>>,
    /// chunk id → (path, index in its file's chunks).
    by_id: HashMap<u64, (String, usize)>,
    /// The RAM index's snapshot, once a buffer was ever set.
    pub(crate) lexical: Option<LexicalSnapshot>,
}

impl OverlayView {
    /// Paths whose committed copy is masked.
    pub(crate) fn paths(&self) -> Vec<&str> {
        self.files.keys().map(String::as_str).collect()
    }

    pub(crate) fn contains(&self, path: &str) -> bool {
        self.files.contains_key(path)
    }

    pub(crate) fn chunk(&self, chunk_id: u64) -> Option<&StoredChunk> {
        let (path, i) = self.by_id.get(&chunk_id)?;
        self.files.get(path)?.chunks.get(*i)
    }

    /// Every chunk of the overlay.
    pub(crate) fn chunks(&self) -> impl Iterator<Item = &StoredChunk> {
        self.files.values().flat_map(|f| f.chunks.iter())
    }
}

/// The overlay and its one writer.
#[derive(Default)]
pub(crate) struct Overlay {
    /// The RAM index and its writer, created with the first buffer.
    index: Mutex<Option<(LexicalIndex, LexicalWriter)>>,
    view: RwLock<Arc<OverlayView>>,
    /// Commits of the RAM index (its generation payload).
    generation: std::sync::atomic::AtomicU64,
}

impl Overlay {
    pub(crate) fn view(&self) -> Arc<OverlayView> {
        self.view.read().expect("overlay lock").clone()
    }

    /// Sets `path`'s text (workspace-relative), replacing what the overlay
    /// held for it; nothing is written to disk. Returns false when the text
    /// is what the overlay already holds.
    pub(crate) fn set(&self, path: &str, text: &str, config: &ChunkConfig) -> Result<bool> {
        let digest = Digest::of(text.as_bytes()).to_hex();
        if self
            .view()
            .files
            .get(path)
            .is_some_and(|f| f.digest == digest)
        {
            return Ok(false);
        }
        let crate::chunked::Chunked {
            file: chunked,
            language,
            keys,
        } = crate::chunked::chunk_and_key(path, text, config);
        let language = language.to_owned();
        let chunks = chunked
            .chunks
            .iter()
            .zip(&keys)
            .map(|(chunk, &key)| StoredChunk {
                chunk_id: chunk_id(path, chunk),
                path: path.to_owned(),
                language: language.clone(),
                kind: chunk.kind,
                symbol: chunk.symbol.clone(),
                enclosing: chunk.enclosing.clone(),
                start_line: chunk.start_line,
                end_line: chunk.end_line,
                byte_range: chunk.byte_range.clone(),
                part: chunk.part,
                definition: chunk.definition,
                digest: chunk.digest,
                content_key: key,
                test: chunk.test,
            })
            .collect();
        let file = OverlayFile {
            text: Arc::new(text.to_owned()),
            digest,
            chunks,
        };
        self.write(path, |writer| {
            writer.delete_file(path);
            writer.add_file(path, &language, &chunked.chunks, text, &keys)?;
            Ok(())
        })?;
        self.publish(|files| {
            files.insert(path.to_owned(), Arc::new(file));
        })?;
        Ok(true)
    }

    /// Drops `path` from the overlay; false when it was not there.
    pub(crate) fn remove(&self, path: &str) -> Result<bool> {
        if !self.view().contains(path) {
            return Ok(false);
        }
        self.write(path, |writer| {
            writer.delete_file(path);
            Ok(())
        })?;
        self.publish(|files| {
            files.remove(path);
        })?;
        Ok(true)
    }

    fn write(
        &self,
        path: &str,
        change: impl FnOnce(&LexicalWriter) -> dowse_index::lexical::Result<()>,
    ) -> Result<()> {
        let mut guard = self.index.lock().expect("overlay index lock");
        if guard.is_none() {
            let index = LexicalIndex::in_memory()?;
            // The smallest arena tantivy allows; a buffer's chunks are few.
            let writer = index.writer(1, 15_000_000)?;
            *guard = Some((index, writer));
        }
        let (_, writer) = guard.as_mut().expect("created above");
        change(writer).map_err(|e| {
            EngineError::InvalidInput(format!("cannot index the buffer of `{path}`: {e}"))
        })?;
        let generation = self
            .generation
            .fetch_add(1, std::sync::atomic::Ordering::AcqRel)
            + 1;
        writer.commit(generation)?;
        Ok(())
    }

    /// Publishes a new view: the files as `change` leaves them, and the RAM
    /// index as last committed.
    fn publish(&self, change: impl FnOnce(&mut HashMap<String, Arc<OverlayFile>>)) -> Result<()> {
        let lexical = {
            let guard = self.index.lock().expect("overlay index lock");
            match guard.as_ref() {
                Some((index, _)) => {
                    index.reload()?;
                    Some(index.snapshot())
                }
                None => None,
            }
        };
        let mut view = self.view.write().expect("overlay lock");
        let mut files = view.files.clone();
        change(&mut files);
        let mut by_id = HashMap::new();
        for (path, file) in &files {
            for (i, chunk) in file.chunks.iter().enumerate() {
                by_id.insert(chunk.chunk_id, (path.clone(), i));
            }
        }
        *view = Arc::new(OverlayView {
            files,
            by_id,
            lexical,
        });
        Ok(())
    }
}
