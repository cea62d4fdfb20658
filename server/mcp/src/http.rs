//! The streamable-HTTP endpoint that `dowse lsp` serves beside the editor,
//! secure by default.
//!
//! Connections first: at most `max_connections` at once; at the cap the
//! connection idle longest (waiting for a request, or still sending one) is
//! closed to make room, never one whose request is being answered. A
//! request's headers must arrive within `header_timeout` (idle connections
//! between requests too), its body within `body_deadline`.
//!
//! Then, in front of rmcp's transport, in this order: only `/mcp`,
//! `/health` and `/proof` exist; a client over its rate (a token bucket per
//! peer address and per whether it holds the token: nothing a client can
//! rotate for free) gets 429 with `Retry-After`; a bearer token (256
//! random bits, made per process, compared in constant time) is required,
//! else 401 (`/proof` excepted: it proves the server knows the token to a
//! relay that has not sent it yet); a session id longer than 128 bytes is
//! refused; the body is read (capped, 413); only then is one of
//! `max_concurrent` request slots taken, others wait a little and then get
//! 503. rmcp itself checks `Host` (loopback names only) and `Origin` (only
//! loopback origins: a page from anywhere else must not drive a local tool,
//! and the MCP spec asks for 403). The listener binds 127.0.0.1 unless told
//! otherwise, and a non-loopback address is refused unless explicitly
//! allowed.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use dowse_host::Host;
use hyper::body::{Body as HttpBody, Bytes, Frame};
use hyper_util::rt::{TokioIo, TokioTimer};
use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;
use rmcp::transport::streamable_http_server::{StreamableHttpServerConfig, StreamableHttpService};
use subtle::ConstantTimeEq;
use tokio_util::sync::CancellationToken;

use crate::discovery::{NONCE_HEADER, proof};
use crate::tools::DowseTools;

/// How to serve.
#[derive(Clone, Debug)]
pub struct HttpOptions {
    pub bind: IpAddr,
    /// 0 for a free port.
    pub port: u16,
    /// Serve on a non-loopback address (refused otherwise).
    pub allow_remote: bool,
    /// Largest request body, in bytes.
    pub max_body_bytes: usize,
    /// Requests handled at once; more wait up to `queue_wait`, then 503.
    pub max_concurrent: usize,
    pub queue_wait: Duration,
    /// Sustained requests a second per client, and the burst above it. A
    /// client is a peer address, with or without the token; on loopback
    /// every local client shares one, so the rate is the whole machine's
    /// (64 agents at 290 calls a second stay well under it).
    pub rate_per_second: f64,
    pub burst: f64,
    /// Clients tracked by the rate limiter at most (the oldest give way).
    pub max_clients: usize,
    /// Connections open at once; at the cap the longest-idle one is closed.
    pub max_connections: usize,
    /// A request's headers (and the next request's, on an idle
    /// connection) must arrive within this.
    pub header_timeout: Duration,
    /// A request's body must arrive within this.
    pub body_deadline: Duration,
}

impl Default for HttpOptions {
    fn default() -> HttpOptions {
        HttpOptions {
            bind: IpAddr::V4(Ipv4Addr::LOCALHOST),
            port: 0,
            allow_remote: false,
            max_body_bytes: 1024 * 1024,
            max_concurrent: 32,
            queue_wait: Duration::from_secs(2),
            rate_per_second: 1000.0,
            burst: 2000.0,
            max_clients: 4096,
            max_connections: 256,
            header_timeout: Duration::from_secs(10),
            body_deadline: Duration::from_secs(10),
        }
    }
}

/// A session id longer than this is refused (rmcp's are 36).
const MAX_SESSION_ID: usize = 128;

/// How long an answered request's stream stays resumable. rmcp keeps every
/// answer of a session for a client that lost the stream and comes back
/// with `Last-Event-ID`; its default of 60 s keeps a minute of every
/// session's answers in memory (at the benchmark's 290 calls/s, some 17,000
/// answers). A client told to retry after 3 s (rmcp's SSE retry hint) is
/// back well within 10.
const RESUMABLE_FOR: Duration = Duration::from_secs(10);

