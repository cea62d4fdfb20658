//! The `team` section: publishing the corpus to a real Qdrant node (the
//! embedding already done: chunks/s of the publish itself), publishing it
//! again unchanged (the incremental check), and hybrid search latency of
//! `local` against `all` (the local index fused with the team index, which
//! holds the corpus and a second repository), in this process, same
//! queries, same run.

use std::path::Path;
use std::process::Command;
use std::time::Instant;

use dowse_engine::{Config, Engine, Scope, SearchRequest};
use dowse_tests::qdrant::QdrantNode;
use serde_json::{Value, json};

use super::{Args, copy_tree, dowse_bin, embedded_index, percentile, semantic_queries};

fn publish(root: &Path, index_dir: &Path, url: &str, repo: &str, args: &Args) -> Value {
    let mut cmd = Command::new(dowse_bin());
    cmd.arg("publish")
        .arg(root)
        .args([
            "--to",
            url,
            "--collection",
            "bench",
            "--repo",
            repo,
            "--json",
        ])
        .env("DOWSE_INDEX_DIR", index_dir)
        .env("DOWSE_MODEL_DIR", dowse_tests::real_model_dir());
    for glob in &args.include {
        cmd.args(["--include", glob]);
    }
    for glob in &args.exclude {
        cmd.args(["--exclude", glob]);
    }
    let output = cmd.output().expect("run dowse publish");
    assert!(
        output.status.success(),
        "dowse publish failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("publish report")
}

pub fn run(args: &Args, semantic_index: Option<std::path::PathBuf>) -> Value {
    if std::env::var_os("DOWSE_QDRANT_BIN").is_none() {
        return json!({"skipped": "no Qdrant: set DOWSE_QDRANT_BIN (../shared/qdrant/install prints one)"});
    }
    let scratch = tempfile::tempdir().expect("temp dir");
    let index = embedded_index(args, semantic_index, scratch.path());
    let node = QdrantNode::start(&scratch.path().join("qdrant"));
    let url = node.url();

    let first = publish(&args.corpus, &index, &url, "corpus", args);
    let again = publish(&args.corpus, &index, &url, "corpus", args);
    let second_root = scratch.path().join("second");
    copy_tree(&dowse_tests::fixtures_dir().join("workspace"), &second_root);
    let second_index = scratch.path().join("second-index");
    let second = publish(&second_root, &second_index, &url, "second", args);
    let chunks = first["chunks"].as_f64().unwrap_or(0.0);
    let seconds = first["seconds"].as_f64().unwrap_or(f64::NAN);

    // Search latency in this process: the engine the CLI would open, the
    // model and vectors loaded, the team index connected once.
    let config = Config {
        index_dir: Some(index.clone()),
        include: args.include.clone(),
        exclude: args.exclude.clone(),
        semantic: dowse_engine::SemanticConfig {
            model_dir: Some(dowse_tests::real_model_dir()),
            ..dowse_engine::SemanticConfig::default()
        },
        remote: dowse_engine::config::RemoteConfig {
            url: Some(url.clone()),
            collection: "bench".into(),
            timeout: std::time::Duration::from_secs(5),
            ..Default::default()
        },
        ..Config::default()
    };
    let mut engine = Engine::open(&args.corpus, config).expect("open the benchmark index");
    engine
        .embed(&dowse_engine::NoProgress)
        .expect("load vectors");
    if let Some(job) = engine.graph_job() {
        job.run();
    }
    let team = dowse_team::Team::connect(&engine.config().remote).expect("connect");
    let queries = semantic_queries(args, 200);
    let search = |q: &str, scope: Scope| {
        let request = SearchRequest {
            scope,
            ..SearchRequest::new(q)
        };
        if scope == Scope::Local {
            engine.search(&request)
        } else {
            dowse_team::search(&team, &[&*engine], &request, || engine.search(&request))
        }
        .expect("search")
    };
    for q in ["warm up the model", "and the caches"] {
        search(q, Scope::All);
    }
    let mut local = Vec::new();
    let mut all = Vec::new();
    let mut from_team = 0;
    let mut degraded = 0;
    // Alternate queries to each scope, so that drift in the machine's
    // speed hits both and no query's embedding is cached for the other.
    for (i, q) in queries.iter().enumerate() {
        let scope = if i % 2 == 0 { Scope::Local } else { Scope::All };
        let started = Instant::now();
        let response = search(q, scope);
        let ms = started.elapsed().as_secs_f64() * 1000.0;
        if scope == Scope::Local {
            local.push(ms);
        } else {
            all.push(ms);
            from_team += response.results.iter().filter(|r| r.repo.is_some()).count();
            degraded += usize::from(response.degraded.is_some());
        }
    }
    local.sort_by(f64::total_cmp);
    all.sort_by(f64::total_cmp);
    let status = team.status();
    json!({
        "publish_chunks": first["chunks"],
        "publish_seconds": seconds,
        "publish_chunks_per_s": chunks / seconds,
        "republish_unchanged_seconds": again["seconds"],
        "republish_sent": again["sent"],
        "second_repo_chunks": second["chunks"],
        "collection_points": status.points,
        "queries": queries.len(),
        "local_p50_ms": percentile(&local, 0.5),
        "local_p99_ms": percentile(&local, 0.99),
        "all_p50_ms": percentile(&all, 0.5),
        "all_p99_ms": percentile(&all, 0.99),
        "all_results_from_team": from_team,
        "all_degraded": degraded,
    })
}

/// The section's lines of the readable table.
pub fn print(t: &Value) {
    let row = |name: &str, value: String| eprintln!("  {name:<36} {value}");
    eprintln!("team index (Qdrant, one node)");
    if let Some(why) = t["skipped"].as_str() {
        row("skipped", why.to_owned());
        return;
    }
    let f = |key: &str| t[key].as_f64().unwrap_or(f64::NAN);
    row(
        "publish",
        format!(
            "{} chunks in {:.1} s: {:.0} chunks/s (embedding done before)",
            t["publish_chunks"],
            f("publish_seconds"),
            f("publish_chunks_per_s")
        ),
    );
    row(
        "publish again, unchanged",
        format!(
            "{:.2} s, {} sent",
            f("republish_unchanged_seconds"),
            t["republish_sent"]
        ),
    );
    row(
        "hybrid p50 / p99, local",
        format!("{:.1} / {:.1} ms", f("local_p50_ms"), f("local_p99_ms")),
    );
    row(
        "hybrid p50 / p99, all (local + team)",
        format!(
            "{:.1} / {:.1} ms ({} team results, {} degraded, {} queries in all)",
            f("all_p50_ms"),
            f("all_p99_ms"),
            t["all_results_from_team"],
            t["all_degraded"],
            t["queries"]
        ),
    );
    eprintln!();
}
