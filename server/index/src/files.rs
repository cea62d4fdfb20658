//! The file table: for every indexed file, the version that was indexed.
//!
//! Reconciliation with the disk compares (size, mtime) first and the blake3
//! digest only when those differ, so an unchanged tree costs one `stat` per
//! file. The table is saved next to the lexical index with the same
//! generation; a table whose generation differs from the index's is stale
//! (a crash between the two writes) and is not trusted.

use std::collections::BTreeMap;
use std::io;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::store::atomic_write;

/// What was indexed from one file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileRecord {
    pub size: u64,
    /// Modification time in nanoseconds since the Unix epoch.
    pub mtime_ns: i128,
    /// blake3 of the content, hex.
    pub digest: String,
    pub chunks: u32,
    pub language: String,
    /// The chunker's version the file was chunked with
    /// (`dowse_syntax::CHUNKER_VERSION`); tables written before it was
    /// recorded read 0, and their files are chunked again once.
    #[serde(default)]
    pub chunker: u32,
}

/// Paths are relative to the workspace root, with `/` separators.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileTable {
    pub generation: u64,
    pub files: BTreeMap<String, FileRecord>,
}

impl FileTable {
    /// Loads the table; a missing file is an empty table.
    pub fn load(path: &Path) -> io::Result<FileTable> {
        match crate::store::read(path) {
            Ok(bytes) => serde_json::from_slice(&bytes)
                .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e)),
            Err(err) if err.kind() == io::ErrorKind::NotFound => Ok(FileTable::default()),
            Err(err) => Err(err),
        }
    }

    pub fn save(&self, path: &Path) -> io::Result<()> {
        let bytes = serde_json::to_vec(self).map_err(io::Error::other)?;
        atomic_write(path, &bytes)
    }

    pub fn chunk_count(&self) -> u64 {
        self.files.values().map(|f| u64::from(f.chunks)).sum()
    }
}
