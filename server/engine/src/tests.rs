//! Tests of an engine as a whole: which chunks are embedded, when, and
//! what a change of version makes again.

use super::*;
use std::time::Duration;

/// An engine on `root` with the fake embedder, its index in
/// `index_dir`, the configuration adjusted by `tweak`; indexed by
/// keywords, nothing embedded yet.
fn fake_engine(root: &Path, index_dir: PathBuf, tweak: impl FnOnce(&mut Config)) -> EngineWriter {
    let mut config = Config {
        index_dir: Some(index_dir),
        ..Config::default()
    };
    tweak(&mut config);
    let mut engine =
        Engine::open_with_embedder(root, config, Arc::new(dowse_embed::FakeEmbedder::new(32)))
            .unwrap();
    engine.update(&NoProgress).unwrap();
    engine.prepare_semantic();
    engine
}

/// Open files are embedded before anything else, then the files around
/// them (same directory, imports), then the rest: checked by coverage
/// after each step, not by timing.
#[test]
fn open_files_and_their_neighbours_are_embedded_first() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("ws");
    for package in ["alpha", "beta", "gamma", "delta"] {
        std::fs::create_dir_all(root.join(package)).unwrap();
        for i in 0..6 {
            let text = (0..3)
                    .map(|f| {
                        format!(
                            "def {package}_{i}_{f}(value, scale):\n    \"\"\"Scales the {package} value {f} of batch {i}.\"\"\"\n    \
                             total = value * scale\n    if total > {f}:\n        total -= {i}\n    return total + {f}\n\n\n"
                        )
                    })
                    .collect::<String>();
            std::fs::write(root.join(format!("{package}/m{i}.py")), text).unwrap();
        }
    }
    // beta/m3 imports a module of delta.
    let opened = "beta/m3.py";
    let mut text = std::fs::read_to_string(root.join(opened)).unwrap();
    text.insert_str(0, "from delta import m5\n\n\n");
    std::fs::write(root.join(opened), text).unwrap();
    let mut engine = fake_engine(&root, dir.path().join("index"), |_| {});
    let (_, total) = engine.vector_coverage();
    assert!(total > 60, "{total} chunks");
    engine.set_focus(opened, true);
    let reader = engine.reader();
    let covered = |paths: &[String]| -> bool {
        paths.iter().all(|p| {
            let (with, all) = reader.file_coverage(p).unwrap();
            all > 0 && with == all
        })
    };
    let batch = engine.config.semantic.batch_size as u64;
    let near: Vec<String> = (0..6)
        .map(|i| format!("beta/m{i}.py"))
        .chain(["delta/m5.py".to_owned()])
        .collect();
    let near_chunks: u64 = near
        .iter()
        .map(|p| engine.file_coverage(p).unwrap().1)
        .sum();
    let own = engine.file_coverage(opened).unwrap().1;
    let mut steps = 0;
    while !covered(&[opened.to_owned()]) {
        engine.embed_step_with(1).unwrap();
        steps += 1;
        assert!(steps < 100);
    }
    let (done, _) = engine.vector_coverage();
    assert!(
        done < own + batch,
        "{done} chunks embedded before the open file's {own} were done"
    );
    while !covered(&near) {
        engine.embed_step_with(1).unwrap();
        steps += 1;
        assert!(steps < 200);
    }
    let (done, left) = engine.vector_coverage();
    assert!(
        done < near_chunks + batch,
        "{done} chunks embedded before the neighbours' {near_chunks} were done"
    );
    assert!(left > 0, "the rest is still to do");
    // The rest goes newest first: nothing of it before the neighbours
    // but the tail of their last batch.
    let far: u64 = ["alpha", "gamma"]
        .iter()
        .flat_map(|p| (0..6).map(move |i| format!("{p}/m{i}.py")))
        .map(|p| engine.file_coverage(&p).unwrap().0)
        .sum();
    assert!(far < batch, "{far} chunks of unrelated files came early");
}

