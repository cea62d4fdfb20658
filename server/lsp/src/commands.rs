//! The editor protocol's requests (`dowse/*`) and commands (`dowse.*`),
//! `workspace/symbol` and `textDocument/references`: the host's answers in
//! the shapes of [`protocol`].

use std::sync::Arc;
use std::time::Instant;

use dowse_engine::{ChunkKind, SearchRequest, SearchResult, UsageLocation, UsagesQuery};
use dowse_host::{SearchAsked, Spelling, requests};
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
    let with_name = |err: Error| Error {
        message: format!("{name}: {}", err.message).into(),
        ..err
    };
    match ask {
        Ask::Search => {
            let query = string_field(map, "query", name, SEARCH_ARGS)?;
            let mode = string_field(map, "mode", name, SEARCH_ARGS)?;
            let limit = number_field(map, "limit", name, SEARCH_ARGS)?;
            let prefix = string_field(map, "pathPrefix", name, SEARCH_ARGS)?;
            let languages = languages_field(map, name)?;
            let scope = string_field(map, "scope", name, SEARCH_ARGS)?;
            let response = backend
                .blocking(move |host| {
                    let request = host.search_request(
                        SearchAsked {
                            query,
                            mode: mode.as_deref(),
                            limit,
                            path_prefix: prefix.as_deref(),
                            languages: &languages,
                            scope: scope.as_deref(),
                        },
                        Spelling::Camel,
                    )?;
                    host.search(&request)
                })
                .await
                .map_err(with_name)?;
            to_value(serde_json::to_value(protocol::search(&response, encoding)))
        }
        Ask::FindUsages => {
            let query = match string_field(map, "symbol", name, USAGES_ARGS)? {
                Some(symbol) => Target::Symbol(symbol),
                None => Target::Position(position_arg(backend, map, name, USAGES_ARGS)?),
            };
            let response = backend
                .blocking(move |host| {
                    let query = match query {
                        Target::Symbol(symbol) if !symbol.trim().is_empty() => {
                            UsagesQuery::Symbol(symbol)
                        }
                        Target::Symbol(_) => return Err(dowse_engine::EngineError::EmptyQuery),
                        Target::Position(at) => at.query(host, encoding)?,
                    };
                    host.usages(&query)
                })
                .await
                .map_err(with_name)?;
            to_value(serde_json::to_value(protocol::usages(&response, encoding)))
        }
        Ask::FindSimilar => {
            let at = position_arg(backend, map, name, SIMILAR_ARGS)?;
            let limit = number_field(map, "limit", name, SIMILAR_ARGS)?;
            let response = backend
                .blocking(move |host| {
                    let limit = requests::result_limit(limit)?;
                    let UsagesQuery::Position { path, line, .. } = at.query(host, encoding)? else {
                        unreachable!("a position asks by position");
                    };
                    host.similar(&path, line, limit)
                })
                .await
                .map_err(with_name)?;
            to_value(serde_json::to_value(protocol::similar(&response, encoding)))
        }
        Ask::Context => {
            let query = string_field(map, "query", name, CONTEXT_ARGS)?;
            let budget = number_field(map, "maxTokens", name, CONTEXT_ARGS)?;
            let response = backend
                .blocking(move |host| {
                    let query = requests::query(query)?;
                    let budget = requests::context_budget(budget, Spelling::Camel)?;
                    host.context(&query, budget)
                })
                .await
                .map_err(with_name)?;
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

/// What usages are asked of.
enum Target {
    Symbol(String),
    Position(PositionArg),
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

/// A whole number (or a number in a string); its range is the host's to
/// check, the same for every front end.
fn number_field(
    map: &serde_json::Map<String, Value>,
    key: &str,
    command: &str,
    expected: &str,
) -> Result<Option<u64>> {
    match map.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => requests::whole_number(v).map(Some).ok_or_else(|| {
            Error::invalid_params(format!(
                "{command}: `{key}` must be a whole number, not {v}; expected {expected}"
            ))
        }),
    }
}

const SEARCH_ARGS: &str = "{\"query\": string, \"limit\"?: number, \"mode\"?: \"hybrid\"|\"lexical\"|\"semantic\", \"pathPrefix\"?: string, \"lang\"?: string | string[], \"scope\"?: \"local\"|\"team\"|\"all\"}";

/// `lang`: one language name or a list of them.
fn languages_field(map: &serde_json::Map<String, Value>, command: &str) -> Result<Vec<String>> {
    match map.get("lang") {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::String(one)) => Ok(vec![one.clone()]),
        Some(Value::Array(list)) => list
            .iter()
            .map(|v| v.as_str().map(str::to_owned))
            .collect::<Option<Vec<_>>>()
            .ok_or_else(|| {
                Error::invalid_params(format!(
                    "{command}: `lang` must be a language name or a list of them; expected {SEARCH_ARGS}"
                ))
            }),
        Some(_) => Err(Error::invalid_params(format!(
            "{command}: `lang` must be a language name or a list of them; expected {SEARCH_ARGS}"
        ))),
    }
}

const USAGES_ARGS: &str =
    "{\"symbol\": string} or {\"uri\": string, \"position\": {\"line\", \"character\"}}";

/// A position in a document, as the editor gave it: converted to the
/// engine's line and column on the blocking pool, after the path is
/// confined to the workspace (an unopened file is read from disk there,
/// never on the async threads and never outside the workspace).
pub(crate) struct PositionArg {
    path: String,
    position: Position,
    /// The open buffer's text, when the document is open.
    open: Option<ropey::Rope>,
}

impl PositionArg {
    fn new(backend: &Backend, uri: &Uri, position: Position) -> Option<PositionArg> {
        let path = Backend::path_of(uri)?;
        let open = backend
            .docs
            .lock()
            .expect("docs lock")
            .get(uri)
            .map(|doc| doc.text.clone());
        Some(PositionArg {
            path: path.to_string_lossy().into_owned(),
            position,
            open,
        })
    }

    /// The usages query at this position (blocking: may read the file).
    fn query(
        self,
        host: &dowse_host::Host,
        encoding: text::Encoding,
    ) -> std::result::Result<UsagesQuery, dowse_engine::EngineError> {
        let (root, rel) = host.resolve(&self.path)?;
        let file = root.path.join(&rel);
        let text = match self.open {
            Some(text) => text,
            None => {
                if !file.is_file() {
                    return Err(dowse_engine::EngineError::InvalidInput(format!(
                        "`{}` is not a file of the workspace",
                        self.path
                    )));
                }
                let text = std::fs::read_to_string(&file).map_err(|e| {
                    dowse_engine::EngineError::InvalidInput(format!("`{}`: {e}", self.path))
                })?;
                ropey::Rope::from_str(&text)
            }
        };
        let (line, column) = text::line_column(&text, self.position, encoding);
        Ok(UsagesQuery::Position {
            path: file.to_string_lossy().into_owned(),
            line,
            column,
        })
    }
}

/// A position argument (`uri`, `position`), not yet converted.
fn position_arg(
    backend: &Backend,
    map: &serde_json::Map<String, Value>,
    command: &str,
    expected: &str,
) -> Result<PositionArg> {
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
    PositionArg::new(backend, &uri, position).ok_or_else(|| {
        Error::invalid_params(format!(
            "{command}: `{}` is not a file of the workspace",
            uri.as_str()
        ))
    })
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
        ChunkKind::Interface => SymbolKind::INTERFACE,
        ChunkKind::TypeAlias => SymbolKind::TYPE_PARAMETER,
        ChunkKind::Constant => SymbolKind::CONSTANT,
        ChunkKind::Section => SymbolKind::STRING,
        ChunkKind::Text => SymbolKind::FILE,
    }
}

