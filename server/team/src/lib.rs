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

use std::collections::HashMap;
use std::future::Future;
use std::time::{Duration, Instant};

use dowse_engine::config::RemoteConfig;
use dowse_engine::search::{SearchResponse, SearchResult, SnippetMatch, snippet, snippet_matches};
use dowse_engine::{
    ChunkKind, Engine, EngineError, PublishedChunk, PublishedModel, RemoteQuery, Scope,
    SearchRequest,
};
use qdrant_client::qdrant::{
    CollectionStatus, Condition, CreateCollectionBuilder, CreateFieldIndexCollectionBuilder,
    DeletePointsBuilder, Distance, FieldType, Filter, Fusion, Modifier, PayloadIncludeSelector,
    PointId, PointStruct, PointsIdsList, PrefetchQueryBuilder, Query, QueryPointsBuilder,
    ReplicaState, ScrollPointsBuilder, SetPayloadPointsBuilder, SparseVectorParamsBuilder,
    SparseVectorsConfigBuilder, UpsertPointsBuilder, VectorInput, VectorParamsBuilder,
    VectorsConfigBuilder, VectorsSelector, point_id,
};
use qdrant_client::{Payload, Qdrant, QdrantError};

/// The dense vector's name in the collection.
const DENSE: &str = "dense";
/// The sparse (lexical) vector's name.
const LEXICAL: &str = "lexical";
/// Points per upsert: about 1.6 KB of dense vector, a few hundred bytes of
/// sparse vector and up to 4 KB of text each, well under gRPC's 4 MB.
pub const BATCH: usize = 256;
/// Ids per delete request.
const DELETE_BATCH: usize = 1024;
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

/// The name a workspace publishes under and is recognised by: its
/// directory's name.
pub fn default_repo_name(root: &std::path::Path) -> String {
    root.canonicalize()
        .ok()
        .as_deref()
        .and_then(std::path::Path::file_name)
        .or_else(|| root.file_name())
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_else(|| "workspace".to_owned())
}

/// The commit a repository's `.git/HEAD` names, read from the files (no git
/// command runs: a repository's git configuration can name programs to
/// run). Only files inside the repository's own `.git` are read: a ref
/// that is a symbolic link out of it, or names a path outside `refs/`,
/// gives `None` (the revision is sent to the team index).
pub fn head_commit(root: &std::path::Path) -> Option<String> {
    let git = root.join(".git").canonicalize().ok()?;
    if !git.starts_with(root.canonicalize().ok()?) {
        return None;
    }
    let read = |name: &str| -> Option<String> {
        let path = git.join(name).canonicalize().ok()?;
        path.starts_with(&git)
            .then(|| std::fs::read_to_string(path).ok())
            .flatten()
    };
    let is_commit = |s: &str| s.len() >= 40 && s.bytes().all(|b| b.is_ascii_hexdigit());
    let head = read("HEAD")?;
    let head = head.trim();
    let Some(reference) = head.strip_prefix("ref: ") else {
        return is_commit(head).then(|| head.to_owned());
    };
    if !reference.starts_with("refs/") || reference.split('/').any(|part| part == "..") {
        return None;
    }
    if let Some(commit) = read(reference)
        && is_commit(commit.trim())
    {
        return Some(commit.trim().to_owned());
    }
    read("packed-refs")?.lines().find_map(|line| {
        let (commit, name) = line.split_once(' ')?;
        (name == reference && is_commit(commit)).then(|| commit.to_owned())
    })
}

/// The point id of a chunk: a UUID from the repository, the path and the
/// chunk's key, so the same chunk is the same point on every publish.
pub fn point_uuid(repo: &str, path: &str, chunk_key: &str) -> String {
    let hash = blake3::hash(format!("{repo}\0{path}\0{chunk_key}").as_bytes());
    let b = hash.as_bytes();
    let hex = |range: std::ops::Range<usize>| -> String {
        b[range].iter().map(|byte| format!("{byte:02x}")).collect()
    };
    format!(
        "{}-{}-{}-{}-{}",
        hex(0..4),
        hex(4..6),
        hex(6..8),
        hex(8..10),
        hex(10..16)
    )
}

