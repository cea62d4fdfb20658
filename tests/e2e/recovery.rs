//! Crash safety and recovery, end to end with the real binary: SIGKILL at
//! random moments of indexing, corruption of every file of the index
//! directory, two processes on one index. After each, answers equal those
//! of a clean index.

#![allow(clippy::print_stderr)] // the crash test says its seed, so a failure can be replayed

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use dowse_tests::TestWorkspace;
use serde_json::Value;

const QUERIES: &[&str] = &[
    "parse_duration",
    "UploadError",
    "token bucket",
    "celsius",
    "StorageClient",
    "walrus",
    "changed",
];

/// Every chunk each query matches, as a set: comparable across indexes
/// whose segment layout (and so the order among equal scores) differs.
fn answers(ws: &TestWorkspace) -> Vec<BTreeSet<(String, u64)>> {
    answers_with(ws, None)
}

fn answers_with(ws: &TestWorkspace, index_dir: Option<&Path>) -> Vec<BTreeSet<(String, u64)>> {
    QUERIES
        .iter()
        .map(|q| {
            let mut cmd = ws.command(&[
                "search", q, "--mode", "lexical", "--json", "--limit", "1000",
            ]);
            if let Some(dir) = index_dir {
                cmd.env("DOWSE_INDEX_DIR", dir);
            }
            let out = cmd.output().unwrap();
            assert!(
                out.status.success(),
                "search {q}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            let v: Value = serde_json::from_slice(&out.stdout).unwrap();
            v["results"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| {
                    (
                        r["path"].as_str().unwrap().to_owned(),
                        r["start_line"].as_u64().unwrap(),
                    )
                })
                .collect()
        })
        .collect()
}

/// Every file of the index directory that the index relies on (not the
/// locks, not the backups).
fn index_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            if path.is_dir() {
                if name != "backups" {
                    stack.push(path);
                }
            } else if !name.ends_with(".lock")
                && name != "lock"
                && std::fs::metadata(&path).unwrap().len() > 0
            {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}

#[derive(Clone, Copy, Debug)]
enum Damage {
    Flip,
    Truncate,
    Delete,
}

fn damage(path: &Path, how: Damage) {
    match how {
        Damage::Flip => {
            let mut bytes = std::fs::read(path).unwrap();
            let at = bytes.len() / 2;
            let end = (at + 8).min(bytes.len());
            for b in &mut bytes[at..end] {
                *b ^= 0x5a;
            }
            // In place, as a failing disk would.
            std::fs::OpenOptions::new()
                .write(true)
                .open(path)
                .and_then(|mut f| std::io::Write::write_all(&mut f, &bytes))
                .unwrap();
        }
        Damage::Truncate => {
            let len = std::fs::metadata(path).unwrap().len();
            std::fs::OpenOptions::new()
                .write(true)
                .open(path)
                .unwrap()
                .set_len(len / 2)
                .unwrap();
        }
        Damage::Delete => std::fs::remove_file(path).unwrap(),
    }
}

/// What a file of the index directory is, independent of the segment
/// names a build picks: `lexical/*.idx`, `files.json`, ...
fn role(dir: &Path, path: &Path) -> String {
    let rel = path
        .strip_prefix(dir)
        .unwrap()
        .to_string_lossy()
        .into_owned();
    let name = path.file_name().unwrap().to_string_lossy().into_owned();
    let parent = rel.rsplit_once('/').map_or("", |(p, _)| p).to_owned();
    if name.starts_with('.') || name.ends_with(".json") || name.ends_with(".bin") {
        rel
    } else {
        format!(
            "{parent}/*.{}",
            name.split_once('.').map_or("", |(_, ext)| ext)
        )
    }
}

#[test]
fn every_damaged_index_file_is_detected_and_recovered() {
    let ws = TestWorkspace::fixture("workspace");
    ws.dowse(&["index", "--lexical-only"]).ok();
    let clean = answers(&ws);
    assert!(
        clean.iter().filter(|a| !a.is_empty()).count() >= 5,
        "the queries answer: {clean:?}"
    );
    let roles: BTreeSet<String> = index_files(&ws.index_dir)
        .iter()
        .map(|p| role(&ws.index_dir, p))
        .collect();
    assert!(roles.len() >= 8, "{roles:?}");
    let mut checked = 0;
    for wanted in &roles {
        for how in [Damage::Flip, Damage::Truncate, Damage::Delete] {
            // Start from a sound index each time.
            let _ = std::fs::remove_dir_all(&ws.index_dir);
            ws.dowse(&["index", "--lexical-only"]).ok();
            let target = index_files(&ws.index_dir)
                .into_iter()
                .find(|p| role(&ws.index_dir, p) == *wanted)
                .unwrap_or_else(|| panic!("no {wanted} in a fresh index"));
            damage(&target, how);
            let run = ws.dowse(&["search", "parse_duration", "--mode", "lexical", "--json"]);
            assert_eq!(run.code(), 0, "{wanted} {how:?}: {}", run.stderr());
            assert!(
                run.stderr().contains("recovered the index"),
                "{wanted} {how:?}: the damage went unnoticed:\n{}",
                run.stderr()
            );
            assert_eq!(
                answers(&ws),
                clean,
                "{wanted} {how:?}: answers differ after recovery"
            );
            checked += 1;
        }
    }
    eprintln!("damaged {checked} ways: {roles:?}");
}

#[test]
fn a_lost_segment_file_is_restored_from_the_backup() {
    let ws = TestWorkspace::fixture("workspace");
    ws.dowse(&["index", "--lexical-only"]).ok();
    let clean = answers(&ws);
    let segment = index_files(&ws.index_dir)
        .into_iter()
        .find(|p| p.extension().is_some_and(|e| e == "idx"))
        .expect("a postings file");
    std::fs::remove_file(&segment).unwrap();
    let run = ws.dowse(&["search", "parse_duration", "--mode", "lexical", "--json"]);
    assert!(
        run.stderr().contains("restored the backup of generation"),
        "{}",
        run.stderr()
    );
    assert_eq!(answers(&ws), clean);
}

/// A workspace big enough that indexing takes a while: the fixture plus
/// generated modules.
fn big_workspace() -> TestWorkspace {
    let ws = TestWorkspace::fixture("workspace");
    const ANIMALS: &[&str] = &[
        "walrus", "heron", "badger", "otter", "lynx", "marten", "ibis", "tapir",
    ];
    for i in 0..400 {
        let animal = ANIMALS[i % ANIMALS.len()];
        let mut text = String::new();
        for j in 0..12 {
            text.push_str(&format!(
                "def handler_{i}_{j}(request, retries={j}):\n    \"\"\"Handle request {i}.{j} for the {animal} tenant.\"\"\"\n    total = 0\n    for attempt in range(retries):\n        total += attempt * {i}\n    return total\n\n\n"
            ));
        }
        ws.write(&format!("gen/pkg{}/mod_{i}.py", i % 10), text);
    }
    ws
}

struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 33) % n.max(1)
    }
}

