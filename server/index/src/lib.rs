//! `dowse-index`: the on-disk pieces of a workspace index.
//!
//! - [`tokenizer`]: the code-aware analyzer shared by indexing and queries;
//! - [`lexical`]: the tantivy index of chunks (BM25 over content, symbol,
//!   enclosing names and path);
//! - [`files`]: the file table, what was indexed from which file version;
//! - [`vectors`]: the embedding cache (quantised, content-addressed, on
//!   disk) and the segmented vector index (HNSW + exact, in memory);
//! - [`store`]: the index directory and atomic writes.
//!
//! This crate stores and retrieves; deciding what to index, and when, is the
//! engine's job. Writers are plain structs: the engine owns the single writer.

pub mod cache;
pub mod files;
pub mod lexical;
pub mod manifest;
pub mod memory;
pub mod quantize;
pub mod store;
pub mod tokenizer;
pub mod vectors;
