//! `dowse lsp`: the language server, a front end on the workspace host.
//!
//! The server owns no index: [`dowse_host::Host`] does (its engines, its one
//! writer, the watcher, shutdown). The server translates:
//!
//! - **Buffers.** `didOpen`/`didChange` update a rope at once (before any
//!   `.await`: tower-lsp runs handlers concurrently, and edits must apply in
//!   order, checked by version), then hand the rope to the host, which
//!   applies it to its in-memory overlay after the debounce (`debounce_ms`,
//!   default 100): nothing is written to disk. `didSave` and the editor's
//!   file events tell the host the disk changed; `didClose` returns the file
//!   to its disk content.
//! - **Workspace folders.** Every folder of `initialize` is a root;
//!   `didChangeWorkspaceFolders` adds and removes roots.
//! - **Answers.** `workspace/symbol`, `textDocument/references` and
//!   `workspace/executeCommand` read the host on the blocking pool: a panic
//!   there becomes an error response and the server keeps serving.
//! - **State.** The host's index state becomes `$/progress` while indexing
//!   and embedding, and a `dowse/status` notification on every change.
//! - **Positions** are converted between the negotiated encoding and the
//!   engine's lines and columns in [`text`], nowhere else.

mod commands;
mod protocol;
mod status;
pub mod text;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use dowse_engine::ConfigSources;
use dowse_host::{Host, HostOptions};
use serde_json::Value;
use tower_lsp_server::jsonrpc::{Error, ErrorCode, Result};
use tower_lsp_server::ls_types::*;
use tower_lsp_server::{Client, LanguageServer, LspService, Server};

use crate::commands::Ask;
use crate::text::{Document, Encoding};

/// The commands of `workspace/executeCommand`.
pub const COMMANDS: &[&str] = &[
    "dowse.search",
    "dowse.findUsages",
    "dowse.findSimilar",
    "dowse.context",
    "dowse.health",
    "dowse.stats",
    "dowse.reindex",
];

/// The one setting only the language server has (the others are the
/// engine's schema, shared with `dowse.toml`, the environment and flags).
const DEBOUNCE_KEY: &str = "debounce_ms";

/// The MCP endpoint's `{"url", "token"}`, once it serves.
pub type EndpointReader = Arc<dyn Fn() -> Option<Value> + Send + Sync>;

/// A front end started beside the language server on its host (the MCP
/// endpoint): called once the host exists.
pub type HostHook = Arc<dyn Fn(&Host) + Send + Sync>;

/// How the server was started: the command line's settings.
#[derive(Clone, Default)]
pub struct ServerOptions {
    /// Settings given as flags (they win over everything else).
    pub flags: Vec<(String, Value)>,
    /// How long shutdown may wait for in-flight work.
    pub shutdown_timeout: Duration,
    /// Called with the host when the workspace is open.
    pub on_host: Option<HostHook>,
    /// Called once before the process ends, however it ends.
    pub on_exit: Option<Arc<dyn Fn() + Send + Sync>>,
    /// Where the MCP endpoint beside the server is (`dowse/mcpEndpoint`).
    pub mcp_endpoint: Option<EndpointReader>,
}

