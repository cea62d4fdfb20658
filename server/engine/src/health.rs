//! Health and stats: what `dowse health`, `dowse stats`, LSP `dowse.health`
//! / `dowse.stats` and MCP `health_check` report.
//!
//! Health probes each component for real (a query against the lexical
//! index, an embedding of a short text, a write in the index directory) and
//! times it. The overall status follows one rule: **unhealthy** when the
//! lexical index or the storage fails (dowse cannot answer at all);
//! **degraded** when anything else is not healthy (answers come, but with
//! less: keyword-only search, vectors still being computed, a recovery
//! happened); **healthy** otherwise.
//!
//! The two costly probes (an embedding through the model, a file written and
//! removed in the index directory) are shared: a check within
//! [`PROBE_REUSE`] of the last one reports that probe's outcome and latency
//! instead of probing again, and checks that arrive while one probes wait
//! for it. Agents poll health from many sessions at once; each poll costing
//! a model run took 9% of the server's CPU under the benchmark's 64-client
//! load (`scripts/bench --only mcp`, perf).

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde::Serialize;

use crate::{Engine, semantic};

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Healthy,
    Degraded,
    Unhealthy,
}

#[derive(Clone, Debug, Serialize)]
pub struct Component {
    pub status: Status,
    pub message: String,
    /// How long the probe took; absent when nothing was probed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub latency_ms: Option<f64>,
}

#[derive(Clone, Debug, Serialize)]
pub struct Health {
    pub status: Status,
    pub components: BTreeMap<String, Component>,
}

impl Health {
    /// Adds a component the engine does not own (the LSP server's watcher).
    pub fn add(&mut self, name: &str, component: Component) {
        self.components.insert(name.to_owned(), component);
        self.status = overall(&self.components);
    }
}

fn overall(components: &BTreeMap<String, Component>) -> Status {
    // Without these nothing can be answered (or edits are lost); a root's
    // component is named "root: lexical" when there are several.
    let critical = ["lexical", "storage", "writer"];
    let is_critical = |name: &str| {
        let component = name.rsplit(": ").next().unwrap_or(name);
        critical.contains(&component)
    };
    if components
        .iter()
        .any(|(name, c)| is_critical(name) && c.status == Status::Unhealthy)
    {
        Status::Unhealthy
    } else if components.values().any(|c| c.status != Status::Healthy) {
        Status::Degraded
    } else {
        Status::Healthy
    }
}

#[derive(Clone, Debug, Serialize)]
pub struct Stats {
    pub files: u64,
    pub chunks: u64,
    pub vectors: u64,
    pub pending_embeddings: u64,
    pub index_bytes: u64,
    pub last_index_seconds: Option<f64>,
    pub queries: u64,
    pub query_p50_ms: Option<f64>,
    pub query_p99_ms: Option<f64>,
    pub recoveries: Vec<String>,
    pub uptime_seconds: f64,
    pub read_only: bool,
    /// Commits of the index to disk since the process started: changes on
    /// disk and closed buffers commit; edits of unsaved buffers never do.
    pub disk_commits: u64,
    /// Files whose unsaved text is in the overlay.
    pub open_buffers: u64,
    /// The indexed files by language, most files first.
    pub languages: Vec<LanguageStats>,
    /// The team index, when one is set (filled by the front ends, which
    /// hold the connection: reachable, latency, points, status, replicas).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub remote: Option<serde_json::Value>,
}

/// Adds `more` (another root's languages) to `into`, most files first.
pub fn merge_languages(into: &mut Vec<LanguageStats>, more: Vec<LanguageStats>) {
    for lang in more {
        match into.iter_mut().find(|l| l.name == lang.name) {
            Some(have) => {
                have.files += lang.files;
                have.chunks += lang.chunks;
            }
            None => into.push(lang),
        }
    }
    into.sort_by(|a, b| b.files.cmp(&a.files).then_with(|| a.name.cmp(&b.name)));
}

/// One language's share of an index, and what dowse does with it.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct LanguageStats {
    /// As results and `--lang` name it: "typescript", "markdown", "text".
    pub name: String,
    pub files: u64,
    pub chunks: u64,
    /// Chunked by syntax (definitions with names), else by line windows.
    pub syntax: bool,
    /// Find usages: "workspace" (across files: imports, receivers), "file"
    /// (a file's own definitions and references) or "none".
    pub usages: &'static str,
}

/// What an engine did lately, cheap to read.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Activity {
    pub open_buffers: u64,
    pub disk_commits: u64,
}

/// Query latencies (the most recent ones) and counters.
#[derive(Default)]
pub(crate) struct Counters {
    inner: Mutex<CounterState>,
}

#[derive(Default)]
struct CounterState {
    queries: u64,
    recent_ms: Vec<f64>,
    next: usize,
    last_index: Option<Duration>,
    commits: u64,
}