/// A step on two cores embeds two batches, and the vectors are the ones
/// one core computes.
#[test]
fn embedding_on_two_cores_halves_the_steps_and_changes_no_vector() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("ws");
    std::fs::create_dir_all(&root).unwrap();
    for i in 0..24 {
        std::fs::write(
            root.join(format!("m{i}.py")),
            format!(
                "def settle_{i}(ledger, amount):\n    \"\"\"Settles entry {i}.\"\"\"\n    \
                     return ledger.post(amount * {i})\n"
            ),
        )
        .unwrap();
    }
    let run = |workers: usize, index: &str| {
        let mut engine = fake_engine(&root, dir.path().join(index), |config| config.threads = 2);
        let mut steps = 0;
        loop {
            let step = engine.embed_step_with(workers).unwrap();
            steps += 1;
            if step.remaining == 0 {
                break;
            }
        }
        let similar = engine.similar("m5.py", 1, 10).unwrap();
        let ranked: Vec<(String, u32)> = similar
            .results
            .iter()
            .map(|r| (r.path.clone(), (r.score * 1e4) as u32))
            .collect();
        (steps, engine.vector_coverage(), ranked)
    };
    let (one_steps, one_coverage, one_ranked) = run(1, "one");
    let (two_steps, two_coverage, two_ranked) = run(2, "two");
    assert_eq!(one_coverage, (24, 0));
    assert_eq!(two_coverage, (24, 0));
    assert_eq!(one_ranked, two_ranked);
    assert!(
        two_steps * 2 <= one_steps + 2,
        "{two_steps} steps on two cores, {one_steps} on one"
    );
}

/// An edit to a file the first embedding has not reached embeds what
/// was typed, not the whole file; closing embeds nothing; the rest is
/// the background's, open files first.
#[test]
fn an_edit_embeds_what_was_typed_not_the_whole_file() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("ws");
    std::fs::create_dir_all(&root).unwrap();
    let text: String = (0..20)
        .map(|i| {
            format!(
                "def step_{i}(ledger, entry):\n    \"\"\"Posts entry {i} to the ledger.\"\"\"\n    \
                     amount = entry.amount * {i}\n    if amount > {i}:\n        amount -= 1\n    \
                     ledger.post(entry.account, amount)\n    return amount\n\n\n"
            )
        })
        .collect();
    std::fs::write(root.join("steps.py"), &text).unwrap();
    let mut engine = fake_engine(&root, dir.path().join("index"), |_| {});
    assert_eq!(engine.file_coverage("steps.py").unwrap().0, 0);
    let edited = format!(
        "def settle_all(ledger):\n    \"\"\"Closes the ledger after the last entry.\"\"\"\n    \
             ledger.flush()\n    ledger.seal()\n    return ledger.close()\n\n\n{text}"
    );
    assert!(engine.set_buffer("steps.py", &edited).unwrap());
    let report = engine.embed_buffer("steps.py").unwrap();
    assert_eq!(report.embedded, 1, "only the typed function");
    let found = engine
        .search(&SearchRequest {
            mode: SearchMode::Semantic,
            ..SearchRequest::new("settle_all closes the ledger after the last entry")
        })
        .unwrap();
    assert_eq!(found.results[0].symbol.as_deref(), Some("settle_all"));
    engine.close_buffer("steps.py").unwrap();
    assert_eq!(engine.file_coverage("steps.py").unwrap().0, 0);
    engine.embed(&NoProgress).unwrap();
    assert_eq!(engine.file_coverage("steps.py").unwrap(), (20, 20));
}