/// How the server ended: 0 after `shutdown` then `exit` (or stdin closed),
/// 1 after `exit` without `shutdown`.
pub async fn run_stdio(options: ServerOptions) -> i32 {
    let shutdown = Arc::new(AtomicBool::new(false));
    let eof = Arc::new(AtomicBool::new(false));
    let timeout = options.shutdown_timeout;
    let on_exit = options.on_exit.clone();
    let backend_cell: Arc<OnceLock<Arc<Backend>>> = Arc::new(OnceLock::new());
    let (service, socket) = {
        let shutdown = shutdown.clone();
        let cell = backend_cell.clone();
        LspService::build(move |client| {
            let backend = Arc::new(Backend::new(client, options, shutdown));
            let _ = cell.set(backend.clone());
            Lsp(backend)
        })
        .custom_method("dowse/search", Lsp::search)
        .custom_method("dowse/findUsages", Lsp::find_usages)
        .custom_method("dowse/findSimilar", Lsp::find_similar)
        .custom_method("dowse/context", Lsp::context)
        .custom_method("dowse/health", Lsp::health)
        .custom_method("dowse/stats", Lsp::stats)
        .custom_method("dowse/reindex", Lsp::reindex)
        .custom_method("dowse/mcpEndpoint", Lsp::mcp_endpoint)
        .finish()
    };
    tokio::spawn(on_signals(backend_cell.clone(), timeout, on_exit.clone()));
    let stdin = EofReader {
        inner: tokio::io::stdin(),
        eof: eof.clone(),
    };
    Server::new(stdin, tokio::io::stdout(), socket)
        .serve(service)
        .await;
    // `exit`, or stdin closed: stop the host (a no-op after `shutdown`).
    if let Some(host) = backend_cell.get().and_then(|b| b.host.get().cloned()) {
        let _ = tokio::task::spawn_blocking(move || host.shutdown(timeout)).await;
    }
    if let Some(on_exit) = on_exit {
        on_exit();
    }
    if shutdown.load(Ordering::Acquire) || eof.load(Ordering::Acquire) {
        0
    } else {
        tracing::warn!("`exit` without `shutdown`");
        1
    }
}

/// SIGTERM / SIGINT: stop intake and long work (indexing stops at its next
/// commit), wait for it within `timeout`, and exit 0; a second signal exits
/// at once. Commits are atomic: neither way damages the index.
async fn on_signals(
    backend: Arc<OnceLock<Arc<Backend>>>,
    timeout: Duration,
    on_exit: Option<Arc<dyn Fn() + Send + Sync>>,
) {
    use tokio::signal::unix::{SignalKind, signal};
    let (Ok(mut term), Ok(mut int)) = (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
    ) else {
        tracing::warn!("cannot handle SIGTERM / SIGINT");
        return;
    };
    tokio::select! {
        _ = term.recv() => {}
        _ = int.recv() => {}
    }
    tracing::info!("signal received: finishing in-flight work");
    let host = backend.get().and_then(|b| b.host.get().cloned());
    let finish = tokio::task::spawn_blocking(move || {
        if let Some(host) = host {
            host.shutdown(timeout);
        }
    });
    let code = tokio::select! {
        _ = finish => 0,
        _ = term.recv() => 1,
        _ = int.recv() => 1,
    };
    if let Some(on_exit) = on_exit {
        on_exit();
    }
    std::process::exit(code)
}

/// Notes when stdin reaches its end, to tell a closed pipe from `exit`.
struct EofReader<R> {
    inner: R,
    eof: Arc<AtomicBool>,
}

impl<R: tokio::io::AsyncRead + Unpin> tokio::io::AsyncRead for EofReader<R> {
    fn poll_read(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let poll = std::pin::Pin::new(&mut self.inner).poll_read(cx, buf);
        if let std::task::Poll::Ready(Ok(())) = &poll
            && buf.filled().len() == before
        {
            self.eof.store(true, Ordering::Release);
        }
        poll
    }
}

pub(crate) struct Backend {
    pub(crate) client: Client,
    options: ServerOptions,
    pub(crate) host: OnceLock<Host>,
    pub(crate) docs: Mutex<HashMap<Uri, Document>>,
    pub(crate) encoding: OnceLock<Encoding>,
    work_done_progress: AtomicBool,
    /// The client registers file watchers for us on request.
    watch_registration: AtomicBool,
    shutdown: Arc<AtomicBool>,
    /// The editor's settings, as last sent (engine keys of the schema).
    settings: Mutex<Vec<(String, Value)>>,
}

impl Backend {
    fn new(client: Client, options: ServerOptions, shutdown: Arc<AtomicBool>) -> Backend {
        Backend {
            client,
            options,
            host: OnceLock::new(),
            docs: Mutex::new(HashMap::new()),
            encoding: OnceLock::new(),
            work_done_progress: AtomicBool::new(false),
            watch_registration: AtomicBool::new(false),
            shutdown,
            settings: Mutex::new(Vec::new()),
        }
    }

