//! `dowse lsp`: the language server. One [`Engine`] per workspace, kept live
//! from the editor's buffers.
//!
//! - **Buffers override the disk.** `didOpen`/`didChange` update a rope at
//!   once (before any `.await`: tower-lsp runs handlers concurrently, and
//!   edits must apply in order, checked by version); the engine re-indexes
//!   the buffer after a debounce (`debounce_ms`, default 100), lexical at
//!   once and vectors for the chunks whose text is new. `didClose` returns
//!   the file to its disk content. Saves and changes made outside the
//!   editor (`workspace/didChangeWatchedFiles`) bring the index up to date.
//! - **Indexing runs in the background** after `initialized`, reported with
//!   work-done progress when the client supports it; queries are answered
//!   from what is committed meanwhile.
//! - **Engine calls run on the blocking pool.** A panic there becomes an
//!   error response; the server keeps serving.
//! - **Positions** are converted between the negotiated encoding and the
//!   engine's lines and columns in [`text`], nowhere else.

mod commands;
pub mod text;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use dowse_engine::{Config, Engine, Progress};
use serde_json::Value;
use tokio::sync::mpsc;
use tower_lsp_server::jsonrpc::{Error, ErrorCode, Result};
use tower_lsp_server::ls_types::*;
use tower_lsp_server::{Client, LanguageServer, LspService, Server};

use crate::text::{Document, Encoding};

/// Quiet time after a file event before the index is brought up to date.
const WATCH_QUIET: Duration = Duration::from_millis(200);

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

/// Settings from `initializationOptions` / `didChangeConfiguration`.
#[derive(Clone, Debug)]
pub struct Settings {
    /// Quiet time after an edit before the buffer is re-indexed.
    pub debounce: Duration,
}

impl Default for Settings {
    fn default() -> Settings {
        Settings {
            debounce: Duration::from_millis(100),
        }
    }
}

/// How the server ended: 0 after `shutdown` then `exit` (or stdin closed),
/// 1 after `exit` without `shutdown`.
pub async fn run_stdio(config: Config) -> i32 {
    let shutdown = Arc::new(AtomicBool::new(false));
    let eof = Arc::new(AtomicBool::new(false));
    let timeout = config.shutdown_timeout;
    let backend_cell: Arc<OnceLock<Arc<Backend>>> = Arc::new(OnceLock::new());
    let (service, socket) = {
        let shutdown = shutdown.clone();
        let cell = backend_cell.clone();
        LspService::new(move |client| {
            let backend = Arc::new(Backend::new(client, config, shutdown));
            let _ = cell.set(backend.clone());
            Lsp(backend)
        })
    };
    tokio::spawn(on_signals(backend_cell, timeout));
    let stdin = EofReader {
        inner: tokio::io::stdin(),
        eof: eof.clone(),
    };
    Server::new(stdin, tokio::io::stdout(), socket)
        .serve(service)
        .await;
    if shutdown.load(Ordering::Acquire) || eof.load(Ordering::Acquire) {
        0
    } else {
        tracing::warn!("`exit` without `shutdown`");
        1
    }
}

/// SIGTERM / SIGINT: stop intake of long work (indexing stops at its next
/// commit), wait for it within `timeout`, and exit 0; a second signal exits
/// at once. Commits are atomic: neither way damages the index.
async fn on_signals(backend: Arc<OnceLock<Arc<Backend>>>, timeout: Duration) {
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
    let finish = async {
        if let Some(backend) = backend.get() {
            if let Some(engine) = backend.engine.get() {
                engine.cancel_handle().store(true, Ordering::Release);
            }
            // In-flight indexing holds this until it has committed.
            let _guard = backend.updating.lock().await;
        }
    };
    tokio::select! {
        _ = finish => std::process::exit(0),
        _ = tokio::time::sleep(timeout) => {
            tracing::warn!("in-flight work did not finish within {timeout:?}; exiting");
            std::process::exit(0)
        }
        _ = term.recv() => std::process::exit(1),
        _ = int.recv() => std::process::exit(1),
    }
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
    config: Config,
    pub(crate) engine: OnceLock<Arc<Engine>>,
    pub(crate) root: OnceLock<PathBuf>,
    pub(crate) docs: Mutex<HashMap<Uri, Document>>,
    pub(crate) encoding: OnceLock<Encoding>,
    settings: Mutex<Settings>,
    work_done_progress: AtomicBool,
    /// The client registers file watchers for us on request.
    watch_registration: AtomicBool,
    shutdown: Arc<AtomicBool>,
    /// Serialises index updates from watched-file events and reindexing.
    updating: tokio::sync::Mutex<()>,
    /// An update is scheduled: further file events join it.
    update_pending: AtomicBool,
    /// The server's own watch on the workspace, for changes made outside
    /// any editor (kept alive here).
    pub(crate) watcher: Mutex<Option<notify::RecommendedWatcher>>,
    next_token: AtomicU64,
    /// The background thread that builds vector graphs is running.
    optimizing: Arc<AtomicBool>,
}

