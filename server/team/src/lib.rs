//! `dowse-team`: the team index. One Qdrant collection holds the chunks of
//! many repositories, published by `dowse publish` (typically from CI);
//! every developer's dowse searches it together with its own live index.
//!
//! - **Publishing** ([`Team::publish`]) sends each chunk's dense vector (the
//!   one dowse already made), a sparse vector of dowse's own terms (the
//!   store weights them by IDF) and a payload. Point ids derive from the
//!   repository, the path and the chunk's key, and each payload carries a
//!   hash of what it holds: a republish sends only what changed and removes
//!   what is gone, and an interrupted one resumes where it stopped (what was
//!   sent is there and unchanged).
//! - **Searching** ([`Team::search`]) is one hybrid query (dense and sparse
//!   prefetches fused by the server), started before the local search and
//!   awaited only for what is left of a time budget; [`merge`] fuses it
//!   with the local answer, the local index replacing the published copy
//!   of every file the developer has.
//! - Only the query leaves the machine when searching: words and a vector,
//!   never the developer's code.
//!
//! The client is asynchronous (gRPC); this crate runs it on a small runtime
//! of its own so that the synchronous front ends (the CLI) and the servers'
//! blocking threads call it alike.

use std::future::Future;
use std::time::{Duration, Instant};

use dowse_engine::EngineError;
use dowse_engine::config::RemoteConfig;
use qdrant_client::qdrant::{CollectionStatus, ReplicaState};
use qdrant_client::{Qdrant, QdrantError};

/// The dense vector's name in the collection.
const DENSE: &str = "dense";
/// The sparse (lexical) vector's name.
const LEXICAL: &str = "lexical";
/// Attempts of one request before publishing gives up (back-off 0.25 s,
/// doubling).
const ATTEMPTS: u32 = 5;
/// The collection's own record of what made its vectors.
const MODEL_KEY: &str = "dowse_model";
const DIMENSIONS_KEY: &str = "dowse_dimensions";

#[derive(Debug, thiserror::Error)]
pub enum TeamError {
    #[error(
        "no team index is set: set remote_url in your own config file or DOWSE_REMOTE_URL (`dowse publish` also takes --to URL)"
    )]
    NotConfigured,
    #[error("the team index at {url}: {message}")]
    Remote { url: String, message: String },
    #[error(
        "collection `{collection}` holds vectors of `{theirs}` ({their_dimensions} dimensions) and this dowse makes `{ours}` ({our_dimensions}): publish to a collection of its own (--collection), or install the same model"
    )]
    ModelMismatch {
        collection: String,
        theirs: String,
        their_dimensions: u64,
        ours: String,
        our_dimensions: usize,
    },
    #[error(
        "collection `{0}` was not made by dowse (it has no record of its model): publish to another collection"
    )]
    NotDowse(String),
    #[error("{0}")]
    InvalidInput(String),
    #[error(transparent)]
    Engine(#[from] EngineError),
}

impl TeamError {
    /// True for errors in what the user asked (exit code 2).
    pub fn is_user_error(&self) -> bool {
        match self {
            TeamError::NotConfigured
            | TeamError::ModelMismatch { .. }
            | TeamError::NotDowse(_)
            | TeamError::InvalidInput(_) => true,
            TeamError::Engine(err) => err.is_user_error(),
            TeamError::Remote { .. } => false,
        }
    }
}

pub type Result<T> = std::result::Result<T, TeamError>;

mod publish;
mod query;

pub use publish::{BATCH, Layout, PublishReport, default_repo_name, head_commit, point_uuid};
pub use query::{Local, PendingSearch, RemoteHit, merge, search, search_telling};