    pub(crate) fn encoding(&self) -> Encoding {
        self.encoding.get().copied().unwrap_or_default()
    }

    pub(crate) fn host(&self) -> Result<Host> {
        self.host.get().cloned().ok_or_else(|| Error {
            code: ErrorCode::ServerError(-32002),
            message: "the workspace is not open yet: send `initialize` first".into(),
            data: None,
        })
    }

    /// The file path of a document URI.
    pub(crate) fn path_of(uri: &Uri) -> Option<PathBuf> {
        uri.to_file_path().map(|p| p.into_owned())
    }

    /// The URI of a path relative to a root.
    pub(crate) fn uri_of(root: &str, rel: &str) -> Option<Uri> {
        Uri::from_file_path(PathBuf::from(root).join(rel))
    }

    /// Runs `f` with the host on the blocking pool; a panic in it is an
    /// internal error, not the end of the server.
    pub(crate) async fn blocking<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&Host) -> std::result::Result<T, dowse_engine::EngineError> + Send + 'static,
    {
        let host = self.host()?;
        match tokio::task::spawn_blocking(move || f(&host)).await {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(err)) if err.is_user_error() => Err(Error::invalid_params(err.to_string())),
            Ok(Err(err)) => Err(internal(err.to_string())),
            Err(join) if join.is_cancelled() => Err(internal("dowse is shutting down")),
            Err(join) => {
                tracing::error!("a request handler panicked: {join}");
                Err(internal(
                    "the request failed inside dowse (a bug: see the server log)",
                ))
            }
        }
    }

    /// Shows the host's problems (rejected settings, roots that failed).
    async fn show_errors(&self) {
        let Some(host) = self.host.get() else {
            return;
        };
        for error in host.take_errors() {
            self.client.show_message(MessageType::ERROR, error).await;
        }
    }

    /// Splits editor settings into the server's own (applied now) and the
    /// engine's; returns the messages to show: bad values, and the engine
    /// keys that take effect only at the next start.
    fn apply_settings(&self, value: &Value, origin: &str, at_start: bool) -> Vec<String> {
        let mut messages = Vec::new();
        let Some(object) = value.as_object() else {
            if !value.is_null() {
                messages.push(format!(
                    "{origin}: settings must be an object, e.g. {{\"{DEBOUNCE_KEY}\": 100}}"
                ));
            }
            return messages;
        };
        let mut engine_keys = Vec::new();
        for (key, value) in object {
            if key == DEBOUNCE_KEY {
                match value.as_u64() {
                    Some(ms) if ms <= 10_000 => {
                        if let Some(host) = self.host.get() {
                            host.set_debounce(Duration::from_millis(ms));
                        }
                    }
                    _ => messages.push(format!(
                        "{origin}: invalid setting `{DEBOUNCE_KEY}` = {value}: expected milliseconds from 0 to 10000"
                    )),
                }
                continue;
            }
            if at_start {
                // Checked (and reported, once) when the host layers them.
                engine_keys.push((key.clone(), value.clone()));
                continue;
            }
            match dowse_engine::Config::default().set(origin, key, value) {
                Ok(()) => engine_keys.push((key.clone(), value.clone())),
                Err(err) => messages.push(err.to_string()),
            }
        }
        if !at_start {
            let changed: Vec<String> = {
                let old = self.settings.lock().expect("settings lock");
                engine_keys
                    .iter()
                    .filter(|(k, v)| !old.iter().any(|(ok, ov)| ok == k && ov == v))
                    .map(|(k, _)| format!("`{k}`"))
                    .collect()
            };
            if !changed.is_empty() {
                messages.push(format!(
                    "dowse applies {} when it next starts (restart the language server); `{DEBOUNCE_KEY}` applies at once",
                    changed.join(", ")
                ));
            }
        }
        *self.settings.lock().expect("settings lock") = engine_keys;
        messages
    }
}

