//! `dowse-syntax`: everything dowse knows about source code, as pure functions
//! of text.
//!
//! Text in, plain data out: languages, the embedded tree-sitter queries,
//! chunks for search and (later) occurrences for find usages. This crate does
//! no I/O and knows nothing of indexes or protocols, so it is fast to test with
//! inline fixtures and safe to call from any thread. Broken code is normal
//! input: tree-sitter recovers and the chunker works with what it gets.

pub mod chunk;
mod language;
mod languages;
pub mod queries;
pub mod text;
pub mod usages;

pub use chunk::{
    CHUNKER_VERSION, Chunk, ChunkConfig, ChunkKind, ChunkedFile, Digest, chunk_file, name_position,
    symbol_label,
};
pub use language::{Language, language_label};
pub use languages::Usages as UsageSupport;
