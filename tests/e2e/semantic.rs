//! Semantic search end to end: the real binary with the real model
//! (provisioned by `dowse model install`, which the README's test command
//! runs), and without one.

use std::path::Path;

use dowse_tests::{Run, TestWorkspace, real_model_dir};
use serde_json::Value;

fn paths_and_symbols(response: &Value) -> Vec<(String, String)> {
    response["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["path"].as_str().unwrap().to_owned(),
                r["symbol"].as_str().unwrap_or("").to_owned(),
            )
        })
        .collect()
}

const CONVERSION: &str = "degrees of heat in other scales";

#[test]
fn hybrid_finds_what_keywords_miss() {
    let ws = TestWorkspace::fixture("workspace");
    let index = ws.dowse_with_model(&["index", "--json"]).json();
    assert_eq!(
        index["vectors"], index["chunks"],
        "every chunk has a vector: {index:#}"
    );
    assert!(index.get("degraded").is_none(), "{index:#}");

    let is_conversion = |(_, symbol): &(String, String)| {
        symbol.contains("celsius") || symbol.contains("fahrenheit")
    };
    let lexical = ws
        .dowse_with_model(&["search", CONVERSION, "--mode", "lexical", "--json"])
        .json();
    assert!(
        !paths_and_symbols(&lexical).iter().any(is_conversion),
        "no query word occurs in the conversion functions, so keywords cannot find them: {lexical:#}"
    );

    let hybrid = ws
        .dowse_with_model(&["search", CONVERSION, "--json"])
        .json();
    assert_eq!(hybrid["mode"], "hybrid");
    assert!(hybrid.get("degraded").is_none(), "{hybrid:#}");
    assert!(is_conversion(&paths_and_symbols(&hybrid)[0]), "{hybrid:#}");

    let semantic = ws
        .dowse_with_model(&["search", CONVERSION, "--mode", "semantic", "--json"])
        .json();
    assert!(
        is_conversion(&paths_and_symbols(&semantic)[0]),
        "{semantic:#}"
    );
}

#[test]
fn an_unchanged_tree_embeds_nothing_the_second_time() {
    let ws = TestWorkspace::fixture("workspace");
    let first = ws.dowse_with_model(&["index", "--json"]).json();
    assert!(first["embedded"].as_u64().unwrap() > 0);
    let second = ws.dowse_with_model(&["index", "--json"]).json();
    assert_eq!(second["embedded"], 0, "{second:#}");
    assert_eq!(second["vectors"], first["vectors"]);

    // An edit re-embeds the edited chunk only.
    let path = ws.path("src/util/thermo.py");
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::write(
        &path,
        text.replace("return c * 9 / 5 + 32", "return c * 1.8 + 32"),
    )
    .unwrap();
    let third = ws.dowse_with_model(&["index", "--json"]).json();
    assert_eq!(third["embedded"], 1, "{third:#}");
}

#[test]
fn similar_returns_neighbours_but_not_the_chunk_itself() {
    let ws = TestWorkspace::fixture("workspace");
    let response = ws
        .dowse_with_model(&["similar", "src/util/duration.py:9", "--json"])
        .json();
    assert_eq!(response["source"]["symbol"], "parse_duration");
    let results = paths_and_symbols(&response);
    assert!(
        !results.iter().any(|(_, s)| s == "parse_duration"),
        "{response:#}"
    );
    assert_eq!(
        results[0],
        (
            "src/util/legacy.py".to_owned(),
            "parse_interval_seconds".to_owned()
        ),
        "{response:#}"
    );

    // From another directory, with the path as search results print it.
    let elsewhere = tempfile::tempdir().unwrap();
    let args = [
        "similar",
        "src/util/duration.py:9",
        "--path",
        ws.root.to_str().unwrap(),
        "--json",
    ];
    let from_elsewhere = Run(ws
        .command(&args)
        .env("DOWSE_MODEL_DIR", real_model_dir())
        .current_dir(elsewhere.path())
        .output()
        .unwrap());
    assert_eq!(
        from_elsewhere.ok().json()["source"]["symbol"],
        "parse_duration"
    );

    let outside = ws.dowse_with_model(&["similar", "src/util/duration.py:400"]);
    assert_eq!(outside.code(), 2);
    assert!(
        outside
            .stderr()
            .contains("no chunk of `src/util/duration.py` covers line 400"),
        "{}",
        outside.stderr()
    );
    let bad = ws.dowse_with_model(&["similar", "duration.py"]);
    assert_eq!(bad.code(), 2);
    assert!(
        bad.stderr().contains("expected FILE:LINE"),
        "{}",
        bad.stderr()
    );

    // A position as compilers and grep print it: the column is not needed.
    let with_column = ws
        .dowse_with_model(&["similar", "src/util/duration.py:9:12", "--json"])
        .json();
    assert_eq!(with_column["source"]["symbol"], "parse_duration");
    // A file that is nowhere is named as missing, not as outside.
    let missing = ws.dowse_with_model(&["similar", "src/util/gone.py:3"]);
    assert_eq!(missing.code(), 2);
    assert!(
        missing.stderr().contains("no file `src/util/gone.py`"),
        "{}",
        missing.stderr()
    );
}

