//! The workspace host with a deterministic fake model: the live overlay,
//! one writer applying editor and disk changes in order, commits only where
//! the disk changed, several roots.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use dowse_engine::embed::FakeEmbedder;
use dowse_engine::{
    Config, ConfigSources, Engine, ModelHandle, NoProgress, SearchMode, SearchRequest, UsagesQuery,
};
use dowse_host::{Host, HostOptions, Phase};

const SETTLE: Duration = Duration::from_secs(30);

struct Workspace {
    _dir: tempfile::TempDir,
    roots: Vec<PathBuf>,
    index: PathBuf,
}

impl Workspace {
    fn new(roots: &[&[(&str, &str)]]) -> Workspace {
        let dir = tempfile::tempdir().unwrap();
        let base = dir.path().canonicalize().unwrap();
        let mut paths = Vec::new();
        for (i, files) in roots.iter().enumerate() {
            let root = base.join(format!("root{i}"));
            for (path, text) in *files {
                let path = root.join(path);
                std::fs::create_dir_all(path.parent().unwrap()).unwrap();
                std::fs::write(path, text).unwrap();
            }
            std::fs::create_dir_all(&root).unwrap();
            paths.push(root);
        }
        Workspace {
            _dir: dir,
            roots: paths,
            index: base.join("index"),
        }
    }

    fn root(&self) -> &Path {
        &self.roots[0]
    }

    fn host(&self) -> Host {
        let options = HostOptions {
            sources: ConfigSources {
                flags: vec![(
                    "index_dir".into(),
                    self.index.to_string_lossy().into_owned().into(),
                )],
                ..ConfigSources::default()
            },
            debounce: Duration::from_millis(10),
            watch: false,
            model: Some(ModelHandle::given(Arc::new(FakeEmbedder::new(32)))),
        };
        let host = Host::start(&self.roots, options).unwrap();
        assert!(
            host.settle(true, SETTLE),
            "the initial indexing did not end"
        );
        host
    }
}

fn search(host: &Host, query: &str, mode: SearchMode) -> Vec<(String, u32, u32)> {
    let request = SearchRequest {
        mode,
        limit: 100,
        ..SearchRequest::new(query)
    };
    host.search(&request)
        .unwrap()
        .results
        .into_iter()
        .map(|r| (r.path, r.start_line, r.end_line))
        .collect()
}

fn paths(host: &Host, query: &str) -> Vec<String> {
    search(host, query, SearchMode::Lexical)
        .into_iter()
        .map(|r| r.0)
        .collect()
}

#[test]
fn an_unsaved_edit_is_found_and_nothing_is_committed_until_the_disk_changes() {
    let ws = Workspace::new(&[&[(
        "app.py",
        "def parse_duration(text):\n    return int(text)\n",
    )]]);
    let host = ws.host();
    let commits = host.stats().disk_commits;
    let file = ws.root().join("app.py");
    let mut text = std::fs::read_to_string(&file).unwrap();
    for i in 0..50 {
        text.push_str(&format!("\ndef wombat_{i}():\n    return {i}\n"));
        host.buffer(&file, text.to_owned());
    }
    assert!(host.settle(true, SETTLE));
    assert_eq!(paths(&host, "wombat_49")[0], "app.py");
    // By meaning too: the fake model puts identical texts together.
    assert_eq!(
        search(
            &host,
            "def wombat_49():\n    return 49",
            SearchMode::Semantic
        )[0]
        .0,
        "app.py"
    );
    assert_eq!(
        host.stats().disk_commits,
        commits,
        "editing a buffer committed to disk"
    );
    assert_eq!(host.state().open_buffers, 1);

    // The editor saves: the disk changes, the index follows, one commit.
    std::fs::write(&file, &text).unwrap();
    host.files_changed(vec![file.clone()]);
    assert!(host.settle(true, SETTLE));
    assert_eq!(host.stats().disk_commits, commits + 1);
    host.close(&file);
    assert!(host.settle(true, SETTLE));
    assert_eq!(paths(&host, "wombat_49")[0], "app.py", "saved text stays");
    assert_eq!(host.state().open_buffers, 0);
    assert_eq!(
        host.stats().disk_commits,
        commits + 1,
        "closing a saved file commits nothing"
    );
}

