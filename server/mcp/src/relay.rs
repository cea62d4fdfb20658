//! `dowse mcp` in front of a live `dowse lsp`: JSON-RPC messages from
//! stdin are posted to the language server's endpoint, and its answers
//! (JSON, or server-sent events for a streamed answer with progress) are
//! written to stdout, one message a line. The agent then works on the very
//! index the editor keeps live, unsaved edits included, with no second
//! index and no second model in memory.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt};

use crate::discovery::Discovery;

type HttpClient = Client<HttpConnector, Full<Bytes>>;

fn client() -> HttpClient {
    // Requests go out at once (no Nagle delay waiting for an ACK).
    let mut connector = HttpConnector::new();
    connector.set_nodelay(true);
    Client::builder(TokioExecutor::new()).build(connector)
}

/// Whether the endpoint `discovery` names answers with its token.
pub async fn answers(discovery: &Discovery) -> bool {
    let Some(base) = discovery.url.strip_suffix("/mcp") else {
        return false;
    };
    let Ok(request) = hyper::Request::get(format!("{base}/health"))
        .header("authorization", format!("Bearer {}", discovery.token))
        .body(Full::new(Bytes::new()))
    else {
        return false;
    };
    matches!(
        tokio::time::timeout(Duration::from_secs(2), client().request(request)).await,
        Ok(Ok(response)) if response.status().is_success()
    )
}

/// What the relay learnt of the conversation.
#[derive(Default)]
struct Conversation {
    session: Option<String>,
    protocol: Option<String>,
}

/// Relays stdin to the endpoint and its answers to stdout until stdin ends.
pub async fn relay(discovery: Discovery) -> Result<(), String> {
    let client = client();
    let conversation = Arc::new(Mutex::new(Conversation::default()));
    let (out, mut lines) = tokio::sync::mpsc::unbounded_channel::<String>();
    let writer = tokio::spawn(async move {
        let mut stdout = tokio::io::stdout();
        while let Some(line) = lines.recv().await {
            if stdout.write_all(line.as_bytes()).await.is_err()
                || stdout.write_all(b"\n").await.is_err()
                || stdout.flush().await.is_err()
            {
                return;
            }
        }
    });
    let mut stdin = tokio::io::BufReader::new(tokio::io::stdin()).lines();
    let mut tasks = tokio::task::JoinSet::new();
    while let Some(line) = stdin
        .next_line()
        .await
        .map_err(|e| format!("reading stdin: {e}"))?
    {
        if line.trim().is_empty() {
            continue;
        }
        let (client, discovery, conversation, out) = (
            client.clone(),
            discovery.clone(),
            conversation.clone(),
            out.clone(),
        );
        tasks.spawn(async move {
            forward(&client, &discovery, &conversation, &out, line).await;
        });
    }
    while tasks.join_next().await.is_some() {}
    // End the session politely; the server forgets it anyway.
    let session = conversation
        .lock()
        .expect("conversation lock")
        .session
        .clone();
    if let Some(session) = session
        && let Ok(request) = hyper::Request::delete(&discovery.url)
            .header("authorization", format!("Bearer {}", discovery.token))
            .header("mcp-session-id", session)
            .body(Full::new(Bytes::new()))
    {
        let _ = tokio::time::timeout(Duration::from_secs(2), client.request(request)).await;
    }
    drop(out);
    let _ = writer.await;
    Ok(())
}

/// Posts one message and writes what comes back.
async fn forward(
    client: &HttpClient,
    discovery: &Discovery,
    conversation: &Mutex<Conversation>,
    out: &tokio::sync::mpsc::UnboundedSender<String>,
    line: String,
) {
    let message: Option<Value> = serde_json::from_str(&line).ok();
    let id = message
        .as_ref()
        .filter(|m| m.get("method").is_some())
        .and_then(|m| m.get("id").cloned());
    let fail = |reason: String| {
        if let Some(id) = &id {
            let error =
                json!({"jsonrpc": "2.0", "id": id, "error": {"code": -32000, "message": reason}});
            let _ = out.send(error.to_string());
        } else {
            tracing::warn!("relaying a notification: {reason}");
        }
    };
    let mut request = hyper::Request::post(&discovery.url)
        .header("authorization", format!("Bearer {}", discovery.token))
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream");
    // A stateless (2026-07-28) request names its protocol version in
    // `_meta`; over HTTP that goes in a header too.
    let own_protocol = message
        .as_ref()
        .and_then(|m| m.pointer("/params/_meta/io.modelcontextprotocol~1protocolVersion"))
        .and_then(Value::as_str)
        .map(str::to_owned);
    {
        let conversation = conversation.lock().expect("conversation lock");
        if let Some(session) = &conversation.session {
            request = request.header("mcp-session-id", session);
        }
        if let Some(protocol) = own_protocol.as_ref().or(conversation.protocol.as_ref()) {
            request = request.header("mcp-protocol-version", protocol);
        }
    }
    let Ok(request) = request.body(Full::new(Bytes::from(line))) else {
        return fail("the message cannot be relayed".to_owned());
    };
    let response = match client.request(request).await {
        Ok(response) => response,
        Err(err) => {
            return fail(format!(
                "the dowse language server at {} does not answer: {err}",
                discovery.url
            ));
        }
    };
    let status = response.status();
    if let Some(session) = response
        .headers()
        .get("mcp-session-id")
        .and_then(|v| v.to_str().ok())
    {
        conversation.lock().expect("conversation lock").session = Some(session.to_owned());
    }
    let streamed = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/event-stream"));
    let mut body = response.into_body();
    if !status.is_success() {
        let text = body
            .collect()
            .await
            .map(|b| String::from_utf8_lossy(&b.to_bytes()).into_owned())
            .unwrap_or_default();
        // An answer in JSON-RPC form (an error for this request) passes.
        if let Ok(value) = serde_json::from_str::<Value>(&text)
            && value.get("jsonrpc").is_some()
        {
            let _ = out.send(text);
            return;
        }
        return fail(format!(
            "the dowse language server refused the message ({status}): {text}"
        ));
    }
    let mut pending = String::new();
    while let Some(frame) = body.frame().await {
        let Ok(frame) = frame else {
            return fail("the answer was cut off".to_owned());
        };
        let Ok(data) = frame.into_data() else {
            continue;
        };
        pending.push_str(&String::from_utf8_lossy(&data));
        if streamed {
            // Server-sent events: each event's data lines are one message.
            while let Some(end) = pending.find("\n\n") {
                let event: String = pending.drain(..end + 2).collect();
                let data: Vec<&str> = event
                    .lines()
                    .filter_map(|l| l.strip_prefix("data:").map(|d| d.trim_start()))
                    .collect();
                if !data.is_empty() {
                    emit(conversation, out, data.join("\n"));
                }
            }
        }
    }
    if !streamed && !pending.trim().is_empty() {
        emit(conversation, out, pending);
    }
}

/// Writes one message to stdout, noting the protocol version it settles.
fn emit(
    conversation: &Mutex<Conversation>,
    out: &tokio::sync::mpsc::UnboundedSender<String>,
    message: String,
) {
    if let Ok(value) = serde_json::from_str::<Value>(&message)
        && let Some(version) = value
            .pointer("/result/protocolVersion")
            .and_then(Value::as_str)
    {
        conversation.lock().expect("conversation lock").protocol = Some(version.to_owned());
    }
    let _ = out.send(message.replace('\n', " "));
}
