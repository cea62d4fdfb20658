//! dowse's benchmark program: prints a readable table on stderr and JSON on
//! stdout (or `--out FILE`).
//!
//! What it compares, all measured in the same run on the same machine, because
//! these machines are noisy and only same-run ratios mean anything:
//!
//! - lexical: a cold `dowse index` of a corpus (by default the CPython
//!   standard library found on the machine, `*.py`, site-packages excluded)
//!   against `rg` scanning the same files (the floor: no tool that reads every
//!   file can beat it), files/s, MB/s, chunks, peak RSS, index bytes on disk,
//!   and lexical query latency p50/p99 over a fixed list of queries.
//!
//! Usage (release build; `scripts/bench` builds the binary first):
//!
//! ```text
//! cargo bench -p dowse-tests --bench dowse -- [--corpus DIR] [--include GLOB]...
//!     [--exclude GLOB]... [--runs N] [--out FILE]
//! ```
//!
//! The acceptance floor for indexing is `rg --count-matches '\w+'`: like an
//! index, it has to find every word of every file. The ratios against cheaper
//! rg scans (a literal that never matches, `def \w+`) are reported as well.

// getrusage/wait4 are the only way to read a child's peak RSS.
#![allow(unsafe_code, clippy::print_stdout, clippy::print_stderr)]

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use dowse_engine::walk::{WalkOptions, walk};
use dowse_engine::{Config, Engine, SearchMode, SearchRequest};
use serde_json::{Value, json};

struct Args {
    corpus: PathBuf,
    include: Vec<String>,
    exclude: Vec<String>,
    runs: usize,
    out: Option<PathBuf>,
}

const LEXICAL_QUERIES: &[&str] = &[
    "parse a duration string",
    "open a url and read the response",
    "retry the request after a failure",
    "HTTPConnection",
    "json decode error position",
    "compress data with zlib",
    "read members of a zip archive",
    "format a date as iso 8601",
    "tokenize python source code",
    "thread pool executor submit",
    "urlparse",
    "decode base64 data",
    "socket timeout",
    "run a subprocess with a timeout",
    "copy a directory tree recursively",
    "temporary directory cleanup",
    "parse command line arguments",
    "encode an email header",
    "sqlite cursor execute",
    "deque rotate",
    "push an item onto a heap",
    "lru_cache",
    "names of the months",
    "walk a directory tree",
    "translate a glob pattern to a regular expression",
    "pickle protocol version",
    "assertRaises",
    "run the event loop until complete",
    "wrap a socket with ssl",
    "rotate log files by size",
    "get_terminal_size",
    "quote a string for the shell",
];

fn main() {
    let args = parse_args();
    let mut report = json!({
        "machine": machine(),
        "corpus": corpus_stats(&args),
    });
    report["lexical"] = lexical(&args);
    print_table(&report);
    let text = serde_json::to_string_pretty(&report).expect("json");
    match &args.out {
        Some(path) => std::fs::write(path, text + "\n").expect("write --out"),
        None => println!("{text}"),
    }
}

fn parse_args() -> Args {
    let mut args = Args {
        corpus: PathBuf::new(),
        include: Vec::new(),
        exclude: Vec::new(),
        runs: 3,
        out: None,
    };
    let mut corpus = None;
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        let mut value = || it.next().unwrap_or_else(|| panic!("{arg} needs a value"));
        match arg.as_str() {
            "--corpus" => corpus = Some(PathBuf::from(value())),
            "--include" => args.include.push(value()),
            "--exclude" => args.exclude.push(value()),
            "--runs" => args.runs = value().parse().expect("--runs N"),
            "--out" => args.out = Some(PathBuf::from(value())),
            "--bench" => {} // cargo bench passes this
            other => panic!("unknown argument {other}"),
        }
    }
    match corpus {
        Some(dir) => args.corpus = dir,
        None => {
            args.corpus = python_stdlib();
            if args.include.is_empty() {
                args.include.push("*.py".into());
            }
            if args.exclude.is_empty() {
                args.exclude.push("site-packages".into());
            }
        }
    }
    args
}

fn python_stdlib() -> PathBuf {
    let out = Command::new("python3")
        .args([
            "-c",
            "import sysconfig; print(sysconfig.get_paths()['stdlib'])",
        ])
        .output()
        .expect("python3 is needed to find the standard library (or pass --corpus DIR)");
    PathBuf::from(String::from_utf8(out.stdout).expect("utf-8").trim())
}

fn machine() -> Value {
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    json!({ "cores": cores, "loadavg_at_start": load.split_whitespace().take(3).collect::<Vec<_>>().join(" ") })
}

fn walk_options(args: &Args) -> WalkOptions {
    WalkOptions {
        include: args.include.clone(),
        exclude: args.exclude.clone(),
        ..WalkOptions::default()
    }
}

