//! The editor protocol's requests (`dowse/*`) and commands (`dowse.*`),
//! `workspace/symbol` and `textDocument/references`: the host's answers in
//! the shapes of [`protocol`].

use std::sync::Arc;
use std::time::Instant;

use dowse_engine::{
    ChunkKind, SearchMode, SearchRequest, SearchResult, UsageLocation, UsagesQuery,
};
use serde_json::{Value, json};
use tower_lsp_server::jsonrpc::{Error, Result};
use tower_lsp_server::ls_types::*;

use crate::text;
use crate::{Backend, COMMANDS, internal, protocol};

/// What the editor asks: a `dowse.*` command or a `dowse/*` request (the
/// same seven, with the same arguments and answers).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Ask {
    Search,
    FindUsages,
    FindSimilar,
    Context,
    Health,
    Stats,
    Reindex,
}

impl Ask {
    pub(crate) const ALL: [Ask; 7] = [
        Ask::Search,
        Ask::FindUsages,
        Ask::FindSimilar,
        Ask::Context,
        Ask::Health,
        Ask::Stats,
        Ask::Reindex,
    ];

    fn name(self) -> &'static str {
        match self {
            Ask::Search => "search",
            Ask::FindUsages => "findUsages",
            Ask::FindSimilar => "findSimilar",
            Ask::Context => "context",
            Ask::Health => "health",
            Ask::Stats => "stats",
            Ask::Reindex => "reindex",
        }
    }

    /// `dowse.search`: the command's name.
    pub(crate) fn command(self) -> String {
        format!("dowse.{}", self.name())
    }

    /// `dowse/search`: the request's method.
    pub(crate) fn method(self) -> String {
        format!("dowse/{}", self.name())
    }
}

pub(crate) async fn execute(
    backend: &Arc<Backend>,
    params: ExecuteCommandParams,
) -> Result<Option<Value>> {
    let args = params.arguments;
    let command = params.command.as_str();
    // For the end-to-end tests only: proves a panic is an error response.
    if command == "dowse.debugPanic" && std::env::var_os("DOWSE_TEST_HOOKS").is_some() {
        return backend
            .blocking(
                |_| -> std::result::Result<Value, dowse_engine::EngineError> {
                    panic!("dowse.debugPanic was called")
                },
            )
            .await
            .map(Some);
    }
    let Some(ask) = Ask::ALL.into_iter().find(|a| a.command() == command) else {
        return Err(Error::invalid_params(format!(
            "unknown command `{command}`; dowse knows {}",
            COMMANDS.join(", ")
        )));
    };
    let name = ask.command();
    let map = match (ask, args.as_slice()) {
        (_, []) => serde_json::Map::new(),
        (_, [Value::Object(map)]) => map.clone(),
        // A bare string: the query of a search, the symbol of usages.
        (Ask::Search, [Value::String(q)]) => {
            serde_json::Map::from_iter([("query".to_owned(), Value::String(q.clone()))])
        }
        (Ask::FindUsages, [Value::String(s)]) => {
            serde_json::Map::from_iter([("symbol".to_owned(), Value::String(s.clone()))])
        }
        _ => {
            return Err(Error::invalid_params(format!(
                "{name} takes one argument, {}",
                expected(ask)
            )));
        }
    };
    answer(backend, ask, &name, &map).await.map(Some)
}

/// A `dowse/*` request: `params` is the one argument object (or nothing,
/// for the requests that take none).
pub(crate) async fn request(backend: &Arc<Backend>, ask: Ask, params: Value) -> Result<Value> {
    let name = ask.method();
    let map = match params {
        Value::Null => serde_json::Map::new(),
        Value::Object(map) => map,
        _ => {
            return Err(Error::invalid_params(format!(
                "{name} takes an object, {}",
                expected(ask)
            )));
        }
    };
    answer(backend, ask, &name, &map).await
}

fn expected(ask: Ask) -> &'static str {
    match ask {
        Ask::Search => SEARCH_ARGS,
        Ask::FindUsages => USAGES_ARGS,
        Ask::FindSimilar => SIMILAR_ARGS,
        Ask::Context => CONTEXT_ARGS,
        Ask::Health | Ask::Stats | Ask::Reindex => "no arguments",
    }
}