pub(crate) fn internal(message: impl Into<String>) -> Error {
    Error {
        code: ErrorCode::InternalError,
        message: message.into().into(),
        data: None,
    }
}

/// Every workspace folder of `initialize`; the root URI, or the current
/// directory, without any.
fn roots_of(params: &InitializeParams) -> Vec<PathBuf> {
    if let Some(folders) = &params.workspace_folders {
        let roots: Vec<PathBuf> = folders
            .iter()
            .filter_map(|f| f.uri.to_file_path().map(|p| p.into_owned()))
            .collect();
        if !roots.is_empty() {
            return roots;
        }
    }
    #[allow(deprecated)]
    if let Some(uri) = &params.root_uri
        && let Some(path) = uri.to_file_path()
    {
        return vec![path.into_owned()];
    }
    std::env::current_dir().into_iter().collect()
}

/// The `LanguageServer` face of a shared [`Backend`].
pub(crate) struct Lsp(Arc<Backend>);

impl std::ops::Deref for Lsp {
    type Target = Arc<Backend>;

    fn deref(&self) -> &Arc<Backend> {
        &self.0
    }
}

/// The editor protocol's requests (docs/protocol.md): the `dowse.*`
/// commands under names an extension can call without colliding with the
/// commands its client registers.
impl Lsp {
    async fn search(&self, params: Value) -> Result<Value> {
        commands::request(&self.0, Ask::Search, params).await
    }

    async fn find_usages(&self, params: Value) -> Result<Value> {
        commands::request(&self.0, Ask::FindUsages, params).await
    }

    async fn find_similar(&self, params: Value) -> Result<Value> {
        commands::request(&self.0, Ask::FindSimilar, params).await
    }

    async fn context(&self, params: Value) -> Result<Value> {
        commands::request(&self.0, Ask::Context, params).await
    }

    async fn health(&self) -> Result<Value> {
        commands::request(&self.0, Ask::Health, Value::Null).await
    }

    async fn stats(&self) -> Result<Value> {
        commands::request(&self.0, Ask::Stats, Value::Null).await
    }

    async fn reindex(&self) -> Result<Value> {
        commands::request(&self.0, Ask::Reindex, Value::Null).await
    }

    /// `{"url", "token"}` of the MCP endpoint beside this server, or null
    /// while it is starting (or off: `mcp = false`).
    async fn mcp_endpoint(&self) -> Result<Value> {
        Ok(self
            .options
            .mcp_endpoint
            .as_ref()
            .and_then(|read| read())
            .unwrap_or(Value::Null))
    }
}