#[test]
fn sigkill_at_random_moments_never_corrupts_the_index() {
    let rounds: u64 = std::env::var("DOWSE_CRASH_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20);
    let ws = big_workspace();
    // The reference: a clean index of the same tree, elsewhere.
    let reference_dir = ws.home.join("reference-index");
    let started = Instant::now();
    let run = ws
        .command(&["index", "--lexical-only"])
        .env("DOWSE_INDEX_DIR", &reference_dir)
        .output()
        .unwrap();
    assert!(run.status.success());
    let clean_time = started.elapsed();
    let reference = |ws: &TestWorkspace| answers_with(ws, Some(&reference_dir));
    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64;
    eprintln!("crash test: {rounds} rounds, seed {seed}, clean index {clean_time:?}");
    let mut rng = Rng(seed);
    let window = clean_time.as_millis() as u64 + 50;
    let mut recoveries = BTreeSet::new();
    for round in 0..rounds {
        // Change some files so that each round has work to do.
        for k in 0..60 {
            let i = rng.below(400);
            ws.write(
                &format!("gen/pkg{}/mod_{i}.py", i % 10),
                format!("def changed_{round}_{k}(x):\n    return x  # round {round}\n"),
            );
        }
        let mut child = ws
            .command(&["index", "--lexical-only"])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(rng.below(window)));
        let _ = child.kill(); // SIGKILL
        let _ = child.wait();
        // The next process loads or recovers, and catches up.
        let run = ws.dowse(&["index", "--lexical-only"]);
        assert_eq!(run.code(), 0, "round {round}: {}", run.stderr());
        for line in run
            .stderr()
            .lines()
            .filter(|l| l.contains("recovered the index"))
        {
            recoveries.insert(line.to_owned());
        }
        // Bring the reference up to date with the same tree.
        let out = ws
            .command(&["index", "--lexical-only"])
            .env("DOWSE_INDEX_DIR", &reference_dir)
            .output()
            .unwrap();
        assert!(out.status.success());
        let (got, want) = (answers(&ws), reference(&ws));
        for (q, (g, w)) in QUERIES.iter().zip(got.iter().zip(&want)) {
            assert!(w.len() < 1000, "`{q}` matches too much to compare");
            assert!(
                g == w,
                "round {round} (seed {seed}): `{q}` differs from a clean index: extra {:?}, missing {:?}",
                g.difference(w).take(5).collect::<Vec<_>>(),
                w.difference(g).take(5).collect::<Vec<_>>()
            );
        }
    }
    eprintln!("crash test: recoveries seen: {recoveries:?}");
}

