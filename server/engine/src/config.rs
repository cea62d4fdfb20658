//! The engine's settings, with their defaults.

use std::path::PathBuf;

use dowse_syntax::ChunkConfig;

use crate::semantic::SemanticConfig;
use crate::walk::WalkOptions;

/// Everything the engine can be told. Front ends (CLI flags, the config file,
/// environment variables, LSP settings) fill one of these.
#[derive(Clone, Debug)]
pub struct Config {
    /// Where the index lives; `None` for the per-user cache default.
    pub index_dir: Option<PathBuf>,
    /// Files larger than this many bytes are skipped.
    pub max_file_size: u64,
    /// Globs a file must match to be indexed (all files when empty).
    pub include: Vec<String>,
    /// Globs of files and directories to leave out.
    pub exclude: Vec<String>,
    pub follow_symlinks: bool,
    /// Worker threads for indexing; 0 for one per core.
    pub threads: usize,
    /// Memory for the lexical indexer's buffers, in bytes.
    pub index_heap_bytes: usize,
    pub chunk: ChunkConfig,
    pub semantic: SemanticConfig,
    /// Backups of verified commits kept in the index directory.
    pub backups: usize,
    /// On SIGTERM / SIGINT / LSP shutdown, how long in-flight work may take
    /// to reach its next commit before the process exits anyway (the index
    /// stays consistent either way: commits are atomic).
    pub shutdown_timeout: std::time::Duration,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            index_dir: None,
            max_file_size: 1024 * 1024,
            include: Vec::new(),
            exclude: Vec::new(),
            follow_symlinks: true,
            threads: 0,
            index_heap_bytes: 128 * 1024 * 1024,
            chunk: ChunkConfig::default(),
            semantic: SemanticConfig::default(),
            backups: 2,
            shutdown_timeout: std::time::Duration::from_secs(5),
        }
    }
}

impl Config {
    /// The number of worker threads to use.
    pub fn worker_threads(&self) -> usize {
        if self.threads > 0 {
            self.threads
        } else {
            std::thread::available_parallelism().map_or(2, |n| n.get())
        }
    }

    pub(crate) fn walk_options(&self, skip_dirs: Vec<PathBuf>) -> WalkOptions {
        WalkOptions {
            max_file_size: self.max_file_size,
            include: self.include.clone(),
            exclude: self.exclude.clone(),
            follow_symlinks: self.follow_symlinks,
            skip_dirs,
            threads: self.worker_threads(),
        }
    }
}
