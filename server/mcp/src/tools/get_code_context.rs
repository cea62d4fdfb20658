//! `get_code_context`: the best chunks for a query, whole, within a token
//! budget.

use dowse_engine::ContextResponse;
use rmcp::model::{CallToolResult, JsonObject};
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::json;

use dowse_host::{Spelling, requests};

use super::{Count, DowseTools, answer, arguments, count, failure, schema};

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct Args {
    /// What the context is for: a question, a task, words or a name.
    query: String,
    /// The most tokens to return, from 100 to 200000 (default 4000).
    #[schemars(with = "Option<u32>")]
    max_tokens: Option<Count>,
}

const EXPECTED: &str = "{\"query\": string, \"max_tokens\"?: 100-200000}";

pub(crate) fn input_schema() -> std::sync::Arc<JsonObject> {
    rmcp::handler::server::common::schema_for_type::<Args>()
}

pub(crate) fn output_schema() -> std::sync::Arc<JsonObject> {
    schema(json!({
        "type": "object",
        "properties": {
            "query": {"type": "string"},
            "degraded": {"type": "string"},
            "max_tokens": {"type": "integer"},
            "tokens": {"type": "integer", "description": "tokens returned, at most max_tokens"},
            "token_count": {"type": "string", "enum": ["model", "estimate"], "description": "counted with the model's tokenizer, or estimated"},
            "chunks": {"type": "array", "items": {
                "type": "object",
                "properties": {
                    "root": {"type": "string"},
                    "path": {"type": "string"},
                    "start_line": {"type": "integer"},
                    "end_line": {"type": "integer"},
                    "symbols": {"type": "array", "items": {"type": "string"}},
                    "language": {"type": "string"},
                    "score": {"type": "number"},
                    "tokens": {"type": "integer"},
                    "text": {"type": "string"}
                },
                "required": ["root", "path", "start_line", "end_line", "language", "score", "tokens", "text"]
            }}
        },
        "required": ["query", "max_tokens", "tokens", "token_count", "chunks"]
    }))
}

pub(crate) async fn call(tools: &DowseTools, args: JsonObject) -> CallToolResult {
    let args: Args = match arguments(args, EXPECTED) {
        Ok(args) => args,
        Err(err) => return err,
    };
    let checked = requests::query(Some(args.query)).and_then(|query| {
        Ok((
            query,
            requests::context_budget(count(args.max_tokens), Spelling::Snake)?,
        ))
    });
    let (query, max_tokens) = match checked {
        Ok(checked) => checked,
        Err(err) => return failure(err.to_string()),
    };
    match tools
        .read(move |host| host.context(&query, max_tokens))
        .await
    {
        Ok(response) => answer(
            render(&response),
            serde_json::to_value(&response).unwrap_or_default(),
        ),
        Err(err) => failure(err),
    }
}

/// Each span under its `path:start-end` header, in a fenced block.
fn render(response: &ContextResponse) -> String {
    let mut out = String::new();
    if let Some(degraded) = &response.degraded {
        out.push_str(&format!("note: {degraded}\n\n"));
    }
    for chunk in &response.chunks {
        out.push_str(&format!(
            "{}\n```{}\n{}\n```\n\n",
            ContextResponse::header(chunk),
            chunk.language,
            chunk.text
        ));
    }
    out.push_str(&format!(
        "{} tokens of {} ({})\n",
        response.tokens,
        response.max_tokens,
        match response.token_count {
            dowse_engine::TokenCount::Model => "counted by the model's tokenizer",
            dowse_engine::TokenCount::Estimate => "estimated: no model",
        }
    ));
    out
}