fn corpus_stats(args: &Args) -> Value {
    let root = args.corpus.canonicalize().expect("corpus exists");
    let walked = walk(&root, &walk_options(args)).expect("walk corpus");
    let bytes: u64 = walked.files.iter().map(|f| f.size).sum();
    let lines: usize = walked
        .files
        .iter()
        .map(|f| {
            std::fs::read(&f.abs_path).map_or(0, |b| b.iter().filter(|&&c| c == b'\n').count())
        })
        .sum();
    json!({
        "path": root.display().to_string(),
        "include": args.include,
        "exclude": args.exclude,
        "files": walked.files.len(),
        "bytes": bytes,
        "lines": lines,
    })
}

fn dowse_bin() -> PathBuf {
    dowse_tests::dowse_bin()
}

/// Runs `cmd`, returning its wall time, stdout and peak RSS in KiB.
// The child is reaped by `wait4`, which also reports its rusage.
#[allow(clippy::zombie_processes)]
fn measure(mut cmd: Command) -> (Duration, String, u64) {
    let started = Instant::now();
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn");
    let mut stdout = String::new();
    child
        .stdout
        .take()
        .expect("stdout")
        .read_to_string(&mut stdout)
        .expect("read stdout");
    let mut status = 0;
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: the pid is our own child, not yet reaped; status and usage are
    // valid out-pointers.
    let pid = unsafe { libc::wait4(child.id() as libc::pid_t, &mut status, 0, &mut usage) };
    let elapsed = started.elapsed();
    assert_eq!(pid, child.id() as libc::pid_t, "wait4 failed");
    (elapsed, stdout, usage.ru_maxrss as u64)
}

fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(|a, b| a.partial_cmp(b).expect("no NaN"));
    xs[xs.len() / 2]
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    let rank = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[rank]
}

fn rg_floor(args: &Args, pattern: &str, count_matches: bool) -> f64 {
    let run = || {
        let mut cmd = Command::new("rg");
        cmd.arg(if count_matches {
            "--count-matches"
        } else {
            "--count"
        });
        for glob in &args.include {
            cmd.args(["-g", glob]);
        }
        for glob in &args.exclude {
            cmd.args(["-g", &format!("!{glob}")]);
        }
        cmd.arg("--").arg(pattern).arg(&args.corpus);
        measure(cmd).0.as_secs_f64()
    };
    run(); // warm the page cache
    median((0..args.runs.max(3)).map(|_| run()).collect())
}

fn lexical(args: &Args) -> Value {
    if Command::new("rg").arg("--version").output().is_err() {
        panic!("ripgrep (`rg`) is needed for the floor measurement: apt-get install ripgrep");
    }
    let rg_words = rg_floor(args, r"\w+", true);
    let rg_def = rg_floor(args, r"def \w+", false);
    let rg_literal = rg_floor(args, "zq_no_such_word_qz", false);

    let scratch = tempfile::tempdir().expect("temp dir");
    let mut walls = Vec::new();
    let mut rss = Vec::new();
    let mut last_report = Value::Null;
    let mut index_dir = PathBuf::new();
    for run in 0..args.runs {
        index_dir = scratch.path().join(format!("index-{run}"));
        let mut cmd = Command::new(dowse_bin());
        cmd.arg("index")
            .arg(&args.corpus)
            .arg("--json")
            .env("DOWSE_INDEX_DIR", &index_dir);
        for glob in &args.include {
            cmd.args(["--include", glob]);
        }
        for glob in &args.exclude {
            cmd.args(["--exclude", glob]);
        }
        let (wall, stdout, max_rss) = measure(cmd);
        last_report = serde_json::from_str(&stdout).expect("dowse index --json");
        walls.push(wall.as_secs_f64());
        rss.push(max_rss as f64);
    }
    let wall = median(walls.clone());
    let files = last_report["files"].as_f64().unwrap_or(0.0);
    let chunks = last_report["chunks"].as_u64().unwrap_or(0);
    let bytes = corpus_bytes(args);
    let index_bytes = dowse_index_bytes(&index_dir);

    let latencies = query_latencies(args, &index_dir);
    let ratio = wall / rg_words;
    json!({
        "index_wall_s": wall,
        "index_wall_runs_s": walls,
        "files": files,
        "chunks": chunks,
        "files_per_s": files / wall,
        "mb_per_s": bytes as f64 / 1e6 / wall,
        "peak_rss_mb": median(rss) / 1024.0,
        "index_bytes": index_bytes,
        "index_to_source_ratio": index_bytes as f64 / bytes as f64,
        "rg_count_words_s": rg_words,
        "rg_def_s": rg_def,
        "rg_literal_s": rg_literal,
        "index_vs_rg_count_words": ratio,
        "index_vs_rg_def": wall / rg_def,
        "index_vs_rg_literal": wall / rg_literal,
        "query_count": latencies.len(),
        "query_p50_ms": percentile(&latencies, 0.5),
        "query_p99_ms": percentile(&latencies, 0.99),
        "targets": {
            "index_vs_rg_count_words_max": 20.0,
            "query_p50_ms_max": 5.0,
            "met": ratio <= 20.0 && percentile(&latencies, 0.5) <= 5.0,
        },
    })
}

