//! How to use more than one core for embedding: measures, on this machine,
//! the throughput of the real model over real chunk-sized texts with
//!
//! - `1x1`: one ONNX Runtime session with one intra-op thread (the baseline);
//! - `1xN`: one session with N intra-op threads;
//! - `Nx1`: N single-thread sessions, each embedding its own batches.
//!
//! Prints a table and JSON. The choice in `dowse_engine::semantic` (N
//! single-thread sessions fed from one queue) rests on these figures.
//!
//!   cargo run --release -p dowse-tests --example embed_scaling -- [DIR] [--texts N] [--threads N]

#![allow(clippy::print_stderr, clippy::print_stdout)] // a measuring program: its report

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use dowse_engine::embed::{Embedder, OnnxEmbedder, OnnxOptions, Resolution};
use serde_json::json;

fn texts_from(dir: &std::path::Path, want: usize) -> Vec<String> {
    let mut files: Vec<PathBuf> = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        let mut entries: Vec<_> = entries.filter_map(|e| e.ok()).map(|e| e.path()).collect();
        entries.sort();
        for path in entries {
            if path.is_dir() && !path.ends_with("site-packages") {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "py") {
                files.push(path);
            }
        }
    }
    // Function-sized pieces: 12 lines each, as chunks are.
    let mut out = Vec::new();
    for file in files.iter().step_by(7) {
        let Ok(text) = std::fs::read_to_string(file) else {
            continue;
        };
        let lines: Vec<&str> = text.lines().collect();
        for piece in lines.chunks(12) {
            let piece = piece.join("\n");
            if piece.trim().len() > 40 {
                out.push(piece);
            }
            if out.len() == want {
                return out;
            }
        }
    }
    out
}

fn batches(texts: &[String]) -> Vec<Vec<&str>> {
    // As the engine batches: by length, at most 16 texts and ~128 tokens.
    let mut sorted: Vec<&str> = texts.iter().map(String::as_str).collect();
    sorted.sort_by_key(|t| t.len());
    let mut out: Vec<Vec<&str>> = Vec::new();
    let mut current: Vec<&str> = Vec::new();
    let mut tokens = 0;
    for text in sorted {
        let cost = (text.len() / 4).clamp(1, 256);
        if !current.is_empty() && (current.len() == 16 || tokens + cost > 128) {
            out.push(std::mem::take(&mut current));
            tokens = 0;
        }
        tokens += cost;
        current.push(text);
    }
    if !current.is_empty() {
        out.push(current);
    }
    out
}

fn main() {
    let mut dir = None;
    let mut want = 1500;
    let mut threads = std::thread::available_parallelism().map_or(2, |n| n.get());
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--texts" => want = args.next().and_then(|v| v.parse().ok()).expect("--texts N"),
            "--threads" => {
                threads = args
                    .next()
                    .and_then(|v| v.parse().ok())
                    .expect("--threads N")
            }
            other => dir = Some(PathBuf::from(other)),
        }
    }
    let dir = dir.unwrap_or_else(|| {
        let out = std::process::Command::new("python3")
            .args([
                "-c",
                "import sysconfig; print(sysconfig.get_paths()['stdlib'])",
            ])
            .output()
            .expect("python3");
        PathBuf::from(String::from_utf8_lossy(&out.stdout).trim())
    });
    let Resolution::Found(files) = dowse_engine::embed::resolve(None) else {
        panic!("no model: run `dowse model install`");
    };
    let texts = texts_from(&dir, want);
    let batches = batches(&texts);
    let load = |threads: usize| {
        Arc::new(
            OnnxEmbedder::load(
                &files,
                &OnnxOptions {
                    threads,
                    ..Default::default()
                },
            )
            .expect("model"),
        )
    };
    let run_one = |model: &OnnxEmbedder| {
        let started = Instant::now();
        for batch in &batches {
            model.embed(batch).expect("embed");
        }
        texts.len() as f64 / started.elapsed().as_secs_f64()
    };
    // Warm-up, then each layout.
    let single = load(1);
    single.embed(&batches[0]).expect("warm up");
    // One edited function: its body and its name, in one run and in two.
    let body = "json/decoder.py\nfunction average_readings\ndef average_readings(readings):\n    \"\"\"Average the sensor readings of a batch, skipping gaps.\"\"\"\n    values = [r for r in readings if r is not None]\n    return sum(values) / max(len(values), 1)";
    let name = "function average_readings: def average_readings(readings):";
    let time = |f: &dyn Fn()| {
        let started = Instant::now();
        for _ in 0..30 {
            f();
        }
        started.elapsed().as_secs_f64() * 1000.0 / 30.0
    };
    let one_run = time(&|| {
        single.embed(&[body, name]).expect("embed");
    });
    let two_runs = time(&|| {
        single.embed(&[body]).expect("embed");
        single.embed(&[name]).expect("embed");
    });
    eprintln!("one edited chunk: {one_run:.1} ms in one run, {two_runs:.1} ms in two");
    let base = run_one(&single);
    let wide = load(threads);
    wide.embed(&batches[0]).expect("warm up");
    let intra = run_one(&wide);
    drop(wide);
    let sessions: Vec<Arc<OnnxEmbedder>> = (0..threads).map(|_| load(1)).collect();
    let started = Instant::now();
    std::thread::scope(|scope| {
        for (i, session) in sessions.iter().enumerate() {
            let batches = &batches;
            scope.spawn(move || {
                for batch in batches.iter().skip(i).step_by(threads) {
                    session.embed(batch).expect("embed");
                }
            });
        }
    });
    let parallel = texts.len() as f64 / started.elapsed().as_secs_f64();
    eprintln!(
        "{} texts in {} batches, {threads} threads",
        texts.len(),
        batches.len()
    );
    eprintln!("  1x1 (one session, one thread)     {base:>8.1} texts/s");
    eprintln!(
        "  1x{threads} (one session, {threads} threads)    {intra:>8.1} texts/s  ({:.2}x)",
        intra / base
    );
    eprintln!(
        "  {threads}x1 ({threads} sessions, one thread each) {parallel:>8.1} texts/s  ({:.2}x)",
        parallel / base
    );
    println!(
        "{}",
        json!({
            "edit_one_run_ms": one_run,
            "edit_two_runs_ms": two_runs,
            "texts": texts.len(),
            "batches": batches.len(),
            "threads": threads,
            "one_session_one_thread_per_s": base,
            "one_session_n_threads_per_s": intra,
            "n_sessions_one_thread_per_s": parallel,
            "intra_speedup": intra / base,
            "sessions_speedup": parallel / base,
        })
    );
}
