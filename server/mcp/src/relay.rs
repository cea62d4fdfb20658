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

/// Whether the server `discovery` names proves it knows the token, before
/// the token is sent anywhere: it must answer a fresh nonce with the HMAC
/// of the nonce and its own URL under the token
/// ([`crate::discovery::proof`]). Otherwise why not.
pub async fn verify(discovery: &Discovery) -> Result<(), String> {
    let base = discovery
        .url
        .strip_suffix("/mcp")
        .ok_or_else(|| format!("`{}` is not an MCP endpoint URL", discovery.url))?;
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| format!("no randomness for a nonce: {e}"))?;
    let nonce = crate::discovery::hex(&bytes);
    let request = hyper::Request::get(format!("{base}/proof"))
        .header(crate::discovery::NONCE_HEADER, &nonce)
        .body(Full::new(Bytes::new()))
        .map_err(|e| e.to_string())?;
    let response =
        match tokio::time::timeout(Duration::from_secs(2), client().request(request)).await {
            Ok(Ok(response)) if response.status().is_success() => response,
            Ok(Ok(response)) => {
                return Err(format!("{} answered {}", discovery.url, response.status()));
            }
            Ok(Err(err)) => return Err(format!("{} does not answer: {err}", discovery.url)),
            Err(_) => return Err(format!("{} did not answer within 2 s", discovery.url)),
        };
    let body = tokio::time::timeout(Duration::from_secs(2), response.into_body().collect())
        .await
        .map_err(|_| "the proof did not arrive within 2 s".to_owned())?
        .map_err(|e| e.to_string())?
        .to_bytes();
    let answer: Value = serde_json::from_slice(&body).map_err(|_| "no proof in the answer")?;
    let proof = answer.get("proof").and_then(Value::as_str).unwrap_or("");
    if crate::discovery::proof_holds(&discovery.token, &nonce, &discovery.url, proof) {
        Ok(())
    } else {
        Err(format!(
            "{} could not prove it knows the token of mcp.json",
            discovery.url
        ))
    }
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
        // `initialize` settles the session and the protocol version that
        // every later message carries: nothing else goes out before its
        // answer is in. Other messages go concurrently (a long tool call
        // holds up no other).
        let initializes = serde_json::from_str::<Value>(&line)
            .ok()
            .and_then(|m| m.get("method").and_then(Value::as_str).map(str::to_owned))
            .is_some_and(|method| method == "initialize");
        if initializes {
            while tasks.join_next().await.is_some() {}
            forward(&client, &discovery, &conversation, &out, line).await;
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
        // An answer in JSON-RPC form (an error for this request) passes,
        // with this request's id; a notification gets no answer at all.
        if let Some(id) = &id
            && let Ok(mut value) = serde_json::from_str::<Value>(&text)
            && value.get("jsonrpc").is_some()
            && value.get("error").is_some()
        {
            value["id"] = id.clone();
            let _ = out.send(value.to_string());
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
/// Only JSON-RPC messages reach stdout: a server-sent event without data
/// (a keep-alive, a priming event) is nothing to the client, and an empty
/// line is a parse error to it.
fn emit(
    conversation: &Mutex<Conversation>,
    out: &tokio::sync::mpsc::UnboundedSender<String>,
    message: String,
) {
    let Ok(value) = serde_json::from_str::<Value>(&message) else {
        if !message.trim().is_empty() {
            tracing::warn!("the language server sent something that is not JSON: dropped");
        }
        return;
    };
    if value.get("jsonrpc").is_none() {
        tracing::warn!("the language server sent JSON that is not JSON-RPC: dropped");
        return;
    }
    if let Some(version) = value
        .pointer("/result/protocolVersion")
        .and_then(Value::as_str)
    {
        conversation.lock().expect("conversation lock").protocol = Some(version.to_owned());
    }
    let _ = out.send(value.to_string());
}