fn corpus_bytes(args: &Args) -> u64 {
    let root = args.corpus.canonicalize().expect("corpus");
    walk(&root, &walk_options(args))
        .expect("walk")
        .files
        .iter()
        .map(|f| f.size)
        .sum()
}

fn dowse_index_bytes(dir: &Path) -> u64 {
    dowse_engine::IndexDir::new(dir.to_path_buf()).disk_bytes()
}

/// Lexical query latency in ms, in-process (what a server answers with):
/// every query of the list, five times over, after one warm-up pass.
fn query_latencies(args: &Args, index_dir: &Path) -> Vec<f64> {
    let config = Config {
        index_dir: Some(index_dir.to_path_buf()),
        include: args.include.clone(),
        exclude: args.exclude.clone(),
        ..Config::default()
    };
    let engine = Engine::open(&args.corpus, config).expect("open the benchmark index");
    let request = |q: &str| SearchRequest {
        query: q.to_owned(),
        mode: SearchMode::Lexical,
        limit: 10,
    };
    for q in LEXICAL_QUERIES {
        engine.search(&request(q)).expect("search");
    }
    let mut latencies = Vec::new();
    for _ in 0..5 {
        for q in LEXICAL_QUERIES {
            let started = Instant::now();
            let response = engine.search(&request(q)).expect("search");
            latencies.push(started.elapsed().as_secs_f64() * 1000.0);
            assert!(!response.results.is_empty(), "no results for {q:?}");
        }
    }
    latencies.sort_by(|a, b| a.partial_cmp(b).expect("no NaN"));
    latencies
}

fn print_table(report: &Value) {
    let c = &report["corpus"];
    eprintln!();
    eprintln!(
        "corpus: {} ({} files, {:.1} MB, {} lines), machine: {} cores, load {}",
        c["path"].as_str().unwrap_or(""),
        c["files"],
        c["bytes"].as_f64().unwrap_or(0.0) / 1e6,
        c["lines"],
        report["machine"]["cores"],
        report["machine"]["loadavg_at_start"].as_str().unwrap_or("")
    );
    let l = &report["lexical"];
    let row = |name: &str, value: String| eprintln!("  {name:<36} {value}");
    eprintln!("lexical");
    row(
        "cold index wall (median)",
        format!("{:.2} s", l["index_wall_s"].as_f64().unwrap_or(0.0)),
    );
    row(
        "files/s, MB/s",
        format!(
            "{:.0}, {:.2}",
            l["files_per_s"].as_f64().unwrap_or(0.0),
            l["mb_per_s"].as_f64().unwrap_or(0.0)
        ),
    );
    row("chunks", format!("{}", l["chunks"]));
    row(
        "peak RSS",
        format!("{:.0} MB", l["peak_rss_mb"].as_f64().unwrap_or(0.0)),
    );
    row(
        "index bytes / source bytes",
        format!(
            "{} / {:.2}",
            l["index_bytes"],
            l["index_to_source_ratio"].as_f64().unwrap_or(0.0)
        ),
    );
    row(
        "rg --count-matches '\\w+' (floor)",
        format!(
            "{:.3} s -> index is {:.1}x (target <= 20x)",
            l["rg_count_words_s"].as_f64().unwrap_or(0.0),
            l["index_vs_rg_count_words"].as_f64().unwrap_or(0.0)
        ),
    );
    row(
        "rg -c 'def \\w+'",
        format!(
            "{:.3} s -> index is {:.1}x",
            l["rg_def_s"].as_f64().unwrap_or(0.0),
            l["index_vs_rg_def"].as_f64().unwrap_or(0.0)
        ),
    );
    row(
        "rg -c <literal>",
        format!(
            "{:.3} s -> index is {:.1}x",
            l["rg_literal_s"].as_f64().unwrap_or(0.0),
            l["index_vs_rg_literal"].as_f64().unwrap_or(0.0)
        ),
    );
    row(
        "lexical query p50 / p99",
        format!(
            "{:.2} / {:.2} ms (target p50 <= 5 ms, {} queries)",
            l["query_p50_ms"].as_f64().unwrap_or(0.0),
            l["query_p99_ms"].as_f64().unwrap_or(0.0),
            l["query_count"]
        ),
    );
    row("targets met", format!("{}", l["targets"]["met"]));
    eprintln!();
}
