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
//! - semantic: the raw throughput of the model (the embedder called directly
//!   on pre-built chunk texts: tokenizer + ONNX Runtime, same model, batch size
//!   and thread count, length-sorted the same way) against the pipeline's
//!   (`dowse index` with the model, chunks/s), the time until every chunk of
//!   the corpus has a vector (on every core, then on one unless
//!   `--no-one-core`), peak RSS, hybrid query latency p50/p99 with the
//!   query embedding included (every query distinct, so no query cache hits),
//!   and ANN recall@10 against exact search on the real vectors (`semantic.rs`). The queries
//!   are answered by a process of their own (this program again, with
//!   `DOWSE_BENCH_ANSWER_INDEX=DIR`): it loads the model and the vectors,
//!   builds the HNSW graph as the language server does, embeds the queries
//!   on a prepacked session of their own as the servers do, answers, and reports
//!   its peak RSS and its resident memory after each step, heap apart from
//!   mapped files. Run it alone against an index `dowse index` built:
//!   `DOWSE_BENCH_ANSWER_INDEX=DIR cargo bench -p dowse-tests --bench dowse`.
//! - persistence: warm start, a one-file change, index bytes, and SIGKILLs at
//!   random moments (`persistence.rs`).
//! - lsp and coverage: the real `dowse lsp` over stdio, edit-to-searchable
//!   latency and `workspace/symbol`, and the first embedding (`lsp.rs`).
//! - chunking: each language's chunking speed, MB/s of source, against
//!   Python's in the same run (`chunking.rs`; `--chunk-root DIR` adds source).
//! - team: publishing the corpus to a real Qdrant node (`DOWSE_QDRANT_BIN`),
//!   chunks/s with the embedding already done, and hybrid search latency of
//!   `local` against `all` (fused with the team index holding the corpus and
//!   a second repository), in this process (`team.rs`).
//! - limits: the MCP endpoint's answers to one well-behaved client before
//!   and while 200 idle connections, 100 half-sent headers and 64 slow
//!   bodies hold on (`http_limits.rs`); target: every answer within 1 s.
//!
//! Usage (release build; `scripts/bench` builds the binary first):
//!
//! ```text
//! cargo bench -p dowse-tests --bench dowse -- [--corpus DIR] [--include GLOB]...
//!     [--exclude GLOB]... [--runs N] [--out FILE] [--only lexical|persistence|chunking|usages|semantic|lsp|coverage|team|mcp|limits]...
//!     [--chunk-root DIR]...
//!     [--mcp-clients N] [--mcp-calls N] [--mcp-think-ms N] [--mcp-fuzz N]
//!     [--crash-rounds N]
//!     [--raw-sample N] [--no-one-core] [--edits N] [--seed-embeddings FILE]
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

mod chunking;
mod http_limits;
mod lsp;
mod mcp_load;
mod persistence;
mod semantic;
mod table;
mod team;

use lsp::{coverage, embedded_index, lsp};
use persistence::persistence;
use semantic::{ANSWER_ENV, answer, semantic, semantic_queries};
use table::print_table;