/// While the first embedding runs, similar code still answers: the few
/// neighbours by meaning first, keyword matches in the places left, and
/// a note saying how much of the workspace was compared.
#[test]
fn similar_fills_in_with_keywords_while_coverage_is_partial() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("ws");
    std::fs::create_dir_all(&root).unwrap();
    for i in 0..30 {
        std::fs::write(
            root.join(format!("m{i}.py")),
            format!(
                "def parse_duration_{i}(text):\n    \"\"\"Parses a duration such as 5m.\"\"\"\n    \
                     return int(text[:-1]) * {i}\n"
            ),
        )
        .unwrap();
    }
    let mut engine = fake_engine(&root, dir.path().join("index"), |_| {});
    engine.set_focus("m3.py", true);
    while engine.file_coverage("m3.py").unwrap().0 == 0 {
        engine.embed_step_with(1).unwrap();
    }
    let (embedded, pending) = engine.vector_coverage();
    assert!(
        pending > 0 && embedded < 30,
        "{embedded} embedded, {pending} pending"
    );
    assert!(embedded < 10, "one batch embedded {embedded} chunks");
    let response = engine.similar("m3.py", 1, 10).unwrap();
    assert_eq!(response.results.len(), 10, "{response:#?}");
    assert!(response.results.iter().all(|r| r.path != "m3.py"));
    let note = response.degraded.expect("a note on partial coverage");
    assert!(
        note.contains(&format!("{embedded} of 30 chunks embedded")),
        "{note}"
    );

    engine.embed(&NoProgress).unwrap();
    let response = engine.similar("m3.py", 1, 10).unwrap();
    assert_eq!(response.degraded, None);
    assert_eq!(response.results.len(), 10);
}

/// What is embedded has a version: a new one makes every vector again,
/// once, by itself, and reads nothing else (no file is indexed again,
/// nothing is committed).
#[test]
fn a_new_view_version_makes_every_vector_again_once_and_nothing_else() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("ws");
    std::fs::create_dir_all(&root).unwrap();
    for i in 0..12 {
        std::fs::write(
            root.join(format!("m{i}.py")),
            format!("def tally_{i}(ledger):\n    return ledger.sum({i})\n"),
        )
        .unwrap();
    }
    let index = dir.path().join("index");
    let mut engine = fake_engine(&root, index.clone(), |_| {});
    let (_, total) = engine.vector_coverage();
    assert_eq!(engine.embed(&NoProgress).unwrap().embedded, total);
    drop(engine);

    let reopen = |version: u32| {
        let mut config = Config {
            index_dir: Some(index.clone()),
            ..Config::default()
        };
        config.semantic.view_version = version;
        Engine::open_with_embedder(&root, config, Arc::new(dowse_embed::FakeEmbedder::new(32)))
            .unwrap()
    };
    let mut same = reopen(views::VIEW_VERSION);
    let report = same.update(&NoProgress).unwrap();
    assert_eq!(report.files_indexed, 0);
    assert_eq!(same.embed(&NoProgress).unwrap().embedded, 0, "all cached");
    drop(same);

    let mut bumped = reopen(views::VIEW_VERSION + 1);
    let report = bumped.update(&NoProgress).unwrap();
    bumped.prepare_semantic();
    assert_eq!(report.files_indexed, 0, "no file is read again");
    assert_eq!(bumped.counters.commits(), 0, "nothing is committed");
    assert_eq!(bumped.vector_coverage(), (0, total), "no old vector serves");
    assert_eq!(bumped.embed(&NoProgress).unwrap().embedded, total);
    assert_eq!(bumped.vector_coverage(), (total, 0));
    assert_eq!(bumped.embed(&NoProgress).unwrap().embedded, 0, "once");
}