#[test]
fn a_second_process_reads_while_the_first_writes() {
    let ws = TestWorkspace::fixture("workspace");
    ws.dowse(&["index", "--lexical-only"]).ok();
    let clean = answers(&ws);
    // The LSP server holds the index.
    let mut server = dowse_tests::lsp::LspClient::spawn(ws.command(&["lsp"]));
    server.initialize(&ws.root, serde_json::json!({}), serde_json::json!({}));
    let stats = ws.dowse(&["stats", "--json"]);
    assert!(stats.stderr().contains("read-only"), "{}", stats.stderr());
    assert_eq!(stats.json()["read_only"], true);
    assert_eq!(
        answers(&ws),
        clean,
        "the reader answers from the last commit"
    );
    drop(server);
    // The lock died with its owner: the next process writes again.
    let stats = ws.dowse(&["stats", "--json"]);
    assert_eq!(stats.json()["read_only"], false, "{}", stats.stderr());
}

#[test]
#[allow(unsafe_code)]
fn sigterm_during_indexing_exits_in_time_and_leaves_a_clean_index() {
    let ws = big_workspace();
    // Enough work that the signal lands mid-way.
    for i in 0..3000 {
        ws.write(&format!("more/m{}/f{i}.py", i % 30), format!("def more_{i}(x):\n    return x * {i}\n\n\ndef again_{i}():\n    return more_{i}(2)\n"));
    }
    let reference_dir = ws.home.join("reference-index");
    let started = Instant::now();
    let out = ws
        .command(&["index", "--lexical-only"])
        .env("DOWSE_INDEX_DIR", &reference_dir)
        .output()
        .unwrap();
    assert!(out.status.success());
    // Signal a third of the way through the same work, however fast this
    // machine is.
    let clean_time = started.elapsed();
    let child = ws
        .command(&["index", "--lexical-only"])
        .env("DOWSE_SHUTDOWN_TIMEOUT_MS", "3000")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(clean_time / 3);
    let signalled = Instant::now();
    // SAFETY: sending a signal to our own child process.
    unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGTERM) };
    let out = child.wait_with_output().unwrap();
    let took = signalled.elapsed();
    assert!(
        took < Duration::from_secs(4),
        "exited {took:?} after SIGTERM (bound 3 s)"
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(130), "{stderr}");
    assert!(stderr.contains("interrupted"), "{stderr}");
    // The next run loads clean (no recovery) and catches up.
    let run = ws.dowse(&["index", "--lexical-only"]);
    assert_eq!(run.code(), 0, "{}", run.stderr());
    assert!(!run.stderr().contains("recovered"), "{}", run.stderr());
    assert_eq!(answers(&ws), answers_with(&ws, Some(&reference_dir)));
}
