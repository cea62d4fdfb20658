//! `semantic_search`: hybrid (keywords and meaning), lexical or semantic
//! search over every root, optionally under a path.

use dowse_engine::{SearchMode, SearchRequest, SearchResponse};
use rmcp::model::{CallToolResult, JsonObject};
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{Value, json};

use super::{DowseTools, answer, arguments, failure, schema};

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct Args {
    /// What to look for: a question ("where do we retry failed uploads?"), a
    /// description of what the code does, words, or an identifier.
    query: String,
    /// `hybrid` (the default: meaning and keywords together), `lexical`
    /// (keywords only: exact names) or `semantic` (meaning only).
    mode: Option<String>,
    /// How many results to return, from 1 to 100 (default 10).
    limit: Option<u32>,
    /// Only results in files under this path, relative to the workspace
    /// root (e.g. `src/net`).
    path_prefix: Option<String>,
}

const EXPECTED: &str = "{\"query\": string, \"mode\"?: \"hybrid\"|\"lexical\"|\"semantic\", \"limit\"?: 1-100, \"path_prefix\"?: string}";

pub(crate) fn input_schema() -> std::sync::Arc<JsonObject> {
    rmcp::handler::server::common::schema_for_type::<Args>()
}

/// One search result, as `dowse search --json` has it.
pub(crate) fn result_schema() -> Value {
    json!({
        "type": "object",
        "properties": {
            "root": {"type": "string", "description": "the workspace root the file belongs to"},
            "path": {"type": "string", "description": "relative to the root"},
            "start_line": {"type": "integer", "description": "1-based"},
            "end_line": {"type": "integer", "description": "1-based, inclusive"},
            "symbol": {"type": "string"},
            "enclosing": {"type": "array", "items": {"type": "string"}},
            "kind": {"type": "string"},
            "language": {"type": "string"},
            "score": {"type": "number"},
            "snippet": {"type": "string", "description": "the lines that match best"},
            "snippet_line": {"type": "integer", "description": "1-based line of the snippet's first line"}
        },
        "required": ["root", "path", "start_line", "end_line", "kind", "language", "score", "snippet", "snippet_line"]
    })
}

pub(crate) fn output_schema() -> std::sync::Arc<JsonObject> {
    schema(json!({
        "type": "object",
        "properties": {
            "query": {"type": "string"},
            "mode": {"type": "string", "enum": ["hybrid", "lexical", "semantic"]},
            "degraded": {"type": "string", "description": "why the answer is less than the mode promises, and what to do"},
            "results": {"type": "array", "items": result_schema()}
        },
        "required": ["query", "mode", "results"]
    }))
}

pub(crate) async fn call(tools: &DowseTools, args: JsonObject) -> CallToolResult {
    let args: Args = match arguments(args, EXPECTED) {
        Ok(args) => args,
        Err(err) => return err,
    };
    let mode = match args
        .mode
        .as_deref()
        .map(str::parse::<SearchMode>)
        .transpose()
    {
        Ok(mode) => mode.unwrap_or_default(),
        Err(err) => return failure(err.to_string()),
    };
    let limit = args.limit.unwrap_or(10);
    if !(1..=100).contains(&limit) {
        return failure(format!("`limit` must be from 1 to 100, not {limit}"));
    }
    // The prefix is a path like any other: inside the workspace.
    let path_prefix = match args.path_prefix.filter(|p| !p.trim().is_empty()) {
        None => None,
        Some(prefix) => match tools.host.resolve(&prefix) {
            Ok((_, rel)) => Some(rel),
            Err(err) => return failure(err.to_string()),
        },
    };
    let request = SearchRequest {
        query: args.query,
        mode,
        limit: limit as usize,
        path_prefix,
    };
    match tools.read(move |host| host.search(&request)).await {
        Ok(response) => answer(
            render(&response),
            serde_json::to_value(&response).unwrap_or_default(),
        ),
        Err(err) => failure(err),
    }
}

/// Readable results: a `path:start-end` header per result, then its best
/// lines.
pub(crate) fn render(response: &SearchResponse) -> String {
    let mut out = String::new();
    if let Some(degraded) = &response.degraded {
        out.push_str(&format!("note: {degraded}\n\n"));
    }
    if response.results.is_empty() {
        out.push_str(&format!("nothing matches `{}`\n", response.query));
    }
    out.push_str(&super::render_results(&response.results));
    out
}