async fn answer(
    backend: &Arc<Backend>,
    ask: Ask,
    name: &str,
    map: &serde_json::Map<String, Value>,
) -> Result<Value> {
    let encoding = backend.encoding();
    let to_value = |v: std::result::Result<Value, serde_json::Error>| {
        v.map_err(|e| internal(format!("{name}: {e}")))
    };
    match ask {
        Ask::Search => {
            let request = search_request(map, name)?;
            let response = backend.blocking(move |host| host.search(&request)).await?;
            to_value(serde_json::to_value(protocol::search(&response, encoding)))
        }
        Ask::FindUsages => {
            let query = match string_field(map, "symbol", name, USAGES_ARGS)? {
                Some(symbol) => UsagesQuery::Symbol(symbol),
                None => {
                    let (path, line, column) = position_query(backend, map, name, USAGES_ARGS)?;
                    UsagesQuery::Position { path, line, column }
                }
            };
            let response = backend.blocking(move |host| host.usages(&query)).await?;
            to_value(serde_json::to_value(protocol::usages(&response, encoding)))
        }
        Ask::FindSimilar => {
            let (path, line, _) = position_query(backend, map, name, SIMILAR_ARGS)?;
            let limit = limit_field(map, name, SearchRequest::DEFAULT_LIMIT)?;
            let response = backend
                .blocking(move |host| host.similar(&path, line, limit))
                .await?;
            to_value(serde_json::to_value(protocol::similar(&response, encoding)))
        }
        Ask::Context => {
            let query = string_field(map, "query", name, CONTEXT_ARGS)?.ok_or_else(|| {
                Error::invalid_params(format!(
                    "{name}: `query` is missing; expected {CONTEXT_ARGS}"
                ))
            })?;
            let budget = match map.get("maxTokens") {
                None | Some(Value::Null) => 4000,
                Some(v) => v.as_u64().ok_or_else(|| {
                    Error::invalid_params(format!("{name}: `maxTokens` must be a number of tokens"))
                })? as usize,
            };
            let response = backend
                .blocking(move |host| host.context(&query, budget))
                .await?;
            Ok(protocol::context(&response))
        }
        Ask::Health => {
            let health = backend.blocking(|host| Ok(host.health())).await?;
            to_value(serde_json::to_value(health)).map(protocol::camel_case)
        }
        Ask::Stats => {
            let stats = backend.blocking(|host| Ok(host.stats())).await?;
            to_value(serde_json::to_value(stats)).map(protocol::camel_case)
        }
        Ask::Reindex => reindex(backend).await,
    }
}

fn string_field(
    map: &serde_json::Map<String, Value>,
    key: &str,
    command: &str,
    expected: &str,
) -> Result<Option<String>> {
    match map.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(Error::invalid_params(format!(
            "{command}: `{key}` must be a string; expected {expected}"
        ))),
    }
}

fn limit_field(
    map: &serde_json::Map<String, Value>,
    command: &str,
    default: usize,
) -> Result<usize> {
    match map.get("limit") {
        None | Some(Value::Null) => Ok(default),
        Some(v) => match v.as_u64() {
            Some(n) if n >= 1 && n as usize <= SearchRequest::MAX_LIMIT => Ok(n as usize),
            _ => Err(Error::invalid_params(format!(
                "{command}: `limit` must be a whole number from 1 to {}, not {v}",
                SearchRequest::MAX_LIMIT
            ))),
        },
    }
}

const SEARCH_ARGS: &str = "{\"query\": string, \"limit\"?: number, \"mode\"?: \"hybrid\"|\"lexical\"|\"semantic\", \"pathPrefix\"?: string}";

fn search_request(map: &serde_json::Map<String, Value>, command: &str) -> Result<SearchRequest> {
    let query = string_field(map, "query", command, SEARCH_ARGS)?.ok_or_else(|| {
        Error::invalid_params(format!(
            "{command}: `query` is missing; expected {SEARCH_ARGS}"
        ))
    })?;
    let mode = match string_field(map, "mode", command, SEARCH_ARGS)?.as_deref() {
        None | Some("hybrid") => SearchMode::Hybrid,
        Some("lexical") => SearchMode::Lexical,
        Some("semantic") => SearchMode::Semantic,
        Some(other) => {
            return Err(Error::invalid_params(format!(
                "{command}: unknown mode `{other}`; use hybrid, lexical or semantic"
            )));
        }
    };
    Ok(SearchRequest {
        query,
        mode,
        limit: limit_field(map, command, SearchRequest::DEFAULT_LIMIT)?,
        path_prefix: string_field(map, "pathPrefix", command, SEARCH_ARGS)?,
    })
}

const USAGES_ARGS: &str =
    "{\"symbol\": string} or {\"uri\": string, \"position\": {\"line\", \"character\"}}";

/// A position argument as the file's path and the engine's 1-based line
/// and column, read from the open buffer when there is one.
fn position_query(
    backend: &Backend,
    map: &serde_json::Map<String, Value>,
    command: &str,
    expected: &str,
) -> Result<(String, u32, u32)> {
    let uri: Uri = string_field(map, "uri", command, expected)?
        .ok_or_else(|| {
            Error::invalid_params(format!("{command}: `uri` is missing; expected {expected}"))
        })?
        .parse()
        .map_err(|_| Error::invalid_params(format!("{command}: `uri` is not a URI")))?;
    let position: Position = map
        .get("position")
        .and_then(|p| serde_json::from_value(p.clone()).ok())
        .ok_or_else(|| {
            Error::invalid_params(format!(
                "{command}: `position` must be {{\"line\", \"character\"}}"
            ))
        })?;
    position_in(backend, &uri, position).ok_or_else(|| {
        Error::invalid_params(format!(
            "{command}: `{}` is not a file of the workspace",
            uri.as_str()
        ))
    })
}

