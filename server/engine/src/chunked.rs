//! One file's text cut into chunks, each with its content key: the one
//! path by which the committed index and the overlay (an editor's buffer)
//! both turn text into what they store, so the two never disagree.

use std::path::Path;

use dowse_syntax::{ChunkConfig, ChunkedFile, chunk_file, language_label};

use crate::views::content_key;

/// A file's chunks, the language label they are stored under and each
/// chunk's content key.
pub(crate) struct Chunked {
    pub(crate) file: ChunkedFile,
    pub(crate) language: &'static str,
    pub(crate) keys: Vec<u64>,
}

/// Chunks `text` (of the workspace-relative `path`) and keys every chunk.
pub(crate) fn chunk_and_key(path: &str, text: &str, config: &ChunkConfig) -> Chunked {
    test_hooks::maybe_panic(text);
    let file = chunk_file(Path::new(path), text, config);
    let language = file
        .language
        .map_or_else(|| language_label(Path::new(path)), |l| l.name());
    let keys = file
        .chunks
        .iter()
        .map(|chunk| {
            content_key(
                path,
                chunk.kind,
                chunk.symbol.as_deref(),
                &chunk.enclosing,
                chunk.text(text),
            )
        })
        .collect();
    Chunked {
        file,
        language,
        keys,
    }
}

/// A panic on demand, for the tests that prove one failing file never
/// stops the writer: text holding the marker panics while it is chunked.
/// Off unless a test sets a marker (in process, or with the
/// `DOWSE_TEST_PANIC_ON` environment variable for the real binary).
pub mod test_hooks {
    use std::sync::OnceLock;

    static MARKER: OnceLock<Option<String>> = OnceLock::new();

    /// Makes chunking panic on any text that holds `marker` (tests only;
    /// the first marker set in a process stays).
    pub fn panic_on(marker: &str) {
        let _ = MARKER.set(Some(marker.to_owned()));
    }

    pub(crate) fn maybe_panic(text: &str) {
        let marker = MARKER.get_or_init(|| {
            std::env::var("DOWSE_TEST_PANIC_ON")
                .ok()
                .filter(|m| !m.is_empty())
        });
        if let Some(marker) = marker
            && text.contains(marker.as_str())
        {
            panic!("a test asked for a panic here (the text holds {marker:?})");
        }
    }
}
