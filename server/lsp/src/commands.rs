//! `workspace/executeCommand`, `workspace/symbol` and
//! `textDocument/references`: the host's answers in the shapes of DESIGN.md
//! §3, each location also carrying `uri` and an LSP `range`.

use std::sync::Arc;
use std::time::Instant;

use dowse_engine::{SearchMode, SearchRequest, SearchResult, UsageLocation, UsagesQuery};
use serde_json::{Value, json};
use tower_lsp_server::jsonrpc::{Error, Result};
use tower_lsp_server::ls_types::*;

use crate::text::{self, Encoding};
use crate::{Backend, COMMANDS};
use dowse_engine::ChunkKind;

pub(crate) async fn execute(
    backend: &Arc<Backend>,
    params: ExecuteCommandParams,
) -> Result<Option<Value>> {
    let args = params.arguments;
    let value = match params.command.as_str() {
        "dowse.search" => search(backend, &args).await?,
        "dowse.findUsages" => find_usages(backend, &args).await?,
        "dowse.findSimilar" => find_similar(backend, &args).await?,
        "dowse.context" => context(backend, &args).await?,
        "dowse.health" => health(backend).await?,
        "dowse.stats" => stats(backend).await?,
        "dowse.reindex" => reindex(backend).await?,
        // For the end-to-end tests only: proves a panic is an error response.
        "dowse.debugPanic" if std::env::var_os("DOWSE_TEST_HOOKS").is_some() => {
            backend
                .blocking(
                    |_| -> std::result::Result<Value, dowse_engine::EngineError> {
                        panic!("dowse.debugPanic was called")
                    },
                )
                .await?
        }
        other => {
            return Err(Error::invalid_params(format!(
                "unknown command `{other}`; dowse knows {}",
                COMMANDS.join(", ")
            )));
        }
    };
    Ok(Some(value))
}