/// An index made by another chunker version (an older dowse) has every
/// file chunked again on its next update, once, even though no file
/// changed; chunks that come out the same keep their vectors.
#[test]
fn files_chunked_by_another_chunker_version_are_chunked_again_once() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("ws");
    std::fs::create_dir_all(&root).unwrap();
    for i in 0..5 {
        std::fs::write(
            root.join(format!("m{i}.py")),
            format!("def settle_{i}(ledger):\n    return ledger.close({i})\n"),
        )
        .unwrap();
    }
    let mut engine = fake_engine(&root, dir.path().join("index"), |_| {});
    let (_, total) = engine.vector_coverage();
    assert_eq!(engine.embed(&NoProgress).unwrap().embedded, total);
    assert_eq!(engine.update(&NoProgress).unwrap().files_indexed, 0);

    for record in engine.files.write().unwrap().files.values_mut() {
        record.chunker = dowse_syntax::CHUNKER_VERSION - 1;
    }
    let report = engine.update(&NoProgress).unwrap();
    assert_eq!(report.files_indexed, 5, "every file is chunked again");
    assert_eq!(
        engine.embed(&NoProgress).unwrap().embedded,
        0,
        "same chunks, same vectors"
    );
    assert_eq!(engine.vector_coverage(), (total, 0));
    assert_eq!(engine.update(&NoProgress).unwrap().files_indexed, 0, "once");
    let table = engine.files.read().unwrap();
    assert!(
        table
            .files
            .values()
            .all(|r| r.chunker == dowse_syntax::CHUNKER_VERSION)
    );
}

/// A one-shot process answers from exact search and never pays for a
/// graph build; the server's optimiser builds the graph later, and the
/// answers stay those of exact search.
#[test]
fn graphs_are_built_by_the_optimiser_not_by_embedding() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("ws");
    std::fs::create_dir_all(&root).unwrap();
    for i in 0..40 {
        std::fs::write(
            root.join(format!("m{i}.py")),
            format!("def handler_{i}(request):\n    return request.reply({i})\n"),
        )
        .unwrap();
    }
    let mut engine = fake_engine(&root, dir.path().join("index"), |config| {
        config.semantic.vectors.seal_threshold = 16;
    });
    engine.embed(&NoProgress).unwrap();
    let (graphs, blocks) = engine.vector_segments();
    assert_eq!(graphs, 0, "embedding built a graph");
    assert!(blocks >= 1);
    let request = SearchRequest {
        mode: SearchMode::Semantic,
        ..SearchRequest::new("handler_7 request reply")
    };
    let before = engine.search(&request).unwrap();
    assert!(!before.results.is_empty());

    engine.graph_job().expect("a graph to build").run();
    assert_eq!(engine.vector_segments(), (1, 0));
    let after = engine.search(&request).unwrap();
    assert_eq!(after.results[0].path, before.results[0].path);
}

/// Twelve small files under `root` whose text changes with `round`.
fn write_tallies(root: &Path, round: u32) {
    for i in 0..12 {
        std::fs::write(
            root.join(format!("m{i}.py")),
            format!("def tally_{i}(ledger):\n    return ledger.sum({i}, {round})\n"),
        )
        .unwrap();
    }
}

/// Vectors of text that is gone stay in the embedding cache while they are
/// no more than those in use (going back to the old text finds them), and
/// are dropped once they outnumber them: the file shrinks to what is in
/// use, which is never embedded again.
#[test]
fn the_cache_drops_vectors_nothing_uses_once_they_are_most_of_it() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("ws");
    std::fs::create_dir_all(&root).unwrap();
    let write = |round: u32| write_tallies(&root, round);
    write(0);
    let index = dir.path().join("index");
    let mut engine = fake_engine(&root, index, |config| {
        config.semantic.unused_records_min = 4;
    });
    let cache = engine.dir.embeddings();
    let size = || std::fs::metadata(&cache).unwrap().len();
    let round = |n: u32, engine: &mut EngineWriter| {
        write(n);
        engine.update(&NoProgress).unwrap();
        let report = engine.embed(&NoProgress).unwrap();
        (report.embedded, report.unused_vectors_dropped)
    };
    let (_, total) = engine.vector_coverage();
    assert_eq!(engine.embed(&NoProgress).unwrap().embedded, total);
    let in_use = size();

    assert_eq!(round(1, &mut engine), (total, 0));
    let twice = size();
    assert!(twice > in_use, "as many unused as used: kept");
    assert_eq!(
        round(0, &mut engine),
        (0, 0),
        "the old text's vectors are found again"
    );
    assert_eq!(size(), twice);

    assert_eq!(round(2, &mut engine), (total, 2 * total));
    assert_eq!(
        size(),
        in_use,
        "two thirds unused: only those in use are kept"
    );
    assert_eq!(engine.vector_coverage(), (total, 0));
    drop(engine);
    let mut engine = fake_engine(&root, dir.path().join("index"), |_| {});
    assert_eq!(
        engine.embed(&NoProgress).unwrap().embedded,
        0,
        "what is in use stays"
    );
    assert_eq!(
        round(1, &mut engine),
        (total, 0),
        "what was dropped is made again"
    );
}

