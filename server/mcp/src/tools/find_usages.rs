//! `find_usages`: definitions and references of a symbol, by name or by
//! position.

use dowse_engine::{UsageLocation, UsagesQuery, UsagesResponse};
use rmcp::model::{CallToolResult, JsonObject};
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::json;

use dowse_host::requests;

use super::{Count, DowseTools, answer, arguments, failure, schema};

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct Args {
    /// A name, optionally qualified: `parse`, `Headers.add`,
    /// `Client::send`. Give this, or `file`, `line` and `column`.
    symbol: Option<String>,
    /// The file of a position, relative to the workspace root (or absolute
    /// inside it).
    file: Option<String>,
    /// The 1-based line of a position.
    #[schemars(with = "Option<u32>")]
    line: Option<Count>,
    /// The 1-based column (in characters) of a position.
    #[schemars(with = "Option<u32>")]
    column: Option<Count>,
}

const EXPECTED: &str =
    "{\"symbol\": string} or {\"file\": string, \"line\": number, \"column\": number} (1-based)";

pub(crate) fn input_schema() -> std::sync::Arc<JsonObject> {
    rmcp::handler::server::common::schema_for_type::<Args>()
}

fn location_schema() -> serde_json::Value {
    json!({
        "type": "object",
        "properties": {
            "root": {"type": "string"},
            "path": {"type": "string"},
            "line": {"type": "integer"},
            "column": {"type": "integer"},
            "length": {"type": "integer"},
            "context": {"type": "string", "description": "the line's text"}
        },
        "required": ["root", "path", "line", "column", "length", "context"]
    })
}

pub(crate) fn output_schema() -> std::sync::Arc<JsonObject> {
    schema(json!({
        "type": "object",
        "properties": {
            "symbol": {"type": "string"},
            "definitions": {"type": "array", "items": location_schema()},
            "references": {"type": "array", "items": location_schema()}
        },
        "required": ["symbol", "definitions", "references"]
    }))
}

pub(crate) async fn call(tools: &DowseTools, args: JsonObject) -> CallToolResult {
    let args: Args = match arguments(args, EXPECTED) {
        Ok(args) => args,
        Err(err) => return err,
    };
    let query = match (args.symbol, args.file, args.line, args.column) {
        (Some(symbol), None, None, None) if !symbol.trim().is_empty() => {
            Target::Symbol(UsagesQuery::Symbol(symbol))
        }
        (None, Some(file), Some(line), Some(column)) => Target::Position(file, line.0, column.0),
        _ => return failure(format!("give a symbol or a position: {EXPECTED}")),
    };
    let found = tools
        .read(move |host| {
            let query = match query {
                Target::Symbol(query) => query,
                // Confined to the workspace before anything reads it.
                Target::Position(file, line, column) => {
                    let (root, rel) = host.resolve(&file)?;
                    UsagesQuery::Position {
                        path: root.path.join(rel).to_string_lossy().into_owned(),
                        line: requests::one_based(Some(line), "line")?,
                        column: requests::one_based(Some(column), "column")?,
                    }
                }
            };
            host.usages(&query)
        })
        .await;
    match found {
        Ok(response) => answer(
            render(&response),
            serde_json::to_value(&response).unwrap_or_default(),
        ),
        Err(err) => failure(err),
    }
}

/// What usages are asked of, before the path is checked.
enum Target {
    Symbol(UsagesQuery),
    Position(String, u64, u64),
}

fn render(response: &UsagesResponse) -> String {
    let line =
        |u: &UsageLocation| format!("{}:{}:{}  {}\n", u.path, u.line, u.column, u.context.trim());
    let mut out = format!(
        "`{}`: {} definition(s), {} reference(s)\n",
        response.symbol,
        response.definitions.len(),
        response.references.len()
    );
    if !response.definitions.is_empty() {
        out.push_str("\ndefinitions:\n");
        response
            .definitions
            .iter()
            .for_each(|u| out.push_str(&line(u)));
    }
    if !response.references.is_empty() {
        out.push_str("\nreferences:\n");
        response
            .references
            .iter()
            .for_each(|u| out.push_str(&line(u)));
    }
    out
}
