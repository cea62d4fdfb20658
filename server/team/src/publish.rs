//! Publishing: a workspace's chunks into the collection, only what changed.

use std::collections::HashMap;
use std::time::Instant;

use dowse_engine::{Engine, EngineError, PublishedChunk, PublishedModel};
use qdrant_client::Payload;
use qdrant_client::qdrant::{
    Condition, CreateCollectionBuilder, CreateFieldIndexCollectionBuilder, DeletePointsBuilder,
    Distance, FieldType, Filter, Modifier, PayloadIncludeSelector, PointId, PointStruct,
    PointsIdsList, ScrollPointsBuilder, SetPayloadPointsBuilder, SparseVectorParamsBuilder,
    SparseVectorsConfigBuilder, UpsertPointsBuilder, VectorParamsBuilder, VectorsConfigBuilder,
    point_id,
};

use crate::{
    DENSE, DIMENSIONS_KEY, LEXICAL, MODEL_KEY, Result, Team, TeamError, describe, remote_error,
};

/// Points per upsert: about 1.6 KB of dense vector, a few hundred bytes of
/// sparse vector and up to 4 KB of text each, well under gRPC's 4 MB.
pub const BATCH: usize = 256;
/// Ids per delete request.
const DELETE_BATCH: usize = 1024;

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

impl Team {
    /// Creates the collection for `model` if it does not exist; refuses one
    /// made for another model.
    async fn ensure_collection(&self, model: &PublishedModel, layout: Layout) -> Result<()> {
        let name = &self.collection;
        let exists = self
            .client
            .collection_exists(name)
            .await
            .map_err(|err| remote_error(&self.url, describe(&err)))?;
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
                .map_err(|err| remote_error(&self.url, describe(&err)))?;
            for field in ["repo", "path", "language"] {
                self.client
                    .create_field_index(
                        CreateFieldIndexCollectionBuilder::new(name, field, FieldType::Keyword)
                            .wait(true),
                    )
                    .await
                    .map_err(|err| remote_error(&self.url, describe(&err)))?;
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
}
