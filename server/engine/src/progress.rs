//! Progress of long work (indexing), reported to whoever shows it: a progress
//! bar in the CLI, `$/progress` notifications in the LSP server.

/// Receives progress. Every method has a do-nothing default.
pub trait Progress: Send + Sync {
    /// Work of `total` steps begins.
    fn begin(&self, _title: &str, _total: u64) {}
    /// `done` more steps are finished.
    fn advance(&self, _done: u64) {}
    /// The work is finished.
    fn end(&self) {}
}

/// Progress that goes nowhere.
pub struct NoProgress;

impl Progress for NoProgress {}