/// A running endpoint.
pub struct Endpoint {
    pub url: String,
    pub token: String,
    stop: CancellationToken,
    task: tokio::task::JoinHandle<()>,
}

impl Endpoint {
    /// Stops accepting requests and ends the server.
    pub async fn stop(self) {
        self.stop.cancel();
        let _ = self.task.await;
    }
}

/// 256 random bits, hex.
pub fn new_token() -> Result<String, String> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| format!("no randomness for a token: {e}"))?;
    Ok(crate::discovery::hex(&bytes))
}

struct Guard {
    token: String,
    url: String,
    limiter: Mutex<RateLimiter>,
    slots: tokio::sync::Semaphore,
    queue_wait: Duration,
    max_body_bytes: usize,
    body_deadline: Duration,
}

/// Starts serving `host` over HTTP.
pub async fn serve(host: Host, options: HttpOptions) -> Result<Endpoint, String> {
    if !options.bind.is_loopback() && !options.allow_remote {
        return Err(format!(
            "refusing to serve MCP on {}, which other machines can reach: bind a loopback address, \
             or set mcp_allow_remote = true if you mean it",
            options.bind
        ));
    }
    let token = new_token()?;
    let stop = CancellationToken::new();
    let mut allowed_hosts = vec![
        "localhost".to_owned(),
        "127.0.0.1".to_owned(),
        "::1".to_owned(),
    ];
    if !options.bind.is_loopback() {
        allowed_hosts.push(options.bind.to_string());
    }
    // Browsers send an Origin; local tools send none or a loopback one.
    let allowed_origins = ["localhost", "127.0.0.1", "[::1]"]
        .iter()
        .flat_map(|host| [format!("http://{host}:*"), format!("https://{host}:*")]);
    let config = StreamableHttpServerConfig::default()
        .with_allowed_hosts(allowed_hosts)
        .with_allowed_origins(allowed_origins)
        .enforce_origin_validation()
        .with_max_request_body_bytes(options.max_body_bytes)
        .with_json_response(true)
        .with_cancellation_token(stop.child_token());
    let tools = DowseTools::new(host);
    let mut sessions = LocalSessionManager::default();
    sessions.session_config.completed_cache_ttl = RESUMABLE_FOR;
    let service = StreamableHttpService::new(move || Ok(tools.clone()), Arc::new(sessions), config);
    let listener = tokio::net::TcpListener::bind((options.bind, options.port))
        .await
        .map_err(|e| format!("cannot listen on {}:{}: {e}", options.bind, options.port))?;
    let address = listener
        .local_addr()
        .map_err(|e| format!("the listener has no address: {e}"))?;
    let host = match address.ip() {
        IpAddr::V6(ip) => format!("[{ip}]"),
        IpAddr::V4(ip) => ip.to_string(),
    };
    let url = format!("http://{host}:{}/mcp", address.port());
    let guard = Arc::new(Guard {
        token: token.clone(),
        url: url.clone(),
        limiter: Mutex::new(RateLimiter::new(
            options.rate_per_second,
            options.burst,
            options.max_clients,
        )),
        slots: tokio::sync::Semaphore::new(options.max_concurrent.max(1)),
        queue_wait: options.queue_wait,
        max_body_bytes: options.max_body_bytes,
        body_deadline: options.body_deadline,
    });
    let app = axum::Router::new()
        .route_service("/mcp", service)
        .route("/health", axum::routing::get(health))
        .route("/proof", axum::routing::get(prove))
        .layer(axum::middleware::from_fn_with_state(guard.clone(), check))
        .with_state(guard);
    let task = tokio::spawn(accept(listener, app, options, stop.clone()));
    Ok(Endpoint {
        url,
        token,
        stop,
        task,
    })
}

/// One open connection, as the cap sees it.
struct Connection {
    id: u64,
    /// Requests being answered now (the response body included).
    answering: AtomicUsize,
    /// When it last started or finished answering (or opened).
    last_active: Mutex<Instant>,
    close: CancellationToken,
}

