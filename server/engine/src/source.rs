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
    /// Read a chunk's bytes alone, not its whole file (see
    /// [`SourceReader::results`]).
    ranges: bool,
}

impl<'a> SourceReader<'a> {
    /// Texts as a query sees them: overlaid files from the overlay.
    pub(crate) fn new(root: &'a Path, overlay: &'a OverlayView) -> SourceReader<'a> {
        SourceReader {
            root,
            overlay: Some(overlay),
            files: HashMap::new(),
            ranges: false,
        }
    }

    /// Texts of a query's results, as [`SourceReader::new`] reads them, but
    /// of a file on disk only the chunk's bytes: ten results of ten files
    /// are a few kilobytes, their files often hundreds (the stdlib's
    /// `typing.py` is 130 KB), read, copied and freed on every search.
    pub(crate) fn results(root: &'a Path, overlay: &'a OverlayView) -> SourceReader<'a> {
        SourceReader {
            ranges: true,
            ..SourceReader::new(root, overlay)
        }
    }

    /// Texts as the disk has them, whatever an editor holds.
    pub(crate) fn disk(root: &'a Path) -> SourceReader<'a> {
        SourceReader {
            root,
            overlay: None,
            files: HashMap::new(),
            ranges: false,
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

    /// The whole text of the chunk's file, if the file still holds the
    /// chunk (its bytes hash to the chunk's digest): lines counted in a
    /// file changed since it was indexed are not the chunk's.
    pub(crate) fn file_holding(&mut self, chunk: &StoredChunk) -> Option<Arc<String>> {
        let file = self.file(&chunk.path)?;
        let bytes = file.as_bytes().get(chunk.byte_range.clone())?;
        (Digest::of(bytes) == chunk.digest).then_some(file)
    }

    /// The chunk's text, if its file still holds it.
    pub(crate) fn text(&mut self, chunk: &StoredChunk) -> Option<String> {
        let overlaid = self
            .overlay
            .is_some_and(|o| o.files.contains_key(&chunk.path));
        let text = if self.ranges && !overlaid && !self.files.contains_key(&chunk.path) {
            read_range(&self.root.join(&chunk.path), chunk.byte_range.clone())?
        } else {
            let file = self.file(&chunk.path)?;
            file.get(chunk.byte_range.clone())?.to_owned()
        };
        (Digest::of(text.as_bytes()) == chunk.digest).then_some(text)
    }
}

/// The bytes `range` of the file at `path`, if it has them and they are
/// UTF-8. A range past the file's end (the file shrank, or a damaged
/// index) reads nothing rather than allocating it.
fn read_range(path: &Path, range: std::ops::Range<usize>) -> Option<String> {
    use std::io::{Read, Seek, SeekFrom};
    let mut file = std::fs::File::open(path).ok()?;
    if range.end as u64 > file.metadata().ok()?.len() {
        return None;
    }
    file.seek(SeekFrom::Start(range.start as u64)).ok()?;
    let mut bytes = vec![0; range.len()];
    file.read_exact(&mut bytes).ok()?;
    String::from_utf8(bytes).ok()
}

#[cfg(test)]
mod tests {
    use dowse_syntax::ChunkKind;

    use super::*;

    fn chunk_of(path: &str, file: &str, text: &str) -> StoredChunk {
        let start = file.find(text).expect("the chunk is in the file");
        StoredChunk {
            chunk_id: 1,
            path: path.to_owned(),
            language: "python".to_owned(),
            kind: ChunkKind::Function,
            symbol: None,
            enclosing: Vec::new(),
            start_line: 1,
            end_line: 1,
            byte_range: start..start + text.len(),
            part: None,
            definition: None,
            digest: Digest::of(text.as_bytes()),
            content_key: 0,
            test: false,
        }
    }

    /// A result's text is its chunk's bytes, whether the file is read whole
    /// or only there; once the file changes, neither reader gives text, and
    /// an editor's buffer wins over the disk.
    #[test]
    fn a_chunk_reads_the_same_by_range_and_whole() {
        let dir = tempfile::tempdir().unwrap();
        let file = "import os\n\ndef retry_upload(n):\n    return n + 1 # é\n\nx = 1\n";
        let body = "def retry_upload(n):\n    return n + 1 # é";
        std::fs::write(dir.path().join("up.py"), file).unwrap();
        let chunk = chunk_of("up.py", file, body);
        let overlay = OverlayView::default();
        let mut whole = SourceReader::new(dir.path(), &overlay);
        let mut ranges = SourceReader::results(dir.path(), &overlay);
        assert_eq!(whole.text(&chunk).as_deref(), Some(body));
        assert_eq!(ranges.text(&chunk).as_deref(), Some(body));

        std::fs::write(dir.path().join("up.py"), file.replace("n + 1", "n + 2")).unwrap();
        assert_eq!(
            SourceReader::results(dir.path(), &overlay).text(&chunk),
            None
        );
        assert_eq!(SourceReader::new(dir.path(), &overlay).text(&chunk), None);
        // A range past the end (a damaged index) reads nothing.
        let far = StoredChunk {
            byte_range: 10..usize::MAX / 2,
            ..chunk.clone()
        };
        assert_eq!(SourceReader::results(dir.path(), &overlay).text(&far), None);
        std::fs::remove_file(dir.path().join("up.py")).unwrap();
        assert_eq!(
            SourceReader::results(dir.path(), &overlay).text(&chunk),
            None
        );

        let mut overlay = OverlayView::default();
        overlay.files.insert(
            "up.py".to_owned(),
            Arc::new(crate::overlay::OverlayFile {
                text: Arc::new(file.to_owned()),
                digest: String::new(),
                chunks: Vec::new(),
            }),
        );
        let mut ranges = SourceReader::results(dir.path(), &overlay);
        assert_eq!(ranges.text(&chunk).as_deref(), Some(body));
    }
}
