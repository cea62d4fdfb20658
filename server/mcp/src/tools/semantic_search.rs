//! `semantic_search`: hybrid (keywords and meaning), lexical or semantic
//! search over every root, optionally under a path.

use dowse_engine::SearchResponse;
use dowse_host::{SearchAsked, Spelling};
use rmcp::model::{CallToolResult, JsonObject};
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{Value, json};

use super::{Count, DowseTools, answer, arguments, count, failure, schema};

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
    #[schemars(with = "Option<u32>")]
    limit: Option<Count>,
    /// Only results in files under this path, relative to the workspace
    /// root (e.g. `src/net`), or in this one file (`src/net/client.py`):
    /// then every match of it, none folded.
    path_prefix: Option<String>,
    /// Only results in files of these languages, e.g. `["typescript"]`
    /// (names as results report them: rust, python, typescript, tsx,
    /// javascript, go, java, c, cpp, csharp, ruby, php, kotlin, swift, scala,
    /// bash, lua, markdown, text, ...).
    lang: Option<Vec<String>>,
    /// `local` (the default: this workspace, with unsaved editor buffers),
    /// `team` (the team index other repositories are published to) or
    /// `all` (both; this workspace's own files from this workspace).
    scope: Option<String>,
}

const EXPECTED: &str = "{\"query\": string, \"mode\"?: \"hybrid\"|\"lexical\"|\"semantic\", \"limit\"?: 1-100, \"path_prefix\"?: string, \"lang\"?: [string], \"scope\"?: \"local\"|\"team\"|\"all\"}";

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
            "snippet_line": {"type": "integer", "description": "1-based line of the snippet's first line"},
            "more_in_file": {"type": "integer", "description": "further matches in this file, folded away to show other places (on the file's first result only; path_prefix set to the file lists them)"},
            "repo": {"type": "string", "description": "the repository of a team index result (scope team or all); its root is empty and its snippet the published one"}
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
    // Checked as every front end's search is, the prefix confined to the
    // workspace (on the blocking pool: it looks at the disk).
    let searched = tools
        .read(move |host| {
            let languages = args.lang.unwrap_or_default();
            let request = host.search_request(
                SearchAsked {
                    query: Some(args.query),
                    mode: args.mode.as_deref(),
                    limit: count(args.limit),
                    path_prefix: args.path_prefix.as_deref(),
                    languages: &languages,
                    scope: args.scope.as_deref(),
                },
                Spelling::Snake,
            )?;
            host.search(&request)
        })
        .await;
    match searched {
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