struct Args {
    only: Vec<String>,
    /// More directories to take each language's source from (chunking).
    chunk_roots: Vec<PathBuf>,
    /// The MCP section's load: clients, calls each, fuzz cases.
    mcp_clients: usize,
    mcp_calls: usize,
    mcp_think_ms: u64,
    mcp_fuzz: usize,
    /// Searches timed before and during the `limits` section's attack.
    limits_calls: usize,
    /// An embedding cache to start the LSP section's index from (its
    /// vectors are looked up by text, so any earlier run's cache serves).
    seed_embeddings: Option<PathBuf>,
    /// Edits timed by the LSP section.
    edits: usize,
    /// SIGKILL rounds of the persistence section.
    crash_rounds: usize,
    raw_sample: usize,
    /// Whether the semantic section embeds the corpus a second time on one
    /// core (`--no-one-core` skips it: on the standard library that second
    /// pass is most of the section's time).
    one_core: bool,
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
    if let Some(index_dir) = std::env::var_os(ANSWER_ENV) {
        answer(&args, PathBuf::from(index_dir));
        return;
    }
    let mut report = json!({
        "machine": machine(),
        "corpus": corpus_stats(&args),
    });
    let wants = |section: &str| args.only.is_empty() || args.only.iter().any(|s| s == section);
    if wants("lexical") {
        report["lexical"] = lexical(&args);
    }
    if wants("persistence") {
        report["persistence"] = persistence(&args);
    }
    if wants("chunking") {
        let mut roots = chunking::default_roots(&args.corpus);
        roots.extend(args.chunk_roots.iter().cloned());
        report["chunking"] = chunking::run(&roots, args.runs);
    }
    if wants("usages") {
        report["usages"] = usages(&args);
    }
    let mut semantic_index = None;
    if wants("semantic") {
        let (value, index) = semantic(&args);
        report["semantic"] = value;
        semantic_index = Some(index);
        // Kept even if a later section fails: this one takes half an hour.
        if args.out.is_some() {
            write_report(&args, &report);
        }
    }
    if wants("lsp") {
        report["lsp"] = lsp(
            &args,
            semantic_index.as_ref().map(|d| d.path().join("index")),
        );
        if args.out.is_some() {
            write_report(&args, &report);
        }
    }
    if wants("coverage") {
        report["coverage"] = coverage(&args);
        if args.out.is_some() {
            write_report(&args, &report);
        }
    }
    if wants("team") {
        report["team"] = team::run(
            &args,
            semantic_index.as_ref().map(|d| d.path().join("index")),
        );
        if args.out.is_some() {
            write_report(&args, &report);
        }
    }
    if wants("limits") {
        // The HTTP layer is measured, not search: a small workspace serves.
        let scratch = tempfile::tempdir().expect("temp dir");
        let workspace = scratch.path().join("workspace");
        copy_tree(&dowse_tests::fixtures_dir().join("workspace"), &workspace);
        report["limits"] = http_limits::run(&args, &workspace);
    }
    if wants("mcp") {
        let scratch = tempfile::tempdir().expect("temp dir");
        let index = embedded_index(
            &args,
            semantic_index.as_ref().map(|d| d.path().join("index")),
            scratch.path(),
        );
        report["mcp"] = mcp_load::run(&args, index);
    }
    print_table(&report);
    write_report(&args, &report);
}

/// The report as JSON: to `--out`, or to stdout.
fn write_report(args: &Args, report: &Value) {
    let text = serde_json::to_string_pretty(report).expect("json");
    match &args.out {
        Some(path) => std::fs::write(path, text + "\n").expect("write --out"),
        None => println!("{text}"),
    }
}

/// The options, as `--help` prints them (the module documentation has the
/// sections and their targets).
const USAGE: &str = "\
usage: cargo bench -p dowse-tests --bench dowse -- [--corpus DIR] [--include GLOB]...
    [--exclude GLOB]... [--runs N] [--out FILE]
    [--only lexical|persistence|chunking|usages|semantic|lsp|coverage|team|mcp|limits]...
    [--chunk-root DIR]... [--mcp-clients N] [--mcp-calls N] [--mcp-think-ms N] [--mcp-fuzz N]
    [--crash-rounds N] [--limits-calls N] [--raw-sample N] [--no-one-core] [--edits N]
    [--seed-embeddings FILE]
The report goes to stdout as JSON (or to --out FILE), a table to stderr.
Without --corpus the corpus is Python's standard library (*.py, no site-packages).";

/// The sections `--only` can name.
const SECTIONS: [&str; 10] = [
    "lexical",
    "persistence",
    "chunking",
    "usages",
    "semantic",
    "lsp",
    "coverage",
    "team",
    "mcp",
    "limits",
];

/// Stops with the usage and status 2 for a command line that cannot run.
fn bad_usage(problem: &str) -> ! {
    eprintln!("dowse bench: {problem}\n{USAGE}");
    std::process::exit(2)
}