impl Backend {
    fn new(client: Client, config: Config, shutdown: Arc<AtomicBool>) -> Backend {
        Backend {
            client,
            config,
            engine: OnceLock::new(),
            root: OnceLock::new(),
            docs: Mutex::new(HashMap::new()),
            encoding: OnceLock::new(),
            settings: Mutex::new(Settings::default()),
            work_done_progress: AtomicBool::new(false),
            watch_registration: AtomicBool::new(false),
            shutdown,
            updating: tokio::sync::Mutex::new(()),
            update_pending: AtomicBool::new(false),
            watcher: Mutex::new(None),
            next_token: AtomicU64::new(1),
            optimizing: Arc::new(AtomicBool::new(false)),
        }
    }

    pub(crate) fn encoding(&self) -> Encoding {
        self.encoding.get().copied().unwrap_or_default()
    }

    pub(crate) fn engine(&self) -> Result<Arc<Engine>> {
        self.engine.get().cloned().ok_or_else(|| Error {
            code: ErrorCode::ServerError(-32002),
            message: "the workspace is not open yet: send `initialize` first".into(),
            data: None,
        })
    }

    /// The workspace-relative path of a document URI, if it is a file in
    /// the workspace.
    pub(crate) fn relative(&self, uri: &Uri) -> Option<String> {
        let path = uri.to_file_path()?;
        let root = self.root.get()?;
        let rel = path.strip_prefix(root).ok()?;
        Some(rel.to_string_lossy().replace('\\', "/"))
    }

    pub(crate) fn uri_of(&self, rel: &str) -> Option<Uri> {
        Uri::from_file_path(self.root.get()?.join(rel))
    }

