//! `dowse lsp` end to end: the real binary over stdio, a fixture workspace
//! on disk, unsaved buffers, commands, lifecycle.

use std::time::{Duration, Instant};

use dowse_tests::TestWorkspace;
use dowse_tests::lsp::{LspClient, file_uri};
use serde_json::{Value, json};

fn start(ws: &TestWorkspace) -> LspClient {
    let mut client = LspClient::spawn(ws.command(&["lsp"]));
    let capabilities = json!({
        "window": {"workDoneProgress": true},
        "general": {"positionEncodings": ["utf-16"]},
        "workspace": {"didChangeWatchedFiles": {"dynamicRegistration": true}},
    });
    let init = client.initialize(&ws.root, capabilities, json!({"debounce_ms": 20}));
    assert_eq!(
        init["result"]["capabilities"]["positionEncoding"], "utf-16",
        "{init}"
    );
    client
}

/// Waits for the end of the initial indexing's progress.
fn wait_indexed(client: &mut LspClient) {
    let end = client.wait_for(Duration::from_secs(60), |n| {
        n["method"] == "$/progress" && n["params"]["value"]["kind"] == "end"
    });
    assert!(end.is_some(), "no progress end: {:?}", client.notifications);
}

fn search_paths(client: &mut LspClient, query: &str) -> Vec<String> {
    let response = client.command("dowse.search", json!([{"query": query, "mode": "lexical"}]));
    response["result"]["results"]
        .as_array()
        .unwrap_or_else(|| panic!("no results in {response}"))
        .iter()
        .map(|r| r["path"].as_str().unwrap().to_owned())
        .collect()
}

