//! Searching: one hybrid query to the collection, merged with the local
//! answer.

use std::time::{Duration, Instant};

use dowse_engine::search::{SearchResponse, SearchResult, snippet_at};
use dowse_engine::{ChunkKind, Engine, EngineError, RemoteQuery, Scope, SearchRequest};
use qdrant_client::Payload;
use qdrant_client::qdrant::{
    Condition, Filter, Fusion, PrefetchQueryBuilder, Query, QueryPointsBuilder, VectorInput,
    VectorsSelector,
};

use crate::{DENSE, LEXICAL, Team, default_repo_name};

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

impl Team {
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
                        .map_err(|err| crate::describe(&err)),
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
            let note = match scope {
                Scope::All => format!("{why}: local results only"),
                _ => why,
            };
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
    search_telling(team, engines, request, local_search).map(|(response, _)| response)
}

/// [`search`], and why the team index gave no answer when it did not: the
/// command line fails a search of the team index alone on it (a script
/// reads the exit code), where the servers answer with the note.
pub fn search_telling(
    team: &Team,
    engines: &[&Engine],
    request: &SearchRequest,
    local_search: impl FnOnce() -> std::result::Result<SearchResponse, EngineError>,
) -> std::result::Result<(SearchResponse, Option<String>), EngineError> {
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
    let remote = pending.wait();
    let failed = remote.as_ref().err().cloned();
    let response = merge(request.scope, local_response, remote, &local, request.limit);
    Ok((response, failed))
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
    let (snippet_text, snippet_line, matches) = snippet_at(&hit.text, hit.start_line, terms);
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
