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

use crate::overlay::OverlayView;

/// Reads chunk texts, each file once: the overlay's text of a file open in
/// an editor (when reading for the overlay), else the disk.
pub(crate) struct SourceReader<'a> {
    root: &'a Path,
    overlay: Option<&'a OverlayView>,
    files: HashMap<String, Option<Arc<String>>>,
}

impl<'a> SourceReader<'a> {
    /// Texts as a query sees them: overlaid files from the overlay.
    pub(crate) fn new(root: &'a Path, overlay: &'a OverlayView) -> SourceReader<'a> {
        SourceReader {
            root,
            overlay: Some(overlay),
            files: HashMap::new(),
        }
    }

    /// Texts as the disk has them, whatever an editor holds.
    pub(crate) fn disk(root: &'a Path) -> SourceReader<'a> {
        SourceReader {
            root,
            overlay: None,
            files: HashMap::new(),
        }
    }

    /// The whole text of a file.
    pub(crate) fn file(&mut self, path: &str) -> Option<Arc<String>> {
        let (root, overlay) = (self.root, self.overlay);
        self.files
            .entry(path.to_owned())
            .or_insert_with(|| {
                let overlaid = overlay
                    .and_then(|o| o.files.get(path))
                    .map(|f| f.text.clone());
                overlaid.or_else(|| std::fs::read_to_string(root.join(path)).ok().map(Arc::new))
            })
            .clone()
    }

    /// The chunk's text, if its file still holds it.
    pub(crate) fn text(&mut self, chunk: &StoredChunk) -> Option<String> {
        let file = self.file(&chunk.path)?;
        let text = file.get(chunk.byte_range.clone())?;
        (Digest::of(text.as_bytes()) == chunk.digest).then(|| text.to_owned())
    }
}
