//! The model's weights are a mapped file, and a session that no longer reads
//! them does not keep them in the process's memory. Alone in its test
//! binary: the resident pages of the mapping are counted, and another test's
//! session running meanwhile would read them back.

use std::path::PathBuf;

use dowse_embed::model::{ModelSource, check_dir, user_cache_dir};
use dowse_embed::{Embedder, OnnxEmbedder, OnnxOptions, release_unused_weights};

/// Resident kilobytes of this process's mappings of an optimised model file.
fn resident_weights_kb() -> u64 {
    let smaps = std::fs::read_to_string("/proc/self/smaps").expect("/proc/self/smaps");
    let mut in_model = false;
    let mut kb = 0;
    for line in smaps.lines() {
        let first = line.split_whitespace().next().unwrap_or("");
        if first.contains('-') && first.chars().all(|c| c.is_ascii_hexdigit() || c == '-') {
            in_model = line.contains("/optimized-") && line.ends_with(".ort");
        } else if in_model && let Some(rest) = line.strip_prefix("Rss:") {
            kb += rest
                .trim()
                .trim_end_matches("kB")
                .trim()
                .parse::<u64>()
                .unwrap();
        }
    }
    kb
}

#[test]
fn weights_leave_memory_when_no_session_reads_them_and_vectors_do_not_change() {
    let dir = std::env::var_os("DOWSE_MODEL_DIR").map_or_else(
        || user_cache_dir().expect("a user cache directory"),
        PathBuf::from,
    );
    let files = check_dir(&dir, ModelSource::UserCache).unwrap_or_else(|reason| {
        panic!("the real model is needed: {reason}; run `dowse model install` (scripts/test does)")
    });
    let indexer = OnnxEmbedder::load(&files, &OnnxOptions::default()).expect("the model loads");
    let text = "def retry_failed_uploads(queue):\n    for item in queue:\n        item.retry()";
    let before = indexer.embed(&[text]).unwrap();
    let reading = resident_weights_kb();
    // A session without prepacking reads every weight matrix on each run.
    assert!(
        reading > 30_000,
        "the weights an embedding run reads are resident: {reading} kB"
    );

    release_unused_weights();
    let released = resident_weights_kb();
    assert!(
        released < 2_000,
        "released, the weights leave the process: {released} kB of {reading}"
    );

    // The server's query session runs on its own packed copy of the weight
    // matrices and reads back only a little of the file.
    let queries = OnnxEmbedder::load(
        &files,
        &OnnxOptions {
            prepack: true,
            ..OnnxOptions::default()
        },
    )
    .expect("the model loads");
    let query = queries.embed(&["retry failed uploads"]).unwrap();
    let querying = resident_weights_kb();
    assert!(
        querying < reading / 2,
        "queries on prepacked weights keep {querying} kB resident, against {reading} kB"
    );

    // Read back from the file, the weights give the same vectors.
    assert_eq!(indexer.embed(&[text]).unwrap(), before);
    assert_eq!(queries.embed(&["retry failed uploads"]).unwrap(), query);
    assert!(resident_weights_kb() > 30_000);
}