/// Stats while commits run: a commit counts itself (the counters' lock)
/// while it holds the file table, so stats must not hold the counters
/// while it waits for the table. Before, it did (counters, then the table
/// for the languages), and a `dowse.stats` polled while a save was
/// committed could hang the editor's requests for good (seen once in CI).
/// Commits and stats race here for two seconds; a deadlock shows as a
/// timeout.
#[test]
fn stats_and_commits_at_once_do_not_deadlock() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("ws");
    std::fs::create_dir_all(&root).unwrap();
    std::fs::write(root.join("a.py"), "def a():\n    return 1\n").unwrap();
    let writer = fake_engine(&root, dir.path().join("index"), |_| {});
    let engine = writer.reader();
    let (done, finished) = std::sync::mpsc::channel();
    let until = std::time::Instant::now() + Duration::from_secs(2);
    for role in ["commit", "stats"] {
        let engine = engine.clone();
        let done = done.clone();
        std::thread::spawn(move || {
            while std::time::Instant::now() < until {
                if role == "commit" {
                    let table = engine.files.write().unwrap();
                    engine.counters.committed();
                    drop(table);
                } else {
                    engine.stats();
                }
            }
            done.send(role).unwrap();
        });
    }
    for _ in 0..2 {
        assert!(
            finished.recv_timeout(Duration::from_secs(60)).is_ok(),
            "stats and a commit waited for each other"
        );
    }
}

