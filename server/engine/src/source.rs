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

/// Reads chunk texts, each file once.
pub(crate) struct SourceReader<'a> {
    root: &'a Path,
    files: HashMap<String, Option<Arc<String>>>,
}

impl<'a> SourceReader<'a> {
    pub(crate) fn new(root: &'a Path) -> SourceReader<'a> {
        SourceReader {
            root,
            files: HashMap::new(),
        }
    }

    /// The chunk's text, if its file still holds it.
    pub(crate) fn text(&mut self, chunk: &StoredChunk) -> Option<String> {
        let root = self.root;
        let file = self
            .files
            .entry(chunk.path.clone())
            .or_insert_with(|| {
                std::fs::read_to_string(root.join(&chunk.path))
                    .ok()
                    .map(Arc::new)
            })
            .clone()?;
        let text = file.get(chunk.byte_range.clone())?;
        (Digest::of(text.as_bytes()) == chunk.digest).then(|| text.to_owned())
    }
}
