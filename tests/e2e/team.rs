//! The team index against a real Qdrant server: publishing two
//! repositories, searching them with a workspace, republishing after edits
//! and deletions, refusing another model's collection, and answering from
//! the local index when the team index is down or slow.
//!
//! Every test here is named `qdrant_*`: scripts/test skips them, and says
//! so, when there is no Qdrant binary at all.

use std::time::{Duration, Instant};

use dowse_tests::TestWorkspace;
use dowse_tests::lsp::{LspClient, file_uri};
use dowse_tests::mcp::McpHttp;
use dowse_tests::qdrant::QdrantNode;
use serde_json::{Value, json};

const LIMITS: &str = r#""""Request limits for the public API."""

import time


class TokenBucket:
    """Throttles requests: a bucket of tokens refilled at a steady rate."""

    def __init__(self, rate, capacity):
        self.rate = rate
        self.capacity = capacity
        self.tokens = capacity
        self.stamp = time.monotonic()

    def allow(self):
        """Take one token if there is one; refuse the request otherwise."""
        now = time.monotonic()
        self.tokens = min(self.capacity, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        if self.tokens >= 1:
            self.tokens -= 1
            return True
        return False
"#;

const USERS: &str = r#""""Users of the public API."""


def find_user(store, user_id):
    """Look a user up by id; None when there is no such user."""
    return store.get(user_id)


def rename_user(store, user_id, name):
    """Give a user a new display name."""
    user = find_user(store, user_id)
    user["name"] = name
    return user
"#;

const PAGES: &str = r#""""Pages of the web front end."""


def render_profile(user):
    """The profile page of a user: name and avatar."""
    return f"<h1>{user['name']}</h1><img src='{user['avatar']}'>"


def render_error(status):
    """A page for an HTTP error status."""
    return f"<h1>Error {status}</h1>"
"#;

/// Two repositories side by side, each with an index of its own.
struct Repos {
    ws: TestWorkspace,
}

impl Repos {
    fn new() -> Repos {
        let ws = TestWorkspace::empty();
        ws.write("api/limits.py", LIMITS);
        ws.write("api/users.py", USERS);
        ws.write("web/pages.py", PAGES);
        Repos { ws }
    }

    fn index_dir(&self, repo: &str) -> String {
        self.ws.index_dir.join(repo).display().to_string()
    }

    /// `dowse ARGS` for `repo`'s index, with the real model and the team
    /// index of `env` (`DOWSE_REMOTE_*`).
    fn dowse(&self, repo: &str, args: &[&str], env: &[(&str, &str)]) -> dowse_tests::Run {
        let index_dir = self.index_dir(repo);
        let mut all: Vec<&str> = args.to_vec();
        all.extend(["--index-dir", &index_dir]);
        let mut cmd = self.ws.command(&all);
        cmd.env("DOWSE_MODEL_DIR", dowse_tests::real_model_dir());
        for (key, value) in env {
            cmd.env(key, value);
        }
        dowse_tests::Run(cmd.output().expect("run dowse"))
    }

    fn publish(&self, node: &QdrantNode, repo: &str, collection: &str) -> Value {
        self.publish_to(&node.url(), repo, collection, &[])
    }

    /// `dowse publish REPO --to URL --collection C EXTRA... --json`.
    fn publish_to(&self, url: &str, repo: &str, collection: &str, extra: &[&str]) -> Value {
        let mut args = vec!["publish", repo, "--to", url, "--collection", collection];
        args.extend(extra);
        args.push("--json");
        self.dowse(repo, &args, &[]).json()
    }

    /// `dowse ARGS` for the web repository with the team index at `url`.
    fn web_with_team(&self, args: &[&str], url: &str, collection: &str) -> Value {
        self.dowse(
            "web",
            args,
            &[
                ("DOWSE_REMOTE_URL", url),
                ("DOWSE_REMOTE_COLLECTION", collection),
            ],
        )
        .json()
    }

    fn search(&self, node_url: &str, collection: &str, query: &str, scope: &str) -> Value {
        self.web_search(
            query,
            scope,
            &[
                ("DOWSE_REMOTE_URL", node_url),
                ("DOWSE_REMOTE_COLLECTION", collection),
            ],
        )
        .json()
    }

    /// `dowse search QUERY --scope SCOPE --json` in the web repository,
    /// with `env` (`DOWSE_REMOTE_*`), whatever its exit code.
    fn web_search(&self, query: &str, scope: &str, env: &[(&str, &str)]) -> dowse_tests::Run {
        self.dowse(
            "web",
            &["search", query, "--path", "web", "--scope", scope, "--json"],
            env,
        )
    }
}

fn places(response: &Value) -> Vec<String> {
    response["results"]
        .as_array()
        .expect("results")
        .iter()
        .map(|r| {
            format!(
                "{}//{}",
                r["repo"].as_str().unwrap_or("(local)"),
                r["path"].as_str().unwrap()
            )
        })
        .collect()
}

#[test]
fn qdrant_two_repositories_publish_search_and_republish() {
    let repos = Repos::new();
    let node = QdrantNode::start(&repos.ws.home.join("qdrant"));

    let api = repos.publish(&node, "api", "team");
    assert_eq!(api["repo"], "api");
    let api_chunks = api["chunks"].as_u64().unwrap();
    assert!(api_chunks >= 4, "{api}");
    assert_eq!(api["sent"], api_chunks, "a first publish sends every chunk");
    assert_eq!(api["unchanged"], 0);
    let web = repos.publish(&node, "web", "team");
    assert_eq!(
        node.count("team", json!({})),
        api_chunks + web["chunks"].as_u64().unwrap()
    );

    // From the web repository, a question answered only in the api one.
    let question = "how are requests throttled with a bucket of tokens";
    let all = repos.search(&node.url(), "team", question, "all");
    assert!(all.get("degraded").is_none(), "{all}");
    let found = places(&all);
    assert_eq!(found[0], "api//limits.py", "{found:?}");
    let best = &all["results"][0];
    assert!(
        best["root"].as_str().unwrap().is_empty(),
        "a remote result has no local root"
    );
    assert!(
        best["snippet"].as_str().unwrap().contains("token"),
        "{best}"
    );
    // A repository checked out on this machine (remote_checkouts): its
    // results name that directory, so editors open the file.
    let api_dir = repos.ws.path("api").canonicalize().unwrap();
    let checkouts = json!({ "api": api_dir }).to_string();
    let checked_out = repos
        .dowse(
            "web",
            &[
                "search", question, "--path", "web", "--scope", "all", "--json",
            ],
            &[
                ("DOWSE_REMOTE_URL", &node.url()),
                ("DOWSE_REMOTE_COLLECTION", "team"),
                ("DOWSE_REMOTE_CHECKOUTS", &checkouts),
            ],
        )
        .json();
    let best = &checked_out["results"][0];
    assert_eq!(best["repo"], "api", "{best}");
    assert_eq!(best["root"].as_str(), api_dir.to_str(), "{best}");
    // Local scope knows nothing of the other repository.
    let local = repos.search(&node.url(), "team", question, "local");
    assert!(
        places(&local).iter().all(|p| p.starts_with("(local)//")),
        "{local}"
    );
    // With scope all, the web repository's own files come from its local
    // index, never from the published copy.
    assert!(
        !found.iter().any(|p| p.starts_with("web//")),
        "the open repository's published copies are replaced: {found:?}"
    );
    assert!(found.iter().any(|p| p == "(local)//pages.py"), "{found:?}");

    // Republishing unchanged sends nothing.
    let again = repos.publish(&node, "api", "team");
    assert_eq!(
        (again["sent"].as_u64(), again["removed"].as_u64()),
        (Some(0), Some(0))
    );
    assert_eq!(again["unchanged"], api_chunks);

    // An interrupted publish (here: the points of one file never made
    // it) resumes: only what the collection lacks is sent.
    let limits = json!({"must": [
        {"key": "repo", "match": {"value": "api"}},
        {"key": "path", "match": {"value": "limits.py"}}
    ]});
    let limits_points = node.count("team", limits.clone());
    assert!(limits_points >= 2, "{limits_points}");
    node.rest(
        "POST",
        "/collections/team/points/delete?wait=true",
        Some(json!({ "filter": limits })),
    );
    let resumed = repos.publish(&node, "api", "team");
    assert_eq!(resumed["sent"].as_u64(), Some(limits_points), "{resumed}");
    assert_eq!(
        resumed["unchanged"].as_u64(),
        Some(api_chunks - limits_points)
    );

    // An edited file: only its chunks are sent.
    let users_points = node.count(
        "team",
        json!({"must": [
            {"key": "repo", "match": {"value": "api"}},
            {"key": "path", "match": {"value": "users.py"}}
        ]}),
    );
    assert!(users_points >= 2, "{users_points}");
    repos.ws.write(
        "api/users.py",
        USERS.replace(
            "Give a user a new display name.",
            "Change the name a user is shown by.",
        ),
    );
    let edited = repos.publish(&node, "api", "team");
    let sent = edited["sent"].as_u64().unwrap();
    assert!(sent >= 1 && sent <= users_points, "{edited}");
    assert_eq!(
        edited["unchanged"].as_u64().unwrap() + sent,
        api_chunks,
        "{edited}"
    );
    let renamed = repos.search(
        &node.url(),
        "team",
        "change the name a user is shown by",
        "team",
    );
    assert_eq!(places(&renamed)[0], "api//users.py", "{renamed}");

    // A deleted file: its points are removed, nothing else.
    std::fs::remove_file(repos.ws.path("api/users.py")).unwrap();
    let deleted = repos.publish(&node, "api", "team");
    assert_eq!(deleted["removed"].as_u64(), Some(users_points), "{deleted}");
    assert_eq!(deleted["sent"], 0);
    let left = node.count(
        "team",
        json!({"must": [
            {"key": "repo", "match": {"value": "api"}},
            {"key": "path", "match": {"value": "users.py"}}
        ]}),
    );
    assert_eq!(left, 0);
    assert_eq!(
        node.count(
            "team",
            json!({"must": [{"key": "repo", "match": {"value": "api"}}]})
        ),
        api_chunks - users_points
    );

    // Health names the team index and what it holds.
    let health = repos.web_with_team(&["health", "--path", "web", "--json"], &node.url(), "team");
    let remote = &health["remote"];
    assert_eq!(remote["reachable"], true, "{remote}");
    assert_eq!(remote["status"], "green", "{remote}");
    assert_eq!(
        remote["points"].as_u64(),
        Some(node.count("team", json!({}))),
        "{remote}"
    );
    assert!(
        remote["model"]
            .as_str()
            .unwrap()
            .starts_with("all-MiniLM-L6-v2"),
        "{remote}"
    );
    assert_eq!(remote["replicas_active"], json!([1, 1]), "{remote}");
    assert_eq!(
        health["components"]["team"]["status"], "healthy",
        "{health}"
    );
    let stats = repos.web_with_team(&["stats", "--path", "web", "--json"], &node.url(), "team");
    assert_eq!(stats["remote"]["points"], remote["points"], "{stats}");
}

#[test]
fn qdrant_a_collection_of_another_model_is_refused() {
    let repos = Repos::new();
    let node = QdrantNode::start(&repos.ws.home.join("qdrant"));
    node.rest(
        "PUT",
        "/collections/other",
        Some(json!({
            "vectors": {"dense": {"size": 768, "distance": "Cosine"}},
            "metadata": {"dowse_model": "some/other-model", "dowse_dimensions": 768}
        })),
    );
    let url = node.url();
    let run = repos.dowse(
        "api",
        &["publish", "api", "--to", &url, "--collection", "other"],
        &[],
    );
    assert_eq!(run.code(), 2, "{}", run.stderr());
    assert!(
        run.stderr()
            .contains("holds vectors of `some/other-model` (768 dimensions)"),
        "{}",
        run.stderr()
    );
    assert_eq!(node.count("other", json!({})), 0, "nothing was sent");
    // A collection nobody published: the search says so and what makes one.
    let missing = repos.search(&url, "nobody", "render a profile page", "all");
    let note = missing["degraded"].as_str().unwrap();
    assert!(
        note.contains("Collection `nobody` doesn't exist! (`dowse publish` makes it)")
            && !note.contains("MetadataMap"),
        "{note}"
    );
}

#[test]
fn qdrant_down_or_slow_answers_locally_within_the_budget() {
    let repos = Repos::new();
    // Index first, so the searches below time only the search.
    repos.dowse("web", &["index", "web"], &[]).ok();

    // Nothing listens: refused at once.
    let closed = format!("http://127.0.0.1:{}", dowse_tests::qdrant::free_port());
    let down = repos.search(&closed, "team", "render a profile page", "all");
    assert_eq!(places(&down)[0], "(local)//pages.py", "{down}");
    // The reason as a sentence, not the transport's debug form.
    assert_eq!(
        down["degraded"].as_str().unwrap(),
        format!(
            "the team index at {closed} failed: cannot connect: Connection refused: local results only"
        )
    );
    // Asked for the team index alone: its failure is the search's (exit
    // code 1 and the reason), not an empty answer.
    let team_only = repos.web_search(
        "render a profile page",
        "team",
        &[("DOWSE_REMOTE_URL", &closed)],
    );
    assert_eq!(team_only.code(), 1, "{}", team_only.stdout());
    assert_eq!(
        team_only.stderr().trim(),
        format!("error: the team index at {closed} failed: cannot connect: Connection refused")
    );

    // A server that accepts and never answers: the budget bounds the wait.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let silent_url = format!("http://{}", silent.local_addr().unwrap());
    let held = std::thread::spawn(move || {
        let mut open = Vec::new();
        for stream in silent.incoming().take(4) {
            open.push(stream);
        }
    });
    let started = Instant::now();
    let slow = repos
        .web_search(
            "render a profile page",
            "all",
            &[
                ("DOWSE_REMOTE_URL", &silent_url),
                ("DOWSE_REMOTE_TIMEOUT_MS", "300"),
            ],
        )
        .json();
    let took = started.elapsed();
    assert_eq!(places(&slow)[0], "(local)//pages.py", "{slow}");
    assert_eq!(
        slow["degraded"].as_str().unwrap(),
        format!("the team index at {silent_url} did not answer within 300 ms: local results only")
    );
    // Loading the model and searching take a few seconds in a debug
    // build; a wait for the server would take its 60 s timeout.
    assert!(took < Duration::from_secs(30), "{took:?}");
    drop(held);
}

/// The developer's unsaved edit beats the published copy: over LSP
/// (`dowse/search` with scope all) and over the MCP endpoint beside it.
#[test]
fn qdrant_an_unsaved_edit_wins_over_the_published_chunk() {
    let repos = Repos::new();
    let node = QdrantNode::start(&repos.ws.home.join("qdrant"));
    repos.publish(&node, "api", "team");
    repos.publish(&node, "web", "team");

    let web = repos.ws.path("web");
    let mut cmd = repos.ws.command(&["lsp"]);
    cmd.current_dir(&web)
        .env("DOWSE_INDEX_DIR", repos.ws.index_dir.join("web-lsp"))
        .env("DOWSE_MODEL_DIR", dowse_tests::real_model_dir())
        .env("DOWSE_REMOTE_URL", node.url())
        .env("DOWSE_REMOTE_COLLECTION", "team");
    let mut client = LspClient::spawn(cmd);
    client.initialize(&web, json!({}), json!({"debounce_ms": 20}));
    client
        .wait_for(Duration::from_secs(120), |n| {
            n["method"] == "dowse/status" && n["params"]["phase"] == "ready"
        })
        .expect("ready");

    let path = web.join("pages.py");
    let uri = file_uri(&path);
    client.notify(
        "textDocument/didOpen",
        json!({"textDocument": {"uri": uri, "languageId": "python", "version": 1, "text": PAGES}}),
    );
    let edited = PAGES.replace(
        "\"\"\"A page for an HTTP error status.\"\"\"",
        "\"\"\"Apologise with a teapot when asked to brew coffee.\"\"\"\n    if status == 418:\n        return \"<h1>I am a teapot</h1>\"",
    );
    client.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": uri, "version": 2}, "contentChanges": [{"text": edited}]}),
    );
    let query = "apologise with a teapot when asked to brew coffee";
    let deadline = Instant::now() + Duration::from_secs(30);
    let response = loop {
        let response = client.request(
            "dowse/search",
            json!({"query": query, "scope": "all", "limit": 10}),
        );
        let first = &response["result"]["results"][0];
        if first["snippet"]
            .as_str()
            .is_some_and(|s| s.contains("teapot"))
        {
            break response;
        }
        assert!(
            Instant::now() < deadline,
            "the edit was never found: {response}"
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    let results = response["result"]["results"].as_array().unwrap();
    assert!(response["result"]["degraded"].is_null(), "{response}");
    let first = &results[0];
    assert!(first.get("repo").is_none(), "the local chunk: {first}");
    assert_eq!(first["uri"], uri.as_str());
    // The published render_error (and the rest of web's published copy)
    // never shows: the local file replaces it.
    assert!(results.iter().all(|r| r["repo"] != "web"), "{response}");
    // The other repository is there, from the team index.
    assert!(
        results.iter().any(|r| r["repo"] == "api" && r["uri"] == ""),
        "{response}"
    );

    // The same over MCP, beside the editor.
    // Health and stats over LSP name the team index.
    let health = client.request("dowse/health", Value::Null);
    assert_eq!(
        health["result"]["components"]["team"]["status"], "healthy",
        "{health}"
    );
    let stats = client.request("dowse/stats", Value::Null);
    assert_eq!(stats["result"]["remote"]["reachable"], true, "{stats}");

    let mut agent = McpHttp::beside(&mut client);
    let answer = agent.call_tool("semantic_search", json!({"query": query, "scope": "all"}));
    let results = answer["structuredContent"]["results"]
        .as_array()
        .expect("results");
    assert!(
        results[0]["snippet"].as_str().unwrap().contains("teapot"),
        "{answer}"
    );
    assert!(results[0].get("repo").is_none(), "{answer}");
    assert!(results.iter().all(|r| r["repo"] != "web"), "{answer}");
    let team_only = agent.call_tool("semantic_search", json!({"query": query, "scope": "team"}));
    let results = team_only["structuredContent"]["results"]
        .as_array()
        .expect("results");
    assert!(results.iter().all(|r| r["repo"].is_string()), "{team_only}");
    client.shutdown();

    // Only queries went out: nothing of the unsaved edit is in the team
    // index.
    let points = node.rest(
        "POST",
        "/collections/team/points/scroll",
        Some(json!({"limit": 1000, "with_payload": true})),
    );
    let points = points["result"]["points"].as_array().expect("points");
    assert!(!points.is_empty());
    assert!(
        points.iter().all(|p| !p.to_string().contains("teapot")),
        "the unsaved edit reached the team index"
    );
}

/// Waits until `pred` holds, or fails with `what`.
fn eventually(what: &str, timeout: Duration, mut pred: impl FnMut() -> bool) {
    let deadline = Instant::now() + timeout;
    while !pred() {
        assert!(Instant::now() < deadline, "{what} within {timeout:?}");
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// Every replica of every shard of `collection`, as `node` sees them:
/// (shard, state).
fn replica_states(node: &QdrantNode, collection: &str) -> Vec<(u64, String)> {
    let info = node.rest("GET", &format!("/collections/{collection}/cluster"), None);
    let result = &info["result"];
    ["local_shards", "remote_shards"]
        .iter()
        .flat_map(|side| result[*side].as_array().cloned().unwrap_or_default())
        .map(|s| {
            (
                s["shard_id"].as_u64().unwrap(),
                s["state"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

fn everything(repos: &Repos, url: &str, collection: &str) -> Vec<String> {
    let mut found: Vec<String> = repos
        .dowse(
            "web",
            &[
                "search",
                "user page request token",
                "--path",
                "web",
                "--scope",
                "team",
                "-n",
                "100",
                "--json",
            ],
            &[
                ("DOWSE_REMOTE_URL", url),
                ("DOWSE_REMOTE_COLLECTION", collection),
                ("DOWSE_REMOTE_TIMEOUT_MS", "5000"),
            ],
        )
        .json()["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            format!(
                "{}//{}:{}",
                r["repo"].as_str().unwrap(),
                r["path"].as_str().unwrap(),
                r["start_line"]
            )
        })
        .collect();
    found.sort();
    found
}

/// Three nodes, three shards, two replicas each: a node killed with -9
/// loses nothing, publishing goes on, the node comes back and catches up;
/// with every node down, search answers locally within its budget.
#[test]
fn qdrant_a_cluster_survives_a_killed_node() {
    let repos = Repos::new();
    let base = repos.ws.home.join("cluster");
    let first = QdrantNode::start_in_cluster(&base.join("n1"), None);
    let second = QdrantNode::start_in_cluster(&base.join("n2"), Some(first.p2p_port));
    let mut third = QdrantNode::start_in_cluster(&base.join("n3"), Some(first.p2p_port));
    eventually("three peers", Duration::from_secs(60), || {
        first.rest("GET", "/cluster", None)["result"]["peers"]
            .as_object()
            .is_some_and(|peers| peers.len() == 3)
    });
    let url = first.url();
    for repo in ["api", "web"] {
        let report = repos.publish_to(&url, repo, "team", &["--shards", "3", "--replicas", "2"]);
        assert!(report["sent"].as_u64().unwrap() > 0, "{report}");
    }
    eventually("every replica active", Duration::from_secs(60), || {
        let states = replica_states(&first, "team");
        states.len() == 6 && states.iter().all(|(_, s)| s == "Active")
    });
    let total = first.count("team", json!({}));
    let before = everything(&repos, &url, "team");
    assert_eq!(before.len() as u64, total, "{before:?}");

    third.kill();
    // Nothing lost: every result, and the exact count.
    assert_eq!(everything(&repos, &url, "team"), before);
    assert_eq!(first.count("team", json!({})), total);
    let health = repos
        .dowse(
            "web",
            &["health", "--path", "web", "--json"],
            &[
                ("DOWSE_REMOTE_URL", &url),
                ("DOWSE_REMOTE_COLLECTION", "team"),
            ],
        )
        .0;
    let health: Value = serde_json::from_slice(&health.stdout).unwrap();
    assert_eq!(health["remote"]["points"].as_u64(), Some(total), "{health}");
    // Publishing goes on.
    repos.ws.write(
        "api/users.py",
        USERS.replace(
            "Give a user a new display name.",
            "Change the name a user is shown by.",
        ),
    );
    let edited = repos.publish_to(&url, "api", "team", &[]);
    assert!(edited["sent"].as_u64().unwrap() >= 1, "{edited}");
    let after = everything(&repos, &url, "team");

    // The node restarts and catches up: its replicas active again, and it
    // answers with every point, the new ones included.
    third.restart();
    eventually(
        "the restarted node's replicas active",
        Duration::from_secs(90),
        || {
            let states = replica_states(&third, "team");
            states.len() == 6 && states.iter().all(|(_, s)| s == "Active")
        },
    );
    assert_eq!(third.count("team", json!({})), total);
    assert_eq!(everything(&repos, &third.url(), "team"), after);

    // Every node down: local answers, within the budget, with the note.
    drop(first);
    drop(second);
    drop(third);
    let started = Instant::now();
    let down = repos.search(&url, "team", "render a profile page", "all");
    assert!(started.elapsed() < Duration::from_secs(30));
    assert_eq!(places(&down)[0], "(local)//pages.py", "{down}");
    assert!(
        down["degraded"]
            .as_str()
            .unwrap()
            .ends_with("local results only"),
        "{down}"
    );
}
