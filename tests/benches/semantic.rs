//! The `semantic` section: the raw model against the pipeline, the time to
//! cover the corpus by meaning on every core and on one, and hybrid query
//! latency, peak RSS and ANN recall in an answering process of its own
//! (this program again, `DOWSE_BENCH_ANSWER_INDEX=DIR`).

use super::*;

/// The pipeline's texts for a random sample of the corpus's chunks: body
/// view, the body's further windows and name view, chunked exactly as
/// `dowse index` does.
fn sample_views(args: &Args, n: usize) -> Vec<Views> {
    use dowse_engine::views::{embedding_text, more_windows, name_text};
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
                more_windows(&file.rel_path, chunk.kind, symbol, enclosing, code),
                name_text(&file.rel_path, chunk.kind, symbol, enclosing, code),
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

/// A chunk's texts: (body view, further windows, name view).
type Views = (String, Vec<String>, String);

/// Embeds `views` the way the pipeline does (windows of 1024 sorted by body
/// length, the same batches, body then name views then further windows),
/// returning chunks/s.
fn raw_throughput(views: &[Views], semantic: &dowse_engine::SemanticConfig) -> (f64, f64) {
    use dowse_engine::embed::{Embedder, OnnxEmbedder, OnnxOptions, model};
    use dowse_engine::views::view_tokens;
    let files = model::check_dir(
        &dowse_tests::real_model_dir(),
        model::ModelSource::Configured,
    )
    .expect("model");
    let embedder = OnnxEmbedder::load(&files, &OnnxOptions::default()).expect("load model");
    let started = Instant::now();
    for window in views.chunks(1024) {
        let mut window: Vec<&Views> = window.iter().collect();
        window.sort_by_key(|(body, _, _)| body.len());
        let tokens = |text: &String| view_tokens(text, semantic.window());
        for batch in dowse_engine::views::batches(
            &window,
            |(body, more, _)| tokens(body) + more.iter().map(tokens).sum::<usize>(),
            (semantic.batch_size, semantic.batch_tokens),
        ) {
            let bodies: Vec<&str> = batch.iter().map(|(b, _, _)| b.as_str()).collect();
            let names: Vec<&str> = batch.iter().map(|(_, _, n)| n.as_str()).collect();
            let more: Vec<&str> = batch
                .iter()
                .flat_map(|(_, more, _)| more.iter().map(String::as_str))
                .collect();
            embedder.embed(&bodies).expect("embed");
            embedder.embed(&names).expect("embed");
            if !more.is_empty() {
                embedder.embed(&more).expect("embed");
            }
        }
    }
    let seconds = started.elapsed().as_secs_f64();
    (views.len() as f64 / seconds, seconds)
}

/// Distinct natural-language queries: the first sentence of docstrings of
/// the corpus's functions, plus the fixed lexical list.
pub(crate) fn semantic_queries(args: &Args, n: usize) -> Vec<String> {
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
pub(crate) const ANSWER_ENV: &str = "DOWSE_BENCH_ANSWER_INDEX";

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

/// The answering process: opens the index, loads the model and the vectors,
/// builds the HNSW graph as the language server does after its initial
/// indexing, answers the query set (embedding each query on a prepacked
/// session, as the servers do) and measures recall. Prints JSON.
pub(crate) fn answer(args: &Args, index_dir: PathBuf) {
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
            // Queries on a session of their own with prepacked weights, as
            // in the language server and the MCP server (`Host::start`):
            // this process stands for them, not for a one-shot command.
            prepack_queries: true,
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

pub(crate) fn semantic(args: &Args) -> (Value, tempfile::TempDir) {
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
    let (wall, stdout, max_rss) = measure(index_command(args, &index_dir));
    let report: Value = serde_json::from_str(&stdout).expect("dowse index --json");
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    // The same work on one core, in the same run: the ratio is the figure
    // (these machines are noisy; absolute times move between runs).
    let one_thread = (cores > 1 && args.one_core).then(|| {
        eprintln!("semantic: the same on one core (threads = 1)...");
        let dir = scratch.path().join("one-thread");
        let mut cmd = index_command(args, &dir);
        cmd.env("DOWSE_THREADS", "1");
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