const RECENT: usize = 1024;

/// How long a probe's outcome answers for its component: long enough that
/// a crowd of checks costs one probe a second, short enough that a model or
/// a disk that breaks shows within a second.
const PROBE_REUSE: Duration = Duration::from_secs(1);

/// The last outcome of one probe, with when it was taken and how long it
/// took.
pub(crate) struct SharedProbe<T> {
    last: Mutex<Option<(Instant, T, f64)>>,
}

impl<T> Default for SharedProbe<T> {
    fn default() -> Self {
        SharedProbe {
            last: Mutex::new(None),
        }
    }
}

impl<T: Clone> SharedProbe<T> {
    /// The outcome and latency (ms) of a probe taken within
    /// [`PROBE_REUSE`], else of `probe` run now. The lock is held while
    /// probing, so checks at the same moment run one probe between them.
    fn get(&self, probe: impl FnOnce() -> T) -> (T, f64) {
        let mut last = self.last.lock().expect("probe lock");
        if let Some((at, outcome, latency)) = last.as_ref()
            && at.elapsed() < PROBE_REUSE
        {
            return (outcome.clone(), *latency);
        }
        let started = Instant::now();
        let outcome = probe();
        let latency = ms(started.elapsed());
        *last = Some((Instant::now(), outcome.clone(), latency));
        (outcome, latency)
    }
}

/// The shared probes of one engine.
#[derive(Default)]
pub(crate) struct Probes {
    embedder: SharedProbe<std::result::Result<(), String>>,
    storage: SharedProbe<std::result::Result<String, String>>,
}

impl Counters {
    pub(crate) fn query(&self, took: Duration) {
        let mut state = self.inner.lock().expect("counters lock");
        state.queries += 1;
        let ms = took.as_secs_f64() * 1000.0;
        if state.recent_ms.len() < RECENT {
            state.recent_ms.push(ms);
        } else {
            let i = state.next;
            state.recent_ms[i] = ms;
        }
        state.next = (state.next + 1) % RECENT;
    }

    pub(crate) fn indexed(&self, took: Duration) {
        self.inner.lock().expect("counters lock").last_index = Some(took);
    }

    pub(crate) fn committed(&self) {
        self.inner.lock().expect("counters lock").commits += 1;
    }

    pub(crate) fn commits(&self) -> u64 {
        self.inner.lock().expect("counters lock").commits
    }
}

impl Engine {
    /// Probes every component.
    pub fn health(&self) -> Health {
        let mut components = BTreeMap::new();

        let started = Instant::now();
        let probe = self.lexical_probe();
        let latency = Some(ms(started.elapsed()));
        components.insert(
            "lexical".to_owned(),
            match probe {
                Ok(docs) => Component {
                    status: Status::Healthy,
                    message: format!("answers queries over {docs} chunks"),
                    latency_ms: latency,
                },
                Err(err) => Component {
                    status: Status::Unhealthy,
                    message: format!("the lexical index fails: {err}"),
                    latency_ms: latency,
                },
            },
        );

        let (embedder, vectors) = match self.semantic() {
            state @ (semantic::SemanticState::Unavailable(_)
            | semantic::SemanticState::NotLoaded) => (
                Component {
                    status: Status::Degraded,
                    message: format!(
                        "keyword search only: {}",
                        state.unavailable().unwrap_or_default()
                    ),
                    latency_ms: None,
                },
                Component {
                    status: Status::Degraded,
                    message: "no vectors without a model".to_owned(),
                    latency_ms: None,
                },
            ),
            semantic::SemanticState::Ready(ready) => {
                // Through the model itself, never the recent-query cache: a
                // model that broke after its first answer must show here.
                let (embedded, latency) = self
                    .probes
                    .embedder
                    .get(|| ready.model.probe("dowse health probe").map(|_| ()));
                let latency = Some(latency);
                let embedder = match embedded {
                    Ok(_) => Component {
                        status: Status::Healthy,
                        message: format!("{} loaded", ready.model.info().id),
                        latency_ms: latency,
                    },
                    Err(err) => Component {
                        status: Status::Degraded,
                        message: format!("the model fails: {err}"),
                        latency_ms: latency,
                    },
                };
                let (have, missing) = self.vector_coverage();
                let vectors = Component {
                    status: if missing == 0 {
                        Status::Healthy
                    } else {
                        Status::Degraded
                    },
                    message: format!("{have} chunks have vectors, {missing} pending"),
                    latency_ms: None,
                };
                (embedder, vectors)
            }
        };
        components.insert("embedder".to_owned(), embedder);
        components.insert("vectors".to_owned(), vectors);

        let started = Instant::now();
        let probe = crate::usages::probe();
        let latency = Some(ms(started.elapsed()));
        let loaded = match self.usage_file_count() {
            Some(n) => format!("occurrences of {n} files loaded"),
            None => "occurrences are loaded on the first usages query".to_owned(),
        };
        components.insert(
            "usages".to_owned(),
            match probe {
                Ok(()) => Component {
                    status: Status::Healthy,
                    message: format!(
                        "finds definitions and references {}; {loaded}",
                        usages_reach(&self.language_stats())
                    ),
                    latency_ms: latency,
                },
                Err(problem) => Component {
                    status: Status::Degraded,
                    message: format!("{problem}; {loaded}"),
                    latency_ms: latency,
                },
            },
        );

        let (storage, latency) = self.probes.storage.get(|| self.storage_probe());
        let latency = Some(latency);
        components.insert(
            "storage".to_owned(),
            match storage {
                Ok(message) => Component {
                    status: if self.recoveries().is_empty() {
                        Status::Healthy
                    } else {
                        Status::Degraded
                    },
                    message,
                    latency_ms: latency,
                },
                Err(err) => Component {
                    status: Status::Unhealthy,
                    message: err,
                    latency_ms: latency,
                },
            },
        );
        let status = overall(&components);
        Health { status, components }
    }

