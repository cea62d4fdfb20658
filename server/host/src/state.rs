//! The index state that front ends show: what the host is doing, how much
//! is indexed, how much of it can be searched by meaning.

use dowse_engine::health::Status;
use serde::Serialize;

/// What the host is doing.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Phase {
    /// Opening the workspace.
    #[default]
    Starting,
    /// Reading, chunking and indexing files (keyword search answers what is
    /// committed so far).
    Indexing,
    /// Computing vectors (search by meaning covers `vectors` of
    /// `vectors_total` chunks meanwhile).
    Embedding,
    /// Everything indexed and embedded; kept live as files change.
    Ready,
    /// Shutting down.
    Stopping,
}

/// Long work under way, for progress reports.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Work {
    /// "indexing" or "embedding".
    pub stage: String,
    pub done: u64,
    pub total: u64,
}

/// One workspace root.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RootState {
    pub name: String,
    pub path: String,
    pub files: u64,
    pub chunks: u64,
    pub vectors: u64,
    /// Another process writes this root's index; this one answers from its
    /// last commit.
    pub read_only: bool,
}

/// The state of the host's index, published whenever it changes.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct IndexState {
    pub phase: Phase,
    pub files: u64,
    pub chunks: u64,
    /// Committed chunks that have a vector...
    pub vectors: u64,
    /// ...of this many: search by meaning covers `vectors / vectors_total`.
    pub vectors_total: u64,
    /// A cheap summary: `degraded` when answers are less than they could
    /// be (keyword-only, vectors pending, read-only), else `healthy`. The
    /// health report probes every component for real.
    pub health: HealthSummary,
    /// Why answers are less than they could be, and what to do.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub degraded: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub work: Option<Work>,
    /// HNSW graphs are being built (queries use exact search meanwhile).
    pub graphs_building: bool,
    /// Files open in an editor with their text in the overlay.
    pub open_buffers: u64,
    /// Commits of the index to disk since the host started.
    pub disk_commits: u64,
    /// The indexed files by language, most files first, and what find
    /// usages does in each.
    pub languages: Vec<dowse_engine::health::LanguageStats>,
    /// Changes whenever answers may have changed (a buffer edit, a file on
    /// disk, a commit applied): a view showing results refreshes when it
    /// moves.
    pub generation: u64,
    pub roots: Vec<RootState>,
}

/// [`Status`] with a default, for the state.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct HealthSummary(pub Status);

impl Default for HealthSummary {
    fn default() -> HealthSummary {
        HealthSummary(Status::Healthy)
    }
}

impl IndexState {
    /// Search by meaning's coverage, from 0 to 1 (1 with nothing to cover).
    pub fn coverage(&self) -> f64 {
        if self.vectors_total == 0 {
            1.0
        } else {
            self.vectors as f64 / self.vectors_total as f64
        }
    }
}
