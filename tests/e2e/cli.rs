//! The `dowse` CLI end to end: the real binary, a fixture workspace on disk,
//! a real tantivy index in a temporary directory.

use std::path::Path;

use dowse_tests::{Run, TestWorkspace};
use serde_json::Value;

fn search(ws: &TestWorkspace, query: &str) -> Value {
    ws.dowse(&["search", query, "--mode", "lexical", "--json"])
        .json()
}

/// The paths of a search response's results, in order.
fn result_paths(response: &Value) -> Vec<&str> {
    response["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["path"].as_str().unwrap())
        .collect()
}

fn first(response: &Value) -> (String, Option<String>) {
    let top = &response["results"][0];
    (
        top["path"].as_str().unwrap_or("").to_owned(),
        top["symbol"].as_str().map(str::to_owned),
    )
}

#[test]
fn files_that_look_like_secrets_are_skipped_unless_included() {
    let ws = TestWorkspace::fixture("workspace");
    ws.write("certs/server.pem", "-----BEGIN CERTIFICATE-----\nMIIB\n");
    ws.write(
        "deploy/id_rsa",
        "-----BEGIN OPENSSH PRIVATE KEY-----\nb3Bl\n",
    );
    let report = ws.dowse(&["index", "--json"]).json();
    let secret = "looks like a secret (a key, certificate, credential store or environment file); \
                  name its path in `include` in your own settings to index it";
    let skipped: Vec<(&str, &str)> = report["skipped"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["path"].as_str().unwrap(), s["reason"].as_str().unwrap()))
        .collect();
    assert_eq!(
        skipped,
        [("certs/server.pem", secret), ("deploy/id_rsa", secret)],
        "{report:#}"
    );
    let search = ws.dowse(&["search", "BEGIN CERTIFICATE", "--json"]).json();
    assert!(
        search["results"].as_array().unwrap().is_empty(),
        "{search:#}"
    );
    // Named explicitly, it is indexed.
    let included = ws
        .dowse(&[
            "index",
            "--json",
            "--include",
            "**/*.py",
            "--include",
            "certs/server.pem",
        ])
        .json();
    assert!(
        !included["skipped"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["path"] == "certs/server.pem"),
        "{included:#}"
    );
}