    fn lexical_probe(&self) -> crate::Result<u64> {
        let snapshot = self.lexical.snapshot();
        let docs = snapshot.num_chunks();
        let _ = snapshot.search("health probe", &Default::default(), 1)?;
        Ok(docs)
    }

    /// Writes and removes a file in the index directory: one of its own
    /// per probe, so that checks at the same time never race.
    fn storage_probe(&self) -> std::result::Result<String, String> {
        static PROBES: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let n = PROBES.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let probe = self
            .dir
            .root()
            .join(format!(".health-probe.{}.{n}", std::process::id()));
        dowse_index::store::create_new(&probe)
            .and_then(|mut file| std::io::Write::write_all(&mut file, b"ok"))
            .and_then(|()| std::fs::remove_file(&probe))
            .map_err(|e| {
                format!(
                    "the index directory {} is not writable: {e}",
                    self.dir.root().display()
                )
            })?;
        let mut message = format!(
            "{} bytes in {}",
            self.dir.disk_bytes(),
            self.dir.root().display()
        );
        if let Some(owner) = self.read_only_owner() {
            message.push_str(&format!(
                "; read-only: the index is written by process {owner}"
            ));
        }
        let recoveries = self.recoveries();
        if !recoveries.is_empty() {
            message.push_str(&format!("; recovered: {}", recoveries.join("; ")));
        }
        Ok(message)
    }

    pub fn stats(&self) -> Stats {
        let (files, chunks) = self.counts();
        let (vectors, pending) = self.vector_coverage();
        let languages = self.language_stats();
        // The counters are copied out and let go of before anything else is
        // locked: a commit takes them while it holds the file table, so
        // holding them while waiting for the table would deadlock with it.
        let (mut recent, last_index, queries, commits) = {
            let state = self.counters.inner.lock().expect("counters lock");
            let copy = state.recent_ms.clone();
            (copy, state.last_index, state.queries, state.commits)
        };
        recent.sort_by(|a, b| a.total_cmp(b));
        let pct = |p: f64| {
            (!recent.is_empty()).then(|| recent[((recent.len() - 1) as f64 * p).round() as usize])
        };
        Stats {
            files,
            chunks,
            vectors,
            pending_embeddings: pending,
            index_bytes: self.dir.disk_bytes(),
            last_index_seconds: last_index.map(|d| d.as_secs_f64()),
            queries,
            query_p50_ms: pct(0.5),
            query_p99_ms: pct(0.99),
            recoveries: self.recoveries(),
            uptime_seconds: self.opened.elapsed().as_secs_f64(),
            read_only: self.read_only_owner().is_some(),
            disk_commits: commits,
            open_buffers: self.overlay.view().files.len() as u64,
            languages,
            remote: None,
        }
    }

    /// The indexed files by language, most files first.
    pub fn language_stats(&self) -> Vec<LanguageStats> {
        let files = self.files.read().expect("file table lock");
        let mut counts: std::collections::BTreeMap<&str, (u64, u64)> = Default::default();
        for record in files.files.values() {
            let entry = counts.entry(record.language.as_str()).or_default();
            entry.0 += 1;
            entry.1 += u64::from(record.chunks);
        }
        let mut out: Vec<LanguageStats> = counts
            .into_iter()
            .map(|(name, (files, chunks))| {
                let lang = dowse_syntax::Language::from_name(name);
                LanguageStats {
                    name: name.to_owned(),
                    files,
                    chunks,
                    syntax: lang.is_some(),
                    usages: lang.map_or("none", |l| l.usages().as_str()),
                }
            })
            .collect();
        out.sort_by(|a, b| b.files.cmp(&a.files).then_with(|| a.name.cmp(&b.name)));
        out
    }
}

