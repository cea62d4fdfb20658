//! The host's index state, told to the editor: work-done progress while the
//! workspace is indexed and embedded, and a `dowse/status` notification on
//! every change of state, so that no client polls.

use dowse_host::{Host, IndexState, Phase};
use serde_json::{Value, json};
use tower_lsp_server::Client;
use tower_lsp_server::ls_types::notification::Notification;
use tower_lsp_server::ls_types::{NumberOrString, ProgressToken};

/// `dowse/status`: the index state (see docs/protocol.md).
pub(crate) enum StatusNotification {}

impl Notification for StatusNotification {
    type Params = Value;
    const METHOD: &'static str = "dowse/status";
}

/// The state as the editor protocol has it: camelCase throughout.
pub(crate) fn status_json(state: &IndexState, team: Option<String>) -> Value {
    json!({
        "team": team,
        "phase": state.phase,
        "files": state.files,
        "chunks": state.chunks,
        "vectors": state.vectors,
        "vectorsTotal": state.vectors_total,
        "coverage": state.coverage(),
        "health": state.health,
        "degraded": state.degraded,
        "work": state.work.as_ref().map(|w| json!({"stage": w.stage, "done": w.done, "total": w.total})),
        "graphsBuilding": state.graphs_building,
        "openBuffers": state.open_buffers,
        "diskCommits": state.disk_commits,
        "languages": state.languages.iter().map(|l| json!({
            "name": l.name,
            "files": l.files,
            "chunks": l.chunks,
            "syntax": l.syntax,
            "usages": l.usages,
        })).collect::<Vec<_>>(),
        "generation": state.generation,
        "roots": state.roots.iter().map(|r| json!({
            "name": r.name,
            "path": r.path,
            "files": r.files,
            "chunks": r.chunks,
            "vectors": r.vectors,
            "readOnly": r.read_only,
        })).collect::<Vec<_>>(),
    })
}

/// The team index searches with scope `team` or `all` reach, as
/// `URL collection`: `None` when none is set (the settings only; nothing is
/// asked of the network).
fn team_label(host: &Host) -> Option<String> {
    let root = host.roots().into_iter().next()?;
    let remote = &root.engine.config().remote;
    Some(format!("{} {}", remote.url.as_deref()?, remote.collection))
}

/// Follows the host's state until the host stops.
pub(crate) async fn forward(client: Client, host: Host, progress: bool) {
    let mut updates = host.subscribe();
    let mut reporter: Option<Reporter> = None;
    let mut next_token = 1u64;
    loop {
        let state = updates.borrow_and_update().clone();
        client
            .send_notification::<StatusNotification>(status_json(&state, team_label(&host)))
            .await;
        if progress {
            let busy = matches!(
                state.phase,
                Phase::Starting | Phase::Indexing | Phase::Embedding
            );
            match (&mut reporter, busy) {
                (None, true) => {
                    let token = NumberOrString::String(format!("dowse/{next_token}"));
                    next_token += 1;
                    reporter = Reporter::begin(&client, token).await;
                    if let Some(r) = &mut reporter {
                        r.report(&client, &state).await;
                    }
                }
                (Some(r), true) => r.report(&client, &state).await,
                (Some(_), false) => {
                    if let Some(r) = reporter.take() {
                        r.end(&client).await;
                    }
                }
                (None, false) => {}
            }
        }
        if state.phase == Phase::Stopping || updates.changed().await.is_err() {
            if let Some(r) = reporter.take() {
                r.end(&client).await;
            }
            return;
        }
    }
}

/// One work-done progress, from begin to end.
struct Reporter {
    token: ProgressToken,
    last: Option<(u32, String)>,
}

impl Reporter {
    async fn begin(client: &Client, token: ProgressToken) -> Option<Reporter> {
        if let Err(err) = client.create_work_done_progress(token.clone()).await {
            tracing::warn!("the client refused a progress token: {err}");
            return None;
        }
        let begin = json!({"kind": "begin", "title": "dowse: indexing", "percentage": 0, "cancellable": false});
        send_progress(client, &token, begin).await;
        Some(Reporter { token, last: None })
    }

    async fn report(&mut self, client: &Client, state: &IndexState) {
        let Some(work) = &state.work else {
            return;
        };
        let percentage = (work.done * 100)
            .checked_div(work.total)
            .map_or(100, |p| p.min(100) as u32);
        let message = match work.stage.as_str() {
            "embedding" => format!(
                "embedding {}/{} (search by meaning covers {:.0}%)",
                work.done,
                work.total,
                state.coverage() * 100.0
            ),
            stage => format!("{stage} {}/{}", work.done, work.total),
        };
        // One report per percent and stage, not one per batch.
        let key = (percentage, work.stage.clone());
        if self.last.as_ref() == Some(&key) {
            return;
        }
        self.last = Some(key);
        let report = json!({"kind": "report", "message": message, "percentage": percentage});
        send_progress(client, &self.token, report).await;
    }

    async fn end(self, client: &Client) {
        send_progress(
            client,
            &self.token,
            json!({"kind": "end", "message": "indexed"}),
        )
        .await;
    }
}

async fn send_progress(client: &Client, token: &ProgressToken, value: Value) {
    client
        .send_notification::<tower_lsp_server::ls_types::notification::Progress>(
            serde_json::from_value(json!({"token": token, "value": value}))
                .expect("a progress notification"),
        )
        .await;
}
