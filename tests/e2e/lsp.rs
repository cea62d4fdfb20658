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
    client.notify(
        "textDocument/didChange",
        json!({
            "textDocument": {"uri": uri, "version": 2},
            "contentChanges": [{
                "range": {"start": {"line": 0, "character": 0}, "end": {"line": 0, "character": 0}},
                "text": "def quokkafication():\n    return 'zebra'\n\n\n",
            }],
        }),
    );
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
