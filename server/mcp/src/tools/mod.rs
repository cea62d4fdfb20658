//! The tools, one file each, and the one table that routes to them.
//!
//! Every tool reads the workspace host the process shares with its editor
//! front end (unsaved edits included), answers with readable text (path:line
//! headers, code) and with `structuredContent` in the shape of the CLI's
//! `--json` output, described by its `outputSchema`. Failures an agent can
//! fix (a bad argument, a path outside the workspace, an empty query) are
//! tool errors (`isError`) whose message says what to do; arguments are
//! checked here rather than by the protocol layer for that reason.

mod build_index;
mod find_similar_code;
mod find_usages;
mod get_code_context;
mod health_check;
mod semantic_search;

use dowse_host::Host;
use rmcp::handler::server::router::tool::ToolRouter;
use rmcp::handler::server::wrapper::Parameters;
use rmcp::model::{
    CallToolResult, ContentBlock, Implementation, JsonObject, ServerCapabilities, ServerConfig,
};
use rmcp::service::RequestContext;
use rmcp::{RoleServer, ServerHandler, tool, tool_handler, tool_router};
use serde_json::Value;

/// How long a tool waits for the first index of the workspace.
const INDEX_WAIT: std::time::Duration = std::time::Duration::from_secs(120);

/// Tool calls that run at once, process-wide: one per core. More buy no
/// speed (a search is CPU work) and each costs memory while it runs and
/// after: every extra thread allocating at the same time grows another
/// malloc arena, which keeps its peak. Under the benchmark's 64 clients,
/// the 32 request slots ran 32 searches at once on two cores: the server's
/// private memory grew 55 MB over the load on the CPython stdlib (+13% of
/// its resident memory), 28 MB with one turn per core. Calls over the limit
/// wait their turn in order; a turn ends when the work does, even if the
/// client has gone.
static RUNNING: std::sync::LazyLock<tokio::sync::Semaphore> = std::sync::LazyLock::new(|| {
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    tokio::sync::Semaphore::new(cores)
});

/// The MCP face of a workspace host.
#[derive(Clone)]
pub struct DowseTools {
    pub(crate) host: Host,
    tool_router: ToolRouter<DowseTools>,
}

impl DowseTools {
    pub fn new(host: Host) -> DowseTools {
        DowseTools {
            host,
            tool_router: Self::tool_router(),
        }
    }

    /// Runs a read of the host off the async runtime, one per core at a
    /// time ([`RUNNING`]).
    pub(crate) async fn read<T, F>(&self, f: F) -> Result<T, String>
    where
        T: Send + 'static,
        F: FnOnce(&Host) -> Result<T, dowse_engine::EngineError> + Send + 'static,
    {
        self.run(f, true).await
    }

    /// Runs a check of the host (health: small reads and a probe written
    /// to disk, waiting on the disk rather than computing) off the async
    /// runtime, beside the reads: it would hold a core's turn while waiting.
    pub(crate) async fn check<T, F>(&self, f: F) -> Result<T, String>
    where
        T: Send + 'static,
        F: FnOnce(&Host) -> Result<T, dowse_engine::EngineError> + Send + 'static,
    {
        self.run(f, false).await
    }

    async fn run<T, F>(&self, f: F, in_turn: bool) -> Result<T, String>
    where
        T: Send + 'static,
        F: FnOnce(&Host) -> Result<T, dowse_engine::EngineError> + Send + 'static,
    {
        // An agent's first question on a workspace never indexed before
        // waits for the first index rather than finding nothing.
        if !self.host.indexed(INDEX_WAIT).await {
            return Err(format!(
                "the workspace is still being indexed after {} s: try again in a moment",
                INDEX_WAIT.as_secs()
            ));
        }
        let host = self.host.clone();
        let turn = if in_turn {
            RUNNING.acquire().await.ok()
        } else {
            None
        };
        let work = move || {
            let _turn = turn;
            f(&host)
        };
        match tokio::task::spawn_blocking(work).await {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(err)) => Err(err.to_string()),
            Err(join) => {
                tracing::error!("an MCP tool panicked: {join}");
                Err("the tool failed inside dowse (a bug: see the server log)".to_owned())
            }
        }
    }
}

/// A tool's answer: readable text and the structured content.
pub(crate) fn answer(text: String, structured: Value) -> CallToolResult {
    let mut result = CallToolResult::success(vec![ContentBlock::text(text)]);
    result.structured_content = Some(structured);
    result
}

/// A tool error, with what to do about it.
pub(crate) fn failure(message: impl Into<String>) -> CallToolResult {
    CallToolResult::error(vec![ContentBlock::text(message.into())])
}

/// The arguments of a call as their struct, or a tool error naming what is
/// expected.
pub(crate) fn arguments<T: serde::de::DeserializeOwned>(
    args: JsonObject,
    expected: &str,
) -> Result<T, CallToolResult> {
    serde_json::from_value(Value::Object(args))
        .map_err(|e| failure(format!("invalid arguments: {e}; expected {expected}")))
}

/// A whole-number argument, sent as a number or as a number in a string
/// (`"limit": "3"`, as the MCP Inspector's command line sends every
/// argument); its range is the host's to check, as for every front end.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Count(pub(crate) u64);

impl<'de> serde::Deserialize<'de> for Count {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Count, D::Error> {
        let value = Value::deserialize(deserializer)?;
        dowse_host::requests::whole_number(&value)
            .map(Count)
            .ok_or_else(|| {
                serde::de::Error::custom(format!("expected a whole number, not {value}"))
            })
    }
}