impl Connection {
    fn touch(&self) {
        *self.last_active.lock().expect("connection lock") = Instant::now();
    }
}

/// The open connections, for the cap.
#[derive(Default)]
struct Connections {
    open: Mutex<Vec<Arc<Connection>>>,
    next_id: AtomicU64,
}

impl Connections {
    /// Registers a new connection; at `cap`, closes the one idle longest
    /// to make room, or refuses (`None`) when every one is answering.
    fn admit(&self, cap: usize) -> Option<Arc<Connection>> {
        let mut open = self.open.lock().expect("connections lock");
        if open.len() >= cap.max(1) {
            let idle = open
                .iter()
                .filter(|c| c.answering.load(Ordering::Acquire) == 0)
                .min_by_key(|c| *c.last_active.lock().expect("connection lock"))?
                .clone();
            idle.close.cancel();
            open.retain(|c| c.id != idle.id);
        }
        let connection = Arc::new(Connection {
            id: self.next_id.fetch_add(1, Ordering::Relaxed),
            answering: AtomicUsize::new(0),
            last_active: Mutex::new(Instant::now()),
            close: CancellationToken::new(),
        });
        open.push(connection.clone());
        Some(connection)
    }

    fn remove(&self, id: u64) {
        self.open
            .lock()
            .expect("connections lock")
            .retain(|c| c.id != id);
    }
}