/// The single object argument of a command (a bare string is taken as
/// `{"query": ...}` / `{"symbol": ...}`).
fn object_arg<'a>(
    args: &'a [Value],
    command: &str,
    expected: &str,
) -> Result<&'a serde_json::Map<String, Value>> {
    match args.first() {
        Some(Value::Object(map)) if args.len() == 1 => Ok(map),
        _ => Err(Error::invalid_params(format!(
            "{command} takes one argument, {expected}"
        ))),
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

const SEARCH_ARGS: &str =
    "{\"query\": string, \"limit\"?: number, \"mode\"?: \"hybrid\"|\"lexical\"|\"semantic\"}";

fn search_request(args: &[Value], command: &str) -> Result<SearchRequest> {
    let query_only;
    let map = match args.first() {
        Some(Value::String(q)) if args.len() == 1 => {
            query_only =
                serde_json::Map::from_iter([("query".to_owned(), Value::String(q.clone()))]);
            &query_only
        }
        _ => object_arg(args, command, SEARCH_ARGS)?,
    };
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

/// A search result as JSON, with `uri` and `range` (the chunk's lines).
fn result_json(result: &SearchResult) -> Value {
    let mut value = serde_json::to_value(result).unwrap_or(Value::Null);
    if let Some(uri) = Backend::uri_of(&result.root, &result.path) {
        value["uri"] = json!(uri.as_str());
    }
    value["range"] = json!(Range::new(
        Position::new(result.start_line.saturating_sub(1), 0),
        Position::new(result.end_line, 0)
    ));
    value
}

async fn search(backend: &Arc<Backend>, args: &[Value]) -> Result<Value> {
    let request = search_request(args, "dowse.search")?;
    let response = backend.blocking(move |host| host.search(&request)).await?;
    let results: Vec<Value> = response.results.iter().map(result_json).collect();
    let mut value = serde_json::to_value(&response).unwrap_or(Value::Null);
    value["results"] = Value::Array(results);
    Ok(value)
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

fn location_json(u: &UsageLocation, encoding: Encoding) -> Value {
    let mut value = serde_json::to_value(u).unwrap_or(Value::Null);
    if let Some(uri) = Backend::uri_of(&u.root, &u.path) {
        value["uri"] = json!(uri.as_str());
    }
    value["range"] = json!(text::range(
        u.line, u.column, u.length, &u.context, encoding
    ));
    value
}

async fn find_usages(backend: &Arc<Backend>, args: &[Value]) -> Result<Value> {
    let map = match args.first() {
        Some(Value::String(s)) if args.len() == 1 => {
            serde_json::Map::from_iter([("symbol".to_owned(), Value::String(s.clone()))])
        }
        _ => object_arg(args, "dowse.findUsages", USAGES_ARGS)?.clone(),
    };
    let query = match string_field(&map, "symbol", "dowse.findUsages", USAGES_ARGS)? {
        Some(symbol) => UsagesQuery::Symbol(symbol),
        None => {
            let (path, line, column) =
                position_query(backend, &map, "dowse.findUsages", USAGES_ARGS)?;
            UsagesQuery::Position { path, line, column }
        }
    };
    let response = backend.blocking(move |host| host.usages(&query)).await?;
    let encoding = backend.encoding();
    Ok(json!({
        "symbol": response.symbol,
        "definitions": response.definitions.iter().map(|u| location_json(u, encoding)).collect::<Vec<_>>(),
        "references": response.references.iter().map(|u| location_json(u, encoding)).collect::<Vec<_>>(),
    }))
}

const SIMILAR_ARGS: &str =
    "{\"uri\": string, \"position\": {\"line\", \"character\"}, \"limit\"?: number}";

async fn find_similar(backend: &Arc<Backend>, args: &[Value]) -> Result<Value> {
    let map = object_arg(args, "dowse.findSimilar", SIMILAR_ARGS)?.clone();
    let (path, line, _) = position_query(backend, &map, "dowse.findSimilar", SIMILAR_ARGS)?;
    let limit = limit_field(&map, "dowse.findSimilar", SearchRequest::DEFAULT_LIMIT)?;
    let response = backend
        .blocking(move |host| host.similar(&path, line, limit))
        .await?;
    let mut value = serde_json::to_value(&response).unwrap_or(Value::Null);
    value["source"] = result_json(&response.source);
    value["results"] = Value::Array(response.results.iter().map(result_json).collect());
    Ok(value)
}

const CONTEXT_ARGS: &str = "{\"query\": string, \"maxTokens\"?: number}";

/// The best chunks for a query, whole, merged where they touch, within a
/// token budget (the engine's context).
async fn context(backend: &Arc<Backend>, args: &[Value]) -> Result<Value> {
    let map = object_arg(args, "dowse.context", CONTEXT_ARGS)?.clone();
    let query = string_field(&map, "query", "dowse.context", CONTEXT_ARGS)?.ok_or_else(|| {
        Error::invalid_params(format!(
            "dowse.context: `query` is missing; expected {CONTEXT_ARGS}"
        ))
    })?;
    let budget = match map.get("maxTokens").or_else(|| map.get("max_tokens")) {
        None | Some(Value::Null) => 4000,
        Some(v) => v.as_u64().ok_or_else(|| {
            Error::invalid_params("dowse.context: `maxTokens` must be a number of tokens")
        })? as usize,
    };
    let response = backend
        .blocking(move |host| host.context(&query, budget))
        .await?;
    let mut value = serde_json::to_value(&response).unwrap_or(Value::Null);
    if let Some(chunks) = value["chunks"].as_array_mut() {
        for chunk in chunks {
            let (root, path) = (
                chunk["root"].as_str().unwrap_or_default().to_owned(),
                chunk["path"].as_str().unwrap_or_default().to_owned(),
            );
            if let Some(uri) = Backend::uri_of(&root, &path) {
                chunk["uri"] = json!(uri.as_str());
            }
        }
    }
    Ok(value)
}

async fn health(backend: &Arc<Backend>) -> Result<Value> {
    let health = backend.blocking(|host| Ok(host.health())).await?;
    Ok(serde_json::to_value(health).unwrap_or(Value::Null))
}

async fn stats(backend: &Arc<Backend>) -> Result<Value> {
    let stats = backend.blocking(|host| Ok(host.stats())).await?;
    Ok(serde_json::to_value(stats).unwrap_or(Value::Null))
}

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