/// A copy of the real model directory with one file replaced.
fn broken_model(into: &Path, broken_file: &str, content: &[u8]) -> String {
    let real = real_model_dir();
    for entry in std::fs::read_dir(&real).unwrap() {
        let entry = entry.unwrap();
        std::os::unix::fs::symlink(entry.path(), into.join(entry.file_name())).unwrap();
    }
    std::fs::remove_file(into.join(broken_file)).unwrap();
    std::fs::write(into.join(broken_file), content).unwrap();
    into.to_str().unwrap().to_owned()
}

fn search_degraded(ws: &TestWorkspace, model_dir: Option<&str>) -> Value {
    let mut cmd = ws.command(&["search", "retry failed uploads", "--json"]);
    if let Some(dir) = model_dir {
        cmd.env("DOWSE_MODEL_DIR", dir);
    }
    let run = dowse_tests::Run(cmd.output().unwrap());
    let response = run.json();
    assert_eq!(
        response["results"][0]["symbol"], "retry_failed_uploads",
        "keyword results still come: {response:#}"
    );
    response
}

#[test]
fn without_a_working_model_search_degrades_to_keywords_with_the_reason() {
    let ws = TestWorkspace::fixture("workspace");

    let none = search_degraded(&ws, None);
    let reason = none["degraded"].as_str().unwrap();
    assert!(
        reason.contains("no embedding model is installed"),
        "{reason}"
    );
    assert!(reason.contains("dowse model install"), "{reason}");

    let empty = tempfile::tempdir().unwrap();
    let response = search_degraded(&ws, Some(empty.path().to_str().unwrap()));
    let reason = response["degraded"].as_str().unwrap();
    assert!(reason.contains("lacks model.onnx"), "{reason}");

    let dir = tempfile::tempdir().unwrap();
    let real_model = std::fs::read(real_model_dir().join("model.onnx")).unwrap();
    let truncated = broken_model(
        dir.path(),
        "model.onnx",
        &real_model[..real_model.len() / 2],
    );
    let response = search_degraded(&ws, Some(&truncated));
    let reason = response["degraded"].as_str().unwrap();
    assert!(
        reason.contains("cannot load the embedding model"),
        "{reason}"
    );

    let dir = tempfile::tempdir().unwrap();
    let garbage = broken_model(
        dir.path(),
        "libonnxruntime.so.1.31.1",
        b"not a shared library",
    );
    let response = search_degraded(&ws, Some(&garbage));
    let reason = response["degraded"].as_str().unwrap();
    assert!(
        reason.contains("cannot load the ONNX Runtime library"),
        "{reason}"
    );
}