#[test]
fn closing_a_buffer_returns_its_file_to_the_disk_and_costs_only_that_file() {
    // Each file says a word of its own (`markerd` for m3.py).
    let marker = |i: u8| format!("marker{}", (b'a' + i) as char);
    let files: Vec<(String, String)> = (0..26u8)
        .map(|i| {
            let text = format!("def handler_{i}(x):\n    return {}(x)\n", marker(i));
            (format!("m{i}.py"), text)
        })
        .collect();
    let refs: Vec<(&str, &str)> = files
        .iter()
        .map(|(p, t)| (p.as_str(), t.as_str()))
        .collect();
    let ws = Workspace::new(&[&refs]);
    let host = ws.host();
    let file = ws.root().join("m3.py");
    host.buffer(&file, "def quokka_gate():\n    return 1\n".to_owned());
    assert!(host.settle(true, SETTLE));
    assert_eq!(paths(&host, "quokka_gate"), ["m3.py"]);
    assert!(
        paths(&host, &marker(3)).is_empty(),
        "the disk copy is masked"
    );
    let before = host.stats();
    host.close(&file);
    assert!(host.settle(true, SETTLE));
    assert!(paths(&host, "quokka_gate").is_empty());
    assert_eq!(paths(&host, &marker(3)), ["m3.py"]);
    let after = host.stats();
    // Nothing changed on disk: no commit, no embedding of other files.
    assert_eq!(after.disk_commits, before.disk_commits);
    assert_eq!(after.vectors, before.vectors);
}

/// `lib.py` defines `fetch`, `app.py` imports and calls it once.
fn fetch_workspace() -> Workspace {
    Workspace::new(&[&[
        ("lib.py", "def fetch(url):\n    return url\n"),
        ("app.py", "from lib import fetch\n\nfetch('a')\n"),
    ]])
}

/// The references of `fetch`: path and line.
fn fetch_refs(host: &Host) -> Vec<(String, u32)> {
    host.usages(&UsagesQuery::Symbol("fetch".into()))
        .unwrap()
        .references
        .into_iter()
        .map(|u| (u.path, u.line))
        .collect()
}

#[test]
fn usages_see_the_unsaved_buffer_and_a_saved_then_closed_file_is_read_again() {
    let ws = fetch_workspace();
    let host = ws.host();
    assert_eq!(
        fetch_refs(&host),
        [("app.py".to_owned(), 1), ("app.py".to_owned(), 3)]
    );
    let app = ws.root().join("app.py");
    let edited = "from lib import fetch\n\nfetch('a')\nfetch('b')\n";
    host.buffer(&app, edited.to_owned());
    assert!(host.settle(false, SETTLE));
    assert_eq!(
        fetch_refs(&host),
        [
            ("app.py".to_owned(), 1),
            ("app.py".to_owned(), 3),
            ("app.py".to_owned(), 4)
        ],
        "the unsaved call counts"
    );
    // By position, on the unsaved line.
    let at = host
        .usages(&UsagesQuery::Position {
            path: app.to_string_lossy().into_owned(),
            line: 4,
            column: 1,
        })
        .unwrap();
    assert_eq!(at.symbol, "fetch");
    assert_eq!(at.definitions[0].path, "lib.py");

    // Saved with one more call, then closed: the disk's text counts.
    let saved = "from lib import fetch\n\nfetch('a')\nfetch('b')\nfetch('c')\n";
    host.buffer(&app, saved.to_owned());
    std::fs::write(&app, saved).unwrap();
    host.files_changed(vec![app.clone()]);
    host.close(&app);
    assert!(host.settle(false, SETTLE));
    assert_eq!(fetch_refs(&host).len(), 4);
}