#[test]
fn index_reports_files_chunks_and_skipped_files() {
    let ws = TestWorkspace::fixture("workspace");
    ws.write("assets/logo.png", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR");
    ws.write("legacy/latin1.py", b"name = 'caf\xe9'\n");
    let report = ws.dowse(&["index", "--json"]).json();
    assert_eq!(report["files"], 7, "{report:#}");
    assert!(report["chunks"].as_u64().unwrap() >= 15, "{report:#}");
    let skipped: Vec<(String, String)> = report["skipped"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["path"].as_str().unwrap().to_owned(),
                s["reason"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        skipped,
        [
            ("assets/logo.png".to_owned(), "binary file".to_owned()),
            ("legacy/latin1.py".to_owned(), "not valid UTF-8".to_owned()),
        ]
    );

    // A second run finds nothing to do.
    let again = ws.dowse(&["index", "--json"]).json();
    assert_eq!(again["files_indexed"], 0);
    assert_eq!(again["chunks"], report["chunks"]);

    // The human summary names the counts and the time.
    let human = ws.dowse(&["index"]).ok().stdout();
    assert!(human.starts_with("indexed 7 files, "), "{human}");
    assert!(
        human.contains("2 skipped (1 binary, 1 not UTF-8)"),
        "{human}"
    );
}

#[test]
fn search_returns_the_expected_chunk_first() {
    let ws = TestWorkspace::fixture("workspace");
    ws.dowse(&["index"]).ok();
    let cases = [
        (
            "retry failed uploads",
            "src/net/uploader.py",
            "retry_failed_uploads",
        ),
        ("parse_duration", "src/util/duration.py", "parse_duration"),
        (
            "token bucket acquire",
            "crates/limiter/src/lib.rs",
            "try_acquire",
        ),
        (
            "how long until the next token is available",
            "crates/limiter/src/lib.rs",
            "wait_time",
        ),
        ("list keys with a prefix", "src/net/client.py", "list_keys"),
        ("parseRate", "crates/limiter/src/lib.rs", "parse_rate"),
    ];
    for (query, path, symbol) in cases {
        let response = search(&ws, query);
        assert_eq!(
            first(&response),
            (path.to_owned(), Some(symbol.to_owned())),
            "query {query:?}: {response:#}"
        );
    }
}

/// A query that is a file's name or path answers with that file, every
/// chunk of it before anything else.
#[test]
fn a_file_name_as_the_query_finds_that_file_first() {
    let ws = TestWorkspace::fixture("workspace");
    ws.dowse(&["index"]).ok();
    for query in [
        "client.py",
        "net/client.py",
        "./src/net/client.py",
        "`client.py`",
    ] {
        let response = search(&ws, query);
        let paths = result_paths(&response);
        let of_file = paths
            .iter()
            .take_while(|p| **p == "src/net/client.py")
            .count();
        assert!(
            of_file >= 4 && paths[of_file..].iter().all(|p| *p != "src/net/client.py"),
            "query {query:?}: {paths:?}"
        );
    }
}

#[test]
fn search_json_has_the_documented_shape() {
    let ws = TestWorkspace::fixture("workspace");
    let response = search(&ws, "retry failed uploads");
    assert_eq!(response["query"], "retry failed uploads");
    assert_eq!(response["mode"], "lexical");
    assert!(response.get("degraded").is_none());
    let top = &response["results"][0];
    assert_eq!(top["path"], "src/net/uploader.py");
    assert_eq!(top["kind"], "method");
    assert_eq!(top["language"], "python");
    assert_eq!(top["enclosing"], serde_json::json!(["class Uploader"]));
    let (start, end) = (
        top["start_line"].as_u64().unwrap(),
        top["end_line"].as_u64().unwrap(),
    );
    let source = std::fs::read_to_string(ws.path("src/net/uploader.py")).unwrap();
    let lines: Vec<&str> = source.lines().collect();
    assert!(lines[start as usize - 1].contains("def retry_failed_uploads"));
    assert!(lines[end as usize - 1].contains("raise UploadError"));
    assert!(top["score"].as_f64().unwrap() > 0.0);
    assert!(top["snippet"].as_str().unwrap().contains("failed"));
}

/// A search in a workspace with nothing dowse reads says so, not only
/// "no results".
#[test]
fn a_search_in_a_workspace_with_nothing_indexed_says_so() {
    let ws = TestWorkspace::empty();
    ws.write("notes.bin", [0u8, 1, 2, 3]);
    let run = ws.dowse(&["search", "anything", "--mode", "lexical"]);
    assert_eq!(run.code(), 0, "{}", run.stderr());
    assert!(run.stdout().is_empty(), "{}", run.stdout());
    assert!(
        run.stderr().contains("nothing is indexed in")
            && run.stderr().contains("dowse index --json"),
        "{}",
        run.stderr()
    );
    // With files indexed, no results stays just that.
    ws.write("a.py", "def alpha():\n    return 1\n");
    let run = ws.dowse(&["search", "zebra", "--mode", "lexical"]);
    assert!(
        !run.stderr().contains("nothing is indexed"),
        "{}",
        run.stderr()
    );
}

#[test]
fn ignored_files_are_not_searchable() {
    let ws = TestWorkspace::fixture("workspace");
    let response = search(&ws, "generated_function_that_must_not_be_indexed");
    let paths = result_paths(&response);
    assert!(!paths.iter().any(|p| p.starts_with("build/")), "{paths:?}");
}

#[test]
fn search_indexes_first_and_keeps_the_index_up_to_date() {
    let ws = TestWorkspace::fixture("workspace");
    // No index yet: the search builds it.
    assert_eq!(
        first(&search(&ws, "parse_duration")).1.as_deref(),
        Some("parse_duration")
    );

    // An edit on disk is picked up by the next search.
    ws.write(
        "src/util/duration.py",
        "def parse_interval(text):\n    \"\"\"Split 'a..b' into a pair of numbers.\"\"\"\n    low, high = text.split('..')\n    return int(low), int(high)\n",
    );
    let response = search(&ws, "parse_interval");
    assert_eq!(
        first(&response),
        (
            "src/util/duration.py".to_owned(),
            Some("parse_interval".to_owned())
        )
    );
    let stale = search(&ws, "format_duration");
    assert!(
        stale["results"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["symbol"] != "format_duration"),
        "{stale:#}"
    );

    // A deleted file disappears from the results.
    std::fs::remove_file(ws.path("src/net/uploader.py")).unwrap();
    let gone = search(&ws, "retry failed uploads");
    assert!(
        gone["results"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["path"] != "src/net/uploader.py"),
        "{gone:#}"
    );
}

#[test]
fn human_output_shows_location_symbol_and_snippet() {
    let ws = TestWorkspace::fixture("workspace");
    let out = ws
        .dowse(&["search", "parse_rate", "--mode", "lexical", "-n", "1"])
        .ok()
        .stdout();
    let mut lines = out.lines();
    let title = lines.next().unwrap();
    assert!(title.starts_with("crates/limiter/src/lib.rs:"), "{out}");
    assert!(title.contains("function parse_rate"), "{out}");
    assert!(out.contains("| pub fn parse_rate"), "{out}");
}

#[test]
fn bad_input_exits_with_code_2_and_a_clear_message() {
    let ws = TestWorkspace::fixture("workspace");
    let missing = ws.dowse(&["index", "no/such/dir"]);
    assert_eq!(missing.code(), 2, "{}", missing.stderr());
    assert!(
        missing
            .stderr()
            .contains("workspace `no/such/dir` does not exist"),
        "{}",
        missing.stderr()
    );

    let empty = ws.dowse(&["search", "  "]);
    assert_eq!(empty.code(), 2);
    assert!(
        empty.stderr().contains("the query is empty"),
        "{}",
        empty.stderr()
    );

    let mode = ws.dowse(&["search", "x", "--mode", "fuzzy"]);
    assert_eq!(mode.code(), 2);
    assert!(
        mode.stderr()
            .contains("possible values: hybrid, lexical, semantic"),
        "{}",
        mode.stderr()
    );

    let path = ws.dowse(&["search", "x", "--path", "nowhere"]);
    assert_eq!(path.code(), 2);

    let file = ws.dowse(&["index", "docs/operations.md"]);
    assert_eq!(file.code(), 2);
    assert!(
        file.stderr().contains("is not a directory"),
        "{}",
        file.stderr()
    );
}

#[test]
fn stdout_is_only_json_when_asked() {
    let ws = TestWorkspace::fixture("workspace");
    // The implicit indexing of a first search reports on stderr, never stdout.
    let run = ws.dowse(&["search", "rate limiter", "--json"]);
    run.json();
    assert!(
        run.stderr().contains("updated the index"),
        "{}",
        run.stderr()
    );
}

fn locations(response: &Value, key: &str) -> Vec<String> {
    response[key]
        .as_array()
        .unwrap_or_else(|| panic!("no `{key}` in {response}"))
        .iter()
        .map(|u| format!("{}:{}", u["path"].as_str().unwrap(), u["line"]))
        .collect()
}

#[test]
fn usages_follow_receivers_and_stay_up_to_date() {
    let ws = TestWorkspace::fixture("workspace");
    // `self.client` is a StorageClient by the constructor's annotation.
    let by_name = ws.dowse(&["usages", "StorageClient.put", "--json"]).json();
    assert_eq!(by_name["symbol"], "StorageClient.put");
    assert_eq!(locations(&by_name, "definitions"), ["src/net/client.py:22"]);
    assert_eq!(
        locations(&by_name, "references"),
        ["src/net/uploader.py:24"]
    );
    let reference = &by_name["references"][0];
    assert_eq!(reference["column"], 32);
    assert_eq!(
        reference["context"].as_str().unwrap().trim(),
        "return self.client.put(path, handle.read())"
    );

    // From a position, as an editor asks; a new file is picked up.
    ws.write(
        "src/net/batch.py",
        "from .uploader import Uploader as U\n\n\ndef send_all(client, paths):\n    up = U(client)\n    return [up.upload(p) for p in paths]\n",
    );
    let by_position = ws
        .dowse(&["usages", "src/net/uploader.py:22:9", "--json"])
        .json();
    assert_eq!(by_position["symbol"], "upload");
    assert_eq!(
        locations(&by_position, "references"),
        ["src/net/batch.py:6", "src/net/uploader.py:32"]
    );

    let human = ws.dowse(&["usages", "parse_duration"]).ok().stdout();
    assert!(
        human.contains("src/util/duration.py:6:5: def parse_duration(text):"),
        "{human}"
    );
}

#[test]
fn usages_reject_bad_queries_with_code_2() {
    let ws = TestWorkspace::fixture("workspace");
    let empty = ws.dowse(&["usages", " "]);
    assert_eq!(empty.code(), 2, "{}", empty.stderr());
    let blank = ws.dowse(&["usages", "src/net/uploader.py:2:1"]);
    assert_eq!(blank.code(), 2, "{}", blank.stderr());
    assert!(
        blank.stderr().contains("no identifier"),
        "{}",
        blank.stderr()
    );
    let outside = ws.dowse(&["usages", "/etc/passwd:1:1"]);
    assert_eq!(outside.code(), 2, "{}", outside.stderr());
    // A name whose definition is not in the workspace is no "no
    // identifier": the answer says what dowse cannot follow.
    ws.write(
        "src/net/encode.py",
        "import json\n\n\ndef encode(x):\n    return json.dumps(x)\n",
    );
    let external = ws.dowse(&["usages", "src/net/encode.py:5:18"]);
    assert_eq!(external.code(), 2, "{}", external.stderr());
    assert!(
        external
            .stderr()
            .contains("dowse cannot tell what `dumps` at src/net/encode.py:5:18 refers to"),
        "{}",
        external.stderr()
    );
    // A file find usages does not read says why, in its own words.
    let prose = ws.dowse(&["usages", "docs/operations.md:1:3"]);
    assert_eq!(prose.code(), 2, "{}", prose.stderr());
    assert!(
        prose
            .stderr()
            .contains("`docs/operations.md` has no symbols dowse knows of: markdown has no definitions or references"),
        "{}",
        prose.stderr()
    );
}

/// A file nested far deeper than real code (planted in a repository or
/// generated) never brings `dowse usages` down: it aborted on a stack
/// overflow; the file now simply has no usages, and the rest of the
/// workspace answers.
#[test]
fn a_file_nested_thousands_deep_does_not_crash_find_usages() {
    let ws = TestWorkspace::fixture("workspace");
    let deep = 20_000;
    ws.write(
        "src/generated/deep.py",
        format!(
            "x = {}1{}\ny = a{}\n",
            "(".repeat(deep),
            ")".repeat(deep),
            ".b".repeat(deep)
        ),
    );
    ws.write(
        "src/generated/deep.rs",
        format!("fn f() {{ let x = a{}; }}\n", "()".repeat(deep)),
    );
    ws.write(
        "src/generated/tally.py",
        "def tally(n):\n    return n\n\n\ntally(1)\n",
    );
    let answer = ws.dowse(&["usages", "tally", "--json"]).ok().json();
    assert_eq!(
        locations(&answer, "definitions"),
        ["src/generated/tally.py:1"],
        "{answer}"
    );
    assert_eq!(
        locations(&answer, "references"),
        ["src/generated/tally.py:5"],
        "{answer}"
    );
}

/// `dowse` in `ws`'s environment, run from `dir`.
fn run_in(ws: &TestWorkspace, dir: &Path, args: &[&str]) -> Run {
    Run(ws.command(args).current_dir(dir).output().unwrap())
}

/// A position as search results print it, from the workspace root, works
/// from any directory when the workspace is given with `--path`; a path
/// relative to where the user is still comes first.
#[test]
fn positions_from_the_workspace_root_work_from_elsewhere() {
    let ws = TestWorkspace::fixture("workspace");
    let elsewhere = tempfile::tempdir().unwrap();
    let root = ws.root.to_str().unwrap();
    let from_elsewhere = |args: &[&str]| run_in(&ws, elsewhere.path(), args);
    let by_position = from_elsewhere(&[
        "usages",
        "src/net/uploader.py:22:9",
        "--path",
        root,
        "--json",
    ]);
    assert_eq!(by_position.ok().json()["symbol"], "upload");

    // A file of the same name where the user is wins over the workspace's,
    // and the engine keeps refusing what lies outside the workspace.
    std::fs::create_dir_all(elsewhere.path().join("src/net")).unwrap();
    std::fs::write(elsewhere.path().join("src/net/uploader.py"), "x = 1\n").unwrap();
    let shadowed = from_elsewhere(&["usages", "src/net/uploader.py:22:9", "--path", root]);
    assert_eq!(shadowed.code(), 2, "{}", shadowed.stderr());
    assert!(
        shadowed.stderr().contains("outside the workspace"),
        "{}",
        shadowed.stderr()
    );
    let climbing = from_elsewhere(&["usages", "../../../../../../etc/passwd:1:1", "--path", root]);
    assert_eq!(climbing.code(), 2, "{}", climbing.stderr());

    // A file that is in neither place is named as missing; a line or a
    // column 0 is a mistake in the position, not a symbol to look up.
    let missing = from_elsewhere(&["usages", "src/net/gone.py:3:1", "--path", root]);
    assert_eq!(missing.code(), 2, "{}", missing.stderr());
    assert!(
        missing.stderr().contains("no file `src/net/gone.py`"),
        "{}",
        missing.stderr()
    );
    for zero in ["src/net/uploader.py:22:0", "src/net/uploader.py:0:9"] {
        let bad = ws.dowse(&["usages", zero]);
        assert_eq!(bad.code(), 2, "{}", bad.stderr());
        assert!(bad.stderr().contains("from 1"), "{}", bad.stderr());
    }
}

#[test]
fn index_and_publish_take_the_workspace_as_path_too() {
    let ws = TestWorkspace::fixture("workspace");
    let elsewhere = tempfile::tempdir().unwrap();
    let root = ws.root.to_str().unwrap();
    let from_elsewhere = |args: &[&str]| run_in(&ws, elsewhere.path(), args);
    // `--path P`, as search, similar, usages, health and stats take it.
    let indexed = from_elsewhere(&["index", "--path", root, "--lexical-only", "--json"]);
    assert_eq!(indexed.ok().json()["files"], 7);
    let both = from_elsewhere(&["index", root, "--path", root]);
    assert_eq!(both.code(), 2, "{}", both.stderr());
    // Publish reads it too, then says what is missing to publish.
    let publish = from_elsewhere(&["publish", "--path", root]);
    assert_eq!(publish.code(), 2, "{}", publish.stderr());
    assert!(
        publish.stderr().contains("no team index is set"),
        "{}",
        publish.stderr()
    );
}

#[test]
fn health_and_stats_report_every_component() {
    let ws = TestWorkspace::fixture("workspace");
    ws.dowse(&["index", "--lexical-only"]).ok();
    let health = ws.dowse(&["health", "--json"]).json();
    for component in ["lexical", "vectors", "embedder", "usages", "storage"] {
        assert!(
            health["components"][component]["status"].is_string(),
            "{component}: {health}"
        );
    }
    assert_eq!(
        health["components"]["lexical"]["status"], "healthy",
        "{health}"
    );
    assert!(
        health["components"]["lexical"]["latency_ms"]
            .as_f64()
            .is_some()
    );
    // No model in the isolated home: degraded, with the reason.
    assert_eq!(health["status"], "degraded", "{health}");
    assert!(
        health["components"]["embedder"]["message"]
            .as_str()
            .unwrap()
            .contains("dowse model install"),
        "{health}"
    );
    let stats = ws.dowse(&["stats", "--json"]).json();
    assert_eq!(stats["files"], 7, "{stats}");
    assert!(stats["chunks"].as_u64().unwrap() >= 7, "{stats}");
    assert!(stats["index_bytes"].as_u64().unwrap() > 0, "{stats}");
    let human = ws.dowse(&["health"]).ok().stdout();
    assert!(human.starts_with("Degraded"), "{human}");
}

#[test]
fn settings_come_from_dowse_toml_and_the_environment_and_bad_ones_exit_2() {
    let ws = TestWorkspace::fixture("workspace");
    ws.write("dowse.toml", "exclude = [\"src/util/**\"]\n");
    let found = search(&ws, "parse_duration");
    assert!(
        found["results"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| !r["path"].as_str().unwrap().starts_with("src/util/")),
        "dowse.toml's exclude applies: {found}"
    );
    ws.write("dowse.toml", "exclude = \"src\"\ncolour = \"blue\"\n");
    let bad = ws.dowse(&["search", "parse_duration"]);
    assert_eq!(bad.code(), 2, "{}", bad.stderr());
    assert!(
        bad.stderr()
            .contains("invalid setting `exclude` = \"src\": expected a list of globs"),
        "{}",
        bad.stderr()
    );
    assert!(
        bad.stderr().contains("`colour` = \"blue\": unknown key"),
        "{}",
        bad.stderr()
    );
    std::fs::remove_file(ws.path("dowse.toml")).unwrap();
    let env_bad = ws
        .command(&["search", "parse_duration"])
        .env("DOWSE_THREADS", "lots")
        .output()
        .unwrap();
    assert_eq!(env_bad.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&env_bad.stderr)
            .contains("DOWSE_THREADS: invalid setting `threads`")
    );
}

#[test]
fn a_mixed_repository_is_indexed_in_one_pass_and_filtered_by_language() {
    let ws = TestWorkspace::fixture("workspace");
    ws.write(
        "web/src/retry.ts",
        "/** Retries a failed upload with backoff. */\nexport async function retryUploadLater(path: string): Promise<void> {\n  await schedule(path, 3);\n}\n",
    );
    ws.write(
        "server/retry.go",
        "package server\n\n// RetryUpload retries a failed upload.\nfunc RetryUpload(path string) error {\n\treturn schedule(path)\n}\n",
    );
    // Mostly syntax errors: indexed by windows, and the report says why.
    let broken: String = (0..40)
        .map(|i| format!("}} ))) class {i} {{{{ fn (( def\n"))
        .collect();
    ws.write("web/src/broken.ts", &broken);
    let report = ws.dowse(&["index", "--json"]).json();
    let windowed = report["windowed"].as_array().unwrap();
    assert_eq!(windowed.len(), 1, "{report:#}");
    assert_eq!(windowed[0]["path"], "web/src/broken.ts");
    assert!(
        windowed[0]["reason"]
            .as_str()
            .unwrap()
            .starts_with("syntax errors over "),
        "{report:#}"
    );

    let stats = ws.dowse(&["stats", "--json"]).json();
    let languages: Vec<&str> = stats["languages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["name"].as_str().unwrap())
        .collect();
    for lang in ["python", "typescript", "go"] {
        assert!(languages.contains(&lang), "{lang} missing: {stats:#}");
    }

    let only = |lang: &str| {
        let found = ws
            .dowse(&[
                "search",
                "retry failed upload",
                "--mode",
                "lexical",
                "--lang",
                lang,
                "--json",
            ])
            .json();
        let langs: Vec<String> = found["results"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["language"].as_str().unwrap().to_owned())
            .collect();
        (first(&found), langs)
    };
    let (top, langs) = only("go");
    assert_eq!(
        top,
        ("server/retry.go".to_owned(), Some("RetryUpload".to_owned()))
    );
    assert!(langs.iter().all(|l| l == "go"), "{langs:?}");
    let (top, langs) = only("typescript");
    assert_eq!(
        top,
        (
            "web/src/retry.ts".to_owned(),
            Some("retryUploadLater".to_owned())
        )
    );
    assert!(langs.iter().all(|l| l == "typescript"), "{langs:?}");

    let unknown = ws.dowse(&["search", "x", "--lang", "cobol"]);
    assert_ne!(unknown.code(), 0);
    assert!(
        unknown.stderr().contains("no language `cobol`"),
        "{}",
        unknown.stderr()
    );
}

/// `dowse publish` and the team scopes say what is missing or wrong before
/// anything is sent.
#[test]
fn publishing_and_team_scopes_need_a_team_index() {
    let ws = TestWorkspace::fixture("workspace");
    let run = ws.dowse(&["publish", "--to", "ftp://example.com"]);
    assert_eq!(run.code(), 2, "{}", run.stderr());
    assert!(
        run.stderr()
            .contains("--to: invalid setting `remote_url` = \"ftp://example.com\""),
        "{}",
        run.stderr()
    );
    let run = ws.dowse(&["publish"]);
    assert_eq!(run.code(), 2, "{}", run.stderr());
    assert!(
        run.stderr().contains("no team index is set"),
        "{}",
        run.stderr()
    );
    let run = ws.dowse(&["search", "retry", "--scope", "team", "--mode", "lexical"]);
    assert_eq!(run.code(), 2, "{}", run.stderr());
    assert!(
        run.stderr().contains("no team index is set"),
        "{}",
        run.stderr()
    );
    // A repository's own dowse.toml cannot point dowse at a server.
    ws.write("dowse.toml", "remote_url = \"http://evil.example:6334\"\n");
    let run = ws.dowse(&["search", "retry", "--scope", "all", "--mode", "lexical"]);
    assert_eq!(run.code(), 2, "{}", run.stderr());
    assert!(
        run.stderr().contains("ignored setting `remote_url`"),
        "{}",
        run.stderr()
    );
    assert!(
        run.stderr().contains("no team index is set"),
        "{}",
        run.stderr()
    );
}

/// A hybrid answer folds a file's further matches under its first result;
/// `--in PATH` lists them, and a path outside the workspace or one that
/// names nothing is refused with code 2.
#[test]
fn search_in_a_file_lists_the_matches_folded_under_it() {
    let ws = TestWorkspace::empty();
    let mut big = String::new();
    for i in 0..6 {
        big.push_str(&format!(
            "def checksum_part_{i}(data):\n    \"\"\"Checksum of part {i}.\"\"\"\n    return checksum(data, {i})\n\n\n"
        ));
    }
    ws.write("src/big.py", &big);
    ws.write(
        "src/small.py",
        "def small_checksum(data):\n    return checksum(data)\n",
    );
    ws.write(
        "lib/other.py",
        "def other_checksum(data):\n    return checksum(data)\n",
    );
    let paths = |response: &Value| -> Vec<String> {
        result_paths(response)
            .into_iter()
            .map(str::to_owned)
            .collect()
    };

    let spread = ws
        .dowse(&["search", "checksum", "--limit", "4", "--json"])
        .ok()
        .json();
    let big_first = spread["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["path"] == "src/big.py")
        .unwrap_or_else(|| panic!("{spread:#}"));
    let folded = big_first["more_in_file"].as_u64().unwrap_or(0);
    assert!(folded >= 1, "{spread:#}");

    let within = ws
        .dowse(&["search", "checksum", "--in", "src/big.py", "--json"])
        .ok()
        .json();
    let shown = paths(&within);
    assert_eq!(shown.len(), 6, "every part of big.py: {within:#}");
    assert!(shown.iter().all(|p| p == "src/big.py"), "{within:#}");
    assert!(
        within["results"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r.get("more_in_file").is_none()),
        "nothing folded within one file: {within:#}"
    );

    // A directory, from the workspace root or from inside it.
    let under_src = ws
        .dowse(&["search", "checksum", "--in", "src", "--json"])
        .ok()
        .json();
    let shown = paths(&under_src);
    assert!(shown.contains(&"src/small.py".to_owned()), "{under_src:#}");
    assert!(shown.iter().all(|p| p.starts_with("src/")), "{under_src:#}");
    let root = ws.root.to_str().unwrap();
    let from_lib = run_in(
        &ws,
        &ws.path("lib"),
        &["search", "checksum", "--path", root, "--in", ".", "--json"],
    );
    assert_eq!(paths(&from_lib.ok().json()), ["lib/other.py"]);

    let outside = ws.dowse(&["search", "checksum", "--in", ".."]);
    assert_eq!(outside.code(), 2, "{}", outside.stderr());
    assert!(
        outside.stderr().contains("outside the workspace"),
        "{}",
        outside.stderr()
    );
    let missing = ws.dowse(&["search", "checksum", "--in", "src/gone.py"]);
    assert_eq!(missing.code(), 2, "{}", missing.stderr());
    assert!(
        missing
            .stderr()
            .contains("no file or directory `src/gone.py`"),
        "{}",
        missing.stderr()
    );
}
