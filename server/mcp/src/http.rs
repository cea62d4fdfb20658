//! The streamable-HTTP endpoint that `dowse lsp` serves beside the editor,
//! secure by default.
//!
//! In front of rmcp's transport, in this order: only `/mcp` and `/health`
//! exist; a bearer token (256 random bits, made per process, compared in
//! constant time) is required, else 401; a client over its rate (a token
//! bucket per session, or per connection without one, in a table of bounded
//! size) gets 429 with `Retry-After`; at most `max_concurrent` requests run
//! at once, others wait a little and then get 503. rmcp itself checks `Host`
//! (loopback names only), `Origin` (only loopback origins: a page from
//! anywhere else must not drive a local tool, and the MCP spec asks for 403)
//! and the body size (413). The listener binds 127.0.0.1 unless told otherwise, and a
//! non-loopback address is refused unless explicitly allowed.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use dowse_host::Host;
use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;
use rmcp::transport::streamable_http_server::{StreamableHttpServerConfig, StreamableHttpService};
use subtle::ConstantTimeEq;
use tokio_util::sync::CancellationToken;

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
    /// Sustained requests a second per client, and the burst above it.
    pub rate_per_second: f64,
    pub burst: f64,
    /// Clients tracked by the rate limiter at most (the oldest give way).
    pub max_clients: usize,
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
            rate_per_second: 200.0,
            burst: 400.0,
            max_clients: 4096,
        }
    }
}

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
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

struct Guard {
    token: String,
    limiter: Mutex<RateLimiter>,
    slots: tokio::sync::Semaphore,
    queue_wait: Duration,
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
    let service = StreamableHttpService::new(
        move || Ok(tools.clone()),
        Arc::new(LocalSessionManager::default()),
        config,
    );
    let guard = Arc::new(Guard {
        token: token.clone(),
        limiter: Mutex::new(RateLimiter::new(
            options.rate_per_second,
            options.burst,
            options.max_clients,
        )),
        slots: tokio::sync::Semaphore::new(options.max_concurrent.max(1)),
        queue_wait: options.queue_wait,
    });
    let app = axum::Router::new()
        .route_service("/mcp", service)
        .route("/health", axum::routing::get(health))
        .layer(axum::middleware::from_fn_with_state(guard, check))
        .into_make_service_with_connect_info::<SocketAddr>();
    let listener = tokio::net::TcpListener::bind((options.bind, options.port))
        .await
        .map_err(|e| format!("cannot listen on {}:{}: {e}", options.bind, options.port))?;
    let address = listener
        .local_addr()
        .map_err(|e| format!("the listener has no address: {e}"))?;
    let shutdown = stop.clone();
    // Answers go out at once: with Nagle's algorithm a streamed answer
    // waited on the client's delayed ACK, 40 ms a call.
    let listener = axum::serve::ListenerExt::tap_io(listener, |tcp| {
        if let Err(err) = tcp.set_nodelay(true) {
            tracing::debug!("TCP_NODELAY: {err}");
        }
    });
    let task = tokio::spawn(async move {
        let served = axum::serve(listener, app)
            .with_graceful_shutdown(async move { shutdown.cancelled().await })
            .await;
        if let Err(err) = served {
            tracing::warn!("the MCP endpoint stopped: {err}");
        }
    });
    let host = match address.ip() {
        IpAddr::V6(ip) => format!("[{ip}]"),
        IpAddr::V4(ip) => ip.to_string(),
    };
    Ok(Endpoint {
        url: format!("http://{host}:{}/mcp", address.port()),
        token,
        stop,
        task,
    })
}

/// `GET /health`: 200 when the token is right (the guard checked it); how
/// `dowse mcp` tells a live server from a stale `mcp.json`.
async fn health() -> impl IntoResponse {
    axum::Json(serde_json::json!({"status": "ok", "pid": std::process::id()}))
}

/// Authentication, rate and concurrency, before anything else runs.
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
    if !bool::from(given.as_bytes().ct_eq(guard.token.as_bytes())) {
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
    let client = match request
        .headers()
        .get("mcp-session-id")
        .and_then(|v| v.to_str().ok())
    {
        Some(session) => format!("session {session}"),
        None => format!("connection {peer}"),
    };
    let waited = guard.limiter.lock().expect("limiter lock").take(&client);
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
    next.run(request).await
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
    fn tokens_are_long_and_random() {
        let (a, b) = (new_token().unwrap(), new_token().unwrap());
        assert_eq!(a.len(), 64);
        assert_ne!(a, b);
    }
}