/// The value of an optional count.
pub(crate) fn count(value: Option<Count>) -> Option<u64> {
    value.map(|c| c.0)
}

/// Search results as text: `path:start-end kind symbol (in enclosing)`,
/// then the best-matching lines in a fenced block.
pub(crate) fn render_results(results: &[dowse_engine::SearchResult]) -> String {
    let mut out = String::new();
    for r in results {
        let symbol = r.symbol.as_deref().unwrap_or("");
        let mut within = if r.enclosing.is_empty() {
            String::new()
        } else {
            format!(" (in {})", r.enclosing.join(" > "))
        };
        if r.more_in_file > 0 {
            within.push_str(&format!(" (+{} more in this file)", r.more_in_file));
        }
        out.push_str(&format!(
            "{}:{}-{} {} {symbol}{within}\n```{}\n{}\n```\n\n",
            r.path, r.start_line, r.end_line, r.kind, r.language, r.snippet
        ));
    }
    out
}

/// An output schema, as rmcp wants it.
pub(crate) fn schema(value: Value) -> std::sync::Arc<JsonObject> {
    match value {
        Value::Object(map) => std::sync::Arc::new(map),
        _ => unreachable!("schemas are objects"),
    }
}

#[tool_router(router = tool_router)]
impl DowseTools {
    #[tool(
        name = "semantic_search",
        description = "Search the workspace's code by meaning and by keywords. Ask the way a person would: a question (\"where do we retry failed uploads?\"), a description of what the code does, words, or an identifier (`parse_duration`, `Client::send`). Returns the best-matching functions, methods and classes with file paths, line ranges and the lines that matched. Unsaved editor changes are included.",
        input_schema = semantic_search::input_schema(),
        output_schema = semantic_search::output_schema(),
        annotations(read_only_hint = true, idempotent_hint = true, open_world_hint = false)
    )]
    async fn semantic_search(&self, Parameters(args): Parameters<JsonObject>) -> CallToolResult {
        semantic_search::call(self, args).await
    }

    #[tool(
        name = "find_usages",
        description = "Find where a symbol is defined and every place it is used, by syntax and scope rather than by text: comments and strings never count, a local variable named like a function is not that function. Give `symbol` (`parse`, `Headers.add`, `Client::send`) or a position: `file`, `line` and `column` (1-based) of a name in the code.",
        input_schema = find_usages::input_schema(),
        output_schema = find_usages::output_schema(),
        annotations(read_only_hint = true, idempotent_hint = true, open_world_hint = false)
    )]
    async fn find_usages(&self, Parameters(args): Parameters<JsonObject>) -> CallToolResult {
        find_usages::call(self, args).await
    }

    #[tool(
        name = "find_similar_code",
        description = "Find code similar in meaning to the function, method or class at `line` of `file`: other implementations of the same idea, near-duplicates, code to reuse or to change together.",
        input_schema = find_similar_code::input_schema(),
        output_schema = find_similar_code::output_schema(),
        annotations(read_only_hint = true, idempotent_hint = true, open_world_hint = false)
    )]
    async fn find_similar_code(&self, Parameters(args): Parameters<JsonObject>) -> CallToolResult {
        find_similar_code::call(self, args).await
    }

    #[tool(
        name = "get_code_context",
        description = "The code to read to answer a question about the workspace, packed into a token budget: the best-matching functions and classes, whole, with adjacent ones merged, until `max_tokens` (default 4000) are spent. Use it before changing or explaining code.",
        input_schema = get_code_context::input_schema(),
        output_schema = get_code_context::output_schema(),
        annotations(read_only_hint = true, idempotent_hint = true, open_world_hint = false)
    )]
    async fn get_code_context(&self, Parameters(args): Parameters<JsonObject>) -> CallToolResult {
        get_code_context::call(self, args).await
    }

    #[tool(
        name = "build_index",
        description = "Bring the index up to date with the files on disk now (it also updates itself as files change). Reports progress when the request carries a progress token; returns the counts and how much of the code can be searched by meaning.",
        input_schema = build_index::input_schema(),
        output_schema = build_index::output_schema(),
        annotations(read_only_hint = false, destructive_hint = false, idempotent_hint = true, open_world_hint = false)
    )]
    async fn build_index(
        &self,
        Parameters(args): Parameters<JsonObject>,
        context: RequestContext<RoleServer>,
    ) -> CallToolResult {
        build_index::call(self, args, context).await
    }

    #[tool(
        name = "health_check",
        description = "How healthy the index is: each component (keyword index, vectors, embedding model, usages, watcher, storage) with its status, a message and the latency of a real probe, and the overall status (healthy, degraded, unhealthy) with the reason.",
        input_schema = health_check::input_schema(),
        output_schema = health_check::output_schema(),
        annotations(read_only_hint = true, idempotent_hint = true, open_world_hint = false)
    )]
    async fn health_check(&self, Parameters(args): Parameters<JsonObject>) -> CallToolResult {
        health_check::call(self, args).await
    }
}

#[tool_handler(router = self.tool_router)]
impl ServerHandler for DowseTools {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(ServerCapabilities::builder().enable_tools().build())
            .with_server_info(Implementation::new("dowse", env!("CARGO_PKG_VERSION")))
            .with_instructions(
                "dowse searches the code of this workspace, as the editor has it (unsaved \
                 changes included). Start with semantic_search for a question or a name, \
                 get_code_context for the code to read before a change, find_usages before \
                 renaming or changing a signature, find_similar_code for code to reuse.",
            )
    }
}
