//! In-process runner for retrieval set D: opens the engine once over an
//! already-indexed corpus and runs every query of `queries.jsonl`, writing the
//! results file that `score.py` reads. Much faster than one CLI process per
//! query (`tests/eval/run.py` does that, end to end), which makes it the tool
//! for tuning. Usage:
//!
//! ```text
//! cargo run --release -p dowse-tests --example eval_search -- \
//!     CORPUS INDEX_DIR QUERIES_JSONL OUT_JSONL [hybrid|lexical|semantic]
//! ```
#![allow(clippy::print_stderr)]

use std::io::{BufRead, Write};
use std::path::PathBuf;
use std::time::Instant;

use dowse_engine::{Config, Engine, SearchMode, SearchRequest};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.len() < 4 {
        eprintln!("usage: eval_search CORPUS INDEX_DIR QUERIES_JSONL OUT_JSONL [MODE]");
        std::process::exit(2);
    }
    let mode: SearchMode = args
        .get(4)
        .map_or("hybrid", String::as_str)
        .parse()
        .expect("mode");
    let config = Config {
        index_dir: Some(PathBuf::from(&args[1])),
        ..Config::default()
    };
    let engine = Engine::open(PathBuf::from(&args[0]).as_path(), config).expect("open engine");
    let report = engine.update(&dowse_engine::NoProgress).expect("update");
    let embedded = engine.embed(&dowse_engine::NoProgress).expect("embed");
    eprintln!(
        "{} files, {} chunks, {} embedded now",
        report.files, report.chunks, embedded.embedded
    );
    let queries = std::fs::File::open(&args[2]).expect("queries");
    let mut out = std::fs::File::create(&args[3]).expect("out");
    let started = Instant::now();
    let mut n = 0;
    for line in std::io::BufReader::new(queries).lines() {
        let q: serde_json::Value = serde_json::from_str(&line.expect("line")).expect("json");
        let request = SearchRequest {
            query: q["query"].as_str().expect("query").to_owned(),
            mode,
            limit: 10,
        };
        let response = engine.search(&request).expect("search");
        let row = serde_json::json!({"id": q["id"], "results": response.results});
        writeln!(out, "{row}").expect("write");
        n += 1;
    }
    eprintln!("{n} queries in {:.2} s", started.elapsed().as_secs_f64());
}