/// How far find usages goes in the workspace's languages, most files
/// first: "across files in go, python; within each file (and names defined
/// once in the workspace) in java; not in markdown, text".
fn usages_reach(languages: &[LanguageStats]) -> String {
    if languages.is_empty() {
        return "in no language yet (nothing is indexed)".to_owned();
    }
    let named = |level: &str| -> Vec<&str> {
        languages
            .iter()
            .filter(|l| l.usages == level)
            .map(|l| l.name.as_str())
            .collect()
    };
    [
        ("across files in", named("workspace")),
        (
            "within each file (and names defined once in the workspace) in",
            named("file"),
        ),
        ("not in", named("none")),
    ]
    .into_iter()
    .filter(|(_, names)| !names.is_empty())
    .map(|(reach, names)| format!("{reach} {}", names.join(", ")))
    .collect::<Vec<_>>()
    .join("; ")
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use dowse_embed::{EmbedError, Embedder, FakeEmbedder, ModelInfo};

    use super::*;
    use crate::{Config, NoProgress};

    const PROBE_TEXT: &str = "dowse health probe";

    /// The fake model, counting the health probes it answers.
    struct Counting {
        inner: FakeEmbedder,
        probes: AtomicUsize,
    }

    impl Embedder for Counting {
        fn info(&self) -> &ModelInfo {
            self.inner.info()
        }

        fn embed(&self, texts: &[&str]) -> std::result::Result<Vec<Vec<f32>>, EmbedError> {
            if texts == [PROBE_TEXT] {
                self.probes.fetch_add(1, Ordering::SeqCst);
            }
            self.inner.embed(texts)
        }
    }

    /// Health says how far find usages goes in the languages the workspace
    /// holds, not in a fixed list.
    #[test]
    fn the_usages_component_names_the_workspace_languages_by_reach() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("ws");
        std::fs::create_dir_all(&root).unwrap();
        std::fs::write(root.join("main.go"), "package main\n\nfunc main() {}\n").unwrap();
        std::fs::write(root.join("App.java"), "class App { void run() {} }\n").unwrap();
        std::fs::write(root.join("README.md"), "# App\n\nRuns.\n").unwrap();
        let config = Config {
            index_dir: Some(dir.path().join("index")),
            ..Config::default()
        };
        let mut engine =
            Engine::open_with_embedder(&root, config, Arc::new(FakeEmbedder::new(32))).unwrap();
        let before = engine.health();
        assert!(
            before.components["usages"]
                .message
                .starts_with("finds definitions and references in no language yet"),
            "{}",
            before.components["usages"].message
        );
        engine.update(&NoProgress).unwrap();
        let usages = &engine.health().components["usages"];
        assert_eq!(usages.status, Status::Healthy);
        assert!(
            usages.message.starts_with(
                "finds definitions and references across files in go; \
                 within each file (and names defined once in the workspace) in java; \
                 not in markdown; "
            ),
            "{}",
            usages.message
        );
    }

    #[test]
    fn checks_close_together_share_one_model_probe_and_a_later_check_probes_again() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("ws");
        std::fs::create_dir_all(&root).unwrap();
        std::fs::write(
            root.join("a.py"),
            "def retry_upload(part):\n    return part\n",
        )
        .unwrap();
        let model = Arc::new(Counting {
            inner: FakeEmbedder::new(32),
            probes: AtomicUsize::new(0),
        });
        let config = Config {
            index_dir: Some(dir.path().join("index")),
            ..Config::default()
        };
        let mut engine = Engine::open_with_embedder(&root, config, model.clone()).unwrap();
        engine.update(&NoProgress).unwrap();
        engine.prepare_semantic();

        let checks: Vec<Health> = (0..5).map(|_| engine.health()).collect();
        assert_eq!(model.probes.load(Ordering::SeqCst), 1);
        for health in &checks {
            let embedder = &health.components["embedder"];
            assert_eq!(embedder.status, Status::Healthy, "{}", embedder.message);
            assert!(embedder.latency_ms.is_some());
            assert_eq!(health.components["storage"].status, Status::Healthy);
        }
        // The storage probe's file is gone after every check.
        let leftovers = std::fs::read_dir(dir.path().join("index"))
            .unwrap()
            .filter(|e| {
                e.as_ref()
                    .unwrap()
                    .file_name()
                    .to_string_lossy()
                    .starts_with(".health-probe")
            })
            .count();
        assert_eq!(leftovers, 0);

        std::thread::sleep(PROBE_REUSE + Duration::from_millis(50));
        let later = engine.health();
        assert_eq!(model.probes.load(Ordering::SeqCst), 2);
        assert_eq!(later.components["embedder"].status, Status::Healthy);
    }
}