fn parse_args() -> Args {
    let mut args = Args {
        only: Vec::new(),
        chunk_roots: Vec::new(),
        mcp_clients: 64,
        mcp_calls: 500,
        mcp_think_ms: 200,
        mcp_fuzz: 10_000,
        limits_calls: 50,
        seed_embeddings: None,
        edits: 60,
        crash_rounds: 100,
        raw_sample: 2000,
        one_core: true,
        corpus: PathBuf::new(),
        include: Vec::new(),
        exclude: Vec::new(),
        runs: 3,
        out: None,
    };
    let mut corpus = None;
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        let mut value = || {
            it.next()
                .unwrap_or_else(|| bad_usage(&format!("{arg} needs a value")))
        };
        match arg.as_str() {
            "--corpus" => corpus = Some(PathBuf::from(value())),
            "--include" => args.include.push(value()),
            "--exclude" => args.exclude.push(value()),
            "--runs" => args.runs = value().parse().expect("--runs N"),
            "--out" => args.out = Some(PathBuf::from(value())),
            "--only" => {
                let section = value();
                if !SECTIONS.contains(&section.as_str()) {
                    bad_usage(&format!("--only {section}: no such section"));
                }
                args.only.push(section);
            }
            "--chunk-root" => args.chunk_roots.push(PathBuf::from(value())),
            "--raw-sample" => args.raw_sample = value().parse().expect("--raw-sample N"),
            "--no-one-core" => args.one_core = false,
            "--seed-embeddings" => args.seed_embeddings = Some(PathBuf::from(value())),
            "--edits" => args.edits = value().parse().expect("--edits N"),
            "--crash-rounds" => args.crash_rounds = value().parse().expect("--crash-rounds N"),
            "--mcp-clients" => args.mcp_clients = value().parse().expect("--mcp-clients N"),
            "--mcp-calls" => args.mcp_calls = value().parse().expect("--mcp-calls N"),
            "--mcp-think-ms" => args.mcp_think_ms = value().parse().expect("--mcp-think-ms N"),
            "--mcp-fuzz" => args.mcp_fuzz = value().parse().expect("--mcp-fuzz N"),
            "--limits-calls" => args.limits_calls = value().parse().expect("--limits-calls N"),
            "--bench" => {} // cargo bench passes this
            "--help" | "-h" => {
                println!("{USAGE}");
                std::process::exit(0)
            }
            other => bad_usage(&format!("unknown argument {other}")),
        }
    }
    match corpus {
        Some(dir) if !dir.is_dir() => {
            bad_usage(&format!("--corpus {}: not a directory", dir.display()))
        }
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

/// `--include` and `--exclude` for every glob the benchmark was given.
fn corpus_globs(cmd: &mut Command, args: &Args) {
    for glob in &args.include {
        cmd.args(["--include", glob]);
    }
    for glob in &args.exclude {
        cmd.args(["--exclude", glob]);
    }
}

/// `dowse lsp` in the corpus, on the index in `index_dir`, with the model.
fn lsp_command(args: &Args, index_dir: &Path) -> Command {
    let mut cmd = Command::new(dowse_bin());
    cmd.arg("lsp")
        .current_dir(args.corpus.canonicalize().expect("corpus"))
        .env("DOWSE_INDEX_DIR", index_dir)
        .env("DOWSE_MODEL_DIR", dowse_tests::real_model_dir());
    corpus_globs(&mut cmd, args);
    cmd
}

/// `dowse index --json` of the corpus into `index_dir`, with the model.
fn index_command(args: &Args, index_dir: &Path) -> Command {
    let mut cmd = Command::new(dowse_bin());
    cmd.arg("index")
        .arg(&args.corpus)
        .arg("--json")
        .env("DOWSE_INDEX_DIR", index_dir)
        .env("DOWSE_MODEL_DIR", dowse_tests::real_model_dir());
    corpus_globs(&mut cmd, args);
    cmd
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
            .args(["--json", "--lexical-only"])
            .env("DOWSE_INDEX_DIR", &index_dir);
        corpus_globs(&mut cmd, args);
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
        path_prefix: None,
        languages: Vec::new(),
        scope: Default::default(),
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

/// Definition positions to ask about: every `def`/`class` name of every
/// 9th file, at most `n`, in a fixed order.
fn usage_queries(args: &Args, n: usize) -> Vec<String> {
    let root = args.corpus.canonicalize().expect("corpus exists");
    let mut files = walk(&root, &walk_options(args)).expect("walk corpus").files;
    files.sort_by(|a, b| a.rel_path.cmp(&b.rel_path));
    let mut out = Vec::new();
    for file in files.iter().step_by(9) {
        let Ok(text) = std::fs::read_to_string(&file.abs_path) else {
            continue;
        };
        for (i, line) in text.lines().enumerate() {
            let trimmed = line.trim_start();
            let Some(rest) = trimmed
                .strip_prefix("def ")
                .or_else(|| trimmed.strip_prefix("class "))
            else {
                continue;
            };
            if !rest.starts_with(|c: char| c.is_alphabetic() || c == '_') {
                continue;
            }
            let column = line.len() - rest.len() + 1;
            out.push(format!("{}:{}:{}", file.rel_path, i + 1, column));
        }
    }
    // Spread over the corpus rather than the first files.
    let step = (out.len() / n).max(1);
    out.into_iter().step_by(step).take(n).collect()
}

/// Find usages on the indexed corpus: the one-time extraction of every
/// file's occurrences, then query latency from definition positions.
fn usages(args: &Args) -> Value {
    let index = tempfile::tempdir().expect("temp dir");
    let config = Config {
        index_dir: Some(index.path().to_path_buf()),
        include: args.include.clone(),
        exclude: args.exclude.clone(),
        ..Config::default()
    };
    let mut engine = Engine::open(&args.corpus, config).expect("open the benchmark index");
    eprintln!("usages: indexing (lexical) and extracting occurrences...");
    engine.update(&dowse_engine::NoProgress).expect("index");
    let queries = usage_queries(args, 300);
    // What the occurrences take: the process's heap before and after they
    // are built (the lexical index's writer freed first).
    dowse_engine::release_free_memory();
    let heap_before = status_mb("self", &["RssAnon"])[0];
    let started = Instant::now();
    // The writer extracts every file once (the language server's writer
    // does it on the first usages request).
    engine.prepare_usages().expect("prepare usages");
    let build_seconds = started.elapsed().as_secs_f64();
    dowse_engine::release_free_memory();
    let occurrences_mb = status_mb("self", &["RssAnon"])[0] - heap_before;
    eprintln!("usages: {} queries...", queries.len());
    let mut latencies = Vec::new();
    let mut references = 0;
    // A `def` inside a string (a test's source template) names nothing.
    let mut not_symbols = 0;
    for q in &queries {
        let started = Instant::now();
        match engine.usages(&dowse_engine::UsagesQuery::parse(q)) {
            Ok(response) => {
                latencies.push(started.elapsed().as_secs_f64() * 1000.0);
                references += response.references.len();
            }
            Err(err) if err.is_user_error() => not_symbols += 1,
            Err(err) => panic!("usages {q}: {err}"),
        }
    }
    latencies.sort_by(|a, b| a.partial_cmp(b).expect("no NaN"));
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: a valid out-pointer for the calling process's own usage.
    unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut usage) };
    json!({
        "extract_all_seconds": build_seconds,
        "occurrences_mb": occurrences_mb,
        "queries": latencies.len(),
        "positions_in_strings": not_symbols,
        "references_found": references,
        "query_p50_ms": percentile(&latencies, 0.5),
        "query_p99_ms": percentile(&latencies, 0.99),
        "query_max_ms": latencies.last().copied().unwrap_or(f64::NAN),
        "peak_rss_mb": usage.ru_maxrss as f64 / 1024.0,
        "target_p50_ms": 5.0,
        "pass": percentile(&latencies, 0.5) <= 5.0,
    })
}

/// Copies a directory tree.
fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for entry in std::fs::read_dir(from).expect("read dir") {
        let entry = entry.expect("entry");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("file type").is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).expect("copy");
        }
    }
}

/// Memory fields (`VmRSS`, `VmHWM`, …) of a process's `/proc/PID/status`
/// (`self`: this process), in MB; NaN for one it cannot read.
fn status_mb(pid: &str, names: &[&str]) -> Vec<f64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name)?.strip_prefix(':'))
            .and_then(|v| v.split_whitespace().next()?.parse::<f64>().ok())
            .map_or(f64::NAN, |kb| kb / 1024.0)
    };
    names.iter().map(|name| field(name)).collect()
}
