//! The `lsp` and `coverage` sections: the real `dowse lsp` over stdio, how
//! soon an edit is found by keywords and by meaning (on an embedded index, and
//! while the first embedding runs), `workspace/symbol` latency, and the
//! server's memory during its first embedding.

use super::*;

/// A fully embedded index of the corpus: the semantic section's, or one
/// made here (from `--seed-embeddings` when given: its vectors are looked
/// up by text, so any earlier run's cache serves).
pub(crate) fn embedded_index(
    args: &Args,
    semantic_index: Option<PathBuf>,
    scratch: &Path,
) -> PathBuf {
    if let Some(dir) = semantic_index {
        return dir;
    }
    let dir = scratch.join("index");
    std::fs::create_dir_all(&dir).expect("index dir");
    if let Some(seed) = &args.seed_embeddings {
        std::fs::copy(seed, dir.join("embeddings.bin")).expect("seed the embedding cache");
    }
    eprintln!("indexing the corpus with the model...");
    let (wall, _, _) = measure(index_command(args, &dir));
    eprintln!("indexed in {:.1} s", wall.as_secs_f64());
    dir
}

/// `dowse lsp` on the corpus, its index in `index_dir`, initialised by a
/// client that takes progress tokens: the client, the corpus's root and
/// when the server was spawned.
fn start_lsp(args: &Args, index_dir: &Path) -> (dowse_tests::lsp::LspClient, PathBuf, Instant) {
    let root = args.corpus.canonicalize().expect("corpus");
    let mut client = dowse_tests::lsp::LspClient::spawn(lsp_command(args, index_dir));
    let started = Instant::now();
    client.initialize(
        &root,
        json!({"window": {"workDoneProgress": true}}),
        json!({}),
    );
    (client, root, started)
}

/// `dowse lsp` over stdio on the indexed corpus: edit-to-searchable latency
/// (an unsaved `didChange` → the first `dowse.search` whose results hold the
/// new text, lexical, then semantic with the chunk's vector updated) over
/// `--edits` edits of different files, and `workspace/symbol` latency.
pub(crate) fn lsp(args: &Args, semantic_index: Option<PathBuf>) -> Value {
    use dowse_tests::lsp::LspClient;
    let scratch = tempfile::tempdir().expect("temp dir");
    let index_dir = embedded_index(args, semantic_index, scratch.path());
    // Progress ends when every chunk has a vector; graphs come after.
    let (mut client, root, started) = start_lsp(args, &index_dir);
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
pub(crate) fn coverage(args: &Args) -> Value {
    use dowse_tests::lsp::{LspClient, file_uri};
    let scratch = tempfile::tempdir().expect("temp dir");
    let index_dir = scratch.path().join("index");
    let (mut client, root, started) = start_lsp(args, &index_dir);
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
        client.insert_at_start(&uri, 2, &inserted);
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