#[test]
fn usages_right_after_an_edit_see_it_whatever_the_debounce() {
    let ws = fetch_workspace();
    let host = ws.host();
    assert_eq!(fetch_refs(&host).len(), 2);
    let app = ws.root().join("app.py");
    host.buffer(
        &app,
        "from lib import fetch\n\nfetch('a')\nfetch('b')\n".to_owned(),
    );
    assert!(host.settle(false, SETTLE));
    // Keystrokes now wait this long before search sees them; find usages,
    // asked of the text the editor shows, must not wait for it.
    host.set_debounce(Duration::from_secs(60));
    let typed = "from lib import fetch\n\nfetch('a')\nfetch('b')\nfetch('c')\n";
    host.buffer(&app, typed.to_owned());
    assert_eq!(
        fetch_refs(&host).last(),
        Some(&("app.py".to_owned(), 5)),
        "the call typed last counts at once"
    );
    host.buffer(&app, format!("{typed}x = 1\nfetch('d')\n"));
    let at = host
        .usages(&UsagesQuery::Position {
            path: app.to_string_lossy().into_owned(),
            line: 7,
            column: 1,
        })
        .unwrap();
    assert_eq!(
        at.symbol, "fetch",
        "the position is read in the newest text"
    );

    // A file never saved, closed: its call is gone at once.
    let scratch = ws.root().join("scratch.py");
    host.buffer(&scratch, "from lib import fetch\nfetch('x')\n".to_owned());
    assert!(fetch_refs(&host).iter().any(|(p, _)| p == "scratch.py"));
    host.close(&scratch);
    assert!(!fetch_refs(&host).iter().any(|(p, _)| p == "scratch.py"));
}

/// A deterministic generator (xorshift), so the test needs no crate.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

/// 500 random opens, edits, saves and closes over 20 files, applied as an
/// editor sends them: afterwards every answer is the answer of a fresh
/// index of the disk.
#[test]
fn random_editor_sessions_end_where_a_fresh_index_of_the_disk_is() {
    let files: Vec<(String, String)> = (0..20)
        .map(|i| {
            (
                format!("pkg/f{i}.py"),
                format!("def disk_{i}(x):\n    return x\n"),
            )
        })
        .collect();
    let refs: Vec<(&str, &str)> = files
        .iter()
        .map(|(p, t)| (p.as_str(), t.as_str()))
        .collect();
    let ws = Workspace::new(&[&refs]);
    let host = ws.host();
    let mut rng = Rng(0x5eed);
    let mut open: std::collections::HashMap<usize, String> = Default::default();
    for step in 0..500 {
        let f = rng.below(20) as usize;
        let path = ws.root().join(format!("pkg/f{f}.py"));
        match rng.below(4) {
            0 => {
                let text = std::fs::read_to_string(&path).unwrap();
                host.buffer(&path, text.to_owned());
                open.insert(f, text);
            }
            1 => {
                let text = format!(
                    "def edit_{step}(x):\n    return x * {step}\n\n\ndef shared_{}(y):\n    return y\n",
                    rng.below(5)
                );
                host.buffer(&path, text.to_owned());
                open.insert(f, text);
            }
            2 => {
                if let Some(text) = open.get(&f) {
                    std::fs::write(&path, text).unwrap();
                    host.files_changed(vec![path.clone()]);
                }
            }
            _ => {
                host.close(&path);
                open.remove(&f);
            }
        }
        if step % 50 == 0 {
            // Now and then the writer catches up in the middle of it all.
            std::thread::sleep(Duration::from_millis(15));
        }
    }
    for f in open.keys() {
        host.close(&ws.root().join(format!("pkg/f{f}.py")));
    }
    assert!(host.settle(true, SETTLE));

    let fresh_dir = tempfile::tempdir().unwrap();
    let mut fresh = Engine::open_with_embedder(
        ws.root(),
        Config {
            index_dir: Some(fresh_dir.path().to_path_buf()),
            ..Config::default()
        },
        Arc::new(FakeEmbedder::new(32)),
    )
    .unwrap();
    fresh.update(&NoProgress).unwrap();
    fresh.embed(&NoProgress).unwrap();
    let mut queries: Vec<String> = (0..500).map(|s| format!("edit_{s}")).collect();
    queries.extend((0..5).map(|i| format!("shared_{i}")));
    queries.extend((0..20).map(|i| format!("disk_{i}")));
    queries.push("return x".into());
    for query in &queries {
        for mode in [SearchMode::Lexical, SearchMode::Hybrid] {
            let request = SearchRequest {
                mode,
                limit: 100,
                ..SearchRequest::new(query.as_str())
            };
            let mut expected: Vec<(String, u32, u32)> = fresh
                .search(&request)
                .unwrap()
                .results
                .into_iter()
                .map(|r| (r.path, r.start_line, r.end_line))
                .collect();
            let mut got = search(&host, query, mode);
            expected.sort();
            got.sort();
            assert_eq!(
                got, expected,
                "`{query}` ({mode}) differs from a fresh index"
            );
        }
    }
    assert_eq!(host.state().open_buffers, 0);
}

