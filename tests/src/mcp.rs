//! Small MCP clients for end-to-end tests: streamable HTTP (the endpoint a
//! `dowse lsp` serves, JSON answers) over a plain socket, and `dowse mcp`
//! over stdio, one JSON-RPC message a line.

use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{Receiver, channel};
use std::time::Duration;

use serde_json::{Value, json};

/// One HTTP/1.1 exchange on a fresh connection: (status, headers, body).
pub fn http(
    url: &str,
    method: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> (u16, Vec<(String, String)>, String) {
    let rest = url.strip_prefix("http://").expect("an http:// URL");
    let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let path = if path.is_empty() { "/" } else { path };
    let mut stream = std::net::TcpStream::connect(authority).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(60)))
        .expect("timeout");
    let mut request = format!(
        "{method} {path} HTTP/1.1\r\nHost: {authority}\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str("\r\n");
    request.push_str(body);
    stream.write_all(request.as_bytes()).expect("send");
    let mut raw = Vec::new();
    let _ = stream.read_to_end(&mut raw);
    let text = String::from_utf8_lossy(&raw).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let mut lines = head.lines();
    let status = lines
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_lowercase(), v.trim().to_owned()))
        .collect();
    let chunked = headers
        .iter()
        .any(|(k, v)| k == "transfer-encoding" && v.contains("chunked"));
    let body = if chunked {
        dechunk(body)
    } else {
        body.to_owned()
    };
    (status, headers, body)
}

fn dechunk(mut body: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = body.split_once("\r\n") {
        let Ok(size) = usize::from_str_radix(size.trim(), 16) else {
            break;
        };
        if size == 0 || rest.len() < size {
            break;
        }
        out.push_str(&rest[..size]);
        body = rest[size..].trim_start_matches("\r\n");
    }
    out
}

/// An MCP session over the streamable-HTTP endpoint of a `dowse lsp`.
pub struct McpHttp {
    pub url: String,
    pub token: String,
    session: Option<String>,
    next_id: i64,
}

impl McpHttp {
    /// Connects and initializes (protocol 2025-06-18, with a session).
    /// A client of the MCP endpoint the language server `client` serves
    /// beside the editor, once it has one (within 20 s).
    pub fn beside(client: &mut crate::lsp::LspClient) -> McpHttp {
        let deadline = std::time::Instant::now() + Duration::from_secs(20);
        let endpoint = loop {
            let endpoint = client.request("dowse/mcpEndpoint", Value::Null)["result"].clone();
            if !endpoint.is_null() {
                break endpoint;
            }
            assert!(std::time::Instant::now() < deadline, "no MCP endpoint");
            std::thread::sleep(Duration::from_millis(100));
        };
        McpHttp::connect(
            endpoint["url"].as_str().expect("url"),
            endpoint["token"].as_str().expect("token"),
        )
    }

    pub fn connect(url: &str, token: &str) -> McpHttp {
        let mut client = McpHttp {
            url: url.to_owned(),
            token: token.to_owned(),
            session: None,
            next_id: 1,
        };
        let init = client.request(
            "initialize",
            json!({"protocolVersion": "2025-06-18", "capabilities": {},
                   "clientInfo": {"name": "dowse-tests", "version": "0"}}),
        );
        assert!(init.get("result").is_some(), "initialize: {init}");
        client.notify("notifications/initialized");
        client
    }

    fn post(&mut self, body: &Value) -> (u16, Vec<(String, String)>, String) {
        let auth = format!("Bearer {}", self.token);
        let mut headers = vec![
            ("Authorization", auth.as_str()),
            ("Content-Type", "application/json"),
            ("Accept", "application/json, text/event-stream"),
            ("MCP-Protocol-Version", "2025-06-18"),
        ];
        let session = self.session.clone();
        if let Some(session) = &session {
            headers.push(("Mcp-Session-Id", session));
        }
        let answer = http(&self.url, "POST", &headers, &body.to_string());
        if let Some((_, session)) = answer.1.iter().find(|(k, _)| k == "mcp-session-id") {
            self.session = Some(session.clone());
        }
        answer
    }

    pub fn notify(&mut self, method: &str) {
        let (status, _, body) = self.post(&json!({"jsonrpc": "2.0", "method": method}));
        assert!((200..300).contains(&status), "{method}: {status} {body}");
    }

    /// A request; the whole JSON-RPC answer.
    pub fn request(&mut self, method: &str, params: Value) -> Value {
        let id = self.next_id;
        self.next_id += 1;
        let (status, headers, body) =
            self.post(&json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}));
        let streamed = headers
            .iter()
            .any(|(k, v)| k == "content-type" && v.starts_with("text/event-stream"));
        if !streamed {
            return serde_json::from_str(&body)
                .unwrap_or_else(|e| panic!("{method}: {status} {body:?} is not JSON: {e}"));
        }
        // Server-sent events: the answer is the event whose data has this
        // request's id (a priming event carries no data).
        body.split("\n\n")
            .filter_map(|event| {
                let data: Vec<&str> = event
                    .lines()
                    .filter_map(|l| l.strip_prefix("data:").map(str::trim_start))
                    .collect();
                serde_json::from_str::<Value>(&data.join("\n")).ok()
            })
            .find(|message| message.get("id") == Some(&json!(id)))
            .unwrap_or_else(|| panic!("{method}: no answer in {status} {body:?}"))
    }

    /// `tools/call`: the tool's result (with `isError` when it failed).
    pub fn call_tool(&mut self, name: &str, arguments: Value) -> Value {
        let answer = self.request("tools/call", json!({"name": name, "arguments": arguments}));
        answer
            .get("result")
            .cloned()
            .unwrap_or_else(|| panic!("{name}: {answer}"))
    }
}

/// `dowse mcp` on stdio: JSON-RPC lines in, lines out (every one must be
/// JSON).
pub struct McpStdio {
    child: Child,
    stdin: Option<ChildStdin>,
    lines: Receiver<String>,
}

impl McpStdio {
    pub fn spawn(mut cmd: Command) -> McpStdio {
        let mut child = cmd
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn dowse mcp");
        let stdout = child.stdout.take().expect("stdout");
        let (tx, rx) = channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { return };
                if tx.send(line).is_err() {
                    return;
                }
            }
        });
        let stdin = child.stdin.take();
        McpStdio {
            child,
            stdin,
            lines: rx,
        }
    }

    pub fn send(&mut self, message: Value) {
        let stdin = self.stdin.as_mut().expect("stdin open");
        writeln!(stdin, "{message}").expect("write");
        stdin.flush().expect("flush");
    }

    /// The next line on stdout, parsed (panics on a line that is not JSON).
    pub fn next(&mut self, timeout: Duration) -> Option<Value> {
        let line = self.lines.recv_timeout(timeout).ok()?;
        Some(
            serde_json::from_str(&line)
                .unwrap_or_else(|e| panic!("stdout line {line:?} is not JSON: {e}")),
        )
    }

    /// Closes stdin, then every line written until the process ends, and
    /// its stderr.
    pub fn finish(mut self, timeout: Duration) -> (Vec<Value>, String) {
        self.stdin.take();
        let mut rest = Vec::new();
        while let Some(value) = self.next(timeout) {
            rest.push(value);
        }
        let _ = self.child.wait();
        let mut stderr = String::new();
        if let Some(mut err) = self.child.stderr.take() {
            let _ = err.read_to_string(&mut stderr);
        }
        (rest, stderr)
    }
}

impl Drop for McpStdio {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