/// The team index's state, for health and stats.
#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct RemoteStatus {
    pub url: String,
    pub collection: String,
    pub reachable: bool,
    /// The round trip of a health check, in milliseconds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub latency_ms: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub points: Option<u64>,
    /// green, yellow (optimising), grey, red.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shards: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub replication_factor: Option<u32>,
    /// Shard replicas this node sees as active, and all it knows of.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub replicas_active: Option<(u32, u32)>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl RemoteStatus {
    /// The team index as a component of health: healthy when it answers
    /// and its collection is there, degraded otherwise (searches then
    /// answer from the local index alone).
    pub fn component(&self) -> dowse_engine::health::Component {
        use dowse_engine::health::{Component, Status};
        let mut said = format!("{} collection `{}`", self.url, self.collection);
        if let Some(points) = self.points {
            said.push_str(&format!(": {points} points"));
        }
        if let Some(colour) = &self.status {
            said.push_str(&format!(", {colour}"));
        }
        if let Some((active, all)) = self.replicas_active {
            said.push_str(&format!(", {active}/{all} shard replicas active"));
        }
        if let Some(error) = &self.error {
            said.push_str(&format!(
                ": {}: searches answer from the local index",
                if self.reachable {
                    error.as_str()
                } else {
                    "unreachable"
                }
            ));
            if !self.reachable {
                said.push_str(&format!(" ({error})"));
            }
        }
        let healthy = self.reachable
            && self.error.is_none()
            && self
                .replicas_active
                .is_none_or(|(active, all)| active == all);
        Component {
            status: if healthy {
                Status::Healthy
            } else {
                Status::Degraded
            },
            message: said,
            latency_ms: self.latency_ms,
        }
    }
}

/// A connection to the team index.
pub struct Team {
    client: Qdrant,
    /// `Some` until dropped: a runtime cannot be dropped on an async
    /// thread, so [`Drop`] shuts it down in the background.
    runtime: Option<tokio::runtime::Runtime>,
    url: String,
    collection: String,
    repos: Vec<String>,
    timeout: Duration,
    checkouts: std::collections::BTreeMap<String, std::path::PathBuf>,
}