/// Polls `dowse.search` until `pred` holds for its paths.
fn search_until(
    client: &mut LspClient,
    query: &str,
    pred: impl Fn(&[String]) -> bool,
) -> Vec<String> {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let paths = search_paths(client, query);
        if pred(&paths) || Instant::now() > deadline {
            return paths;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn unsaved_edits_are_searchable_until_the_buffer_closes() {
    let ws = TestWorkspace::fixture("workspace");
    let mut client = start(&ws);
    wait_indexed(&mut client);
    let progress: Vec<&Value> = client
        .notifications
        .iter()
        .filter(|n| n["method"] == "$/progress")
        .collect();
    assert_eq!(progress[0]["params"]["value"]["kind"], "begin");
    assert!(
        progress
            .iter()
            .any(|n| n["params"]["value"]["percentage"].as_u64().is_some()),
        "progress carries percentages: {progress:?}"
    );
    assert!(
        client
            .notifications
            .iter()
            .any(|n| n["method"] == "window/workDoneProgress/create"),
        "a progress token was created"
    );

    let path = ws.path("src/util/duration.py");
    let uri = file_uri(&path);
    let text = std::fs::read_to_string(&path).unwrap();
    client.notify(
        "textDocument/didOpen",
        json!({"textDocument": {"uri": uri, "languageId": "python", "version": 1, "text": text}}),
    );
    // Insert a function at the top, as an editor sends it: a ranged change.
    client.insert_at_start(&uri, 2, "def quokkafication():\n    return 'zebra'\n\n\n");
    let found = search_until(&mut client, "quokkafication", |p| !p.is_empty());
    assert_eq!(found, ["src/util/duration.py"]);
    assert_eq!(
        std::fs::read_to_string(&path).unwrap(),
        text,
        "the disk copy is untouched"
    );

    // workspace/symbol finds the unsaved function by name.
    let symbols = client.request("workspace/symbol", json!({"query": "quokkafication"}));
    let first = &symbols["result"][0];
    assert_eq!(first["name"], "quokkafication", "{symbols}");
    assert_eq!(first["location"]["uri"], uri);
    assert_eq!(first["location"]["range"]["start"]["line"], 0);

    client.notify(
        "textDocument/didClose",
        json!({"textDocument": {"uri": uri}}),
    );
    let gone = search_until(&mut client, "quokkafication", |p| p.is_empty());
    assert!(
        gone.is_empty(),
        "closed without saving: back to the disk text, got {gone:?}"
    );
    assert_eq!(
        search_paths(&mut client, "parse_duration")[0],
        "src/util/duration.py"
    );

    let shutdown = client.request("shutdown", Value::Null);
    assert!(shutdown.get("error").is_none(), "{shutdown}");
    client.notify("exit", Value::Null);
    let status = client
        .wait(Duration::from_secs(10))
        .expect("exits after `exit`");
    assert_eq!(status.code(), Some(0));
}

#[test]
fn changes_on_disk_are_picked_up() {
    let ws = TestWorkspace::fixture("workspace");
    let mut client = start(&ws);
    wait_indexed(&mut client);
    assert!(
        client
            .notifications
            .iter()
            .any(|n| n["method"] == "client/registerCapability"),
        "the server asks to be told of file changes"
    );
    ws.write(
        "src/net/ratelimit.py",
        "def throttle_wombats(n):\n    return n\n",
    );
    client.notify(
        "workspace/didChangeWatchedFiles",
        json!({"changes": [{"uri": file_uri(&ws.path("src/net/ratelimit.py")), "type": 1}]}),
    );
    let found = search_until(&mut client, "throttle_wombats", |p| !p.is_empty());
    assert_eq!(found, ["src/net/ratelimit.py"]);
    std::fs::remove_file(ws.path("src/net/ratelimit.py")).unwrap();
    client.notify(
        "workspace/didChangeWatchedFiles",
        json!({"changes": [{"uri": file_uri(&ws.path("src/net/ratelimit.py")), "type": 3}]}),
    );
    let gone = search_until(&mut client, "throttle_wombats", |p| p.is_empty());
    assert!(gone.is_empty(), "deleted file still found: {gone:?}");
}

#[test]
fn commands_answer_and_bad_arguments_are_invalid_params() {
    let ws = TestWorkspace::fixture("workspace");
    let mut client = start(&ws);
    wait_indexed(&mut client);

    let bad = client.command("dowse.search", json!([{"limit": 3}]));
    assert_eq!(bad["error"]["code"], -32602, "{bad}");
    assert!(
        bad["error"]["message"]
            .as_str()
            .unwrap()
            .contains("`query` is missing"),
        "{bad}"
    );
    let bad_mode = client.command("dowse.search", json!([{"query": "x", "mode": "fuzzy"}]));
    assert_eq!(bad_mode["error"]["code"], -32602, "{bad_mode}");
    let unknown = client.command("dowse.frobnicate", json!([]));
    assert!(
        unknown["error"]["message"]
            .as_str()
            .unwrap()
            .contains("dowse.findUsages"),
        "{unknown}"
    );

    // The next request still works.
    let usages = client.command("dowse.findUsages", json!([{"symbol": "StorageClient.put"}]));
    let refs = &usages["result"]["references"];
    assert_eq!(refs[0]["path"], "src/net/uploader.py", "{usages}");
    assert_eq!(
        refs[0]["range"]["start"],
        json!({"line": 23, "character": 31})
    );
    assert!(
        refs[0]["uri"]
            .as_str()
            .unwrap()
            .ends_with("src/net/uploader.py")
    );

    // textDocument/references from the definition of `upload`.
    let uri = file_uri(&ws.path("src/net/uploader.py"));
    let references = client.request(
        "textDocument/references",
        json!({"textDocument": {"uri": uri}, "position": {"line": 21, "character": 9},
               "context": {"includeDeclaration": true}}),
    );
    let lines: Vec<u64> = references["result"]
        .as_array()
        .unwrap_or_else(|| panic!("{references}"))
        .iter()
        .map(|l| l["range"]["start"]["line"].as_u64().unwrap())
        .collect();
    assert_eq!(lines, [21, 31], "{references}");

    let health = client.command("dowse.health", json!([]));
    assert_eq!(
        health["result"]["components"]["lexical"]["status"], "healthy",
        "{health}"
    );
    // No model in this isolated home: keyword search only, and said so.
    assert_eq!(health["result"]["status"], "degraded", "{health}");
    let stats = client.command("dowse.stats", json!([]));
    assert_eq!(stats["result"]["files"], 7, "{stats}");
}

#[test]
fn exit_codes_follow_the_protocol() {
    let ws = TestWorkspace::fixture("workspace");
    let mut without_shutdown = start(&ws);
    without_shutdown.notify("exit", Value::Null);
    let status = without_shutdown
        .wait(Duration::from_secs(10))
        .expect("exits");
    assert_eq!(status.code(), Some(1), "exit without shutdown");

    let mut closed = start(&ws);
    let status = closed
        .close_stdin_and_wait(Duration::from_secs(10))
        .expect("exits on EOF");
    assert_eq!(status.code(), Some(0), "stdin closed");
}

#[test]
fn invalid_settings_are_reported_and_defaults_kept() {
    let ws = TestWorkspace::fixture("workspace");
    let mut client = LspClient::spawn(ws.command(&["lsp"]));
    client.initialize(
        &ws.root,
        json!({}),
        json!({"debounce_ms": "soon", "colour": 3}),
    );
    let message = client.wait_for(Duration::from_secs(10), |n| {
        n["method"] == "window/showMessage"
            && n["params"]["message"]
                .as_str()
                .is_some_and(|m| m.contains("debounce_ms"))
    });
    assert!(message.is_some(), "{:?}", client.notifications);
    assert!(
        client
            .wait_for(Duration::from_secs(5), |n| n["params"]["message"]
                .as_str()
                .is_some_and(|m| m.contains("`colour` = 3: unknown key")))
            .is_some()
    );
    // Still serving.
    let found = search_until(&mut client, "parse_duration", |p| !p.is_empty());
    assert_eq!(found[0], "src/util/duration.py");
}

#[test]
fn changes_made_outside_the_editor_are_seen_by_the_servers_own_watcher() {
    let ws = TestWorkspace::fixture("workspace");
    let mut client = start(&ws);
    wait_indexed(&mut client);
    // No didChangeWatchedFiles: only the server's watcher can see this.
    ws.write(
        "src/net/outside.py",
        "def platypus_gateway():\n    return 1\n",
    );
    let found = search_until(&mut client, "platypus_gateway", |p| !p.is_empty());
    assert_eq!(found, ["src/net/outside.py"]);
    std::fs::rename(ws.path("src/net/outside.py"), ws.path("src/net/renamed.py")).unwrap();
    let moved = search_until(&mut client, "platypus_gateway", |p| {
        p == ["src/net/renamed.py"]
    });
    assert_eq!(moved, ["src/net/renamed.py"]);
}

#[test]
fn a_panic_in_a_handler_is_an_error_and_the_server_keeps_serving() {
    let ws = TestWorkspace::fixture("workspace");
    let mut cmd = ws.command(&["lsp"]);
    cmd.env("DOWSE_TEST_HOOKS", "1");
    let mut client = LspClient::spawn(cmd);
    client.initialize(&ws.root, json!({}), json!({}));
    let panicked = client.command("dowse.debugPanic", json!([]));
    assert_eq!(panicked["error"]["code"], -32603, "{panicked}");
    let found = search_until(&mut client, "parse_duration", |p| !p.is_empty());
    assert_eq!(found[0], "src/util/duration.py");
}

/// Waits for a `dowse/status` with the index ready (everything indexed and
/// embedded).
fn wait_ready(client: &mut LspClient) -> Value {
    client
        .wait_for(Duration::from_secs(120), |n| {
            n["method"] == "dowse/status" && n["params"]["phase"] == "ready"
        })
        .unwrap_or_else(|| panic!("never ready: {:?}", client.notifications))
}

fn open(client: &mut LspClient, path: &std::path::Path, text: &str) -> String {
    let uri = file_uri(path);
    client.notify(
        "textDocument/didOpen",
        json!({"textDocument": {"uri": uri, "languageId": "python", "version": 1, "text": text}}),
    );
    uri
}

fn replace_all(client: &mut LspClient, uri: &str, version: i32, text: &str) {
    client.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": uri, "version": version}, "contentChanges": [{"text": text}]}),
    );
}

#[test]
fn context_fits_the_budget_and_sends_whole_chunks() {
    let ws = TestWorkspace::fixture("workspace");
    let mut client = start(&ws);
    wait_ready(&mut client);
    let response = client.command(
        "dowse.context",
        json!([{"query": "retry failed uploads with backoff", "maxTokens": 300}]),
    );
    let result = &response["result"];
    assert!(result["tokens"].as_u64().unwrap() <= 300, "{result:#}");
    assert_eq!(
        result["tokenCount"], "estimate",
        "no model here: {result:#}"
    );
    let chunks = result["chunks"].as_array().unwrap();
    assert!(!chunks.is_empty(), "{result:#}");
    assert_eq!(chunks[0]["path"], "src/net/uploader.py", "{result:#}");
    for chunk in chunks {
        // Whole lines of the file, exactly.
        let file = std::fs::read_to_string(ws.path(chunk["path"].as_str().unwrap())).unwrap();
        let lines: Vec<&str> = file.lines().collect();
        let (start, end) = (
            chunk["startLine"].as_u64().unwrap() as usize,
            chunk["endLine"].as_u64().unwrap() as usize,
        );
        assert_eq!(chunk["text"], lines[start - 1..end].join("\n"), "{chunk:#}");
        assert!(chunk["uri"].as_str().unwrap().starts_with("file://"));
    }
    assert!(
        chunks.iter().any(|c| c["text"]
            .as_str()
            .unwrap()
            .contains("def retry_failed_uploads")),
        "{result:#}"
    );
    let tight = client.command(
        "dowse.context",
        json!([{"query": "upload", "maxTokens": 100}]),
    );
    assert!(
        tight["result"]["tokens"].as_u64().unwrap() <= 100,
        "{tight}"
    );
    let bad = client.command(
        "dowse.context",
        json!([{"query": "upload", "maxTokens": 5}]),
    );
    assert_eq!(bad["error"]["code"], -32602, "{bad}");
}

#[test]
fn references_see_an_unsaved_edit() {
    let ws = TestWorkspace::fixture("workspace");
    let mut client = start(&ws);
    wait_ready(&mut client);
    let path = ws.path("src/net/uploader.py");
    let text = std::fs::read_to_string(&path).unwrap();
    let uri = open(&mut client, &path, &text);
    let edited = format!(
        "{text}\n\ndef upload_twice(uploader, path):\n    uploader.upload(path)\n    uploader.upload(path)\n"
    );
    replace_all(&mut client, &uri, 2, &edited);
    let new_lines = edited.lines().count() as u64;
    let deadline = Instant::now() + Duration::from_secs(20);
    let lines = loop {
        // From the definition of `upload` (line 22, 0-based 21).
        let references = client.request(
            "textDocument/references",
            json!({"textDocument": {"uri": uri}, "position": {"line": 21, "character": 9},
                   "context": {"includeDeclaration": false}}),
        );
        let lines: Vec<u64> = references["result"]
            .as_array()
            .unwrap_or_else(|| panic!("{references}"))
            .iter()
            .map(|l| l["range"]["start"]["line"].as_u64().unwrap())
            .collect();
        if lines.contains(&(new_lines - 1)) || Instant::now() > deadline {
            break lines;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    assert_eq!(
        lines,
        [31, new_lines - 2, new_lines - 1],
        "the unsaved calls count"
    );
    assert_eq!(
        std::fs::read_to_string(&path).unwrap(),
        text,
        "nothing written"
    );
}

#[test]
fn edits_commit_nothing_until_the_file_is_saved() {
    let ws = TestWorkspace::fixture("workspace");
    let mut client = start(&ws);
    wait_ready(&mut client);
    let commits = |client: &mut LspClient| {
        client.command("dowse.stats", json!([]))["result"]["diskCommits"]
            .as_u64()
            .unwrap()
    };
    let before = commits(&mut client);
    let path = ws.path("src/util/thermo.py");
    let mut text = std::fs::read_to_string(&path).unwrap();
    let uri = open(&mut client, &path, &text);
    for i in 0..50 {
        text.push_str(&format!("\n\ndef marmot_{i}():\n    return {i}\n"));
        replace_all(&mut client, &uri, i + 2, &text);
    }
    let found = search_until(&mut client, "marmot_49", |p| !p.is_empty());
    assert_eq!(found[0], "src/util/thermo.py");
    assert_eq!(commits(&mut client), before, "an edit committed to disk");
    std::fs::write(&path, &text).unwrap();
    client.notify(
        "textDocument/didSave",
        json!({"textDocument": {"uri": uri}}),
    );
    let deadline = Instant::now() + Duration::from_secs(20);
    while commits(&mut client) == before && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(commits(&mut client) > before, "the save was not committed");
}

#[test]
fn every_workspace_folder_is_a_root() {
    let one = TestWorkspace::fixture("workspace");
    let two = TestWorkspace::empty();
    two.write(
        "lib/tide.py",
        "def tide_table_lookup(port):\n    return port\n",
    );
    let mut client = LspClient::spawn(one.command(&["lsp"]));
    let (a, b) = (file_uri(&one.root), file_uri(&two.root));
    client.request(
        "initialize",
        json!({
            "processId": null,
            "rootUri": a,
            "workspaceFolders": [{"uri": a, "name": "one"}, {"uri": b, "name": "two"}],
            "capabilities": {"workspace": {"workspaceFolders": true}},
        }),
    );
    client.notify("initialized", json!({}));
    wait_ready(&mut client);
    let response = client.command("dowse.search", json!([{"query": "tide_table_lookup"}]));
    let first = &response["result"]["results"][0];
    assert_eq!(first["path"], "lib/tide.py", "{response}");
    assert_eq!(first["root"], two.root.to_string_lossy().as_ref());
    assert!(first["uri"].as_str().unwrap().ends_with("/lib/tide.py"));
    assert_eq!(
        search_paths(&mut client, "parse_duration")[0],
        "src/util/duration.py"
    );
    let status = client.command("dowse.stats", json!([]));
    assert_eq!(status["result"]["files"], 8, "{status}");

    client.notify(
        "workspace/didChangeWorkspaceFolders",
        json!({"event": {"added": [], "removed": [{"uri": b, "name": "two"}]}}),
    );
    let gone = search_until(&mut client, "tide_table_lookup", |p| p.is_empty());
    assert!(gone.is_empty(), "{gone:?}");
}

/// 500 random opens, edits, saves and closes over 20 files, sent as fast as
/// an editor would: once the buffers are closed, every answer is the answer
/// of a fresh index of the disk.
#[test]
fn random_editor_sessions_end_where_a_fresh_index_of_the_disk_is() {
    let ws = TestWorkspace::empty();
    for i in 0..20 {
        ws.write(
            &format!("pkg/f{i}.py"),
            format!("def disk_{i}(x):\n    return x\n"),
        );
    }
    let mut client = start(&ws);
    wait_ready(&mut client);
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    let mut below = |n: u64| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state % n
    };
    let mut open_docs: std::collections::HashMap<u64, (i32, String)> = Default::default();
    for step in 0..500 {
        let f = below(20);
        let path = ws.path(&format!("pkg/f{f}.py"));
        let uri = file_uri(&path);
        match below(4) {
            0 if !open_docs.contains_key(&f) => {
                let text = std::fs::read_to_string(&path).unwrap();
                open(&mut client, &path, &text);
                open_docs.insert(f, (1, text));
            }
            1 if open_docs.contains_key(&f) => {
                let text = format!("def edit_{step}(x):\n    return x * {step}\n");
                let doc = open_docs.get_mut(&f).unwrap();
                doc.0 += 1;
                doc.1 = text.clone();
                replace_all(&mut client, &uri, doc.0, &text);
            }
            2 if open_docs.contains_key(&f) => {
                std::fs::write(&path, &open_docs[&f].1).unwrap();
                client.notify(
                    "textDocument/didSave",
                    json!({"textDocument": {"uri": uri}}),
                );
            }
            3 if open_docs.contains_key(&f) => {
                client.notify(
                    "textDocument/didClose",
                    json!({"textDocument": {"uri": uri}}),
                );
                open_docs.remove(&f);
            }
            _ => {}
        }
    }
    for f in open_docs.keys() {
        let uri = file_uri(&ws.path(&format!("pkg/f{f}.py")));
        client.notify(
            "textDocument/didClose",
            json!({"textDocument": {"uri": uri}}),
        );
    }
    // A fresh index of the disk, by the CLI in an index of its own.
    let fresh = |query: &str| -> Vec<String> {
        let dir = ws.home.join("fresh-index");
        let mut cmd = ws.command(&[
            "search", query, "--mode", "lexical", "--limit", "100", "--json",
        ]);
        cmd.env("DOWSE_INDEX_DIR", &dir);
        let out = cmd.output().unwrap();
        let json: Value = serde_json::from_slice(&out.stdout).unwrap();
        let mut found: Vec<String> = json["results"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| format!("{}:{}-{}", r["path"], r["start_line"], r["end_line"]))
            .collect();
        found.sort();
        found
    };
    let served = |client: &mut LspClient, query: &str| -> Vec<String> {
        let response = client.command(
            "dowse.search",
            json!([{"query": query, "mode": "lexical", "limit": 100}]),
        );
        let mut found: Vec<String> = response["result"]["results"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| format!("{}:{}-{}", r["path"], r["startLine"], r["endLine"]))
            .collect();
        found.sort();
        found
    };
    let queries = ["edit", "disk", "return x"];
    for query in queries {
        let expected = fresh(query);
        let deadline = Instant::now() + Duration::from_secs(20);
        let mut got = served(&mut client, query);
        while got != expected && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(100));
            got = served(&mut client, query);
        }
        assert_eq!(
            got, expected,
            "`{query}` differs from a fresh index of the disk"
        );
    }
    let stats = client.command("dowse.stats", json!([]));
    assert_eq!(stats["result"]["openBuffers"], 0, "{stats}");
}

