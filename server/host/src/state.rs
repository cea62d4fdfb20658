//! The index state that front ends show: what the host is doing, how much
//! is indexed, how much of it can be searched by meaning.

use std::sync::atomic::Ordering;

use dowse_engine::Progress;
use dowse_engine::health::{Component, Status};
use serde::Serialize;

use crate::Shared;

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

/// Failures kept for health (the log has all of them).
const MAX_FAILURES_KEPT: usize = 16;

/// What every request says when the writer thread is gone.
pub(crate) const WRITER_GONE: &str = "dowse's index writer stopped after an internal error (see the log): \
     edits are no longer applied and answers would be stale; restart the language server";

/// The state and the writer's health, as the host keeps them.
impl Shared {
    /// Notes a path the writer skipped after failing on it, for health.
    pub(crate) fn record_failure(&self, what: &str, reason: &str) {
        let mut failures = self.failures.lock().expect("failures lock");
        failures.retain(|(w, _)| w != what);
        failures.push((what.to_owned(), reason.to_owned()));
        // The newest few say enough; the log has every one.
        let excess = failures.len().saturating_sub(MAX_FAILURES_KEPT);
        failures.drain(..excess);
    }

    /// The writer as a health component: unhealthy when its thread is
    /// gone, degraded while paths it failed on are skipped.
    pub(crate) fn writer_component(&self) -> Component {
        if !self.writer_alive.load(Ordering::Acquire) && !self.stopping.load(Ordering::Acquire) {
            return Component {
                status: Status::Unhealthy,
                message: WRITER_GONE.to_owned(),
                latency_ms: None,
            };
        }
        let failures = self.failures.lock().expect("failures lock");
        if failures.is_empty() {
            return Component {
                status: Status::Healthy,
                message: "applying edits and changes on disk".to_owned(),
                latency_ms: None,
            };
        }
        let said: Vec<String> = failures
            .iter()
            .map(|(what, reason)| format!("{what}: {reason}"))
            .collect();
        Component {
            status: Status::Degraded,
            message: format!(
                "skipped after dowse failed on them (a bug; the rest is indexed): {}",
                said.join("; ")
            ),
            latency_ms: None,
        }
    }

    pub(crate) fn report_error(&self, message: String) {
        let mut errors = self.errors.lock().expect("errors lock");
        if !errors.contains(&message) {
            errors.push(message);
        }
    }

    pub(crate) fn update_state(&self, change: impl FnOnce(&mut IndexState)) {
        self.state.send_modify(change);
    }

    /// Answers may have changed: an edit, a file or a commit was applied.
    pub(crate) fn bump_generation(&self) {
        self.generation.fetch_add(1, Ordering::AcqRel);
    }

    /// The state as the engines have it now, with the writer's phase.
    pub(crate) fn refresh_state(&self, phase: Phase, work: Option<Work>, building: bool) {
        let roots = self.roots();
        let mut state = IndexState {
            phase,
            work,
            graphs_building: building,
            generation: self.generation.load(Ordering::Acquire),
            ..IndexState::default()
        };
        let mut degraded = Vec::new();
        for root in &roots {
            let engine = &root.engine;
            let (files, chunks) = engine.counts();
            let (vectors, _) = engine.vector_coverage();
            let stats = engine.activity();
            state.files += files;
            state.chunks += chunks;
            state.vectors += vectors;
            state.vectors_total += chunks;
            state.open_buffers += stats.open_buffers;
            state.disk_commits += stats.disk_commits;
            dowse_engine::health::merge_languages(&mut state.languages, engine.language_stats());
            if let Some(reason) = engine.semantic_unavailable() {
                degraded.push(format!("keyword search only: {reason}"));
            }
            if let Some(owner) = engine.read_only_owner() {
                degraded.push(format!(
                    "{} is read-only: another dowse process (pid {owner}) writes its index",
                    root.path.display()
                ));
            }
            state.roots.push(RootState {
                name: root.name.clone(),
                path: root.path.display().to_string(),
                files,
                chunks,
                vectors,
                read_only: engine.read_only_owner().is_some(),
            });
        }
        degraded.dedup();
        let pending = state.vectors < state.vectors_total && degraded.is_empty();
        state.health = HealthSummary(if degraded.is_empty() && !pending {
            Status::Healthy
        } else {
            Status::Degraded
        });
        if !degraded.is_empty() {
            state.degraded = Some(degraded.join("; "));
        }
        self.state.send_if_modified(|current| {
            if *current == state {
                false
            } else {
                *current = state;
                true
            }
        });
    }
}

/// Engine progress (the initial indexing) into the published state.
pub(crate) struct StateProgress<'a> {
    pub(crate) shared: &'a Shared,
}

impl Progress for StateProgress<'_> {
    fn begin(&self, stage: &str, total: u64) {
        self.shared.update_state(|state| {
            state.phase = Phase::Indexing;
            state.work = Some(Work {
                stage: stage.to_owned(),
                done: 0,
                total,
            });
        });
    }

    fn advance(&self, done: u64) {
        self.shared.update_state(|state| {
            if let Some(work) = &mut state.work {
                work.done = (work.done + done).min(work.total);
            }
        });
    }

    fn end(&self) {
        self.shared.update_state(|state| state.work = None);
    }
}