    /// Runs `f` with the engine on the blocking pool; a panic in it is an
    /// internal error, not the end of the server.
    pub(crate) async fn blocking<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&Engine) -> std::result::Result<T, dowse_engine::EngineError> + Send + 'static,
    {
        let engine = self.engine()?;
        match tokio::task::spawn_blocking(move || f(&engine)).await {
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

    /// After an edit: rebuilds graphs that edits have filled with removed
    /// entries, on a thread of its own (a build cannot be interrupted, so it
    /// must hold up neither edits nor exit); queries meanwhile use exact
    /// search. One such thread at a time; usually nothing to do.
    fn optimize_in_background(&self) {
        let Ok(engine) = self.engine() else {
            return;
        };
        if self.shutdown.load(Ordering::Acquire) || self.optimizing.swap(true, Ordering::AcqRel) {
            return;
        }
        let running = self.optimizing.clone();
        let spawned = std::thread::Builder::new()
            .name("dowse-vectors".into())
            .spawn(move || {
                optimize_vectors(&engine);
                running.store(false, Ordering::Release);
            });
        if let Err(err) = spawned {
            tracing::warn!("could not start the vector optimiser: {err}");
            self.optimizing.store(false, Ordering::Release);
        }
    }

    /// Re-indexes a buffer after the debounce, if no later edit came.
    fn schedule_reindex(self: &Arc<Self>, uri: Uri, version: i32) {
        let backend: Arc<Backend> = Arc::clone(self);
        let debounce = self.settings.lock().expect("settings lock").debounce;
        tokio::spawn(async move {
            tokio::time::sleep(debounce).await;
            let text = {
                let docs = backend.docs.lock().expect("docs lock");
                match docs.get(&uri) {
                    Some(doc) if doc.version == version => doc.text.to_string(),
                    _ => return,
                }
            };
            let Some(rel) = backend.relative(&uri) else {
                return;
            };
            let indexed = backend
                .blocking(move |engine| {
                    engine.set_buffer(&rel, &text)?;
                    engine.embed_paths(&[&rel])
                })
                .await;
            match indexed {
                Ok(_) => backend.optimize_in_background(),
                Err(err) => tracing::warn!("re-indexing {}: {}", uri.as_str(), err.message),
            }
        });
    }

    /// Brings the index up to date soon: file events (from the client and
    /// from the server's own watcher) within the quiet time coalesce into
    /// one update.
    pub(crate) fn request_update(self: &Arc<Self>) {
        if self.update_pending.swap(true, Ordering::AcqRel) {
            return;
        }
        let backend = self.clone();
        tokio::spawn(async move {
            tokio::time::sleep(WATCH_QUIET).await;
            backend.update_pending.store(false, Ordering::Release);
            if let Err(err) = backend.index_workspace("dowse: updating").await {
                tracing::warn!("updating after file changes: {}", err.message);
            }
        });
    }

    /// Watches the workspace for changes made outside the editor.
    fn start_watcher(self: &Arc<Self>) {
        let Some(root) = self.root.get().cloned() else {
            return;
        };
        let index_dir = self
            .engine
            .get()
            .map(|e| e.index_dir().root().to_path_buf());
        let (tx, mut rx) = mpsc::unbounded_channel::<()>();
        let handler = move |event: notify::Result<notify::Event>| {
            let Ok(event) = event else { return };
            if matches!(event.kind, notify::EventKind::Access(_)) {
                return;
            }
            // Our own index writes, and git's, are not workspace changes.
            let relevant = event.paths.iter().any(|p| {
                !index_dir.as_ref().is_some_and(|d| p.starts_with(d))
                    && !p.components().any(|c| c.as_os_str() == ".git")
            });
            if relevant {
                let _ = tx.send(());
            }
        };
        let watcher = notify::recommended_watcher(handler).and_then(|mut w| {
            use notify::Watcher;
            w.watch(&root, notify::RecursiveMode::Recursive).map(|()| w)
        });
        match watcher {
            Ok(watcher) => *self.watcher.lock().expect("watcher lock") = Some(watcher),
            Err(err) => {
                tracing::warn!(
                    "cannot watch {}: {err}; relying on the editor's file events",
                    root.display()
                );
                return;
            }
        }
        let backend = Arc::downgrade(self);
        tokio::spawn(async move {
            while rx.recv().await.is_some() {
                let Some(backend) = backend.upgrade() else {
                    return;
                };
                backend.request_update();
            }
        });
    }

    /// Indexes the workspace and embeds it, with work-done progress.
    async fn index_workspace(&self, title: &str) -> Result<()> {
        let _guard = self.updating.lock().await;
        let (tx, mut rx) = mpsc::unbounded_channel::<ProgressEvent>();
        let progress = ChannelProgress::new(tx);
        let reporter = if self.work_done_progress.load(Ordering::Acquire) {
            let token = NumberOrString::String(format!(
                "dowse/{}",
                self.next_token.fetch_add(1, Ordering::Relaxed)
            ));
            match self.client.create_work_done_progress(token.clone()).await {
                Ok(()) => Some(token),
                Err(err) => {
                    tracing::warn!("the client refused a progress token: {err}");
                    None
                }
            }
        } else {
            None
        };
        let client = self.client.clone();
        let title = title.to_owned();
        let forward = tokio::spawn(async move {
            let Some(token) = reporter else {
                while rx.recv().await.is_some() {}
                return;
            };
            let ongoing = client
                .progress(token, title)
                .with_percentage(0)
                .begin()
                .await;
            let mut last = 0;
            while let Some(event) = rx.recv().await {
                let ProgressEvent { stage, done, total } = event;
                let percent = (done * 100)
                    .checked_div(total)
                    .map_or(100, |p| p.min(100) as u32);
                if percent != last || done == 0 {
                    last = percent;
                    ongoing
                        .report_with_message(format!("{stage} {done}/{total}"), percent)
                        .await;
                }
            }
            ongoing.finish_with_message("indexed").await;
        });
        let result = self
            .blocking(move |engine| {
                let report = engine.update(&progress)?;
                tracing::info!(
                    "indexed {} files ({} chunks) in {:?}",
                    report.files,
                    report.chunks,
                    report.duration
                );
                let embedded = engine.embed(&progress)?;
                if embedded.embedded > 0 {
                    tracing::info!(
                        "embedded {} chunks in {:?}",
                        embedded.embedded,
                        embedded.duration
                    );
                }
                // HNSW graphs, before the progress ends: a build takes both
                // cores for about a minute per 60k vectors, and measured
                // alongside typing it doubled edit-to-searchable latency
                // (p95 450 ms against 200 ms after it). Queries are answered
                // meanwhile, from exact search.
                optimize_vectors(engine);
                Ok(())
            })
            .await;
        let _ = forward.await;
        result
    }

    fn apply_settings(&self, value: &Value) -> Vec<String> {
        let mut errors = Vec::new();
        let Some(object) = value.as_object() else {
            if !value.is_null() {
                errors.push("settings must be an object, e.g. {\"debounce_ms\": 100}".to_owned());
            }
            return errors;
        };
        let mut settings = self.settings.lock().expect("settings lock");
        for (key, value) in object {
            match key.as_str() {
                "debounce_ms" => match value.as_u64() {
                    Some(ms) if ms <= 10_000 => settings.debounce = Duration::from_millis(ms),
                    _ => errors.push(format!(
                        "invalid setting `debounce_ms`: {value}; use a number of milliseconds from 0 to 10000 \
                         (keeping {} ms)",
                        settings.debounce.as_millis()
                    )),
                },
                // The engine's keys: checked here, applied when the
                // workspace is opened (at `initialize`).
                other => {
                    if let Err(err) = self.config.clone().set("settings", other, value) {
                        errors.push(format!("{err} (debounce_ms is also known)"));
                    }
                }
            }
        }
        errors
    }
}

/// Builds the vector graphs, logging what it did when that took a while.
fn optimize_vectors(engine: &Engine) {
    let took = engine.optimize_vectors();
    if took > Duration::from_millis(100) {
        let (graphs, blocks) = engine.vector_segments();
        tracing::info!(
            "vector index optimised in {took:?}: {graphs} HNSW segments, {blocks} exact blocks"
        );
    }
}

pub(crate) fn internal(message: impl Into<String>) -> Error {
    Error {
        code: ErrorCode::InternalError,
        message: message.into().into(),
        data: None,
    }
}

struct ProgressEvent {
    stage: String,
    done: u64,
    total: u64,
}

/// Engine progress → `$/progress`, through a channel (the engine's side is
/// synchronous).
struct ChannelProgress {
    tx: mpsc::UnboundedSender<ProgressEvent>,
    state: Mutex<(String, u64, u64)>,
}

impl ChannelProgress {
    fn new(tx: mpsc::UnboundedSender<ProgressEvent>) -> ChannelProgress {
        ChannelProgress {
            tx,
            state: Mutex::new((String::new(), 0, 0)),
        }
    }

    fn send(&self) {
        let state = self.state.lock().expect("progress lock");
        let _ = self.tx.send(ProgressEvent {
            stage: state.0.clone(),
            done: state.1,
            total: state.2,
        });
    }
}

impl Progress for ChannelProgress {
    fn begin(&self, title: &str, total: u64) {
        *self.state.lock().expect("progress lock") = (title.to_owned(), 0, total);
        self.send();
    }

    fn advance(&self, done: u64) {
        self.state.lock().expect("progress lock").1 += done;
        self.send();
    }

    fn end(&self) {
        {
            let mut state = self.state.lock().expect("progress lock");
            state.1 = state.2;
        }
        self.send();
    }
}

fn root_of(params: &InitializeParams) -> Option<PathBuf> {
    if let Some(folders) = &params.workspace_folders
        && let Some(first) = folders.first()
    {
        return first.uri.to_file_path().map(|p| p.into_owned());
    }
    #[allow(deprecated)]
    if let Some(uri) = &params.root_uri {
        return uri.to_file_path().map(|p| p.into_owned());
    }
    None
}

/// The `LanguageServer` face of a shared [`Backend`].
pub(crate) struct Lsp(Arc<Backend>);

impl std::ops::Deref for Lsp {
    type Target = Arc<Backend>;

    fn deref(&self) -> &Arc<Backend> {
        &self.0
    }
}

impl LanguageServer for Lsp {
    async fn initialize(&self, params: InitializeParams) -> Result<InitializeResult> {
        let root = match root_of(&params) {
            Some(root) => root,
            None => std::env::current_dir().map_err(|e| internal(e.to_string()))?,
        };
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
        if let Some(options) = &params.initialization_options {
            for error in self.apply_settings(options) {
                self.client.show_message(MessageType::ERROR, error).await;
            }
        }
        // The workspace's dowse.toml, then the client's settings (same
        // schema); a bad key is reported and its default kept.
        let mut config = self.config.clone();
        let mut errors: Vec<String> = config
            .apply_file(&root)
            .iter()
            .map(ToString::to_string)
            .collect();
        if let Some(options) = params
            .initialization_options
            .as_ref()
            .and_then(|o| o.as_object())
        {
            for (key, value) in options {
                if key == "debounce_ms" {
                    continue;
                }
                if let Err(err) = config.set("initializationOptions", key, value) {
                    errors.push(err.to_string());
                }
            }
        }
        for error in errors {
            self.client.show_message(MessageType::ERROR, error).await;
        }
        let opened = {
            let root = root.clone();
            tokio::task::spawn_blocking(move || Engine::open(&root, config))
                .await
                .map_err(|e| internal(e.to_string()))?
        };
        let engine =
            opened.map_err(|e| Error::invalid_params(format!("cannot open the workspace: {e}")))?;
        let _ = self.root.set(engine.root().to_path_buf());
        let _ = self.engine.set(Arc::new(engine));
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
        // Changes made outside the editor.
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
        let backend: Arc<Backend> = Arc::clone(&self.0);
        tokio::spawn(async move {
            backend.start_watcher();
            if let Err(err) = backend.index_workspace("dowse: indexing").await {
                backend
                    .client
                    .show_message(
                        MessageType::ERROR,
                        format!("dowse could not index the workspace: {}", err.message),
                    )
                    .await;
            }
        });
    }

    async fn shutdown(&self) -> Result<()> {
        self.shutdown.store(true, Ordering::Release);
        // Stop long work at its next commit, and wait for it (bounded).
        if let Some(engine) = self.engine.get() {
            engine.cancel_handle().store(true, Ordering::Release);
        }
        if tokio::time::timeout(self.config.shutdown_timeout, self.updating.lock())
            .await
            .is_err()
        {
            tracing::warn!(
                "indexing did not stop within {:?}",
                self.config.shutdown_timeout
            );
        }
        Ok(())
    }

    async fn did_open(&self, params: DidOpenTextDocumentParams) {
        let doc = params.text_document;
        let version = doc.version;
        self.docs
            .lock()
            .expect("docs lock")
            .insert(doc.uri.clone(), Document::new(&doc.text, version));
        self.schedule_reindex(doc.uri, version);
    }

    async fn did_change(&self, params: DidChangeTextDocumentParams) {
        let uri = params.text_document.uri;
        let version = params.text_document.version;
        {
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
        }
        self.schedule_reindex(uri, version);
    }

    async fn did_save(&self, _: DidSaveTextDocumentParams) {
        // The buffer already is the index's text for that file.
    }

    async fn did_close(&self, params: DidCloseTextDocumentParams) {
        let uri = params.text_document.uri;
        self.docs.lock().expect("docs lock").remove(&uri);
        let Some(rel) = self.relative(&uri) else {
            return;
        };
        if let Err(err) = self
            .blocking(move |engine| {
                engine.close_buffer(&rel)?;
                engine.embed(&dowse_engine::NoProgress).map(|_| ())
            })
            .await
        {
            tracing::warn!("closing {}: {}", uri.as_str(), err.message);
        }
    }

    async fn did_change_watched_files(&self, _: DidChangeWatchedFilesParams) {
        self.request_update();
    }

    async fn did_change_configuration(&self, params: DidChangeConfigurationParams) {
        let settings = params
            .settings
            .get("dowse")
            .cloned()
            .unwrap_or(params.settings);
        for error in self.apply_settings(&settings) {
            self.client.show_message(MessageType::ERROR, error).await;
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