/// With the real model: search by meaning (not only keywords) over LSP,
/// on text that exists only in an unsaved buffer.
#[test]
fn search_by_meaning_finds_an_unsaved_edit() {
    let ws = TestWorkspace::fixture("workspace");
    let mut cmd = ws.command(&["lsp"]);
    cmd.env("DOWSE_MODEL_DIR", dowse_tests::real_model_dir());
    let mut client = LspClient::spawn(cmd);
    client.initialize(&ws.root, json!({}), json!({"debounce_ms": 20}));
    let ready = wait_ready(&mut client);
    assert_eq!(ready["params"]["coverage"], 1.0, "{ready}");
    assert!(ready["params"]["degraded"].is_null(), "{ready}");
    let path = ws.path("src/util/thermo.py");
    let text = std::fs::read_to_string(&path).unwrap();
    let uri = open(&mut client, &path, &text);
    let edited = format!("{text}\n\ndef kilometres_to_miles(km):\n    return km * 0.621371\n");
    replace_all(&mut client, &uri, 2, &edited);
    let query = "convert a distance from metric to imperial units";
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let response = client.command(
            "dowse.search",
            json!([{"query": query, "mode": "semantic"}]),
        );
        let first = &response["result"]["results"][0];
        if first["symbol"] == "kilometres_to_miles" {
            assert_eq!(response["result"]["mode"], "semantic");
            assert!(response["result"]["degraded"].is_null(), "{response}");
            break;
        }
        assert!(
            Instant::now() < deadline,
            "never found by meaning: {response}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Settings apply in the documented order — defaults < dowse.toml < editor
/// settings < environment < flags — and a bad one is reported once.
#[test]
fn settings_layer_in_the_documented_order_and_bad_keys_are_reported_once() {
    let ws = TestWorkspace::fixture("workspace");
    ws.write("dowse.toml", "exclude = [\"src/util/**\"]\n");
    let settings = json!({"exclude": ["src/net/**"], "colour": 3, "debounce_ms": 20});
    // The editor's settings beat the workspace's file.
    let mut client = LspClient::spawn(ws.command(&["lsp"]));
    client.initialize(&ws.root, json!({}), settings.clone());
    wait_ready(&mut client);
    assert_eq!(
        search_paths(&mut client, "parse_duration")[0],
        "src/util/duration.py"
    );
    assert!(
        !search_paths(&mut client, "retry_failed_uploads")
            .contains(&"src/net/uploader.py".to_owned()),
        "the editor's exclude was not applied"
    );
    let about_colour: Vec<&Value> = client
        .notifications
        .iter()
        .filter(|n| {
            n["method"] == "window/showMessage"
                && n["params"]["message"]
                    .as_str()
                    .is_some_and(|m| m.contains("colour"))
        })
        .collect();
    assert_eq!(about_colour.len(), 1, "{about_colour:?}");
    drop(client);

    // The environment beats the editor's settings.
    let mut cmd = ws.command(&["lsp"]);
    cmd.env("DOWSE_EXCLUDE", "docs/**");
    let mut client = LspClient::spawn(cmd);
    client.initialize(&ws.root, json!({}), settings);
    wait_ready(&mut client);
    assert_eq!(
        search_paths(&mut client, "retry_failed_uploads")[0],
        "src/net/uploader.py"
    );
    assert_eq!(
        search_paths(&mut client, "parse_duration")[0],
        "src/util/duration.py"
    );

    // Engine keys changed later are named as needing a restart.
    client.notify(
        "workspace/didChangeConfiguration",
        json!({"settings": {"dowse": {"threads": 1, "debounce_ms": 50}}}),
    );
    let restart = client.wait_for(Duration::from_secs(10), |n| {
        n["method"] == "window/showMessage"
            && n["params"]["message"]
                .as_str()
                .is_some_and(|m| m.contains("`threads`") && m.contains("restart"))
    });
    assert!(restart.is_some(), "{:?}", client.notifications);
}

/// Requests are checked as MCP checks them (one validation in the host): a
/// path prefix outside the workspace is refused, a limit sent as text is
/// taken, and a position in a file outside the workspace is refused before
/// anything reads it (a read of /dev/zero never ends).
#[test]
fn requests_are_checked_once_for_every_front_end_and_never_read_outside() {
    let ws = TestWorkspace::fixture("workspace");
    let mut client = start(&ws);
    wait_indexed(&mut client);
    let outside = client.request(
        "dowse/search",
        json!({"query": "parse_duration", "pathPrefix": "../../etc"}),
    );
    assert_eq!(outside["error"]["code"], -32602, "{outside}");
    assert!(
        outside["error"]["message"]
            .as_str()
            .unwrap()
            .contains("outside the workspace"),
        "{outside}"
    );
    let inside = client.request(
        "dowse/search",
        json!({"query": "parse_duration", "pathPrefix": "src/util", "limit": "3", "mode": "lexical"}),
    );
    let results = inside["result"]["results"].as_array().unwrap();
    assert!(!results.is_empty() && results.len() <= 3, "{inside}");
    assert!(
        results
            .iter()
            .all(|r| r["path"].as_str().unwrap().starts_with("src/util/")),
        "{inside}"
    );
    let too_many = client.request("dowse/search", json!({"query": "x", "limit": 1000}));
    assert!(
        too_many["error"]["message"]
            .as_str()
            .unwrap()
            .contains("from 1 to 100"),
        "{too_many}"
    );
    let budget = client.request("dowse/context", json!({"query": "retry", "maxTokens": 5}));
    assert!(
        budget["error"]["message"]
            .as_str()
            .unwrap()
            .contains("`maxTokens`"),
        "{budget}"
    );

    let started = Instant::now();
    let zero = client.request(
        "textDocument/references",
        json!({"textDocument": {"uri": "file:///dev/zero"}, "position": {"line": 0, "character": 0},
               "context": {"includeDeclaration": true}}),
    );
    assert!(
        zero["result"].is_null() || zero.get("error").is_some(),
        "{zero}"
    );
    let usages = client.request(
        "dowse/findUsages",
        json!({"uri": "file:///dev/zero", "position": {"line": 0, "character": 0}}),
    );
    assert_eq!(usages["error"]["code"], -32602, "{usages}");
    assert!(started.elapsed() < Duration::from_secs(10));
    // The server still answers.
    assert_eq!(
        search_paths(&mut client, "parse_duration")[0],
        "src/util/duration.py"
    );
    client.shutdown();
}