#[test]
fn model_status_says_what_was_resolved() {
    let ws = TestWorkspace::fixture("workspace");
    let ready = ws.dowse_with_model(&["model", "status", "--json"]).json();
    assert_eq!(ready["status"], "ready", "{ready:#}");
    assert_eq!(ready["dimensions"], 384);
    assert_eq!(ready["source"], "the configured model directory");

    let missing = ws.dowse(&["model", "status", "--json"]).json();
    assert_eq!(missing["status"], "missing");
    assert!(
        missing["message"]
            .as_str()
            .unwrap()
            .contains("dowse model install")
    );
}

/// Right after `dowse index`, health and stats agree on the vectors: a new
/// process loads the cached vectors with the model, so health does not
/// report them as pending (it once said "0 chunks have vectors, N pending"
/// while stats said "N (0 pending)").
#[test]
fn health_and_stats_agree_on_vectors_after_indexing() {
    let ws = TestWorkspace::fixture("workspace");
    let index = ws.dowse_with_model(&["index", "--json"]).json();
    let chunks = index["chunks"].as_u64().unwrap();
    let health = ws.dowse_with_model(&["health", "--json"]).json();
    let vectors = &health["components"]["vectors"];
    assert_eq!(vectors["status"], "healthy", "{health:#}");
    assert_eq!(
        vectors["message"],
        format!("{chunks} chunks have vectors, 0 pending"),
        "{health:#}"
    );
    assert_eq!(
        health["components"]["usages"]["status"], "healthy",
        "{health:#}"
    );
    assert!(
        health["components"]["embedder"]["latency_ms"]
            .as_f64()
            .unwrap()
            > 0.0
    );
    let stats = ws.dowse_with_model(&["stats", "--json"]).json();
    assert_eq!(stats["vectors"], chunks, "{stats:#}");
    assert_eq!(stats["pending_embeddings"], 0, "{stats:#}");
}

/// Ctrl-C during `dowse index` keeps the vectors computed so far: the run
/// says how many, exits 130, and the next run embeds only the rest.
#[test]
#[allow(unsafe_code)]
fn ctrl_c_during_indexing_keeps_the_embedded_vectors() {
    let ws = TestWorkspace::empty();
    // Enough distinct chunks that embedding takes seconds.
    for file in 0..40 {
        let text: String = (0..15)
            .map(|f| {
                format!(
                    "def step_{file}_{f}(record, ledger):\n    \"\"\"Posts record {f} of batch {file} to the ledger, rounding to {f} places.\"\"\"\n    \
                     amount = round(record.amount * {file}.{f}, {f})\n    ledger.post(record.account, amount)\n    return amount\n\n\n"
                )
            })
            .collect();
        ws.write(&format!("pkg{}/m{file}.py", file % 4), text);
    }
    let mut delay = std::time::Duration::from_millis(2500);
    for attempt in 0.. {
        assert!(attempt < 4, "never interrupted in time");
        let _ = std::fs::remove_dir_all(&ws.index_dir);
        let mut cmd = ws.command(&["index", "--json"]);
        cmd.env("DOWSE_MODEL_DIR", real_model_dir())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped());
        let child = cmd.spawn().expect("dowse index");
        std::thread::sleep(delay);
        // SAFETY: sending a signal to our own child process.
        unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGINT) };
        let first = child.wait_with_output().expect("wait");
        let stderr = String::from_utf8_lossy(&first.stderr).into_owned();
        if first.status.code() == Some(0) {
            panic!("indexing finished before the signal: make the workspace larger\n{stderr}");
        }
        assert_eq!(first.status.code(), Some(130), "{stderr}");
        let kept: u64 = stderr
            .split("interrupted: ")
            .nth(1)
            .and_then(|rest| rest.split_whitespace().next()?.parse().ok())
            .unwrap_or_else(|| panic!("no interruption note: {stderr}"));
        if kept == 0 {
            // The signal came before the first batch: wait longer.
            delay *= 2;
            continue;
        }
        let second = ws.dowse_with_model(&["index", "--json"]).json();
        let chunks = second["chunks"].as_u64().unwrap();
        assert_eq!(second["vectors"], chunks, "{second:#}");
        assert_eq!(
            second["embedded"].as_u64().unwrap(),
            chunks - kept,
            "the second run embeds exactly what the first did not: {second:#}"
        );
        break;
    }
}
