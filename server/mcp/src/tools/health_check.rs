//! `health_check`: every component probed, and the overall status.

use rmcp::model::{CallToolResult, JsonObject};
use serde_json::json;

use super::{DowseTools, answer, failure, schema};

pub(crate) fn input_schema() -> std::sync::Arc<JsonObject> {
    rmcp::handler::server::common::schema_for_empty_input()
}

pub(crate) fn output_schema() -> std::sync::Arc<JsonObject> {
    schema(json!({
        "type": "object",
        "properties": {
            "status": {"type": "string", "enum": ["healthy", "degraded", "unhealthy"]},
            "components": {"type": "object", "additionalProperties": {
                "type": "object",
                "properties": {
                    "status": {"type": "string", "enum": ["healthy", "degraded", "unhealthy"]},
                    "message": {"type": "string"},
                    "latency_ms": {"type": "number"}
                },
                "required": ["status", "message"]
            }}
        },
        "required": ["status", "components"]
    }))
}

pub(crate) async fn call(tools: &DowseTools, args: JsonObject) -> CallToolResult {
    if !args.is_empty() {
        return failure("health_check takes no arguments");
    }
    match tools.check(|host| Ok(host.health())).await {
        Ok(health) => {
            let value = serde_json::to_value(&health).unwrap_or_default();
            let mut text = format!("{}\n", value["status"].as_str().unwrap_or("?"));
            for (name, component) in &health.components {
                let status = serde_json::to_value(component.status).unwrap_or_default();
                text.push_str(&format!(
                    "  {name}: {} — {}\n",
                    status.as_str().unwrap_or("?"),
                    component.message
                ));
            }
            answer(text, value)
        }
        Err(err) => failure(err),
    }
}