/// A question about the bottom of a long function finds it about as well as
/// if that bottom were a function of its own: a chunk read in several
/// windows is scored by its best window, not only by its one vector (whose
/// first window, here filler, outweighs the rest). The windows are records
/// of their own in the embedding cache, and the cache's cleanup keeps them
/// while their chunk is in use.
#[test]
fn a_long_function_is_found_by_its_best_window_and_cleanup_keeps_the_windows() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("ws");
    std::fs::create_dir_all(&root).unwrap();
    // The first window (about 700 bytes of code) is filler; the second is
    // the bottom, which `tail.py` holds alone.
    let filler: String = (0..24)
        .map(|i| format!("    step_{i:02} = ledger.advance({i:02})\n"))
        .collect();
    let bottom = "    escrow = reconcile_quarterly_drift(escrow)\n".repeat(16);
    std::fs::write(
        root.join("long.py"),
        format!("def settle(ledger):\n{filler}{bottom}"),
    )
    .unwrap();
    std::fs::write(
        root.join("tail.py"),
        format!("def close(ledger):\n{bottom}"),
    )
    .unwrap();
    let write = |round: u32| write_tallies(&root, round);
    write(0);
    let mut engine = fake_engine(&root, dir.path().join("index"), |config| {
        config.semantic.unused_records_min = 4;
        // Scores by the body's vectors alone, no name mixed in.
        config.ranking.name_words = (0, 1);
    });
    engine.embed(&NoProgress).unwrap();

    let question = "reconcile the quarterly drift into escrow";
    let scores = |engine: &EngineWriter| {
        let request = SearchRequest {
            mode: SearchMode::Semantic,
            limit: 50,
            ..SearchRequest::new(question)
        };
        let results = engine.search(&request).unwrap().results;
        let score = |path: &str| {
            let found = results.iter().find(|r| r.path == path);
            found
                .unwrap_or_else(|| panic!("{path} not in {results:#?}"))
                .score
        };
        (score("long.py"), score("tail.py"))
    };
    let semantic::SemanticState::Ready(ready) = engine.semantic() else {
        panic!("the fake model is ready");
    };
    let snapshot = engine.snapshot();
    let mut long = snapshot.file_chunks("long.py").unwrap();
    assert_eq!(long.len(), 1, "one chunk: {long:?}");
    let long = long.pop().unwrap();
    let windows = ready.cached_with_windows(long.content_key).unwrap().1.len();
    assert_eq!(windows, views::MAX_WINDOWS);
    let one_vector = ready
        .cached(long.content_key)
        .unwrap()
        .similarity(&ready.embed_query(question).unwrap());

    let (long_score, tail_score) = scores(&engine);
    assert!(
        long_score > one_vector + 0.05,
        "by its best window {long_score}, by its one vector {one_vector}"
    );
    assert!(
        long_score > 0.8 * tail_score,
        "the long function {long_score}, its bottom alone {tail_score}"
    );

    // Two rounds of edits leave more unused records than used ones: the
    // cleanup runs, and the long chunk keeps every window.
    let mut dropped = 0;
    for round in 1..=2 {
        write(round);
        engine.update(&NoProgress).unwrap();
        dropped += engine.embed(&NoProgress).unwrap().unused_vectors_dropped;
    }
    assert_eq!(dropped, 24, "the two old texts of each small file");
    let semantic::SemanticState::Ready(ready) = engine.semantic() else {
        panic!("the fake model is ready");
    };
    assert_eq!(
        ready.cached_with_windows(long.content_key).unwrap().1.len(),
        windows
    );
    assert_eq!(scores(&engine), (long_score, tail_score));
}

/// A context sends the lines of the chunks it found; a file changed on
/// disk since it was indexed has other lines there, so none of it is sent
/// until it is indexed again, and then its new text is.
#[test]
fn a_context_sends_no_lines_of_a_file_changed_since_it_was_indexed() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("ws");
    std::fs::create_dir_all(&root).unwrap();
    let upload =
        "def retry_upload(part):\n    \"\"\"Retry a failed upload.\"\"\"\n    return send(part)\n";
    std::fs::write(root.join("up.py"), upload).unwrap();
    std::fs::write(
        root.join("other.py"),
        "def retry_download(part):\n    return fetch(part)\n",
    )
    .unwrap();
    let mut engine = fake_engine(&root, dir.path().join("index"), |_| {});
    let sent = |engine: &Engine| -> Vec<(String, String)> {
        let context = engine.context("retry a failed upload", 500).unwrap();
        context
            .chunks
            .into_iter()
            .map(|c| (c.path, c.text))
            .collect()
    };
    let before = sent(&engine);
    assert!(
        before
            .iter()
            .any(|(path, text)| path == "up.py" && text == upload.trim_end()),
        "{before:#?}"
    );

    // Lines inserted above the function: its old line numbers now hold
    // the comment and the function's head.
    let moved = format!("# one\n# two\n{upload}");
    std::fs::write(root.join("up.py"), &moved).unwrap();
    let stale = sent(&engine);
    assert!(stale.iter().all(|(path, _)| path != "up.py"), "{stale:#?}");
    assert!(
        stale.iter().any(|(path, _)| path == "other.py"),
        "{stale:#?}"
    );

    engine.update(&NoProgress).unwrap();
    let again = sent(&engine);
    assert!(
        again
            .iter()
            .any(|(path, text)| path == "up.py" && text.ends_with(upload.trim_end())),
        "{again:#?}"
    );
}
