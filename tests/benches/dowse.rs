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
//!   the corpus has a vector, peak RSS, hybrid query latency p50/p99 with the
//!   query embedding included (every query distinct, so no query cache hits),
//!   and ANN recall@10 against exact search on the real vectors. The queries
//!   are answered by a process of their own (this program again, with
//!   `DOWSE_BENCH_ANSWER_INDEX=DIR`): it loads the model and the vectors,
//!   builds the HNSW graph as the language server does, answers, and reports
//!   its peak RSS and its resident memory after each step, heap apart from
//!   mapped files. Run it alone against an index `dowse index` built:
//!   `DOWSE_BENCH_ANSWER_INDEX=DIR cargo bench -p dowse-tests --bench dowse`.
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
//!     [--raw-sample N] [--edits N] [--seed-embeddings FILE]
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
mod mcp_load;
mod team;

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
    [--crash-rounds N] [--limits-calls N] [--raw-sample N] [--edits N] [--seed-embeddings FILE]
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

/// `dowse lsp` over stdio on the indexed corpus: edit-to-searchable latency
/// (an unsaved `didChange` → the first `dowse.search` whose results hold the
/// new text, lexical, then semantic with the chunk's vector updated) over
/// `--edits` edits of different files, and `workspace/symbol` latency.
/// A fully embedded index of the corpus: the semantic section's, or one
/// made here (from `--seed-embeddings` when given: its vectors are looked
/// up by text, so any earlier run's cache serves).
fn embedded_index(args: &Args, semantic_index: Option<PathBuf>, scratch: &Path) -> PathBuf {
    if let Some(dir) = semantic_index {
        return dir;
    }
    let dir = scratch.join("index");
    std::fs::create_dir_all(&dir).expect("index dir");
    if let Some(seed) = &args.seed_embeddings {
        std::fs::copy(seed, dir.join("embeddings.bin")).expect("seed the embedding cache");
    }
    eprintln!("indexing the corpus with the model...");
    let mut cmd = Command::new(dowse_bin());
    cmd.arg("index").arg(&args.corpus).arg("--json");
    cmd.env("DOWSE_INDEX_DIR", &dir)
        .env("DOWSE_MODEL_DIR", dowse_tests::real_model_dir());
    corpus_globs(&mut cmd, args);
    let (wall, _, _) = measure(cmd);
    eprintln!("indexed in {:.1} s", wall.as_secs_f64());
    dir
}

fn lsp(args: &Args, semantic_index: Option<PathBuf>) -> Value {
    use dowse_tests::lsp::LspClient;
    let scratch = tempfile::tempdir().expect("temp dir");
    let index_dir = embedded_index(args, semantic_index, scratch.path());
    let root = args.corpus.canonicalize().expect("corpus");
    let mut client = LspClient::spawn(lsp_command(args, &index_dir));
    let started = Instant::now();
    // Progress ends when every chunk has a vector; graphs come after.
    client.initialize(
        &root,
        json!({"window": {"workDoneProgress": true}}),
        json!({}),
    );
    let ready = client.wait_for(Duration::from_secs(600), |n| {
        n["method"] == "$/progress" && n["params"]["value"]["kind"] == "end"
    });
    assert!(
        ready.is_some(),
        "the server never finished its initial indexing"
    );
    let startup = started.elapsed().as_secs_f64();

    let mut files = walk(&root, &walk_options(args)).expect("walk").files;
    files.sort_by(|a, b| a.rel_path.cmp(&b.rel_path));
    let step = (files.len() / args.edits.max(1)).max(1);
    let edited: Vec<PathBuf> = files
        .iter()
        .step_by(step)
        .take(args.edits)
        .map(|f| f.abs_path.clone())
        .collect();
    let building = |client: &mut LspClient| {
        client
            .latest("dowse/status")
            .is_some_and(|n| n["params"]["graphsBuilding"] == true)
    };
    // The graphs of the vectors are built after the progress ends, beside
    // everything else: the first half of the edits and the symbol queries
    // are timed while that build runs, the second half once it is done.
    let mut during = EditTimes::default();
    let mut symbol_ms = Vec::new();
    let mut symbol_during_build = 0;
    let half = edited.len() / 2;
    // Give the build a moment to start.
    let deadline = Instant::now() + Duration::from_secs(5);
    while !building(&mut client) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    let build_seen = building(&mut client);
    eprintln!("lsp: {half} edits while the graphs are built ({build_seen})...");
    for (i, path) in edited[..half].iter().enumerate() {
        let during_build = building(&mut client);
        during.time(&mut client, &root, path, i, during_build);
    }
    eprintln!("lsp: workspace/symbol while the graphs are built...");
    let mut symbol_queries: Vec<String> = usage_queries(args, 80)
        .iter()
        .filter_map(|q| {
            let (path, rest) = q.split_once(':')?;
            let line: usize = rest.split(':').next()?.parse().ok()?;
            let text = std::fs::read_to_string(root.join(path)).ok()?;
            let def = text.lines().nth(line - 1)?.trim();
            let name = def.trim_start_matches("def ").trim_start_matches("class ");
            Some(name.split(['(', ':']).next()?.to_owned())
        })
        .collect();
    symbol_queries.extend(semantic_queries(args, 40));
    for q in ["warm up", "the symbol picker"] {
        client.request("workspace/symbol", json!({"query": q}));
    }
    for q in &symbol_queries {
        if building(&mut client) {
            symbol_during_build += 1;
        }
        let started = Instant::now();
        let reply = client.request("workspace/symbol", json!({"query": q}));
        symbol_ms.push(started.elapsed().as_secs_f64() * 1000.0);
        assert!(
            reply.get("error").is_none(),
            "workspace/symbol {q}: {reply}"
        );
    }
    symbol_ms.sort_by(|a, b| a.partial_cmp(b).expect("no NaN"));
    eprintln!("lsp: waiting for the graphs...");
    let build_wait = Instant::now();
    while building(&mut client) && build_wait.elapsed() < Duration::from_secs(900) {
        std::thread::sleep(Duration::from_millis(200));
    }
    let mut idle = EditTimes::default();
    eprintln!(
        "lsp: {} edits with the graphs built...",
        edited.len() - half
    );
    for (i, path) in edited[half..].iter().enumerate() {
        idle.time(&mut client, &root, path, half + i, false);
    }
    client.request("shutdown", Value::Null);
    client.notify("exit", Value::Null);
    let status = client.wait(Duration::from_secs(30));
    let (during, idle) = (during.sorted(), idle.sorted());
    let pct = |xs: &[f64], p: f64| {
        if xs.is_empty() {
            f64::NAN
        } else {
            percentile(xs, p)
        }
    };
    let semantic_idle_p95 = pct(&idle.semantic_ms, 0.95);
    let semantic_build_p95 = pct(&during.semantic_ms, 0.95);
    let symbol_p95 = pct(&symbol_ms, 0.95);
    json!({
        "startup_to_indexed_seconds": startup,
        "debounce_ms": 100,
        "edits_idle": idle.semantic_ms.len(),
        "edits_during_graph_build": during.during_build,
        "edit_timeouts": idle.timeouts + during.timeouts,
        "edit_to_searchable_lexical_p50_ms": pct(&idle.lexical_ms, 0.5),
        "edit_to_searchable_lexical_p95_ms": pct(&idle.lexical_ms, 0.95),
        "edit_to_searchable_semantic_p50_ms": pct(&idle.semantic_ms, 0.5),
        "edit_to_searchable_semantic_p95_ms": semantic_idle_p95,
        "during_graph_build_semantic_p50_ms": pct(&during.semantic_ms, 0.5),
        "during_graph_build_semantic_p95_ms": semantic_build_p95,
        "workspace_symbol_queries": symbol_ms.len(),
        "workspace_symbol_queries_during_graph_build": symbol_during_build,
        "workspace_symbol_p50_ms": pct(&symbol_ms, 0.5),
        "workspace_symbol_p95_ms": symbol_p95,
        "graph_build_seen": build_seen,
        "exit_code": status.and_then(|s| s.code()),
        "targets": {
            "startup_to_indexed_seconds": 10.0,
            "edit_semantic_p95_ms_idle": 150.0,
            "edit_semantic_p95_ms_during_graph_build": 250.0,
            "workspace_symbol_p95_ms_during_graph_build": 50.0,
        },
        "pass": idle.timeouts + during.timeouts == 0
            && startup <= 10.0
            && semantic_idle_p95 <= 150.0
            && semantic_build_p95 <= 250.0
            && symbol_p95 <= 50.0,
    })
}