/// The path, line and column (1-based, in characters) of an LSP position.
fn position_in(backend: &Backend, uri: &Uri, position: Position) -> Option<(String, u32, u32)> {
    let path = Backend::path_of(uri)?;
    let encoding = backend.encoding();
    let (line, column) = {
        let docs = backend.docs.lock().expect("docs lock");
        match docs.get(uri) {
            Some(doc) => text::line_column(&doc.text, position, encoding),
            None => {
                let text = std::fs::read_to_string(&path).unwrap_or_default();
                text::line_column(&ropey::Rope::from_str(&text), position, encoding)
            }
        }
    };
    Some((path.to_string_lossy().into_owned(), line, column))
}

const SIMILAR_ARGS: &str =
    "{\"uri\": string, \"position\": {\"line\", \"character\"}, \"limit\"?: number}";

const CONTEXT_ARGS: &str = "{\"query\": string, \"maxTokens\"?: number}";

/// Reconciles every root with the disk and answers when committed (vectors
/// follow in the background, reported by `dowse/status`).
async fn reindex(backend: &Arc<Backend>) -> Result<Value> {
    let started = Instant::now();
    let report = backend
        .blocking(|host| {
            host.reindex()
                .recv()
                .map_err(|_| dowse_engine::EngineError::Cancelled)?
                .map_err(dowse_engine::EngineError::Semantic)
        })
        .await?;
    Ok(json!({
        "files": report.files,
        "chunks": report.chunks,
        "filesIndexed": report.files_indexed,
        "filesRemoved": report.files_removed,
        "seconds": started.elapsed().as_secs_f64(),
    }))
}

fn symbol_kind(kind: ChunkKind) -> SymbolKind {
    match kind {
        ChunkKind::Function => SymbolKind::FUNCTION,
        ChunkKind::Method => SymbolKind::METHOD,
        ChunkKind::Class => SymbolKind::CLASS,
        ChunkKind::Struct => SymbolKind::STRUCT,
        ChunkKind::Enum => SymbolKind::ENUM,
        ChunkKind::Trait => SymbolKind::INTERFACE,
        ChunkKind::Impl => SymbolKind::OBJECT,
        ChunkKind::Module => SymbolKind::MODULE,
        ChunkKind::Macro => SymbolKind::FUNCTION,
        ChunkKind::Text => SymbolKind::FILE,
    }
}

/// A short name for a chunk in a symbol list: its symbol, else its kind and
/// first line (`module L12`). Pickers show the path in a column of its
/// own; a long name would push that column out of view.
fn symbol_name(result: &SearchResult) -> String {
    match &result.symbol {
        Some(symbol) => symbol.clone(),
        None => format!("{} L{}", result.kind, result.start_line),
    }
}

/// Symbol names and natural-language queries alike, from hybrid search.
pub(crate) async fn workspace_symbol(
    backend: &Arc<Backend>,
    query: String,
) -> Result<Option<WorkspaceSymbolResponse>> {
    if query.trim().is_empty() {
        return Ok(Some(WorkspaceSymbolResponse::Flat(Vec::new())));
    }
    let request = SearchRequest {
        limit: 50,
        ..SearchRequest::new(query)
    };
    let response = backend.blocking(move |host| host.search(&request)).await?;
    #[allow(deprecated)]
    let symbols = response
        .results
        .iter()
        .filter_map(|r| {
            let uri = Backend::uri_of(&r.root, &r.path)?;
            Some(SymbolInformation {
                name: symbol_name(r),
                kind: symbol_kind(r.kind),
                tags: None,
                deprecated: None,
                location: Location::new(
                    uri,
                    Range::new(
                        Position::new(r.start_line.saturating_sub(1), 0),
                        Position::new(r.end_line, 0),
                    ),
                ),
                container_name: (!r.enclosing.is_empty()).then(|| r.enclosing.join(" > ")),
            })
        })
        .collect();
    Ok(Some(WorkspaceSymbolResponse::Flat(symbols)))
}

pub(crate) async fn references(
    backend: &Arc<Backend>,
    params: ReferenceParams,
) -> Result<Option<Vec<Location>>> {
    let position = params.text_document_position;
    let uri = position.text_document.uri;
    let Some((path, line, column)) = position_in(backend, &uri, position.position) else {
        return Ok(None);
    };
    let query = UsagesQuery::Position { path, line, column };
    let response = match backend.blocking(move |host| host.usages(&query)).await {
        Ok(response) => response,
        // No identifier there: no references, not an error.
        Err(err) if err.code == tower_lsp_server::jsonrpc::ErrorCode::InvalidParams => {
            return Ok(None);
        }
        Err(err) => return Err(err),
    };
    let encoding = backend.encoding();
    let mut list: Vec<&UsageLocation> = Vec::new();
    if params.context.include_declaration {
        list.extend(&response.definitions);
    }
    list.extend(&response.references);
    let locations = list
        .into_iter()
        .filter_map(|u| {
            Some(Location::new(
                Backend::uri_of(&u.root, &u.path)?,
                text::range(u.line, u.column, u.length, &u.context, encoding),
            ))
        })
        .collect();
    Ok(Some(locations))
}