/// What a publish did.
#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct PublishReport {
    pub repo: String,
    pub collection: String,
    /// Chunks of the workspace.
    pub chunks: u64,
    /// Points sent (new or changed).
    pub sent: u64,
    /// Points already there as they are.
    pub unchanged: u64,
    /// Points of files changed or deleted since the last publish, removed.
    pub removed: u64,
    /// Requests that failed and succeeded when tried again.
    pub retried: u64,
    pub seconds: f64,
}

/// How a collection is laid out when a publish creates it.
#[derive(Clone, Copy, Debug)]
pub struct Layout {
    pub shards: u32,
    pub replicas: u32,
}

/// One result of the team index.
#[derive(Clone, Debug, PartialEq)]
pub struct RemoteHit {
    pub repo: String,
    pub path: String,
    pub start_line: u32,
    pub end_line: u32,
    pub symbol: Option<String>,
    pub kind: String,
    pub language: String,
    pub enclosing: Vec<String>,
    pub text: String,
    pub score: f32,
    /// The cosine of the query's and the chunk's dense vectors, when the
    /// query had one.
    pub similarity: Option<f32>,
}

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
                .map_err(|err| remote_error(&url, err))?
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
                        format!("{what} failed {ATTEMPTS} times: {err}"),
                    ));
                }
            }
        }
    }

    /// Creates the collection for `model` if it does not exist; refuses one
    /// made for another model.
    async fn ensure_collection(&self, model: &PublishedModel, layout: Layout) -> Result<()> {
        let name = &self.collection;
        let exists = self
            .client
            .collection_exists(name)
            .await
            .map_err(|err| remote_error(&self.url, err))?;
        if !exists {
            let mut dense = VectorsConfigBuilder::default();
            dense.add_named_vector_params(
                DENSE,
                VectorParamsBuilder::new(model.dimensions as u64, Distance::Cosine),
            );
            let mut sparse = SparseVectorsConfigBuilder::default();
            sparse.add_named_vector_params(
                LEXICAL,
                SparseVectorParamsBuilder::default().modifier(Modifier::Idf as i32),
            );
            let metadata: HashMap<String, serde_json::Value> = HashMap::from([
                (MODEL_KEY.to_owned(), model.id.clone().into()),
                (DIMENSIONS_KEY.to_owned(), model.dimensions.into()),
            ]);
            self.client
                .create_collection(
                    CreateCollectionBuilder::new(name)
                        .vectors_config(dense)
                        .sparse_vectors_config(sparse)
                        .shard_number(layout.shards)
                        .replication_factor(layout.replicas)
                        .metadata(metadata),
                )
                .await
                .map_err(|err| remote_error(&self.url, err))?;
            for field in ["repo", "path", "language"] {
                self.client
                    .create_field_index(
                        CreateFieldIndexCollectionBuilder::new(name, field, FieldType::Keyword)
                            .wait(true),
                    )
                    .await
                    .map_err(|err| remote_error(&self.url, err))?;
            }
            return Ok(());
        }
        let (theirs, their_dimensions) = self.collection_model().await?;
        if theirs != model.id || their_dimensions != model.dimensions as u64 {
            return Err(TeamError::ModelMismatch {
                collection: name.clone(),
                theirs,
                their_dimensions,
                ours: model.id.clone(),
                our_dimensions: model.dimensions,
            });
        }
        Ok(())
    }

    /// The model the collection records.
    async fn collection_model(&self) -> Result<(String, u64)> {
        let info = self
            .client
            .collection_info(&self.collection)
            .await
            .map_err(|err| remote_error(&self.url, err))?;
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

    /// Every point of `repo` with its hash: what the collection has.
    async fn published_hashes(&self, repo: &str) -> Result<HashMap<String, String>> {
        let mut hashes = HashMap::new();
        let mut offset: Option<PointId> = None;
        let mut retries = 0;
        loop {
            let page = self
                .retried("reading what was published", &mut retries, || {
                    let mut request = ScrollPointsBuilder::new(&self.collection)
                        .filter(Filter::must([Condition::matches("repo", repo.to_owned())]))
                        .with_payload(PayloadIncludeSelector::new(vec!["hash".to_owned()]))
                        .with_vectors(false)
                        .limit(1000);
                    if let Some(offset) = offset.clone() {
                        request = request.offset(offset);
                    }
                    self.client.scroll(request)
                })
                .await?;
            for point in page.result {
                let (Some(id), Some(hash)) =
                    (point.id.and_then(uuid_of), point.payload.get("hash"))
                else {
                    continue;
                };
                if let Ok(serde_json::Value::String(hash)) = serde_json::to_value(hash) {
                    hashes.insert(id, hash);
                }
            }
            match page.next_page_offset {
                Some(next) => offset = Some(next),
                None => return Ok(hashes),
            }
        }
    }

    /// Publishes the committed chunks of `engine`'s workspace as `repo` at
    /// `rev`: creates the collection if needed, sends what changed, removes
    /// what is gone. `progress` hears (chunks seen, points sent) as it goes.
    pub fn publish(
        &self,
        engine: &Engine,
        repo: &str,
        rev: Option<&str>,
        layout: Layout,
        progress: &mut dyn FnMut(u64, u64),
    ) -> Result<PublishReport> {
        if repo.trim().is_empty() {
            return Err(TeamError::InvalidInput(
                "the repository name is empty".into(),
            ));
        }
        let started = Instant::now();
        let model = engine.published_model()?;
        self.block_on(self.ensure_collection(&model, layout))?;
        let mut published = self.block_on(self.published_hashes(repo))?;
        let mut report = PublishReport {
            repo: repo.to_owned(),
            collection: self.collection.clone(),
            ..PublishReport::default()
        };
        let mut batch: Vec<PointStruct> = Vec::with_capacity(BATCH);
        let mut failed: Option<TeamError> = None;
        let visited = engine.published_chunks(|chunk| {
            if engine.is_cancelled() {
                return Err(EngineError::Cancelled);
            }
            report.chunks += 1;
            let id = point_uuid(repo, &chunk.path, &chunk.chunk_key);
            // Whatever is left in `published` at the end is gone here.
            if published.remove(&id).as_deref() == Some(chunk.hash.as_str()) {
                report.unchanged += 1;
            } else {
                batch.push(point(id, repo, rev, chunk));
            }
            if batch.len() >= BATCH {
                let points = std::mem::take(&mut batch);
                let sent = points.len() as u64;
                if let Err(err) = self.block_on(self.upsert(points, &mut report.retried)) {
                    failed = Some(err);
                    return Err(EngineError::Unavailable("publishing stopped".into()));
                }
                report.sent += sent;
            }
            progress(report.chunks, report.sent);
            Ok(())
        });
        if let Some(err) = failed {
            return Err(err);
        }
        visited?;
        if !batch.is_empty() {
            let sent = batch.len() as u64;
            self.block_on(self.upsert(batch, &mut report.retried))?;
            report.sent += sent;
        }
        progress(report.chunks, report.sent);
        let gone: Vec<String> = published.into_keys().collect();
        for ids in gone.chunks(DELETE_BATCH) {
            self.block_on(self.delete(ids, &mut report.retried))?;
            report.removed += ids.len() as u64;
        }
        if let Some(rev) = rev {
            // Unchanged points were published at an earlier revision; the
            // repository as a whole is now at this one.
            let mut retries = 0;
            let payload = Payload::from(HashMap::from([("rev", rev.into())]));
            self.block_on(self.retried("recording the revision", &mut retries, || {
                self.client.set_payload(
                    SetPayloadPointsBuilder::new(&self.collection, payload.clone())
                        .points_selector(Filter::must([Condition::matches(
                            "repo",
                            repo.to_owned(),
                        )]))
                        .wait(true),
                )
            }))?;
            report.retried += retries;
        }
        report.seconds = started.elapsed().as_secs_f64();
        Ok(report)
    }

    async fn upsert(&self, points: Vec<PointStruct>, retries: &mut u64) -> Result<()> {
        let collection = &self.collection;
        self.retried("sending chunks", retries, || {
            self.client
                .upsert_points(UpsertPointsBuilder::new(collection, points.clone()).wait(true))
        })
        .await
        .map(|_| ())
    }

    async fn delete(&self, ids: &[String], retries: &mut u64) -> Result<()> {
        let ids: Vec<PointId> = ids.iter().map(|id| PointId::from(id.as_str())).collect();
        self.retried("removing chunks", retries, || {
            self.client.delete_points(
                DeletePointsBuilder::new(&self.collection)
                    .points(PointsIdsList { ids: ids.clone() })
                    .wait(true),
            )
        })
        .await
        .map(|_| ())
    }

    /// Starts a search of the team index for `query`; the answer is awaited
    /// with [`PendingSearch::wait`], for what is left of the time budget.
    pub fn search(&self, query: &RemoteQuery, limit: usize, languages: &[String]) -> PendingSearch {
        let (tx, rx) = std::sync::mpsc::channel();
        let client = self.client.clone();
        let request = self.query_request(query, limit, languages);
        let dense = query.dense.clone();
        self.runtime
            .as_ref()
            .expect("live runtime")
            .spawn(async move {
                let answer = match request {
                    None => Ok(Vec::new()),
                    Some(request) => client
                        .query(request)
                        .await
                        .map(|response| {
                            response
                                .result
                                .into_iter()
                                .filter_map(|point| hit(point, dense.as_deref()))
                                .collect()
                        })
                        .map_err(|err| err.to_string()),
                };
                let _ = tx.send(answer);
            });
        PendingSearch {
            rx,
            started: Instant::now(),
            budget: self.timeout,
            url: self.url.clone(),
        }
    }

    /// The hybrid query: dense and sparse prefetches, fused by the server
    /// (reciprocal rank fusion), limited to the configured repositories.
    fn query_request(
        &self,
        query: &RemoteQuery,
        limit: usize,
        languages: &[String],
    ) -> Option<QueryPointsBuilder> {
        let mut conditions = Vec::new();
        if !self.repos.is_empty() {
            conditions.push(Condition::matches("repo", self.repos.clone()));
        }
        if !languages.is_empty() {
            conditions.push(Condition::matches("language", languages.to_vec()));
        }
        let filter = (!conditions.is_empty()).then(|| Filter::must(conditions));
        let depth = (limit * 4).max(40) as u64;
        let mut request = QueryPointsBuilder::new(&self.collection)
            .query(Query::new_fusion(Fusion::Rrf))
            .limit(limit as u64)
            .with_payload(true)
            .timeout(self.timeout.as_secs().max(1));
        let mut prefetches = 0;
        if let Some(dense) = &query.dense {
            let mut prefetch = PrefetchQueryBuilder::default()
                .query(Query::new_nearest(dense.clone()))
                .using(DENSE)
                .limit(depth);
            if let Some(filter) = &filter {
                prefetch = prefetch.filter(filter.clone());
            }
            request = request
                .add_prefetch(prefetch)
                .with_vectors(VectorsSelector::from(vec![DENSE.to_owned()]));
            prefetches += 1;
        }
        if !query.sparse.is_empty() {
            let (indices, values): (Vec<u32>, Vec<f32>) = query.sparse.iter().copied().unzip();
            let mut prefetch = PrefetchQueryBuilder::default()
                .query(Query::new_nearest(VectorInput::new_sparse(indices, values)))
                .using(LEXICAL)
                .limit(depth);
            if let Some(filter) = &filter {
                prefetch = prefetch.filter(filter.clone());
            }
            request = request.add_prefetch(prefetch);
            prefetches += 1;
        }
        (prefetches > 0).then_some(request)
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
                status.error = Some(err.to_string());
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
                status.error = Some(format!("collection `{}`: {err}", self.collection));
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

/// A search of the team index under way.
pub struct PendingSearch {
    rx: std::sync::mpsc::Receiver<std::result::Result<Vec<RemoteHit>, String>>,
    started: Instant,
    budget: Duration,
    url: String,
}

impl PendingSearch {
    /// The answer, or why there is none: waits at most for what is left of
    /// the time budget.
    pub fn wait(self) -> std::result::Result<Vec<RemoteHit>, String> {
        let left = self.budget.saturating_sub(self.started.elapsed());
        match self.rx.recv_timeout(left) {
            Ok(Ok(hits)) => Ok(hits),
            Ok(Err(err)) => Err(format!("the team index at {} failed: {err}", self.url)),
            Err(_) => Err(format!(
                "the team index at {} did not answer within {} ms",
                self.url,
                self.budget.as_millis()
            )),
        }
    }
}

fn uuid_of(id: PointId) -> Option<String> {
    match id.point_id_options? {
        point_id::PointIdOptions::Uuid(uuid) => Some(uuid),
        point_id::PointIdOptions::Num(n) => Some(n.to_string()),
    }
}

/// The point of one chunk.
fn point(id: String, repo: &str, rev: Option<&str>, chunk: PublishedChunk) -> PointStruct {
    let payload = serde_json::json!({
        "repo": repo,
        "rev": rev.unwrap_or(""),
        "path": chunk.path,
        "start_line": chunk.start_line,
        "end_line": chunk.end_line,
        "symbol": chunk.symbol,
        "kind": chunk.kind,
        "language": chunk.language,
        "enclosing": chunk.enclosing,
        "text": chunk.text,
        "hash": chunk.hash,
        "chunk_key": chunk.chunk_key,
    });
    let payload = Payload::try_from(payload).expect("an object");
    let vectors: HashMap<String, qdrant_client::qdrant::Vector> = HashMap::from([
        (DENSE.to_owned(), chunk.dense.into()),
        (LEXICAL.to_owned(), chunk.sparse.into()),
    ]);
    PointStruct::new(id, vectors, payload)
}

/// The cosine of two vectors.
fn cosine(a: &[f32], b: &[f32]) -> Option<f32> {
    if a.len() != b.len() {
        return None;
    }
    let dot: f32 = a.iter().zip(b).map(|(x, y)| x * y).sum();
    let norm = |v: &[f32]| v.iter().map(|x| x * x).sum::<f32>().sqrt();
    let norms = norm(a) * norm(b);
    (norms > 0.0).then(|| dot / norms)
}

/// A scored point as a result, if its payload is dowse's; its similarity
/// to `query` when both have a dense vector.
fn hit(point: qdrant_client::qdrant::ScoredPoint, query: Option<&[f32]>) -> Option<RemoteHit> {
    let similarity = point
        .vectors
        .as_ref()
        .and_then(|v| v.get_vector_by_name(DENSE))
        .and_then(|v| match v {
            qdrant_client::qdrant::vector_output::Vector::Dense(dense) => Some(dense.data),
            _ => None,
        })
        .zip(query)
        .and_then(|(vector, query)| cosine(&vector, query));
    let payload = serde_json::Value::from(Payload::from(point.payload));
    let text = |key: &str| payload.get(key).and_then(|v| v.as_str()).map(str::to_owned);
    let line = |key: &str| payload.get(key).and_then(|v| v.as_f64()).map(|n| n as u32);
    Some(RemoteHit {
        repo: text("repo")?,
        path: text("path")?,
        start_line: line("start_line")?,
        end_line: line("end_line")?,
        symbol: text("symbol"),
        kind: text("kind").unwrap_or_default(),
        language: text("language").unwrap_or_default(),
        enclosing: payload
            .get("enclosing")
            .and_then(|v| v.as_array())
            .map(|names| {
                names
                    .iter()
                    .filter_map(|n| n.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default(),
        text: text("text").unwrap_or_default(),
        score: point.score,
        similarity,
    })
}

/// What [`merge`] needs to know of the local side.
pub struct Local<'a> {
    /// Whether a (repository, path) is open here: a workspace root named
    /// like the repository ([`default_repo_name`]) whose index holds the
    /// path.
    pub is_local: &'a dyn Fn(&str, &str) -> bool,
    /// A local result's similarity to the query by meaning (the body
    /// vector's cosine), when known.
    pub similarity: &'a dyn Fn(&SearchResult) -> Option<f32>,
    /// The query's terms, for snippets of remote results.
    pub terms: &'a [String],
    /// Where a repository is checked out on this machine, if it is: its
    /// results name that directory as their root, so editors open the file.
    pub checkout: &'a dyn Fn(&str) -> Option<String>,
}

/// The answer of a search with `scope`: the local answer, the team
/// index's, or both. Both keep their own order (each is a hybrid ranking
/// of its own); which one's next result comes next is decided by meaning,
/// the one measure the two sides share (the collection holds vectors of
/// the same model, which publishing enforces): the higher cosine between
/// the query and the two candidates' vectors, or the better rank when a
/// side has no vector. The open repository's files the local index holds
/// come from the local index only (the developer's copy is newer than the
/// published one). Without an answer from the team index, the local
/// results stand, with a degraded note that says why.
pub fn merge(
    scope: Scope,
    local_response: SearchResponse,
    remote: std::result::Result<Vec<RemoteHit>, String>,
    local: &Local<'_>,
    limit: usize,
) -> SearchResponse {
    if scope == Scope::Local {
        return local_response;
    }
    let SearchResponse {
        query,
        mode,
        degraded,
        results: local_results,
    } = local_response;
    let remote = match remote {
        Ok(hits) => hits,
        Err(why) => {
            let note = format!("{why}: local results only");
            return SearchResponse {
                query,
                mode,
                degraded: Some(match degraded {
                    Some(before) => format!("{before}; {note}"),
                    None => note,
                }),
                results: if scope == Scope::All {
                    local_results
                } else {
                    Vec::new()
                },
            };
        }
    };
    let remote: Vec<(Option<f32>, SearchResult)> = remote
        .into_iter()
        .filter(|hit| scope == Scope::Team || !(local.is_local)(&hit.repo, &hit.path))
        .map(|hit| {
            let (similarity, root) = (hit.similarity, (local.checkout)(&hit.repo));
            let mut result = remote_result(hit, local.terms);
            if let Some(root) = root {
                result.root = root;
            }
            (similarity, result)
        })
        .collect();
    let results = if scope == Scope::Team {
        remote.into_iter().map(|(_, r)| r).take(limit).collect()
    } else {
        let local_results: Vec<(Option<f32>, SearchResult)> = local_results
            .into_iter()
            .map(|r| ((local.similarity)(&r), r))
            .collect();
        interleave(local_results, remote, limit)
    };
    SearchResponse {
        query,
        mode,
        degraded,
        results,
    }
}

/// A search of `request.scope` beyond the local index: the team index's
/// query starts first, `local_search` answers meanwhile, and the team's
/// answer is waited for within the time budget, then [`merge`]d. `engines`
/// are the workspace roots (the first embeds the query: the roots share
/// the model). A path prefix narrows the local side only: the team index's
/// paths belong to other repositories.
pub fn search(
    team: &Team,
    engines: &[&Engine],
    request: &SearchRequest,
    local_search: impl FnOnce() -> std::result::Result<SearchResponse, EngineError>,
) -> std::result::Result<SearchResponse, EngineError> {
    let first = engines
        .first()
        .ok_or_else(|| EngineError::Unavailable("no workspace root is open".into()))?;
    let query = first.remote_query(request.query.trim());
    let pending = team.search(&query, request.limit, &request.languages);
    let local_response = local_search()?;
    let names: Vec<(String, &Engine)> = engines
        .iter()
        .map(|engine| (default_repo_name(engine.root()), *engine))
        .collect();
    let is_local = |repo: &str, path: &str| {
        names
            .iter()
            .any(|(name, engine)| name == repo && engine.has_file(path))
    };
    let similarity = |result: &SearchResult| {
        let dense = query.dense.as_deref()?;
        let engine = engines
            .iter()
            .find(|e| e.root().to_string_lossy() == result.root.as_str())?;
        engine.similarity(result, dense)
    };
    let checkout = |repo: &str| {
        let dir = team.checkouts.get(repo)?;
        Some(dir.canonicalize().ok()?.to_string_lossy().into_owned())
    };
    let local = Local {
        is_local: &is_local,
        similarity: &similarity,
        terms: &query.terms,
        checkout: &checkout,
    };
    Ok(merge(
        request.scope,
        local_response,
        pending.wait(),
        &local,
        request.limit,
    ))
}

/// Reciprocal rank's constant, as in the local hybrid search and Qdrant.
const RRF_K: f32 = 60.0;

/// Two ranked lists as one, each list's order kept: the next result is the
/// head with the higher similarity, or, without both similarities, the
/// head of better rank (the local one at equal ranks). Scores become the
/// similarity, else reciprocal rank.
fn interleave(
    local: Vec<(Option<f32>, SearchResult)>,
    remote: Vec<(Option<f32>, SearchResult)>,
    limit: usize,
) -> Vec<SearchResult> {
    let mut local = local.into_iter().enumerate().peekable();
    let mut remote = remote.into_iter().enumerate().peekable();
    let mut out = Vec::new();
    while out.len() < limit {
        let take_local = match (local.peek(), remote.peek()) {
            (None, None) => break,
            (Some(_), None) => true,
            (None, Some(_)) => false,
            (Some((l_rank, (l_sim, _))), Some((r_rank, (r_sim, _)))) => match (l_sim, r_sim) {
                (Some(l), Some(r)) => l >= r,
                _ => l_rank <= r_rank,
            },
        };
        let next = if take_local {
            local.next()
        } else {
            remote.next()
        };
        let (rank, (similarity, mut result)) = next.expect("a head");
        result.score = similarity.unwrap_or(1.0 / (RRF_K + rank as f32 + 1.0));
        out.push(result);
    }
    out
}

/// A team index result in the shape of a local one: no workspace root, the
/// repository named, the snippet from the published text.
fn remote_result(hit: RemoteHit, terms: &[String]) -> SearchResult {
    let (snippet_text, offset) = snippet(&hit.text, terms);
    let snippet_line = hit.start_line + offset as u32;
    let matches = snippet_matches(&snippet_text, terms)
        .into_iter()
        .map(|(line, bytes)| SnippetMatch {
            line: snippet_line + line as u32,
            bytes,
        })
        .collect();
    SearchResult {
        root: String::new(),
        path: hit.path,
        start_line: hit.start_line,
        end_line: hit.end_line,
        symbol: hit.symbol,
        enclosing: hit.enclosing,
        kind: ChunkKind::from_name(&hit.kind).unwrap_or(ChunkKind::Text),
        language: hit.language,
        score: hit.score,
        snippet: snippet_text,
        snippet_line,
        byte_range: 0..0,
        matches,
        name: None,
        more_in_file: 0,
        repo: Some(hit.repo),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_head_commit_comes_from_the_repository_only() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("repo");
        let git = root.join(".git");
        std::fs::create_dir_all(git.join("refs/heads")).unwrap();
        let commit = "a".repeat(40);
        std::fs::write(git.join("HEAD"), "ref: refs/heads/main\n").unwrap();
        std::fs::write(git.join("refs/heads/main"), format!("{commit}\n")).unwrap();
        assert_eq!(head_commit(&root).as_deref(), Some(commit.as_str()));

        // Packed.
        std::fs::remove_file(git.join("refs/heads/main")).unwrap();
        let packed = "b".repeat(40);
        std::fs::write(
            git.join("packed-refs"),
            format!("# pack-refs\n{packed} refs/heads/main\n"),
        )
        .unwrap();
        assert_eq!(head_commit(&root).as_deref(), Some(packed.as_str()));

        // A ref linked to a file outside the repository is not read, even
        // when it looks like a commit (a token of 40 hex digits).
        let secret = dir.path().join("token");
        std::fs::write(&secret, "c".repeat(40)).unwrap();
        std::fs::remove_file(git.join("packed-refs")).unwrap();
        std::os::unix::fs::symlink(&secret, git.join("refs/heads/main")).unwrap();
        assert_eq!(head_commit(&root), None);
        // Nor a HEAD naming a path outside refs/.
        std::fs::write(git.join("HEAD"), "ref: ../../token\n").unwrap();
        assert_eq!(head_commit(&root), None);
    }

    #[test]
    fn point_ids_are_uuids_of_repo_path_and_key() {
        let id = point_uuid("api", "src/a.rs", "00ff.0");
        assert_eq!(id.len(), 36);
        assert_eq!(id.matches('-').count(), 4);
        assert_eq!(id, point_uuid("api", "src/a.rs", "00ff.0"));
        assert_ne!(id, point_uuid("web", "src/a.rs", "00ff.0"));
        assert_ne!(id, point_uuid("api", "src/b.rs", "00ff.0"));
        assert_ne!(id, point_uuid("api", "src/a.rs", "00ff.1"));
    }

    fn local_result(path: &str, line: u32) -> SearchResult {
        remote_result(
            RemoteHit {
                repo: String::new(),
                path: path.into(),
                start_line: line,
                end_line: line + 1,
                symbol: None,
                kind: "function".into(),
                language: "rust".into(),
                enclosing: Vec::new(),
                text: "fn a() {}".into(),
                score: 1.0,
                similarity: None,
            },
            &[],
        )
        .local()
    }

    trait Localise {
        fn local(self) -> SearchResult;
    }

    impl Localise for SearchResult {
        fn local(mut self) -> SearchResult {
            self.repo = None;
            self.root = "/ws".into();
            self
        }
    }

    fn remote_hit(repo: &str, path: &str) -> RemoteHit {
        RemoteHit {
            repo: repo.into(),
            path: path.into(),
            start_line: 1,
            end_line: 3,
            symbol: Some("retry".into()),
            kind: "function".into(),
            language: "python".into(),
            enclosing: Vec::new(),
            text: "def retry():\n    upload()\n".into(),
            score: 0.5,
            similarity: Some(0.5),
        }
    }

    fn response(results: Vec<SearchResult>) -> SearchResponse {
        SearchResponse {
            query: "retry upload".into(),
            mode: dowse_engine::SearchMode::Hybrid,
            degraded: None,
            results,
        }
    }

    #[test]
    fn local_files_replace_their_published_copies() {
        let is_local = |repo: &str, path: &str| repo == "web" && path == "app.py";
        let terms = vec!["upload".to_owned()];
        let local = Local {
            is_local: &is_local,
            similarity: &|_: &SearchResult| None,
            terms: &terms,
            checkout: &|repo: &str| (repo == "api").then(|| "/src/api".to_owned()),
        };
        let remote = vec![
            remote_hit("web", "app.py"),
            remote_hit("api", "client.py"),
            remote_hit("web", "deleted_here.py"),
        ];
        let merged = merge(
            Scope::All,
            response(vec![local_result("app.py", 10)]),
            Ok(remote.clone()),
            &local,
            10,
        );
        let said: Vec<(Option<&str>, &str)> = merged
            .results
            .iter()
            .map(|r| (r.repo.as_deref(), r.path.as_str()))
            .collect();
        assert_eq!(
            said,
            [
                (None, "app.py"),
                (Some("api"), "client.py"),
                (Some("web"), "deleted_here.py")
            ]
        );
        let api = &merged.results[1];
        assert_eq!(api.root, "/src/api", "a checked-out repository opens there");
        assert_eq!(
            merged.results[2].root, "",
            "web is not checked out elsewhere"
        );
        assert_eq!(api.snippet_line, 1);
        assert!(api.snippet.contains("upload()"), "{}", api.snippet);
        assert_eq!(api.matches.len(), 1, "the query word is marked");

        // The team scope shows the team index as published.
        let team = merge(
            Scope::Team,
            response(vec![local_result("app.py", 10)]),
            Ok(remote),
            &local,
            2,
        );
        assert_eq!(team.results.len(), 2);
        assert!(team.results.iter().all(|r| r.repo.is_some()));
    }

    /// Each side keeps its order; the more similar head goes first.
    #[test]
    fn the_more_similar_head_goes_next() {
        let result = |path: &str| local_result(path, 1);
        let merged: Vec<String> = interleave(
            vec![(Some(0.2), result("l1")), (Some(0.6), result("l2"))],
            vec![
                (Some(0.5), result("r1")),
                (Some(0.3), result("r2")),
                (Some(0.1), result("r3")),
            ],
            4,
        )
        .into_iter()
        .map(|r| r.path)
        .collect();
        assert_eq!(merged, ["r1", "r2", "l1", "l2"]);
        // Without similarities, ranks alternate, the local side first.
        let merged: Vec<String> = interleave(
            vec![(None, result("l1")), (None, result("l2"))],
            vec![(Some(0.5), result("r1"))],
            10,
        )
        .into_iter()
        .map(|r| r.path)
        .collect();
        assert_eq!(merged, ["l1", "r1", "l2"]);
    }

    #[test]
    fn without_the_team_index_local_results_stand_with_a_note() {
        let local = Local {
            is_local: &|_: &str, _: &str| true,
            similarity: &|_: &SearchResult| None,
            terms: &[],
            checkout: &|_: &str| None,
        };
        let merged = merge(
            Scope::All,
            response(vec![local_result("app.py", 10)]),
            Err("the team index at http://127.0.0.1:1 did not answer within 300 ms".into()),
            &local,
            10,
        );
        assert_eq!(merged.results.len(), 1);
        assert_eq!(
            merged.degraded.as_deref(),
            Some(
                "the team index at http://127.0.0.1:1 did not answer within 300 ms: local results only"
            )
        );
    }
}