impl LanguageServer for Lsp {
    async fn initialize(&self, params: InitializeParams) -> Result<InitializeResult> {
        let roots = roots_of(&params);
        let offered = params
            .capabilities
            .general
            .as_ref()
            .and_then(|g| g.position_encodings.as_ref())
            .is_some_and(|encodings| encodings.contains(&PositionEncodingKind::UTF8));
        let encoding = if offered {
            Encoding::Utf8
        } else {
            Encoding::Utf16
        };
        let _ = self.encoding.set(encoding);
        let progress = params
            .capabilities
            .window
            .as_ref()
            .and_then(|w| w.work_done_progress)
            .unwrap_or(false);
        self.work_done_progress.store(progress, Ordering::Release);
        let watch = params
            .capabilities
            .workspace
            .as_ref()
            .and_then(|w| w.did_change_watched_files.as_ref())
            .and_then(|w| w.dynamic_registration)
            .unwrap_or(false);
        self.watch_registration.store(watch, Ordering::Release);

        // Settings in the documented order: each root's dowse.toml <
        // initializationOptions < environment < flags (the host layers
        // them, per root, and reports each rejected setting once).
        let options = params.initialization_options.clone().unwrap_or(Value::Null);
        let mut messages = self.apply_settings(&options, "initializationOptions", true);
        let mut sources = ConfigSources::from_env();
        sources.flags = self.options.flags.clone();
        sources.settings = self
            .settings
            .lock()
            .expect("settings lock")
            .iter()
            .map(|(k, v)| ("initializationOptions".to_owned(), k.clone(), v.clone()))
            .collect();
        let debounce = options
            .get(DEBOUNCE_KEY)
            .and_then(Value::as_u64)
            .filter(|ms| *ms <= 10_000)
            .map_or(Duration::from_millis(100), Duration::from_millis);
        let host_options = HostOptions {
            sources,
            debounce,
            watch: true,
            model: None,
        };
        let started = tokio::task::spawn_blocking(move || Host::start(&roots, host_options))
            .await
            .map_err(|e| internal(e.to_string()))?;
        let host = started.map_err(Error::invalid_params)?;
        if let Some(hook) = &self.options.on_host {
            hook(&host);
        }
        let _ = self.host.set(host);
        for message in messages.drain(..) {
            self.client.show_message(MessageType::ERROR, message).await;
        }
        self.show_errors().await;
        Ok(InitializeResult {
            capabilities: ServerCapabilities {
                position_encoding: Some(match encoding {
                    Encoding::Utf8 => PositionEncodingKind::UTF8,
                    Encoding::Utf16 => PositionEncodingKind::UTF16,
                }),
                text_document_sync: Some(TextDocumentSyncCapability::Options(
                    TextDocumentSyncOptions {
                        open_close: Some(true),
                        change: Some(TextDocumentSyncKind::INCREMENTAL),
                        save: Some(TextDocumentSyncSaveOptions::Supported(true)),
                        ..TextDocumentSyncOptions::default()
                    },
                )),
                workspace_symbol_provider: Some(OneOf::Left(true)),
                references_provider: Some(OneOf::Left(true)),
                execute_command_provider: Some(ExecuteCommandOptions {
                    commands: COMMANDS.iter().map(|c| (*c).to_owned()).collect(),
                    ..ExecuteCommandOptions::default()
                }),
                workspace: Some(WorkspaceServerCapabilities {
                    workspace_folders: Some(WorkspaceFoldersServerCapabilities {
                        supported: Some(true),
                        change_notifications: Some(OneOf::Left(true)),
                    }),
                    file_operations: None,
                }),
                ..ServerCapabilities::default()
            },
            server_info: Some(ServerInfo {
                name: "dowse".into(),
                version: Some(env!("CARGO_PKG_VERSION").into()),
            }),
            offset_encoding: None,
        })
    }

    async fn initialized(&self, _: InitializedParams) {
        // Changes made outside the editor, as the editor sees them (the
        // host watches too).
        let watch = Registration {
            id: "dowse-watch".into(),
            method: "workspace/didChangeWatchedFiles".into(),
            register_options: serde_json::to_value(DidChangeWatchedFilesRegistrationOptions {
                watchers: vec![FileSystemWatcher {
                    glob_pattern: GlobPattern::String("**/*".into()),
                    kind: None,
                }],
            })
            .ok(),
        };
        // Not awaited here: a client slow to answer must not hold up
        // this notification's handler (nor `exit` after it).
        if self.watch_registration.load(Ordering::Acquire) {
            let client = self.client.clone();
            tokio::spawn(async move {
                if let Err(err) = client.register_capability(vec![watch]).await {
                    tracing::info!("the client does not watch files for us: {err}");
                }
            });
        }
        if let Ok(host) = self.host() {
            let progress = self.work_done_progress.load(Ordering::Acquire);
            tokio::spawn(status::forward(self.client.clone(), host, progress));
        }
    }

    async fn shutdown(&self) -> Result<()> {
        self.shutdown.store(true, Ordering::Release);
        // Stop long work at its next commit, and wait for it (bounded).
        if let Some(host) = self.host.get().cloned() {
            let timeout = self.options.shutdown_timeout;
            let _ = tokio::task::spawn_blocking(move || host.shutdown(timeout)).await;
        }
        Ok(())
    }

