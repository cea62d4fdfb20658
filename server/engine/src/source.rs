//! Chunk text, read back from the workspace.
//!
//! The index does not store chunk text (it would be most of the index, and
//! the files hold it). A chunk's text is the byte range of its file, trusted
//! only if it still hashes to the chunk's stored digest: a file edited since
//! it was indexed gives `None`, never the wrong text.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use dowse_index::lexical::StoredChunk;
use dowse_syntax::Digest;

/// The text of files open in an editor, by workspace-relative path: these
/// override the disk.
pub(crate) type Buffers = std::sync::RwLock<HashMap<String, Arc<String>>>;

/// Reads chunk texts, each file once: an open buffer's text, else the disk.
pub(crate) struct SourceReader<'a> {
    root: &'a Path,
    buffers: &'a Buffers,
    files: HashMap<String, Option<Arc<String>>>,
}

impl<'a> SourceReader<'a> {
    pub(crate) fn new(root: &'a Path, buffers: &'a Buffers) -> SourceReader<'a> {
        SourceReader {
            root,
            buffers,
            files: HashMap::new(),
        }
    }

    /// The chunk's text, if its file still holds it.
    pub(crate) fn text(&mut self, chunk: &StoredChunk) -> Option<String> {
        let (root, buffers) = (self.root, self.buffers);
        let file = self
            .files
            .entry(chunk.path.clone())
            .or_insert_with(|| {
                let buffer = buffers
                    .read()
                    .expect("buffers lock")
                    .get(&chunk.path)
                    .cloned();
                buffer.or_else(|| {
                    std::fs::read_to_string(root.join(&chunk.path))
                        .ok()
                        .map(Arc::new)
                })
            })
            .clone()?;
        let text = file.get(chunk.byte_range.clone())?;
        (Digest::of(text.as_bytes()) == chunk.digest).then(|| text.to_owned())
    }
}