/// A short name for a chunk in a symbol list (see [`symbol_label`]). Pickers
/// show the path in a column of their own; a long name would push that
/// column out of view for as long as the row is listed.
fn symbol_name(result: &SearchResult) -> String {
    dowse_engine::symbol_label(result.kind, result.symbol.as_deref(), result.start_line)
}

/// Rows a `workspace/symbol` answer holds at most.
const WORKSPACE_SYMBOL_LIMIT: usize = 50;

/// Symbol names and natural-language queries alike, from hybrid search.
pub(crate) async fn workspace_symbol(
    backend: &Arc<Backend>,
    query: String,
) -> Result<Option<WorkspaceSymbolResponse>> {
    if query.trim().is_empty() {
        return Ok(Some(WorkspaceSymbolResponse::Flat(Vec::new())));
    }
    // A picker shows a screenful: 50 rows fill any, and cost little more
    // than 10 (the search's candidates are the top 50 anyway).
    let request = SearchRequest {
        limit: WORKSPACE_SYMBOL_LIMIT,
        ..SearchRequest::new(query)
    };
    let response = backend.blocking(move |host| host.search(&request)).await?;
    let encoding = backend.encoding();
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
                // The name, so that a picker lands on it and selects it, not
                // the doc comment and the whole body; the chunk when the
                // name cannot be found in it.
                location: Location::new(
                    uri,
                    match &r.name {
                        Some(name) => crate::text::range(
                            name.line,
                            name.bytes.start as u32 + 1,
                            name.bytes.len() as u32,
                            &name.line_text,
                            encoding,
                        ),
                        None => Range::new(
                            Position::new(r.start_line.saturating_sub(1), 0),
                            Position::new(r.end_line, 0),
                        ),
                    },
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
    let Some(at) = PositionArg::new(backend, &uri, position.position) else {
        return Ok(None);
    };
    let encoding = backend.encoding();
    let response = match backend
        .blocking(move |host| host.usages(&at.query(host, encoding)?))
        .await
    {
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