    async fn did_open(&self, params: DidOpenTextDocumentParams) {
        let doc = params.text_document;
        let document = Document::new(&doc.text, doc.version);
        let text = document.text.clone();
        self.docs
            .lock()
            .expect("docs lock")
            .insert(doc.uri.clone(), document);
        if let (Ok(host), Some(path)) = (self.host(), Backend::path_of(&doc.uri)) {
            host.buffer(&path, text.to_string());
        }
    }

    async fn did_change(&self, params: DidChangeTextDocumentParams) {
        let uri = params.text_document.uri;
        let version = params.text_document.version;
        let text = {
            // Applied before any `.await`, in arrival order.
            let encoding = self.encoding();
            let mut docs = self.docs.lock().expect("docs lock");
            let Some(doc) = docs.get_mut(&uri) else {
                tracing::warn!("didChange for {} which is not open", uri.as_str());
                return;
            };
            if version <= doc.version {
                tracing::warn!(
                    "ignoring a stale change to {} (version {version} ≤ {})",
                    uri.as_str(),
                    doc.version
                );
                return;
            }
            for change in &params.content_changes {
                doc.apply(change, encoding);
            }
            doc.version = version;
            // A rope clone shares its nodes: cheap.
            doc.text.clone()
        };
        if let (Ok(host), Some(path)) = (self.host(), Backend::path_of(&uri)) {
            host.buffer(&path, text.to_string());
        }
    }

    async fn did_save(&self, params: DidSaveTextDocumentParams) {
        // The disk now holds the buffer's text: the committed index follows
        // (the buffer keeps masking it while open).
        if let (Ok(host), Some(path)) = (self.host(), Backend::path_of(&params.text_document.uri)) {
            host.files_changed(vec![path]);
        }
    }

    async fn did_close(&self, params: DidCloseTextDocumentParams) {
        let uri = params.text_document.uri;
        self.docs.lock().expect("docs lock").remove(&uri);
        if let (Ok(host), Some(path)) = (self.host(), Backend::path_of(&uri)) {
            host.close(&path);
        }
    }

    async fn did_change_watched_files(&self, params: DidChangeWatchedFilesParams) {
        if let Ok(host) = self.host() {
            let paths: Vec<PathBuf> = params
                .changes
                .iter()
                .filter_map(|c| Backend::path_of(&c.uri))
                .collect();
            host.files_changed(paths);
        }
    }

    async fn did_change_workspace_folders(&self, params: DidChangeWorkspaceFoldersParams) {
        let Ok(host) = self.host() else {
            return;
        };
        for folder in params.event.removed {
            if let Some(path) = Backend::path_of(&folder.uri) {
                host.remove_root(&path);
            }
        }
        for folder in params.event.added {
            let Some(path) = Backend::path_of(&folder.uri) else {
                continue;
            };
            let added = {
                let host = host.clone();
                tokio::task::spawn_blocking(move || host.add_root(&path)).await
            };
            match added {
                Ok(Ok(())) => {}
                Ok(Err(err)) => self.client.show_message(MessageType::ERROR, err).await,
                Err(err) => tracing::warn!("adding a workspace folder: {err}"),
            }
        }
        self.show_errors().await;
    }

    async fn did_change_configuration(&self, params: DidChangeConfigurationParams) {
        let settings = params
            .settings
            .get("dowse")
            .cloned()
            .unwrap_or(params.settings);
        for message in self.apply_settings(&settings, "workspace/didChangeConfiguration", false) {
            self.client
                .show_message(MessageType::WARNING, message)
                .await;
        }
    }

    async fn symbol(
        &self,
        params: WorkspaceSymbolParams,
    ) -> Result<Option<WorkspaceSymbolResponse>> {
        commands::workspace_symbol(&self.0, params.query).await
    }

    async fn references(&self, params: ReferenceParams) -> Result<Option<Vec<Location>>> {
        commands::references(&self.0, params).await
    }

    async fn execute_command(&self, params: ExecuteCommandParams) -> Result<Option<LSPAny>> {
        commands::execute(&self.0, params).await
    }
}
