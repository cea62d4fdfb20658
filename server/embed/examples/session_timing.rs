//! What a query session costs to load and to run, with and without
//! prepacked weights, and the process's memory after each: the figures
//! behind dropping the query session of an idle server and loading it
//! again on the next query (`Model::release_idle`).
//!
//! `cargo run --release -p dowse-embed --example session_timing`

#![allow(clippy::print_stderr)]

use std::time::Instant;

use dowse_embed::{Embedder, OnnxEmbedder, OnnxOptions, Resolution, resolve};

fn memory() -> String {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1)?.parse::<u64>().ok())
            .map_or(0, |kb| kb / 1024)
    };
    format!(
        "rss {} MB (private {}, file {})",
        field("VmRSS:"),
        field("RssAnon:"),
        field("RssFile:")
    )
}

fn main() {
    let Resolution::Found(files) = resolve(None) else {
        panic!("no model: run `dowse model install`");
    };
    let query = "how to parse a duration string";
    // The indexer's session, as a server has it before any query.
    let indexer = OnnxEmbedder::load(&files, &OnnxOptions::default()).expect("the model loads");
    indexer.embed(&[query]).expect("a vector");
    dowse_embed::release_unused_weights();
    eprintln!("indexer session: {}", memory());
    for prepack in [true, false, true, false] {
        let started = Instant::now();
        let options = OnnxOptions {
            prepack,
            threads: 1,
            ..OnnxOptions::default()
        };
        let session = OnnxEmbedder::load(&files, &options).expect("the model loads");
        let load = started.elapsed();
        let started = Instant::now();
        session.embed(&[query]).expect("a vector");
        let first = started.elapsed();
        let started = Instant::now();
        for _ in 0..50 {
            session.embed(&[query]).expect("a vector");
        }
        let each = started.elapsed() / 50;
        eprintln!(
            "prepacked {prepack:5}: load {load:.1?}, first query {first:.1?}, then {each:.1?} each; {}",
            memory()
        );
    }
}
