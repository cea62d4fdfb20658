//! `find_similar_code`: the chunks nearest in meaning to the one at a line.

use dowse_engine::SimilarResponse;
use rmcp::model::{CallToolResult, JsonObject};
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::json;

use dowse_host::requests;

use super::{Count, DowseTools, answer, arguments, count, failure, schema, semantic_search};

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct Args {
    /// The file, relative to the workspace root (or absolute inside it).
    file: String,
    /// A 1-based line inside the function, method or class to compare.
    #[schemars(with = "u32")]
    line: Count,
    /// How many results to return, from 1 to 100 (default 10).
    #[schemars(with = "Option<u32>")]
    limit: Option<Count>,
}

const EXPECTED: &str = "{\"file\": string, \"line\": number (1-based), \"limit\"?: 1-100}";

pub(crate) fn input_schema() -> std::sync::Arc<JsonObject> {
    rmcp::handler::server::common::schema_for_type::<Args>()
}

pub(crate) fn output_schema() -> std::sync::Arc<JsonObject> {
    schema(json!({
        "type": "object",
        "properties": {
            "source": semantic_search::result_schema(),
            "degraded": {"type": "string"},
            "results": {"type": "array", "items": semantic_search::result_schema()}
        },
        "required": ["source", "results"]
    }))
}

pub(crate) async fn call(tools: &DowseTools, args: JsonObject) -> CallToolResult {
    let args: Args = match arguments(args, EXPECTED) {
        Ok(args) => args,
        Err(err) => return err,
    };
    let checked = requests::result_limit(count(args.limit))
        .and_then(|limit| Ok((limit, requests::one_based(Some(args.line.0), "line")?)));
    let (limit, line) = match checked {
        Ok(checked) => checked,
        Err(err) => return failure(err.to_string()),
    };
    let file = args.file;
    match tools
        .read(move |host| host.similar(&file, line, limit))
        .await
    {
        Ok(response) => answer(
            render(&response),
            serde_json::to_value(&response).unwrap_or_default(),
        ),
        Err(err) => failure(err),
    }
}

fn render(response: &SimilarResponse) -> String {
    let s = &response.source;
    let mut out = format!(
        "code like {}:{}-{} {}\n\n",
        s.path,
        s.start_line,
        s.end_line,
        s.symbol.as_deref().unwrap_or("")
    );
    if let Some(degraded) = &response.degraded {
        out.push_str(&format!("note: {degraded}\n\n"));
    }
    out.push_str(&super::render_results(&response.results));
    out
}