/// The language server on a workspace it has never seen, while its first
/// embedding runs on every core: how fast vectors come, how long an edit
/// takes to be found by meaning, and how long a file opened for the first
/// time (not embedded yet) takes to be found by meaning.
fn coverage(args: &Args) -> Value {
    use dowse_tests::lsp::{LspClient, file_uri};
    let scratch = tempfile::tempdir().expect("temp dir");
    let index_dir = scratch.path().join("index");
    let root = args.corpus.canonicalize().expect("corpus");
    let mut client = LspClient::spawn(lsp_command(args, &index_dir));
    let started = Instant::now();
    client.initialize(
        &root,
        json!({"window": {"workDoneProgress": true}}),
        json!({}),
    );
    let vectors = |client: &mut LspClient| {
        client.latest("dowse/status").map_or((0, 0), |n| {
            (
                n["params"]["vectors"].as_u64().unwrap_or(0),
                n["params"]["vectorsTotal"].as_u64().unwrap_or(0),
            )
        })
    };
    // Lexical indexing first; then the embedding starts.
    let deadline = Instant::now() + Duration::from_secs(120);
    while vectors(&mut client).0 == 0 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(100));
    }
    let embedding_started = started.elapsed().as_secs_f64();
    let (first_vectors, total) = vectors(&mut client);
    let rate_from = Instant::now();
    eprintln!("coverage: embedding started after {embedding_started:.1} s ({total} chunks)");

    let mut files = walk(&root, &walk_options(args)).expect("walk").files;
    files.sort_by(|a, b| a.rel_path.cmp(&b.rel_path));
    // The files the embedding reaches last (it goes by path once the files
    // around open ones are done): opened for the first time.
    let late: Vec<PathBuf> = files
        .iter()
        .rev()
        .step_by(17)
        .take(args.edits.clamp(1, 20))
        .map(|f| f.abs_path.clone())
        .collect();
    let search = |client: &mut LspClient, query: &str| -> Vec<String> {
        let reply = client.request(
            "dowse/search",
            json!({"query": query, "mode": "semantic", "limit": 10}),
        );
        reply["result"]["results"]
            .as_array()
            .map(|rs| {
                rs.iter()
                    .map(|r| r["path"].as_str().unwrap_or("").to_owned())
                    .collect()
            })
            .unwrap_or_default()
    };
    let mut open_ms = Vec::new();
    let (mut open_timeouts, mut already) = (0, 0);
    eprintln!("coverage: opening {} files not embedded yet...", late.len());
    for path in &late {
        let Ok(text) = std::fs::read_to_string(path) else {
            continue;
        };
        let lines: Vec<&str> = text.lines().collect();
        let Some(def) = lines
            .iter()
            .position(|l| l.trim_start().starts_with("def "))
        else {
            continue;
        };
        let query = lines[def..(def + 6).min(lines.len())].join("\n");
        let rel = path
            .strip_prefix(&root)
            .expect("inside")
            .to_string_lossy()
            .into_owned();
        if search(&mut client, &query).contains(&rel) {
            already += 1;
            continue;
        }
        let opened = Instant::now();
        client.notify(
            "textDocument/didOpen",
            json!({"textDocument": {"uri": file_uri(path), "languageId": "python", "version": 1, "text": text}}),
        );
        let mut found = None;
        while opened.elapsed() < Duration::from_secs(10) {
            if search(&mut client, &query).contains(&rel) {
                found = Some(opened.elapsed());
                break;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        match found {
            Some(t) => open_ms.push(t.as_secs_f64() * 1000.0),
            None => open_timeouts += 1,
        }
        client.notify(
            "textDocument/didClose",
            json!({"textDocument": {"uri": file_uri(path)}}),
        );
    }
    let step = (files.len() / args.edits.max(1)).max(1);
    let edited: Vec<PathBuf> = files
        .iter()
        .skip(step / 2)
        .step_by(step)
        .take(args.edits)
        .map(|f| f.abs_path.clone())
        .collect();
    eprintln!(
        "coverage: {} edits while the embedding runs...",
        edited.len()
    );
    let mut edits = EditTimes::default();
    for (i, path) in edited.iter().enumerate() {
        let (done, total) = vectors(&mut client);
        edits.time(&mut client, &root, path, 10_000 + i, done < total);
    }
    let (last_vectors, _) = vectors(&mut client);
    let rate = (last_vectors - first_vectors) as f64 / rate_from.elapsed().as_secs_f64();
    let still_embedding = last_vectors < total;
    let rss = status_mb(&client.pid().to_string(), &["VmHWM"])[0];
    client.request("shutdown", Value::Null);
    client.notify("exit", Value::Null);
    let status = client.wait(Duration::from_secs(60));
    let edits = edits.sorted();
    open_ms.sort_by(|a, b| a.partial_cmp(b).expect("no NaN"));
    let pct = |xs: &[f64], p: f64| {
        if xs.is_empty() {
            f64::NAN
        } else {
            percentile(xs, p)
        }
    };
    let edit_p95 = pct(&edits.semantic_ms, 0.95);
    let open_max = open_ms.last().copied().unwrap_or(f64::NAN);
    json!({
        "chunks": total,
        "embedding_started_seconds": embedding_started,
        "chunks_per_s_while_editing": rate,
        "still_embedding_at_end": still_embedding,
        "opens_timed": open_ms.len(),
        "opens_already_embedded": already,
        "open_timeouts": open_timeouts,
        "open_to_semantic_p50_ms": pct(&open_ms, 0.5),
        "open_to_semantic_max_ms": open_max,
        "edits_timed": edits.semantic_ms.len(),
        "edits_during_embedding": edits.during_build,
        "edit_timeouts": edits.timeouts,
        "edit_to_semantic_p50_ms": pct(&edits.semantic_ms, 0.5),
        "edit_to_semantic_p95_ms": edit_p95,
        "server_peak_rss_mb": rss,
        "exit_code": status.and_then(|s| s.code()),
        "targets": {
            "edit_to_semantic_p95_ms_while_embedding": 250.0,
            "open_to_semantic_ms_max": 2000.0,
        },
        "pass": still_embedding && open_timeouts == 0 && edits.timeouts == 0
            && edit_p95 <= 250.0 && open_max <= 2000.0,
    })
}

/// Edit-to-searchable times: an edit inserts a new function at the top of
/// an open file, then `dowse.search` is polled until the function is found
/// by keywords, then by meaning in the top 3.
#[derive(Default)]
struct EditTimes {
    lexical_ms: Vec<f64>,
    semantic_ms: Vec<f64>,
    timeouts: usize,
    /// Edits that started while a graph build ran.
    during_build: usize,
}

impl EditTimes {
    fn time(
        &mut self,
        client: &mut dowse_tests::lsp::LspClient,
        root: &Path,
        path: &Path,
        i: usize,
        during_build: bool,
    ) {
        use dowse_tests::lsp::file_uri;
        let Ok(text) = std::fs::read_to_string(path) else {
            return;
        };
        let rel = path
            .strip_prefix(root)
            .expect("inside the corpus")
            .to_string_lossy()
            .into_owned();
        let uri = file_uri(path);
        client.notify(
            "textDocument/didOpen",
            json!({"textDocument": {"uri": uri, "languageId": "python", "version": 1, "text": text}}),
        );
        // Let the open settle, as a user reads before typing.
        std::thread::sleep(Duration::from_millis(300));
        let word = format!("dowsebenchedit{i}x{}", std::process::id());
        let inserted = format!(
            "def {word}(readings):\n    \"\"\"Average the sensor readings of batch {i}, skipping gaps.\"\"\"\n    \
             values = [r for r in readings if r is not None]\n    return sum(values) / max(len(values), 1)\n\n\n"
        );
        let search = |client: &mut dowse_tests::lsp::LspClient, query: &str, mode: &str| {
            let reply = client.command(
                "dowse.search",
                json!([{"query": query, "mode": mode, "limit": 10}]),
            );
            reply["result"]["results"]
                .as_array()
                .map(|results| {
                    results
                        .iter()
                        .map(|r| {
                            (
                                r["path"].as_str().unwrap_or("").to_owned(),
                                r["startLine"].as_u64().unwrap_or(0),
                            )
                        })
                        .collect::<Vec<_>>()
                })
                .unwrap_or_default()
        };
        let edit_started = Instant::now();
        client.notify(
            "textDocument/didChange",
            json!({
                "textDocument": {"uri": uri, "version": 2},
                "contentChanges": [{
                    "range": {"start": {"line": 0, "character": 0}, "end": {"line": 0, "character": 0}},
                    "text": inserted,
                }],
            }),
        );
        let deadline = edit_started + Duration::from_secs(10);
        let mut lexical_done = None;
        let mut semantic_done = None;
        while Instant::now() < deadline && (lexical_done.is_none() || semantic_done.is_none()) {
            if lexical_done.is_none()
                && search(client, &word, "lexical")
                    .iter()
                    .any(|(p, _)| *p == rel)
            {
                lexical_done = Some(edit_started.elapsed());
            }
            if lexical_done.is_some()
                && search(client, inserted.trim(), "semantic")
                    .iter()
                    .take(3)
                    .any(|(p, line)| *p == rel && *line == 1)
            {
                semantic_done = Some(edit_started.elapsed());
            }
        }
        match (lexical_done, semantic_done) {
            (Some(l), Some(s)) => {
                self.lexical_ms.push(l.as_secs_f64() * 1000.0);
                self.semantic_ms.push(s.as_secs_f64() * 1000.0);
                if during_build {
                    self.during_build += 1;
                }
            }
            _ => self.timeouts += 1,
        }
        client.notify(
            "textDocument/didClose",
            json!({"textDocument": {"uri": uri}}),
        );
    }

    fn sorted(mut self) -> EditTimes {
        self.lexical_ms
            .sort_by(|a, b| a.partial_cmp(b).expect("no NaN"));
        self.semantic_ms
            .sort_by(|a, b| a.partial_cmp(b).expect("no NaN"));
        self
    }
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

/// Copies the corpus's files (as walked) to `to`, for sections that edit it.
fn copy_corpus(args: &Args, to: &Path) {
    let root = args.corpus.canonicalize().expect("corpus");
    for file in walk(&root, &walk_options(args)).expect("walk").files {
        let target = to.join(&file.rel_path);
        std::fs::create_dir_all(target.parent().expect("parent")).expect("mkdir");
        std::fs::copy(&file.abs_path, &target).expect("copy");
    }
}

/// Every chunk a lexical query matches, as a set (segment layouts differ
/// between indexes, and with them the order among equal scores).
fn answer_set(
    root: &Path,
    index_dir: &Path,
    query: &str,
) -> std::collections::BTreeSet<(String, u64)> {
    let out = Command::new(dowse_bin())
        .args([
            "search", query, "--mode", "lexical", "--json", "--limit", "1000",
        ])
        .current_dir(root)
        .env("DOWSE_INDEX_DIR", index_dir)
        .stderr(Stdio::null())
        .output()
        .expect("search");
    let v: Value = serde_json::from_slice(&out.stdout).expect("search --json");
    let results = v["results"].as_array().expect("results");
    assert!(
        results.len() < 1000,
        "`{query}` matches too much to compare whole answers"
    );
    results
        .iter()
        .map(|r| {
            (
                r["path"].as_str().unwrap_or("").to_owned(),
                r["start_line"].as_u64().unwrap_or(0),
            )
        })
        .collect()
}

/// The persistent index: warm start to the first answered query, a
/// one-file change re-indexed, bytes on disk against source bytes, and
/// `--crash-rounds` SIGKILLs at random moments, each followed by a restart
/// whose answers must equal those of an index that never crashed (rebuilt
/// from nothing every tenth round, brought up to date in between).
fn persistence(args: &Args) -> Value {
    let scratch = tempfile::tempdir().expect("temp dir");
    let root = scratch.path().join("corpus");
    copy_corpus(args, &root);
    let index_dir = scratch.path().join("index");
    let index = |dir: &Path| {
        let mut cmd = Command::new(dowse_bin());
        cmd.args(["index", "--lexical-only", "--json"])
            .current_dir(&root)
            .env("DOWSE_INDEX_DIR", dir);
        let (wall, stdout, _) = measure(cmd);
        let report: Value = serde_json::from_str(&stdout).unwrap_or(Value::Null);
        (wall, report)
    };
    eprintln!("persistence: cold index of a copy of the corpus...");
    let (cold, _) = index(&index_dir);

    // Warm start: a new process on the indexed tree, to its first answer.
    let mut warm = Vec::new();
    for q in [
        "parse_duration",
        "json decoder",
        "socket timeout",
        "TextIOWrapper",
        "urlparse",
    ] {
        let mut cmd = Command::new(dowse_bin());
        cmd.args(["search", q, "--mode", "lexical", "--json"])
            .current_dir(&root)
            .env("DOWSE_INDEX_DIR", &index_dir);
        let (wall, stdout, _) = measure(cmd);
        assert!(stdout.contains("\"results\""), "warm search {q}");
        warm.push(wall.as_secs_f64() * 1000.0);
    }
    warm.sort_by(|a, b| a.total_cmp(b));

    // One-file change: the engine's own timing of the update.
    let mut files = walk(&root, &WalkOptions::default()).expect("walk").files;
    files.sort_by(|a, b| a.rel_path.cmp(&b.rel_path));
    let mut one_file = Vec::new();
    for (i, file) in files
        .iter()
        .step_by((files.len() / 10).max(1))
        .take(10)
        .enumerate()
    {
        let mut text = std::fs::read_to_string(&file.abs_path).unwrap_or_default();
        text.push_str(&format!(
            "\n\ndef dowse_bench_change_{i}():\n    return {i}\n"
        ));
        std::fs::write(&file.abs_path, text).expect("edit");
        let (_, report) = index(&index_dir);
        one_file.push(report["seconds"].as_f64().unwrap_or(f64::NAN) * 1000.0);
    }
    one_file.sort_by(|a, b| a.total_cmp(b));
    let source_bytes: u64 = files.iter().map(|f| f.size).sum();
    let lexical_bytes = dowse_index_bytes(&index_dir);

    // Crashes.
    eprintln!("persistence: {} SIGKILL rounds...", args.crash_rounds);
    let reference = scratch.path().join("reference");
    // Every answer is compared whole, so each query must match fewer chunks
    // than the result limit: rare identifiers, and a marker word per round.
    let fixed_queries = ["getaddrinfo", "urlsplit", "setsockopt", "xmlcharrefreplace"];
    let marker = |round: usize| {
        let mut tag = String::new();
        let mut n = round;
        loop {
            tag.push((b'a' + (n % 26) as u8) as char);
            n /= 26;
            if n == 0 {
                break;
            }
        }
        format!("dowsecrash{tag}")
    };
    let mut seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_nanos() as u64;
    let mut rng = move |n: u64| {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (seed >> 33) % n.max(1)
    };
    // The reference never crashes: it is brought up to date with the same
    // tree each round, and rebuilt from nothing whenever the crashed index
    // is. Kills land within the time the same work takes uncrashed.
    let cold_ms = (cold.as_millis() as u64).max(200);
    let mut update_ms = 200;
    let mut mismatches = 0;
    let mut recoveries = 0;
    let mut kills_mid_work = 0;
    let mut clean_rebuilds = 0;
    for round in 0..args.crash_rounds {
        for k in 0..40 {
            let file = &files[rng(files.len() as u64) as usize];
            let mut text = std::fs::read_to_string(&file.abs_path).unwrap_or_default();
            text.push_str(&format!(
                "\n\ndef {}_{k}():\n    return {k}\n",
                marker(round)
            ));
            std::fs::write(&file.abs_path, text).expect("edit");
        }
        // Every tenth round from scratch: crashes during a cold index too.
        let from_scratch = round % 10 == 0;
        if from_scratch {
            let _ = std::fs::remove_dir_all(&index_dir);
        }
        let mut child = Command::new(dowse_bin())
            .args(["index", "--lexical-only"])
            .current_dir(&root)
            .env("DOWSE_INDEX_DIR", &index_dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn");
        let window = if from_scratch { cold_ms } else { update_ms };
        std::thread::sleep(Duration::from_millis(rng(window)));
        if matches!(child.try_wait(), Ok(None)) {
            kills_mid_work += 1;
        }
        let _ = child.kill();
        let _ = child.wait();
        let out = Command::new(dowse_bin())
            .args(["index", "--lexical-only"])
            .current_dir(&root)
            .env("DOWSE_INDEX_DIR", &index_dir)
            .output()
            .expect("restart");
        assert!(
            out.status.success(),
            "round {round}: restart failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        if String::from_utf8_lossy(&out.stderr).contains("recovered the index") {
            recoveries += 1;
        }
        if from_scratch {
            let _ = std::fs::remove_dir_all(&reference);
            clean_rebuilds += 1;
        }
        let (took, _) = index(&reference);
        if !from_scratch {
            update_ms = (took.as_millis() as u64).max(50);
        }
        let mut queries: Vec<String> = fixed_queries.iter().map(|q| q.to_string()).collect();
        queries.push(marker(round));
        queries.push(marker(rng(round as u64 + 1) as usize));
        for q in &queries {
            if answer_set(&root, &index_dir, q) != answer_set(&root, &reference, q) {
                mismatches += 1;
                eprintln!("persistence: round {round}: `{q}` differs from a clean index");
            }
        }
    }
    let pct = |xs: &[f64], p: f64| percentile(xs, p);
    json!({
        "cold_index_seconds": cold.as_secs_f64(),
        "warm_start_first_query_ms_median": pct(&warm, 0.5),
        "warm_start_first_query_ms_max": warm.last().copied().unwrap_or(f64::NAN),
        "one_file_change_ms_median": pct(&one_file, 0.5),
        "one_file_change_ms_max": one_file.last().copied().unwrap_or(f64::NAN),
        "source_bytes": source_bytes,
        "lexical_index_bytes": lexical_bytes,
        "lexical_index_ratio": lexical_bytes as f64 / source_bytes as f64,
        "crash_rounds": args.crash_rounds,
        "crash_mismatches": mismatches,
        "crash_recoveries": recoveries,
        "crash_kills_mid_work": kills_mid_work,
        "crash_reference_rebuilds": clean_rebuilds,
        "targets": {"warm_start_ms": 1000, "one_file_change_ms": 200, "index_ratio": 1.5},
        "pass": pct(&warm, 0.5) <= 1000.0 && pct(&one_file, 0.5) <= 200.0 && mismatches == 0,
    })
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
    let row = |name: &str, value: String| eprintln!("  {name:<36} {value}");
    if !report["team"].is_null() {
        team::print(&report["team"]);
    }
    if !report["chunking"].is_null() {
        chunking::print(&report["chunking"]);
    }
    let p = &report["persistence"];
    if !p.is_null() {
        let f = |k: &str| p[k].as_f64().unwrap_or(f64::NAN);
        eprintln!("persistence");
        eprintln!(
            "  warm start → 1st query {:>10.0} ms (max {:.0})",
            f("warm_start_first_query_ms_median"),
            f("warm_start_first_query_ms_max")
        );
        eprintln!(
            "  one-file change        {:>10.0} ms (max {:.0})",
            f("one_file_change_ms_median"),
            f("one_file_change_ms_max")
        );
        eprintln!(
            "  lexical index / source {:>10.2}×",
            f("lexical_index_ratio")
        );
        eprintln!(
            "  SIGKILL rounds         {:>10} ({} killed mid-work, {} mismatches, {} recoveries)",
            p["crash_rounds"],
            p["crash_kills_mid_work"],
            p["crash_mismatches"],
            p["crash_recoveries"]
        );
    }
    let l = &report["lsp"];
    if !l.is_null() {
        let f = |k: &str| l[k].as_f64().unwrap_or(f64::NAN);
        eprintln!("lsp (stdio)");
        eprintln!(
            "  startup → indexed      {:>10.2} s",
            f("startup_to_indexed_seconds")
        );
        eprintln!(
            "  edits timed            {:>10} idle, {} during a graph build ({} timeouts)",
            l["edits_idle"], l["edits_during_graph_build"], l["edit_timeouts"]
        );
        eprintln!(
            "  edit→lexical p50/p95   {:>10.1} / {:.1} ms",
            f("edit_to_searchable_lexical_p50_ms"),
            f("edit_to_searchable_lexical_p95_ms")
        );
        eprintln!(
            "  edit→semantic p50/p95  {:>10.1} / {:.1} ms (idle)",
            f("edit_to_searchable_semantic_p50_ms"),
            f("edit_to_searchable_semantic_p95_ms")
        );
        eprintln!(
            "  edit→semantic p50/p95  {:>10.1} / {:.1} ms (during a graph build)",
            f("during_graph_build_semantic_p50_ms"),
            f("during_graph_build_semantic_p95_ms")
        );
        eprintln!(
            "  workspace/symbol p50/p95 {:>8.1} / {:.1} ms ({} of {} during a graph build)",
            f("workspace_symbol_p50_ms"),
            f("workspace_symbol_p95_ms"),
            l["workspace_symbol_queries_during_graph_build"],
            l["workspace_symbol_queries"]
        );
    }
    let c = &report["coverage"];
    if !c.is_null() {
        let f = |k: &str| c[k].as_f64().unwrap_or(f64::NAN);
        eprintln!("lsp, first embedding running on every core");
        eprintln!(
            "  embedding rate         {:>10.1} chunks/s (of {} chunks; still embedding at the end: {})",
            f("chunks_per_s_while_editing"),
            c["chunks"],
            c["still_embedding_at_end"]
        );
        eprintln!(
            "  didOpen→semantic p50/max {:>8.0} / {:.0} ms ({} files, {} timeouts; target max 2000)",
            f("open_to_semantic_p50_ms"),
            f("open_to_semantic_max_ms"),
            c["opens_timed"],
            c["open_timeouts"]
        );
        eprintln!(
            "  edit→semantic p50/p95  {:>10.1} / {:.1} ms ({} edits, {} timeouts; target p95 250)",
            f("edit_to_semantic_p50_ms"),
            f("edit_to_semantic_p95_ms"),
            c["edits_timed"],
            c["edit_timeouts"]
        );
        eprintln!(
            "  server peak RSS        {:>10.0} MB",
            f("server_peak_rss_mb")
        );
    }
    let u = &report["usages"];
    if !u.is_null() {
        eprintln!("usages");
        eprintln!(
            "  extract all files      {:>10.2} s",
            u["extract_all_seconds"].as_f64().unwrap_or(f64::NAN)
        );
        eprintln!("  queries                {:>10}", u["queries"]);
        eprintln!(
            "  query p50 / p99        {:>10.2} / {:.2} ms",
            u["query_p50_ms"].as_f64().unwrap_or(f64::NAN),
            u["query_p99_ms"].as_f64().unwrap_or(f64::NAN)
        );
        eprintln!(
            "  peak RSS               {:>10.0} MB",
            u["peak_rss_mb"].as_f64().unwrap_or(f64::NAN)
        );
    }
    let s = &report["semantic"];
    if !s.is_null() {
        let f = |key: &str| s[key].as_f64().unwrap_or(f64::NAN);
        eprintln!("semantic");
        row(
            "raw model throughput",
            format!(
                "{:.1} chunks/s ({} sampled chunks)",
                f("raw_chunks_per_s"),
                s["raw_sample_chunks"]
            ),
        );
        row(
            "pipeline throughput",
            format!(
                "{:.1} chunks/s on all cores; on one, {:.0}% of raw (target >= 90%)",
                f("pipeline_chunks_per_s"),
                100.0 * f("pipeline_vs_raw")
            ),
        );
        row(
            "full semantic coverage",
            format!(
                "{:.0} s ({} vectors; lexical {:.1} s + embedding {:.0} s)",
                f("full_coverage_seconds"),
                s["vectors"],
                f("lexical_index_seconds"),
                f("pipeline_embed_seconds")
            ),
        );
        if !s["one_thread_embed_seconds"].is_null() {
            row(
                "all cores vs one",
                format!(
                    "{:.0} s on {} cores vs {:.0} s on one: {:.2}x",
                    f("pipeline_embed_seconds"),
                    s["cores"],
                    f("one_thread_embed_seconds"),
                    f("all_cores_speedup")
                ),
            );
        }
        row(
            "building HNSW (server)",
            format!(
                "{:.1} s, segments (hnsw, exact) {}",
                f("hnsw_build_seconds"),
                s["vector_segments"]
            ),
        );
        row(
            "peak RSS (index / query process)",
            format!(
                "{:.0} MB / {:.0} MB",
                f("index_peak_rss_mb"),
                f("query_process_peak_rss_mb")
            ),
        );
        row("index bytes", format!("{}", s["index_bytes"]));
        row(
            "hybrid query p50 / p99",
            format!(
                "{:.2} / {:.2} ms (targets 15 / 50 ms, {} distinct queries)",
                f("hybrid_p50_ms"),
                f("hybrid_p99_ms"),
                s["hybrid_query_count"]
            ),
        );
        row(
            "ANN recall@10 vs exact",
            format!("{:.3}", f("ann_recall_at_10")),
        );
        row("targets met", format!("{}", s["targets"]["met"]));
    }
    let l = &report["limits"];
    if !l.is_null() {
        eprintln!("mcp endpoint limits (one client while others hold connections)");
        let side = |k: &str| {
            format!(
                "p50 {:.1} ms, slowest {:.1} ms, {} of {} answered",
                l[k]["p50_ms"].as_f64().unwrap_or(f64::NAN),
                l[k]["max_ms"].as_f64().unwrap_or(f64::NAN),
                l[k]["answered"],
                l["calls"]
            )
        };
        row("before", side("before"));
        row(
            &format!(
                "during {} idle + {} half-header + {} slow-body",
                l["idle_connections"], l["half_headers"], l["slow_bodies"]
            ),
            side("during"),
        );
        row(
            "attackers closed by the server",
            format!(
                "{} held, {} slow bodies cut",
                l["attackers_closed_by_server"], l["slow_bodies_cut"]
            ),
        );
        row(
            "targets met (every answer within 1 s)",
            format!("{}", l["pass"]),
        );
    }
    let m = &report["mcp"];
    if !m.is_null() {
        let f = |key: &str| m[key].as_f64().unwrap_or(f64::NAN);
        eprintln!("mcp (streamable HTTP)");
        row(
            "load",
            format!(
                "{} clients x {} calls, think {} ms: {} done, {} failures, {} answered 429",
                m["clients"],
                m["calls_per_client"],
                m["think_ms"],
                m["calls_completed"],
                m["failures"],
                m["rate_limited_429"]
            ),
        );
        for tool in mcp_load::TOOLS {
            let t = &m["tools"][tool];
            row(
                &format!("{tool} p50 / p99"),
                format!(
                    "{:.2} / {:.2} ms ({} calls)",
                    t["p50_ms"].as_f64().unwrap_or(f64::NAN),
                    t["p99_ms"].as_f64().unwrap_or(f64::NAN),
                    t["calls"]
                ),
            );
        }
        row(
            "server RSS before / after",
            format!(
                "{:.0} / {:.0} MB ({:+.1}%, target < 10%)",
                f("rss_before_mb"),
                f("rss_after_mb"),
                100.0 * f("rss_growth")
            ),
        );
        row(
            "  private / file-backed",
            format!(
                "{:.0} → {:.0} / {:.0} → {:.0} MB",
                f("anon_before_mb"),
                f("anon_after_mb"),
                f("file_before_mb"),
                f("file_after_mb")
            ),
        );
        row(
            "  quiet 6 s / idle 65 s after / peak",
            format!(
                "{:.0} / {:.0} MB (targets: {:.0} after, {:.0} idle) / {:.0} MB; memory targets met: {}",
                f("rss_quiet_after_mb"),
                f("rss_idle_after_mb"),
                m["targets"]["rss_after_mb"].as_f64().unwrap_or(f64::NAN),
                m["targets"]["rss_idle_after_mb"]
                    .as_f64()
                    .unwrap_or(f64::NAN),
                f("peak_rss_mb"),
                m["memory_pass"]
            ),
        );
        row(
            "  first search after idle",
            format!("{:.1} ms", f("semantic_search_after_idle_ms")),
        );
        row(
            "fuzz",
            format!(
                "{} cases, server alive: {}, statuses {}",
                m["fuzz_cases"], m["fuzz_server_alive"], m["fuzz_statuses"]
            ),
        );
        row("targets met", format!("{}", m["pass"]));
    }
    let l = &report["lexical"];
    if l.is_null() {
        eprintln!();
        return;
    }
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

// ---------------------------------------------------------------------------
// Semantic

/// The pipeline's texts for a random sample of the corpus's chunks, as
/// (body view, name view) pairs, chunked exactly as `dowse index` does.
fn sample_views(args: &Args, n: usize) -> Vec<(String, String)> {
    use dowse_engine::views::{embedding_text, name_text};
    let root = args.corpus.canonicalize().expect("corpus");
    let walked = walk(&root, &walk_options(args)).expect("walk");
    let config = Config::default();
    let mut all = Vec::new();
    for file in &walked.files {
        let Ok(text) = std::fs::read_to_string(&file.abs_path) else {
            continue;
        };
        let chunked = dowse_syntax::chunk_file(Path::new(&file.rel_path), &text, &config.chunk);
        for chunk in &chunked.chunks {
            let code = chunk.text(&text);
            let (symbol, enclosing) = (chunk.symbol.as_deref(), &chunk.enclosing);
            all.push((
                embedding_text(&file.rel_path, chunk.kind, symbol, enclosing, code),
                name_text(chunk.kind, symbol, enclosing, code),
            ));
        }
    }
    // A seeded shuffle (xorshift), then the first n.
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    for i in (1..all.len()).rev() {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        all.swap(i, (state % (i as u64 + 1)) as usize);
    }
    all.truncate(n);
    all
}

/// Embeds `views` the way the pipeline does (windows of 1024 sorted by body
/// length, the same batches, body then name views), returning chunks/s.
fn raw_throughput(
    views: &[(String, String)],
    semantic: &dowse_engine::SemanticConfig,
) -> (f64, f64) {
    use dowse_engine::embed::{Embedder, OnnxEmbedder, OnnxOptions, model};
    let files = model::check_dir(
        &dowse_tests::real_model_dir(),
        model::ModelSource::Configured,
    )
    .expect("model");
    let embedder = OnnxEmbedder::load(&files, &OnnxOptions::default()).expect("load model");
    let started = Instant::now();
    for window in views.chunks(1024) {
        let mut window: Vec<&(String, String)> = window.iter().collect();
        window.sort_by_key(|(body, _)| body.len());
        for batch in dowse_engine::views::batches(
            &window,
            |(body, _)| body,
            (
                semantic.batch_size,
                semantic.batch_tokens,
                semantic.window(),
            ),
        ) {
            let bodies: Vec<&str> = batch.iter().map(|(b, _)| b.as_str()).collect();
            let names: Vec<&str> = batch.iter().map(|(_, n)| n.as_str()).collect();
            embedder.embed(&bodies).expect("embed");
            embedder.embed(&names).expect("embed");
        }
    }
    let seconds = started.elapsed().as_secs_f64();
    (views.len() as f64 / seconds, seconds)
}

/// Distinct natural-language queries: the first sentence of docstrings of
/// the corpus's functions, plus the fixed lexical list.
fn semantic_queries(args: &Args, n: usize) -> Vec<String> {
    let root = args.corpus.canonicalize().expect("corpus");
    let walked = walk(&root, &walk_options(args)).expect("walk");
    let mut queries: Vec<String> = LEXICAL_QUERIES.iter().map(|q| q.to_string()).collect();
    let mut seen = std::collections::HashSet::new();
    'files: for (i, file) in walked.files.iter().enumerate() {
        if i % 7 != 0 {
            continue;
        }
        let Ok(text) = std::fs::read_to_string(&file.abs_path) else {
            continue;
        };
        let lines: Vec<&str> = text.lines().collect();
        for pair in lines.windows(2) {
            let (def, doc) = (pair[0].trim(), pair[1].trim());
            if !def.starts_with("def ") || !doc.starts_with("\"\"\"") {
                continue;
            }
            let sentence = doc
                .trim_start_matches("\"\"\"")
                .split(['.', '"'])
                .next()
                .unwrap_or("")
                .trim();
            if sentence.split_whitespace().count() >= 4 && seen.insert(sentence.to_owned()) {
                queries.push(sentence.to_owned());
                if queries.len() >= n {
                    break 'files;
                }
            }
        }
    }
    queries
}

/// Set in the benchmark's own child process: the index it answers from.
const ANSWER_ENV: &str = "DOWSE_BENCH_ANSWER_INDEX";

/// Runs the answering half of the semantic section in a process of its
/// own (this program again), so that its peak RSS is that of a process
/// that answers queries — not of one that also ran the raw model.
fn answer_in_child(index_dir: &Path) -> Value {
    let exe = std::env::current_exe().expect("the benchmark's own path");
    let mut cmd = Command::new(exe);
    cmd.args(std::env::args().skip(1))
        .env(ANSWER_ENV, index_dir)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    let output = cmd.output().expect("run the answering process");
    assert!(
        output.status.success(),
        "the answering process failed: {}",
        output.status
    );
    serde_json::from_slice(&output.stdout).expect("the answering process's JSON")
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

/// The answering process: opens the index, loads the model and the vectors,
/// builds the HNSW graph as the language server does after its initial
/// indexing, answers the query set and measures recall. Prints JSON.
fn answer(args: &Args, index_dir: PathBuf) {
    let mut stages = serde_json::Map::new();
    // Resident memory after each step: heap and other private memory
    // (anonymous) apart from mapped files (the model, tantivy's segments),
    // which the kernel can drop and read again.
    let mut stage = |name: &str| {
        let m = status_mb("self", &["VmRSS", "VmHWM", "RssAnon", "RssFile"]);
        stages.insert(
            name.to_owned(),
            json!({"rss_mb": m[0], "peak_mb": m[1], "anon_mb": m[2], "file_mb": m[3]}),
        );
    };
    let model_dir = dowse_tests::real_model_dir();
    let config = Config {
        index_dir: Some(index_dir),
        include: args.include.clone(),
        exclude: args.exclude.clone(),
        semantic: dowse_engine::SemanticConfig {
            model_dir: Some(model_dir),
            ..dowse_engine::SemanticConfig::default()
        },
        ..Config::default()
    };
    let mut engine = Engine::open(&args.corpus, config).expect("open the benchmark index");
    stage("opened");
    // Load the model and the vectors, and warm up with queries not measured.
    engine
        .embed(&dowse_engine::NoProgress)
        .expect("load vectors");
    stage("model_and_vectors_loaded");
    let segments_loaded = engine.vector_segments();
    let hnsw_build = engine.graph_job().map(|job| job.run()).unwrap_or_default();
    stage("hnsw_built");
    for q in ["warm up the model", "and the caches"] {
        engine.search(&SearchRequest::new(q)).expect("search");
    }
    let queries = semantic_queries(args, 232);
    let mut latencies = Vec::new();
    for q in &queries {
        let started = Instant::now();
        let response = engine
            .search(&SearchRequest::new(q.as_str()))
            .expect("search");
        latencies.push(started.elapsed().as_secs_f64() * 1000.0);
        assert!(
            response.degraded.is_none(),
            "hybrid search degraded: {:?}",
            response.degraded
        );
    }
    stage("queries_answered");
    latencies.sort_by(|a, b| a.partial_cmp(b).expect("no NaN"));
    let recall_queries: Vec<&str> = queries.iter().map(String::as_str).collect();
    let recall = engine.vector_recall(&recall_queries, 10).expect("recall");
    stage("recall_measured");
    let peak = status_mb("self", &["VmHWM"])[0];
    let value = json!({
        "hnsw_build_seconds": hnsw_build.as_secs_f64(),
        "vector_segments_loaded": segments_loaded,
        "vector_segments": engine.vector_segments(),
        "hybrid_query_count": latencies.len(),
        "hybrid_p50_ms": percentile(&latencies, 0.5),
        "hybrid_p99_ms": percentile(&latencies, 0.99),
        "ann_recall_at_10": recall,
        "peak_rss_mb": peak,
        "rss_mb": stages,
    });
    println!("{value}");
}

fn semantic(args: &Args) -> (Value, tempfile::TempDir) {
    let model_dir = dowse_tests::real_model_dir();
    let semantic_config = dowse_engine::SemanticConfig::default();

    eprintln!(
        "semantic: raw model throughput over {} sampled chunks...",
        args.raw_sample
    );
    let views = sample_views(args, args.raw_sample);
    let (raw_rate, raw_seconds) = raw_throughput(&views, &semantic_config);

    eprintln!("semantic: indexing and embedding the whole corpus (this takes a while)...");
    let scratch = tempfile::tempdir().expect("temp dir");
    let index_dir = scratch.path().join("index");
    let mut cmd = Command::new(dowse_bin());
    cmd.arg("index")
        .arg(&args.corpus)
        .arg("--json")
        .env("DOWSE_INDEX_DIR", &index_dir)
        .env("DOWSE_MODEL_DIR", &model_dir);
    corpus_globs(&mut cmd, args);
    let (wall, stdout, max_rss) = measure(cmd);
    let report: Value = serde_json::from_str(&stdout).expect("dowse index --json");
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    // The same work on one core, in the same run: the ratio is the figure
    // (these machines are noisy; absolute times move between runs).
    let one_thread = (cores > 1).then(|| {
        eprintln!("semantic: the same on one core (threads = 1)...");
        let dir = scratch.path().join("one-thread");
        let mut cmd = Command::new(dowse_bin());
        cmd.arg("index")
            .arg(&args.corpus)
            .arg("--json")
            .env("DOWSE_INDEX_DIR", &dir)
            .env("DOWSE_MODEL_DIR", &model_dir)
            .env("DOWSE_THREADS", "1");
        corpus_globs(&mut cmd, args);
        let (_, stdout, rss) = measure(cmd);
        let _ = std::fs::remove_dir_all(&dir);
        let report: Value = serde_json::from_str(&stdout).expect("dowse index --json");
        (report, rss)
    });
    let embedded = report["embedded"].as_f64().unwrap_or(0.0);
    let embed_seconds = report["embed_seconds"].as_f64().unwrap_or(f64::NAN);
    let lexical_seconds = report["seconds"].as_f64().unwrap_or(f64::NAN);
    let pipeline_rate = embedded / embed_seconds;

    eprintln!("semantic: hybrid query latency (a process of its own)...");
    let answering = answer_in_child(&index_dir);
    let hnsw_build = answering["hnsw_build_seconds"].as_f64().unwrap_or(f64::NAN);
    let p50 = answering["hybrid_p50_ms"].as_f64().unwrap_or(f64::NAN);
    let p99 = answering["hybrid_p99_ms"].as_f64().unwrap_or(f64::NAN);
    // The raw model runs on one thread: compare the pipeline on one too.
    let one_thread_rate = one_thread.as_ref().map(|(r, _)| {
        r["embedded"].as_f64().unwrap_or(0.0) / r["embed_seconds"].as_f64().unwrap_or(f64::NAN)
    });
    let ratio = one_thread_rate.unwrap_or(pipeline_rate) / raw_rate;
    let value = json!({
        "raw_sample_chunks": views.len(),
        "raw_seconds": raw_seconds,
        "raw_chunks_per_s": raw_rate,
        "pipeline_chunks_embedded": embedded,
        "pipeline_embed_seconds": embed_seconds,
        "pipeline_chunks_per_s": pipeline_rate,
        "pipeline_vs_raw": ratio,
        "one_thread_chunks_per_s": one_thread_rate,
        "lexical_index_seconds": lexical_seconds,
        "full_coverage_seconds": lexical_seconds + embed_seconds,
        "cores": cores,
        "one_thread_embed_seconds": one_thread.as_ref().map(|(r, _)| r["embed_seconds"].clone()),
        "one_thread_full_coverage_seconds": one_thread.as_ref().map(|(r, _)| {
            r["seconds"].as_f64().unwrap_or(f64::NAN) + r["embed_seconds"].as_f64().unwrap_or(f64::NAN)
        }),
        "one_thread_peak_rss_mb": one_thread.as_ref().map(|(_, rss)| *rss as f64 / 1024.0),
        "all_cores_speedup": one_thread.as_ref().map(|(r, _)| {
            r["embed_seconds"].as_f64().unwrap_or(f64::NAN) / embed_seconds
        }),
        "vector_merge_seconds": report["vector_maintenance_seconds"],
        "hnsw_build_seconds": hnsw_build,
        "index_wall_seconds": wall.as_secs_f64(),
        "index_peak_rss_mb": max_rss as f64 / 1024.0,
        "vectors": report["vectors"],
        "vector_segments": answering["vector_segments"],
        "index_bytes": dowse_engine::IndexDir::new(index_dir.clone()).disk_bytes(),
        "hybrid_query_count": answering["hybrid_query_count"],
        "hybrid_p50_ms": p50,
        "hybrid_p99_ms": p99,
        "query_process_peak_rss_mb": answering["peak_rss_mb"],
        "query_process_rss_mb": answering["rss_mb"],
        "ann_recall_at_10": answering["ann_recall_at_10"],
        "targets": {
            "pipeline_vs_raw_min": 0.9,
            "hybrid_p50_ms_max": 15.0,
            "hybrid_p99_ms_max": 50.0,
            "met": ratio >= 0.9 && p50 <= 15.0 && p99 <= 50.0,
        },
    });
    (value, scratch)
}