/// Accepts connections until `stop`, each served by hyper with the header
/// timeout, under the connection cap.
async fn accept(
    listener: tokio::net::TcpListener,
    app: axum::Router,
    options: HttpOptions,
    stop: CancellationToken,
) {
    let connections = Arc::new(Connections::default());
    loop {
        let (stream, peer) = tokio::select! {
            _ = stop.cancelled() => return,
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(err) => {
                    // Out of file descriptors, mostly: wait for some to close.
                    tracing::debug!("accepting a connection: {err}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        let Some(connection) = connections.admit(options.max_connections) else {
            drop(stream);
            continue;
        };
        // Answers go out at once: with Nagle's algorithm a streamed answer
        // waited on the client's delayed ACK, 40 ms a call.
        if let Err(err) = stream.set_nodelay(true) {
            tracing::debug!("TCP_NODELAY: {err}");
        }
        let app = app.clone();
        let connections = connections.clone();
        let stop = stop.clone();
        let header_timeout = options.header_timeout;
        tokio::spawn(async move {
            let conn = connection.clone();
            let service =
                hyper::service::service_fn(move |mut request: Request<hyper::body::Incoming>| {
                    request.extensions_mut().insert(ConnectInfo(peer));
                    request.extensions_mut().insert(conn.clone());
                    tower::ServiceExt::oneshot(app.clone(), request)
                });
            let mut builder = hyper::server::conn::http1::Builder::new();
            builder
                .timer(TokioTimer::new())
                .header_read_timeout(header_timeout)
                .keep_alive(true);
            let serving = builder.serve_connection(TokioIo::new(stream), service);
            tokio::pin!(serving);
            tokio::select! {
                _ = serving.as_mut() => {}
                _ = connection.close.cancelled() => {}
                _ = stop.cancelled() => {
                    serving.as_mut().graceful_shutdown();
                    let _ = tokio::time::timeout(Duration::from_secs(2), serving).await;
                }
            }
            connections.remove(connection.id);
        });
    }
}

/// `GET /health`: 200 when the token is right (the guard checked it).
async fn health() -> impl IntoResponse {
    axum::Json(serde_json::json!({"status": "ok", "pid": std::process::id()}))
}

/// `GET /proof` with a nonce: the HMAC that shows a relay this server knows
/// the token of `mcp.json`, before the relay sends it (see
/// [`crate::discovery::proof`]).
async fn prove(State(guard): State<Arc<Guard>>, request: Request) -> Response {
    let nonce = request
        .headers()
        .get(NONCE_HEADER)
        .and_then(|v| v.to_str().ok())
        .filter(|n| (16..=128).contains(&n.len()) && n.bytes().all(|b| b.is_ascii_hexdigit()));
    match nonce {
        Some(nonce) => axum::Json(serde_json::json!({
            "proof": proof(&guard.token, nonce, &guard.url),
            "pid": std::process::id(),
        }))
        .into_response(),
        None => (
            StatusCode::BAD_REQUEST,
            "send a nonce of 16 to 128 hex digits in the x-dowse-nonce header",
        )
            .into_response(),
    }
}

/// Rate, authentication, the body and concurrency, before anything else
/// runs.
async fn check(
    State(guard): State<Arc<Guard>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    request: Request,
    next: Next,
) -> Response {
    let given = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or("");
    let authenticated = bool::from(given.as_bytes().ct_eq(guard.token.as_bytes()));
    let client = format!(
        "{} {}",
        peer.ip(),
        if authenticated { "with" } else { "without" }
    );
    // The health check of an authenticated client is never rate-limited:
    // it costs nothing, and a relay or a monitor must tell "busy" from
    // "gone" while the same client floods the tools (all local clients
    // share one peer address).
    let health = authenticated && request.uri().path() == "/health";
    let waited = if health {
        None
    } else {
        guard.limiter.lock().expect("limiter lock").take(&client)
    };
    if let Some(wait) = waited {
        let mut response = (
            StatusCode::TOO_MANY_REQUESTS,
            "too many requests from this client: slow down and retry after the given seconds",
        )
            .into_response();
        let seconds = wait.as_secs_f64().ceil().max(1.0) as u64;
        response.headers_mut().insert(
            header::RETRY_AFTER,
            HeaderValue::from_str(&seconds.to_string()).expect("a number is a header value"),
        );
        return response;
    }
    if request.uri().path() == "/proof" {
        return next.run(request).await;
    }
    if !authenticated {
        let mut response = (
            StatusCode::UNAUTHORIZED,
            "a bearer token is required: the one in mcp.json in the workspace's index directory",
        )
            .into_response();
        response
            .headers_mut()
            .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        return response;
    }
    if request
        .headers()
        .get("mcp-session-id")
        .is_some_and(|v| v.len() > MAX_SESSION_ID)
    {
        return (
            StatusCode::BAD_REQUEST,
            "the Mcp-Session-Id header is too long: use the id the server gave",
        )
            .into_response();
    }
    // The body first, within its deadline: a slow client holds its own
    // connection, never one of the request slots.
    let (parts, body) = request.into_parts();
    let body = match tokio::time::timeout(
        guard.body_deadline,
        axum::body::to_bytes(body, guard.max_body_bytes),
    )
    .await
    {
        Ok(Ok(bytes)) => bytes,
        Ok(Err(_)) => {
            return (
                StatusCode::PAYLOAD_TOO_LARGE,
                format!(
                    "the request body is larger than {} bytes, or was cut off",
                    guard.max_body_bytes
                ),
            )
                .into_response();
        }
        Err(_) => {
            return (
                StatusCode::REQUEST_TIMEOUT,
                format!(
                    "the request body did not arrive within {} s",
                    guard.body_deadline.as_secs()
                ),
            )
                .into_response();
        }
    };
    let connection = parts.extensions.get::<Arc<Connection>>().cloned();
    let request = Request::from_parts(parts, Body::from(body));
    let Ok(Ok(_permit)) = tokio::time::timeout(guard.queue_wait, guard.slots.acquire()).await
    else {
        let mut response = (
            StatusCode::SERVICE_UNAVAILABLE,
            "dowse is busy with other requests: retry in a second",
        )
            .into_response();
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
        return response;
    };
    let Some(connection) = connection else {
        return next.run(request).await;
    };
    // Answering: this connection is not closed to make room until the
    // response, body and all, is sent.
    let answering = Answering::new(connection);
    let response = next.run(request).await;
    let (parts, body) = response.into_parts();
    Response::from_parts(
        parts,
        Body::new(WhileAnswering {
            inner: body,
            _answering: answering,
        }),
    )
}

/// Marks a connection as answering for as long as it lives.
struct Answering(Arc<Connection>);

impl Answering {
    fn new(connection: Arc<Connection>) -> Answering {
        connection.answering.fetch_add(1, Ordering::AcqRel);
        connection.touch();
        Answering(connection)
    }
}

impl Drop for Answering {
    fn drop(&mut self) {
        self.0.touch();
        self.0.answering.fetch_sub(1, Ordering::AcqRel);
    }
}

/// A response body that keeps its connection marked as answering until it
/// is sent (or dropped).
struct WhileAnswering {
    inner: Body,
    _answering: Answering,
}

impl HttpBody for WhileAnswering {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        Pin::new(&mut self.inner).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> hyper::body::SizeHint {
        self.inner.size_hint()
    }
}

/// Token buckets per client, in a table of bounded size.
struct RateLimiter {
    rate: f64,
    burst: f64,
    max_clients: usize,
    buckets: HashMap<String, (f64, Instant)>,
}

impl RateLimiter {
    fn new(rate: f64, burst: f64, max_clients: usize) -> RateLimiter {
        RateLimiter {
            rate,
            burst,
            max_clients: max_clients.max(1),
            buckets: HashMap::new(),
        }
    }

    /// Takes a token for `client`; how long to wait when there is none.
    fn take(&mut self, client: &str) -> Option<Duration> {
        let now = Instant::now();
        if !self.buckets.contains_key(client) && self.buckets.len() >= self.max_clients {
            self.evict(now);
        }
        let (tokens, last) = self
            .buckets
            .entry(client.to_owned())
            .or_insert((self.burst, now));
        *tokens = (*tokens + now.duration_since(*last).as_secs_f64() * self.rate).min(self.burst);
        *last = now;
        if *tokens >= 1.0 {
            *tokens -= 1.0;
            None
        } else {
            Some(Duration::from_secs_f64((1.0 - *tokens) / self.rate))
        }
    }

    /// Forgets clients whose bucket has refilled (they lose nothing), and
    /// if the table is still full, the longest idle one.
    fn evict(&mut self, now: Instant) {
        let (rate, burst) = (self.rate, self.burst);
        self.buckets.retain(|_, (tokens, last)| {
            *tokens + now.duration_since(*last).as_secs_f64() * rate < burst
        });
        if self.buckets.len() >= self.max_clients
            && let Some(oldest) = self
                .buckets
                .iter()
                .min_by_key(|(_, (_, last))| *last)
                .map(|(k, _)| k.clone())
        {
            self.buckets.remove(&oldest);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_client_over_its_rate_waits_and_the_table_stays_bounded() {
        let mut limiter = RateLimiter::new(10.0, 3.0, 2);
        for _ in 0..3 {
            assert_eq!(limiter.take("a"), None);
        }
        let wait = limiter.take("a").expect("over the burst");
        assert!(wait > Duration::ZERO && wait <= Duration::from_millis(100));
        assert_eq!(limiter.take("b"), None, "another client has its own bucket");
        assert_eq!(limiter.take("c"), None);
        assert!(limiter.buckets.len() <= 2);
    }

    #[test]
    fn at_the_cap_the_longest_idle_connection_makes_room() {
        let connections = Connections::default();
        let a = connections.admit(2).unwrap();
        std::thread::sleep(Duration::from_millis(5));
        let b = connections.admit(2).unwrap();
        // `a` is answering: `b`, idle, goes.
        let answering = Answering::new(a.clone());
        let c = connections.admit(2).unwrap();
        assert!(b.close.is_cancelled());
        assert!(!a.close.is_cancelled());
        // Every connection answering: a new one is refused.
        let _also = Answering::new(c.clone());
        assert!(connections.admit(2).is_none());
        drop(answering);
        assert!(connections.admit(2).is_some());
        assert!(a.close.is_cancelled());
    }

    #[test]
    fn tokens_are_long_and_random() {
        let (a, b) = (new_token().unwrap(), new_token().unwrap());
        assert_eq!(a.len(), 64);
        assert_ne!(a, b);
    }
}
