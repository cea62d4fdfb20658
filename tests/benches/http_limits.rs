//! The `limits` section: whether the MCP endpoint of a `dowse lsp` keeps
//! answering a well-behaved client while others hold its connections, over
//! real sockets on loopback.
//!
//! Baseline first: one client makes `--limits-calls` searches (each on a
//! new connection, as a client whose pooled connection was closed would),
//! and their round trips are timed. Then, in the same run, against the same
//! server: 200 connections that never send a byte, 100 that send half a
//! request's headers and stop, and 64 authenticated requests whose bodies
//! trickle in a byte every half second; while they hold on, the same client
//! makes the same searches again. Target: every one of them answered, none
//! slower than 1 s. Reported: p50 and the slowest call before and during,
//! and how many of the attackers' connections the server closed.

use std::io::Write;
use std::net::TcpStream;
use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use super::{Args, percentile};

const IDLE: usize = 200;
const HALF_HEADERS: usize = 100;
const SLOW_BODIES: usize = 64;

/// The target: no answer slower than this while under attack.
const TARGET: Duration = Duration::from_secs(1);

/// One search on a fresh connection: its round trip, or why it failed.
fn search(url: &str, token: &str, session: &str, n: usize) -> Result<Duration, String> {
    let started = Instant::now();
    let body = json!({"jsonrpc": "2.0", "id": n, "method": "tools/call", "params": {
        "name": "semantic_search", "arguments": {"query": "parse a duration", "mode": "lexical", "limit": 5}}})
    .to_string();
    let auth = format!("Bearer {token}");
    let (status, _, answer) = dowse_tests::mcp::http(
        url,
        "POST",
        &[
            ("Authorization", &auth),
            ("Content-Type", "application/json"),
            ("Accept", "application/json, text/event-stream"),
            ("Mcp-Session-Id", session),
            ("MCP-Protocol-Version", "2025-06-18"),
        ],
        &body,
    );
    if status != 200 || !answer.contains("\"result\"") {
        return Err(format!("{status}: {answer:.200}"));
    }
    Ok(started.elapsed())
}

fn session(url: &str, token: &str) -> String {
    let auth = format!("Bearer {token}");
    let init = json!({"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {
        "protocolVersion": "2025-06-18", "capabilities": {},
        "clientInfo": {"name": "dowse-limits", "version": "1"}}});
    let (_, headers, _) = dowse_tests::mcp::http(
        url,
        "POST",
        &[
            ("Authorization", &auth),
            ("Content-Type", "application/json"),
            ("Accept", "application/json, text/event-stream"),
        ],
        &init.to_string(),
    );
    headers
        .into_iter()
        .find(|(k, _)| k == "mcp-session-id")
        .map(|(_, v)| v)
        .expect("a session id")
}

fn timed_calls(url: &str, token: &str, session: &str, calls: usize) -> (Vec<f64>, Vec<String>) {
    let mut times = Vec::new();
    let mut failures = Vec::new();
    for n in 0..calls {
        match search(url, token, session, n + 1) {
            Ok(took) => times.push(took.as_secs_f64() * 1000.0),
            Err(why) => failures.push(why),
        }
    }
    (times, failures)
}

/// The median of sorted round trips; none when nothing was answered.
fn p50(sorted: &[f64]) -> Option<f64> {
    (!sorted.is_empty()).then(|| percentile(sorted, 0.5))
}

/// Whether the server has closed `stream` (a read sees the end).
fn closed(stream: &TcpStream) -> bool {
    let _ = stream.set_nonblocking(true);
    let mut byte = [0u8; 1];
    matches!(std::io::Read::read(&mut &*stream, &mut byte), Ok(0))
}

pub fn run(args: &Args, workspace: &Path) -> Value {
    use dowse_tests::lsp::LspClient;
    let scratch = tempfile::tempdir().expect("temp dir");
    let index = scratch.path().join("index");
    let mut cmd = std::process::Command::new(super::dowse_bin());
    cmd.arg("lsp")
        .current_dir(workspace)
        .env("DOWSE_INDEX_DIR", &index)
        .env("DOWSE_SEMANTIC", "false");
    let mut lsp = LspClient::spawn(cmd);
    lsp.initialize(workspace, json!({}), json!({}));
    let ready = lsp.wait_for(Duration::from_secs(600), |n| {
        n["method"] == "dowse/status" && n["params"]["phase"] == "ready"
    });
    assert!(ready.is_some(), "the server never got ready");
    let found: Value = loop {
        if let Ok(bytes) = std::fs::read(index.join("mcp.json")) {
            break serde_json::from_slice(&bytes).expect("mcp.json is JSON");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let url = found["url"].as_str().expect("url").to_owned();
    let token = found["token"].as_str().expect("token").to_owned();
    let authority = url
        .strip_prefix("http://")
        .and_then(|r| r.strip_suffix("/mcp"))
        .expect("an http URL")
        .to_owned();
    let session = session(&url, &token);
    let calls = args.limits_calls;
    // Warm up, then the baseline.
    let _ = timed_calls(&url, &token, &session, 5);
    let (mut before, before_failures) = timed_calls(&url, &token, &session, calls);
    before.sort_by(f64::total_cmp);

    eprintln!(
        "limits: {IDLE} idle connections, {HALF_HEADERS} with half their headers, {SLOW_BODIES} slow bodies..."
    );
    let mut held: Vec<TcpStream> = Vec::new();
    for _ in 0..IDLE {
        held.push(TcpStream::connect(&authority).expect("connect"));
    }
    for _ in 0..HALF_HEADERS {
        let mut stream = TcpStream::connect(&authority).expect("connect");
        let _ = stream.write_all(b"POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bea");
        held.push(stream);
    }
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut tricklers = Vec::new();
    for _ in 0..SLOW_BODIES {
        let mut stream = TcpStream::connect(&authority).expect("connect");
        let head = format!(
            "POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {token}\r\n\
             Content-Type: application/json\r\nAccept: application/json, text/event-stream\r\n\
             Content-Length: 100000\r\n\r\n{{"
        );
        let _ = stream.write_all(head.as_bytes());
        let stop = stop.clone();
        tricklers.push(std::thread::spawn(move || {
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                if stream.write_all(b" ").is_err() {
                    return true;
                }
                std::thread::sleep(Duration::from_millis(500));
            }
            false
        }));
    }
    std::thread::sleep(Duration::from_millis(300));
    let (mut during, during_failures) = timed_calls(&url, &token, &session, calls);
    during.sort_by(f64::total_cmp);
    let closed_idle = held.iter().filter(|s| closed(s)).count();
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let slow_cut = tricklers
        .into_iter()
        .filter_map(|t| t.join().ok())
        .filter(|cut| *cut)
        .count();
    drop(held);
    lsp.shutdown();

    let slowest = during.iter().copied().fold(0.0f64, f64::max);
    let pass = during_failures.is_empty()
        && before_failures.is_empty()
        && during.len() == calls
        && slowest <= TARGET.as_secs_f64() * 1000.0;
    json!({
        "calls": calls,
        "idle_connections": IDLE,
        "half_headers": HALF_HEADERS,
        "slow_bodies": SLOW_BODIES,
        "before": {"p50_ms": p50(&before), "max_ms": before.iter().copied().fold(0.0f64, f64::max),
                   "answered": before.len(), "failures": before_failures},
        "during": {"p50_ms": p50(&during), "max_ms": slowest,
                   "answered": during.len(), "failures": during_failures},
        "attackers_closed_by_server": closed_idle,
        "slow_bodies_cut": slow_cut,
        "target_max_ms": TARGET.as_millis() as u64,
        "pass": pass,
    })
}