#[test]
fn every_root_is_indexed_and_searched_and_results_name_their_root() {
    let ws = Workspace::new(&[
        &[("a.py", "def alpha_gateway():\n    return 1\n")],
        &[("b.py", "def beta_gateway():\n    return 2\n")],
    ]);
    let host = ws.host();
    let request = SearchRequest {
        mode: SearchMode::Lexical,
        ..SearchRequest::new("gateway")
    };
    let results = host.search(&request).unwrap().results;
    let mut found: Vec<(String, String)> = results.into_iter().map(|r| (r.root, r.path)).collect();
    found.sort();
    assert_eq!(
        found,
        [
            (ws.roots[0].display().to_string(), "a.py".to_owned()),
            (ws.roots[1].display().to_string(), "b.py".to_owned())
        ]
    );
    let state = host.state();
    assert_eq!(state.roots.len(), 2);
    assert_eq!(state.phase, Phase::Ready);
    assert_eq!(state.files, 2);

    // A root removed is no longer searched; added back, it is again.
    host.remove_root(&ws.roots[1]);
    assert!(host.settle(true, SETTLE));
    assert_eq!(paths(&host, "gateway"), ["a.py"]);
    host.add_root(&ws.roots[1]).unwrap();
    assert!(host.settle(true, SETTLE));
    let mut again = paths(&host, "gateway");
    again.sort();
    assert_eq!(again, ["a.py", "b.py"]);
    // Paths are confined to the roots.
    assert!(host.resolve("../outside.py").is_err());
    assert!(host.resolve("/etc/passwd").is_err());
    assert_eq!(host.resolve("a.py").unwrap().1, "a.py");
}

#[test]
fn the_state_reports_coverage_and_the_end_of_indexing() {
    let ws = Workspace::new(&[&[
        ("a.py", "def one():\n    return 1\n"),
        ("b.py", "def two():\n    return 2\n"),
    ]]);
    let host = ws.host();
    let state = host.state();
    assert_eq!(state.phase, Phase::Ready);
    assert_eq!((state.files, state.chunks), (2, 2));
    assert_eq!(state.vectors, state.vectors_total);
    assert_eq!(state.coverage(), 1.0);
    assert!(state.work.is_none());
    assert!(host.shutdown(Duration::from_secs(5)));
}

/// A panic while the writer applies a change (here injected while a text is
/// chunked) skips that path with the reason in health, and the writer goes
/// on: the rest of the disk is indexed, later edits are searchable.
#[test]
fn a_panic_in_a_writer_step_skips_that_path_and_the_writer_goes_on() {
    const MARKER: &str = "DOWSE_INJECTED_PANIC";
    dowse_engine::test_hooks::panic_on(MARKER);
    let ws = Workspace::new(&[&[
        (
            "app.py",
            "def parse_duration(text):\n    return int(text)\n",
        ),
        (
            "bad.py",
            "# DOWSE_INJECTED_PANIC\ndef broken():\n    pass\n",
        ),
    ]]);
    let host = ws.host();
    assert_eq!(paths(&host, "parse_duration")[0], "app.py");
    assert!(paths(&host, "broken").is_empty());
    let writer = &host.health().components["writer"];
    assert_eq!(writer.status, dowse_engine::health::Status::Degraded);
    assert!(writer.message.contains("bad.py"), "{}", writer.message);

    // A buffer whose text makes chunking panic.
    let app = ws.root().join("app.py");
    host.buffer(
        &app,
        format!("def wombat_typed():\n    return '{MARKER}'\n"),
    );
    assert!(host.settle(true, SETTLE));
    let writer = &host.health().components["writer"];
    assert!(writer.message.contains("app.py"), "{}", writer.message);
    assert!(
        writer.message.contains("a test asked for a panic"),
        "{}",
        writer.message
    );

    // The writer is alive: the next edit is applied and found.
    let other = ws.root().join("other.py");
    host.buffer(&other, "def numbat_typed():\n    return 1\n".to_owned());
    assert!(host.settle(true, SETTLE));
    assert_eq!(paths(&host, "numbat_typed"), ["other.py"]);
    assert_eq!(
        host.search(&SearchRequest::new("numbat_typed"))
            .unwrap()
            .results[0]
            .path,
        "other.py"
    );
}
