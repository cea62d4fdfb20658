//! `build_index`: bring the index up to date now, with progress.

use std::time::{Duration, Instant};

use dowse_host::Phase;
use rmcp::RoleServer;
use rmcp::model::{CallToolResult, JsonObject, ProgressNotificationParam, ProgressToken};
use rmcp::service::RequestContext;
use serde_json::json;

use super::{DowseTools, answer, failure, schema};

/// How long the tool waits for the embedding that follows a reindex before
/// it answers with the coverage so far (embedding goes on in the background
/// either way).
const EMBEDDING_WAIT: Duration = Duration::from_secs(300);

pub(crate) fn input_schema() -> std::sync::Arc<JsonObject> {
    rmcp::handler::server::common::schema_for_empty_input()
}

pub(crate) fn output_schema() -> std::sync::Arc<JsonObject> {
    schema(json!({
        "type": "object",
        "properties": {
            "files": {"type": "integer"},
            "chunks": {"type": "integer"},
            "files_indexed": {"type": "integer", "description": "files read again because they changed"},
            "files_removed": {"type": "integer"},
            "vectors": {"type": "integer", "description": "chunks searchable by meaning"},
            "vectors_total": {"type": "integer"},
            "phase": {"type": "string"},
            "seconds": {"type": "number"}
        },
        "required": ["files", "chunks", "files_indexed", "files_removed", "vectors", "vectors_total", "phase", "seconds"]
    }))
}

pub(crate) async fn call(
    tools: &DowseTools,
    args: JsonObject,
    context: RequestContext<RoleServer>,
) -> CallToolResult {
    if !args.is_empty() {
        return failure("build_index takes no arguments");
    }
    let started = Instant::now();
    let token = context
        .meta
        .get("progressToken")
        .cloned()
        .and_then(|t| serde_json::from_value::<rmcp::model::NumberOrString>(t).ok())
        .map(ProgressToken);
    let progress = |done: f64, total: Option<f64>, message: String| {
        let peer = context.peer.clone();
        let token = token.clone();
        async move {
            if let Some(token) = token {
                let mut param = ProgressNotificationParam::new(token, done).with_message(message);
                if let Some(total) = total {
                    param = param.with_total(total);
                }
                let _ = peer.notify_progress(param).await;
            }
        }
    };
    progress(0.0, None, "reconciling the index with the disk".to_owned()).await;
    let host = tools.host.clone();
    let report = match tokio::task::spawn_blocking(move || host.reindex().recv()).await {
        Ok(Ok(Ok(report))) => report,
        Ok(Ok(Err(err))) => return failure(format!("indexing failed: {err}")),
        _ => return failure("dowse is shutting down"),
    };
    // Vectors follow in the background: the tool waits for them (for a
    // while), reporting them when asked for progress.
    let mut state = tools.host.state();
    {
        let mut updates = tools.host.subscribe();
        while state.phase == Phase::Embedding && started.elapsed() < EMBEDDING_WAIT {
            if let (Some(work), true) = (&state.work, token.is_some()) {
                progress(
                    work.done as f64,
                    Some(work.total as f64),
                    format!("embedding {}/{}", work.done, work.total),
                )
                .await;
            }
            if tokio::time::timeout(Duration::from_secs(1), updates.changed())
                .await
                .is_ok_and(|r| r.is_err())
            {
                break;
            }
            state = updates.borrow_and_update().clone();
        }
        progress(1.0, Some(1.0), "indexed".to_owned()).await;
    }
    let value = json!({
        "files": report.files,
        "chunks": report.chunks,
        "files_indexed": report.files_indexed,
        "files_removed": report.files_removed,
        "vectors": state.vectors,
        "vectors_total": state.vectors_total,
        "phase": state.phase,
        "seconds": started.elapsed().as_secs_f64(),
    });
    let text = format!(
        "{} files, {} chunks ({} read again, {} removed); {} of {} chunks searchable by meaning\n",
        report.files,
        report.chunks,
        report.files_indexed,
        report.files_removed,
        state.vectors,
        state.vectors_total
    );
    answer(text, value)
}