impl Drop for Team {
    fn drop(&mut self) {
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

/// A failed request to the team index as a user reads it. qdrant-client
/// reports a connection that failed as a status whose message holds the
/// transport error's debug form (`Failed to connect to …:
/// tonic::transport::Error(Transport, ConnectError(…, Os { …, message:
/// "Connection refused" }))`) and prints every status with its gRPC
/// metadata: the user needs the reason, and for a missing collection what
/// makes one.
pub(crate) fn describe(err: &QdrantError) -> String {
    let status = match err {
        QdrantError::ResponseError { status } => status,
        QdrantError::ResourceExhaustedError {
            status,
            retry_after_seconds,
        } => {
            let message = status.message();
            return format!("{message} (retry after {retry_after_seconds} s)");
        }
        other => return other.to_string(),
    };
    let message = status.message();
    if let Some(rest) = message.strip_prefix("Failed to connect to ") {
        // The innermost quoted reason: the operating system's `message:
        // "…"`, or a resolver's `error: "…"`.
        let quoted = ["message: \"", "error: \""].iter().find_map(|key| {
            let (_, after) = rest.rsplit_once(key)?;
            after.split('"').next().filter(|reason| !reason.is_empty())
        });
        return match quoted {
            Some(reason) => format!("cannot connect: {reason}"),
            None if rest.contains("Elapsed") || rest.contains("TimedOut") => {
                "cannot connect: timed out".to_owned()
            }
            None => format!("cannot connect: {rest}"),
        };
    }
    if status.code() == tonic::Code::NotFound && message.contains("Collection") {
        return format!("{message} (`dowse publish` makes it)");
    }
    message.to_owned()
}

fn remote_error(url: &str, err: impl std::fmt::Display) -> TeamError {
    TeamError::Remote {
        url: url.to_owned(),
        message: err.to_string(),
    }
}

impl Team {
    /// Connects (lazily: the first request dials) to the team index of
    /// `config`.
    pub fn connect(config: &RemoteConfig) -> Result<Team> {
        let url = config.url.clone().ok_or(TeamError::NotConfigured)?;
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("dowse-team")
            .enable_all()
            .build()
            .map_err(|err| remote_error(&url, err))?;
        let client = {
            // The channel is made on the runtime that will drive it.
            let _entered = runtime.enter();
            Qdrant::from_url(&url)
                .api_key(config.api_key.clone())
                .timeout(Duration::from_secs(60))
                .connect_timeout(Duration::from_secs(5))
                .skip_compatibility_check()
                .build()
                .map_err(|err| remote_error(&url, describe(&err)))?
        };
        Ok(Team {
            client,
            runtime: Some(runtime),
            url,
            collection: config.collection.clone(),
            repos: config.repos.clone(),
            timeout: config.timeout,
            checkouts: config.checkouts.clone(),
        })
    }

    fn block_on<F: Future>(&self, future: F) -> F::Output {
        self.runtime
            .as_ref()
            .expect("live runtime")
            .block_on(future)
    }

    /// Runs `request` until it succeeds, at most [`ATTEMPTS`] times with
    /// back-off; counts the retries.
    async fn retried<T, F, Fut>(&self, what: &str, retries: &mut u64, mut request: F) -> Result<T>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = std::result::Result<T, QdrantError>>,
    {
        let mut delay = Duration::from_millis(250);
        let mut attempt = 1;
        loop {
            match request().await {
                Ok(value) => return Ok(value),
                Err(err) if attempt < ATTEMPTS => {
                    tracing::warn!(
                        "{what} failed (attempt {attempt} of {ATTEMPTS}), retrying: {err}"
                    );
                    tokio::time::sleep(delay).await;
                    delay *= 2;
                    attempt += 1;
                    *retries += 1;
                }
                Err(err) => {
                    return Err(remote_error(
                        &self.url,
                        format!("{what} failed {ATTEMPTS} times: {}", describe(&err)),
                    ));
                }
            }
        }
    }

    /// The model the collection records.
    async fn collection_model(&self) -> Result<(String, u64)> {
        let info = self
            .client
            .collection_info(&self.collection)
            .await
            .map_err(|err| remote_error(&self.url, describe(&err)))?;
        let metadata = info
            .result
            .and_then(|info| info.config)
            .map(|config| config.metadata)
            .unwrap_or_default();
        let json = |key: &str| metadata.get(key).and_then(|v| serde_json::to_value(v).ok());
        match (json(MODEL_KEY), json(DIMENSIONS_KEY)) {
            (Some(serde_json::Value::String(id)), Some(dims)) => {
                Ok((id, dims.as_f64().unwrap_or(0.0) as u64))
            }
            _ => Err(TeamError::NotDowse(self.collection.clone())),
        }
    }

    /// Whether the team index answers, how fast, and what it holds.
    pub fn status(&self) -> RemoteStatus {
        let mut status = RemoteStatus {
            url: self.url.clone(),
            collection: self.collection.clone(),
            ..RemoteStatus::default()
        };
        let started = Instant::now();
        let probe = self.block_on(async {
            tokio::time::timeout(Duration::from_secs(5), self.client.health_check()).await
        });
        match probe {
            Ok(Ok(_)) => {
                status.reachable = true;
                status.latency_ms = Some(started.elapsed().as_secs_f64() * 1000.0);
            }
            Ok(Err(err)) => {
                status.error = Some(describe(&err));
                return status;
            }
            Err(_) => {
                status.error = Some("no answer within 5 s".to_owned());
                return status;
            }
        }
        match self.block_on(self.client.collection_info(&self.collection)) {
            Ok(info) => {
                if let Some(info) = info.result {
                    status.points = info.points_count;
                    status.status = Some(
                        CollectionStatus::try_from(info.status)
                            .map_or("unknown", |s| s.as_str_name())
                            .to_lowercase(),
                    );
                    if let Some(params) = info.config.as_ref().and_then(|c| c.params.as_ref()) {
                        status.shards = Some(params.shard_number);
                        status.replication_factor = params.replication_factor;
                    }
                }
                status.model = self.block_on(self.collection_model()).ok().map(|m| m.0);
            }
            Err(err) => {
                status.error = Some(describe(&err));
                return status;
            }
        }
        if let Ok(cluster) = self.block_on(self.client.collection_cluster_info(&self.collection)) {
            let local = cluster.local_shards.iter().map(|s| s.state);
            let remote = cluster.remote_shards.iter().map(|s| s.state);
            let states: Vec<i32> = local.chain(remote).collect();
            let active = states
                .iter()
                .filter(|s| **s == ReplicaState::Active as i32)
                .count() as u32;
            status.replicas_active = Some((active, states.len() as u32));
        }
        status
    }
}
