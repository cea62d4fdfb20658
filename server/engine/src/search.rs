//! Search: a query in, ranked chunks out.
//!
//! Lexical search is boosted BM25 over chunks ([`dowse_index::lexical`]).
//! Results are over-fetched and then collapsed: chunks that overlap one
//! another (the parts of one large function, say) are reported once, by the
//! best of them. Each result carries a snippet: the few lines of the chunk
//! that match the query best.

use std::collections::{HashMap, HashSet};

use dowse_index::lexical::{Boosts, LexicalSnapshot, StoredChunk};

use crate::snapshot::Snapshot;

use crate::named::{Match, Named};
use crate::semantic::SemanticState;
use crate::source::SourceReader;
use crate::{Engine, Result};

mod fuse;
mod ranking;
mod request;
mod role;
mod snippet;

use fuse::{MeaningScorer, fuse};
pub use ranking::{Fusion, Ranking};
pub use request::{
    NameAt, Scope, SearchMode, SearchRequest, SearchResponse, SearchResult, SnippetMatch,
    validate_limit,
};
pub use role::{Role, is_test_code};
pub use snippet::{snippet, snippet_at, snippet_matches};

/// Candidates ranked per result asked for: parts of one definition are
/// reported as the definition and overlapping chunks collapse, which on
/// set D leaves one result of every two to three candidates at worst.
pub(crate) const OVERSHOOT: usize = 3;

/// How much deeper a search under a path prefix ranks: the prefix keeps
/// only the candidates under it, typically a tenth or less of a workspace
/// (a package of ten), and the deeper ranking costs a few milliseconds.
const PREFIX_OVERSHOOT: usize = 10;

/// Chunks looked up by name for a query that is a name: more than one file
/// defines most names a few times (`new`, `parse`), rarely dozens.
const NAMED_DEPTH: usize = 50;

/// Chunks ranked for a request, best first, overlapping ones collapsed.
pub(crate) struct Ranked {
    pub(crate) snapshot: Snapshot,
    pub(crate) chunks: Vec<(f32, StoredChunk)>,
    /// Matches of a file beyond those shown, folded under its first result.
    pub(crate) more_in_file: HashMap<String, u32>,
    pub(crate) degraded: Option<String>,
}

impl Engine {
    /// Answers `request` from the current snapshot: the committed index and
    /// the overlay of unsaved buffers.
    pub fn search(&self, request: &SearchRequest) -> Result<SearchResponse> {
        let started = std::time::Instant::now();
        let ranked = self.search_chunks(request, self.config.ranking.whole_definitions)?;
        let terms = LexicalSnapshot::query_terms(request.query.trim());
        let mut sources = SourceReader::results(&self.root, &ranked.snapshot.overlay);
        let mut more_in_file = ranked.more_in_file;
        let results = ranked
            .chunks
            .into_iter()
            .map(|(score, chunk)| {
                let text = sources.text(&chunk);
                let more = more_in_file.remove(&chunk.path).unwrap_or(0);
                let mut result = to_result(&self.root, score, chunk, text.as_deref(), &terms);
                result.more_in_file = more;
                result
            })
            .collect();
        self.counters.query(started.elapsed());
        Ok(SearchResponse {
            query: request.query.clone(),
            mode: request.mode,
            degraded: ranked.degraded,
            results,
        })
    }

    /// The ranking behind [`Engine::search`]; `whole_definitions` says
    /// whether parts of large definitions stand for the whole definition.
    pub(crate) fn search_chunks(
        &self,
        request: &SearchRequest,
        whole_definitions: bool,
    ) -> Result<Ranked> {
        request.validate()?;
        let _query = self.query_started();
        let query = request.query.trim();
        let prefix = request
            .path_prefix
            .as_deref()
            .map(|p| p.trim_matches('/'))
            .filter(|p| !p.is_empty() && *p != ".");
        let ranking = &self.config.ranking;
        let name_weight = ranking.name_weight(query);
        // Keyword search alone (asked for, or hybrid without a model) keeps
        // every name match; hybrid fuses with its own weights.
        let boosts = ranking.boosts(query, SearchMode::Lexical);
        let fused_boosts = ranking.boosts(query, SearchMode::Hybrid);
        let snapshot = self.snapshot();
        // Ranked deeper than asked: several chunks of one definition and
        // test code folded away after ranking must leave `limit` results
        // ([`OVERSHOOT`]), and a path filter, applied after ranking, keeps
        // only the part of them under it ([`PREFIX_OVERSHOOT`]).
        let depth = ranking.candidates.max(request.limit * OVERSHOOT)
            * if prefix.is_some() || !request.languages.is_empty() {
                PREFIX_OVERSHOOT
            } else {
                1
            };
        let lexical_ranking = || -> Result<Vec<(u64, f32)>> {
            Ok(snapshot
                .lexical(query, &boosts, depth)?
                .into_iter()
                .map(|hit| (hit.chunk_id, hit.score))
                .collect())
        };
        let (ranked, degraded) = match request.mode {
            SearchMode::Lexical => (lexical_ranking()?, None),
            SearchMode::Hybrid | SearchMode::Semantic => match self.semantic() {
                state @ (SemanticState::Unavailable(_) | SemanticState::NotLoaded) => {
                    let reason = state.unavailable().unwrap_or_default();
                    (lexical_ranking()?, Some(keyword_only(reason)))
                }
                SemanticState::Ready(ready) => match ready.embed_query(ranking.meaning_text(query))
                {
                    Err(reason) => (lexical_ranking()?, Some(keyword_only(&reason))),
                    Ok(vector) => {
                        let by_meaning = snapshot.vector_hits(ready, &vector, depth);
                        let scorer = MeaningScorer {
                            ready,
                            query: &vector,
                            name_weight,
                        };
                        if request.mode == SearchMode::Semantic {
                            (scorer.rescore(&snapshot, by_meaning)?, None)
                        } else {
                            let fused = fuse(
                                &snapshot,
                                &scorer,
                                (query, &fused_boosts),
                                &by_meaning,
                                ranking,
                            )?;
                            (fused, None)
                        }
                    }
                },
            },
        };
        // A chunk as the answer holds it, if the request's filters keep it.
        let shown = |mut chunk: StoredChunk| {
            let outside = prefix.is_some_and(|prefix| !under(&chunk.path, prefix));
            let other_language =
                !request.languages.is_empty() && !request.languages.contains(&chunk.language);
            if outside || other_language {
                return None;
            }
            if !whole_definitions {
                chunk.definition = None;
            }
            Some(chunk)
        };
        let mut chunks = Vec::with_capacity(ranked.len());
        for (chunk_id, score) in ranked {
            // A vector may outlive its chunk by a moment (the lexical commit
            // comes first), and a committed chunk of a file open in an
            // editor is masked: such hits are skipped.
            if let Some(chunk) = snapshot.chunk(chunk_id)?.and_then(shown) {
                chunks.push((score, chunk));
            }
        }
        // A query that is a file's name or path (`client.py`,
        // `net/client.py`) asks for that file: its chunks come first, and
        // it is not read as a qualified name (`client` `.py`).
        let files_named = if ranking.files_named_first {
            self.files_named(&snapshot.overlay, query)
        } else {
            Vec::new()
        };
        if !files_named.is_empty() {
            let mut seen: HashSet<u64> = chunks.iter().map(|(_, c)| c.chunk_id).collect();
            for path in &files_named {
                for chunk in snapshot.file_chunks(path)? {
                    if seen.insert(chunk.chunk_id)
                        && let Some(chunk) = shown(chunk)
                    {
                        chunks.push((0.0, chunk));
                    }
                }
            }
        }
        let named =
            Named::of(query).filter(|_| ranking.definitions_first && files_named.is_empty());
        if let Some(named) = named.as_ref().filter(|n| n.whole) {
            // The definitions of a name may lie below the candidates (a
            // short class header among a hundred uses): looked up by name.
            let mut seen: HashSet<u64> = chunks.iter().map(|(_, c)| c.chunk_id).collect();
            let by_name = Boosts {
                content: 0.0,
                symbol: 1.0,
                symbol_min_terms: 1,
                getter: 0.0,
                related: 0.0,
            };
            for hit in snapshot.lexical(&named.name, &by_name, NAMED_DEPTH)? {
                if !seen.insert(hit.chunk_id) {
                    continue;
                }
                if let Some(chunk) = snapshot.chunk(hit.chunk_id)?
                    && named.matches(&chunk) >= Match::CaseInsensitive
                    && let Some(chunk) = shown(chunk)
                {
                    chunks.push((0.0, chunk));
                }
            }
        }
        let top = chunks.iter().map(|c| c.0).fold(f32::EPSILON, f32::max);
        for (score, chunk) in &mut chunks {
            let role = Role::of(chunk);
            if *score > 0.0 && !role.asked_for(query) {
                *score *= match role {
                    Role::Code => 1.0,
                    Role::NotCode => ranking.not_code_factor,
                    _ => ranking.test_factor,
                };
            }
            if files_named.contains(&chunk.path) {
                // Above every other chunk, in their own order.
                *score += 2.0 * top;
            }
            let Some(named) = &named else { continue };
            let found = named.matches(chunk);
            // A test named after what it tests (`test_split_identifier`)
            // is not a definition of it.
            if found == Match::Partial && role != Role::Code {
                continue;
            }
            let tier = f32::from(found.tier());
            if named.whole {
                // Every tier above all scores: definitions first, then uses.
                *score += tier * top;
            } else if found >= Match::CaseInsensitive {
                *score *= 1.0 + ranking.sentence_name_lift * tier;
            }
        }
        if ranking.file_support > 0.0 {
            lift_by_file(&mut chunks, ranking.file_support);
        }
        chunks.sort_by(|a, b| b.0.total_cmp(&a.0));
        // Keyword and meaning alone rank as they find; a query about one
        // file shows its places.
        let share = if request.mode != SearchMode::Hybrid || about_one_file(request, query) {
            FileShare::ALL
        } else {
            FileShare {
                head: ranking.spread_after,
                head_per_file: ranking.head_per_file,
                head_near_best: ranking.head_near_best,
                per_file: ranking.per_file,
                second: ranking.second_in_file,
            }
        };
        let (chunks, more_in_file) = spread(collapse(chunks, usize::MAX), request.limit, share);
        Ok(Ranked {
            chunks,
            more_in_file,
            snapshot,
            degraded,
        })
    }
}

/// Lifts each file's best chunk by the other candidates of its file: their
/// scores summed, as a share of the best score overall (at most 3), times
/// `weight`. A file many of whose chunks match is likely what a question
/// about structure asks for ("how is routing organised").
fn lift_by_file(chunks: &mut [(f32, StoredChunk)], weight: f32) {
    let top = chunks.iter().map(|c| c.0).fold(f32::EPSILON, f32::max);
    let mut files: HashMap<&str, (usize, f32, f32)> = HashMap::new();
    for (i, (score, chunk)) in chunks.iter().enumerate() {
        let entry = files.entry(chunk.path.as_str()).or_insert((i, *score, 0.0));
        entry.2 += score.max(0.0);
        if *score > entry.1 {
            (entry.0, entry.1) = (i, *score);
        }
    }
    let lifts: Vec<(usize, f32)> = files
        .values()
        .map(|&(best, best_score, sum)| {
            let support = ((sum - best_score.max(0.0)) / top).min(3.0);
            (best, 1.0 + weight * support)
        })
        .collect();
    for (best, lift) in lifts {
        chunks[best].0 *= lift;
    }
}

/// Files named in full at most: `mod.rs` or `index.ts` may name dozens.
const MAX_FILES_NAMED: usize = 20;

impl Engine {
    /// The files a query names when it is nothing but a file name or a
    /// workspace path (`client.py`, `net/client.py`, `./src/net/client.py`,
    /// quoted or not): the indexed files (and open buffers) whose path is
    /// that or ends with `/` and that, at most [`MAX_FILES_NAMED`]. None
    /// for anything else, and for a name no file has (`self.go` is then a
    /// qualified name).
    fn files_named(&self, overlay: &crate::overlay::OverlayView, query: &str) -> Vec<String> {
        let name = query.trim_matches(|c: char| matches!(c, '`' | '"' | '\''));
        let name = name.strip_prefix("./").unwrap_or(name);
        if name.is_empty() || name.chars().any(char::is_whitespace) || !names_file(name) {
            return Vec::new();
        }
        let suffix = format!("/{name}");
        let named = |path: &str| path == name || path.ends_with(&suffix);
        let mut out: Vec<String> = {
            let table = self.files.read().expect("file table lock");
            table
                .files
                .keys()
                .filter(|p| named(p))
                .take(MAX_FILES_NAMED)
                .cloned()
                .collect()
        };
        for path in overlay.paths() {
            if named(path) && out.len() < MAX_FILES_NAMED && !out.iter().any(|p| p == path) {
                out.push(path.to_owned());
            }
        }
        out
    }
}

/// Whether `text` looks like a file name: a stem, a dot and an extension
/// dowse reads as a language (`lexer.py`, `src/net.rs`).
fn names_file(text: &str) -> bool {
    text.rsplit_once('.').is_some_and(|(stem, ext)| {
        !stem.is_empty()
            && !stem.ends_with('/')
            && (1..=5).contains(&ext.len())
            && ext.chars().all(|c| c.is_ascii_alphanumeric())
            && dowse_syntax::Language::from_path(std::path::Path::new(text)).is_some()
    })
}

/// Whether a query is about one file: a path prefix that is a file, or a
/// file name in the query (`lexer.py`, `src/net.rs`): then every place in it
/// may be an answer.
fn about_one_file(request: &SearchRequest, query: &str) -> bool {
    request
        .path_prefix
        .as_deref()
        .is_some_and(|p| names_file(p.trim_end_matches('/')))
        || query.split_whitespace().any(|w| {
            names_file(w.trim_matches(|c: char| matches!(c, '`' | '"' | '\'' | ',' | '?')))
        })
}

/// How an answer is shared out among files (see [`spread`]).
#[derive(Clone, Copy, Debug)]
struct FileShare {
    /// The first this many answers as ranked...
    head: usize,
    /// ...with at most this many of one file...
    head_per_file: usize,
    /// ...and a file's later chunk only if it scores at least this share
    /// of the first answer's score.
    head_near_best: f32,
    /// Chunks of one file shown while other files have chunks to show.
    per_file: usize,
    /// A file's later chunk's score is multiplied by this once per earlier
    /// chunk of its file.
    second: f32,
}

impl FileShare {
    /// Every chunk as ranked: a query about one file.
    const ALL: FileShare = FileShare {
        head: 0,
        head_per_file: usize::MAX,
        head_near_best: 0.0,
        per_file: usize::MAX,
        second: 1.0,
    };
}

/// The answer from ranked, collapsed chunks: the first `share.head` as
/// ranked (at most `share.head_per_file` of one file, a file's later chunk
/// only when near the best, `share.head_near_best`); after them a file's
/// later chunks are discounted (`share.second`, multiplied in once per
/// earlier chunk of the file) and at most `share.per_file` of a file's
/// chunks are shown while other files have chunks to show, the rest folded
/// (counted per file) and used only to fill places nothing else fills.
fn spread(
    ranked: Vec<(f32, StoredChunk)>,
    limit: usize,
    share: FileShare,
) -> (Vec<(f32, StoredChunk)>, HashMap<String, u32>) {
    let mut seen: HashMap<&str, usize> = HashMap::new();
    let mut shown = Vec::with_capacity(ranked.len());
    let mut folded = Vec::new();
    let best = ranked.first().map_or(0.0, |r| r.0);
    for (i, (score, chunk)) in ranked.iter().enumerate() {
        let before = seen.entry(chunk.path.as_str()).or_default();
        let near_best = *before == 0 || *score >= share.head_near_best * best;
        if i < share.head && *before < share.head_per_file && near_best {
            shown.push((*score, i));
        } else if *before < share.per_file {
            shown.push((score * share.second.powi(*before as i32), i));
        } else {
            folded.push((*score, i));
        }
        *before += 1;
    }
    shown.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
    // Places left: the folded chunks, best first, take them back.
    let room = limit.saturating_sub(shown.len());
    let back = room.min(folded.len());
    shown.extend(folded.drain(..back));
    shown.truncate(limit);
    // What stays folded, counted under its file's shown result.
    let mut more_in_file: HashMap<String, u32> = HashMap::new();
    for (_, i) in &folded {
        let path = &ranked[*i].1.path;
        if shown.iter().any(|s| &ranked[s.1].1.path == path) {
            *more_in_file.entry(path.clone()).or_default() += 1;
        }
    }
    let mut ranked: Vec<Option<(f32, StoredChunk)>> = ranked.into_iter().map(Some).collect();
    let chunks = shown
        .into_iter()
        .filter_map(|(score, i)| ranked[i].take().map(|(_, chunk)| (score, chunk)))
        .collect();
    (chunks, more_in_file)
}

/// Whether workspace-relative `path` lies under `prefix` (a directory or
/// the file itself), by whole path components.
fn under(path: &str, prefix: &str) -> bool {
    path == prefix || path.starts_with(prefix) && path[prefix.len()..].starts_with('/')
}

/// The `degraded` message of a keyword-only answer.
pub(crate) fn keyword_only(reason: &str) -> String {
    format!("semantic search is unavailable: {reason}; results are from keyword search")
}

/// Keeps the best of chunks that overlap in one file, in score order;
/// chunks are compared by the lines they are reported with.
pub(crate) fn collapse(ranked: Vec<(f32, StoredChunk)>, limit: usize) -> Vec<(f32, StoredChunk)> {
    let mut kept: Vec<(f32, StoredChunk)> = Vec::with_capacity(limit.min(ranked.len()));
    for (score, chunk) in ranked {
        let (start, end) = chunk.reported_lines();
        let overlaps = kept.iter().any(|(_, k)| {
            let (k_start, k_end) = k.reported_lines();
            k.path == chunk.path && k_start <= end && start <= k_end
        });
        if !overlaps {
            kept.push((score, chunk));
            if kept.len() == limit {
                break;
            }
        }
    }
    kept
}

/// A result for `chunk`; `text` is its text when the file still holds it (an
/// empty snippet otherwise).
pub(crate) fn to_result(
    root: &std::path::Path,
    score: f32,
    chunk: StoredChunk,
    text: Option<&str>,
    terms: &[String],
) -> SearchResult {
    let (snippet, snippet_line, matches) = snippet_at(text.unwrap_or(""), chunk.start_line, terms);
    let name = text
        .zip(chunk.symbol.as_deref())
        .and_then(|(text, symbol)| {
            let first = symbol.split(", ").next().unwrap_or(symbol);
            let (line, bytes) = dowse_syntax::name_position(text, chunk.kind, first)?;
            Some(NameAt {
                line: chunk.start_line + line as u32,
                bytes,
                line_text: text.lines().nth(line)?.to_owned(),
            })
        });
    let (start_line, end_line) = chunk.reported_lines();
    SearchResult {
        root: root.to_string_lossy().into_owned(),
        path: chunk.path,
        start_line,
        end_line,
        symbol: chunk.symbol,
        enclosing: chunk.enclosing,
        kind: chunk.kind,
        language: chunk.language,
        score,
        snippet,
        snippet_line,
        byte_range: chunk.byte_range,
        matches,
        name,
        more_in_file: 0,
        repo: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Config, NoProgress};
    use dowse_index::tokenizer;
    use dowse_syntax::ChunkKind;

    fn engine_over(files: &[(&str, String)]) -> (tempfile::TempDir, crate::EngineWriter) {
        engine_ranked(files, Ranking::default())
    }

    fn engine_ranked(
        files: &[(&str, String)],
        ranking: Ranking,
    ) -> (tempfile::TempDir, crate::EngineWriter) {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("ws");
        for (path, text) in files {
            let path = root.join(path);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        }
        let config = Config {
            index_dir: Some(dir.path().join("index")),
            ranking,
            ..Config::default()
        };
        let mut engine = Engine::open_with_embedder(
            &root,
            config,
            std::sync::Arc::new(dowse_embed::FakeEmbedder::new(32)),
        )
        .unwrap();
        engine.update(&NoProgress).unwrap();
        engine.embed(&NoProgress).unwrap();
        (dir, engine)
    }

    fn lexical(engine: &Engine, query: &str) -> Vec<SearchResult> {
        let request = SearchRequest {
            mode: SearchMode::Lexical,
            ..SearchRequest::new(query)
        };
        engine.search(&request).unwrap().results
    }

    #[test]
    fn names_weigh_for_short_queries_and_not_for_long_ones() {
        let ranking = Ranking::default();
        assert_eq!(ranking.name_weight("parse_duration"), 1.0);
        assert_eq!(ranking.name_weight("parse a duration string"), 1.0);
        let nine = "write cache entries to disk through a temporary file then rename atomically";
        assert_eq!(tokenizer::content_words(nine), 9);
        assert_eq!(ranking.name_weight(nine), 0.5);
        assert_eq!(
            ranking.name_weight(
                "write cache entries to disk through a temporary file, then rename it over the old one so readers never see half a file"
            ),
            0.0
        );
    }

    #[test]
    fn in_hybrid_a_name_holds_two_words_of_a_long_sentence() {
        let ranking = Ranking::default();
        let nine = "write cache entries to disk through a temporary file then rename atomically";
        let hybrid = ranking.boosts(nine, SearchMode::Hybrid);
        assert_eq!((hybrid.symbol, hybrid.symbol_min_terms), (0.5, 2));
        // Keyword search alone, and short queries, count any name match.
        assert_eq!(
            ranking.boosts(nine, SearchMode::Lexical).symbol_min_terms,
            1
        );
        let short = ranking.boosts("retry failed uploads", SearchMode::Hybrid);
        assert_eq!((short.symbol, short.symbol_min_terms), (1.0, 1));
        // Related words ("remove" for `delete`) in both, weighed less in
        // keyword search alone.
        let keyword = ranking.boosts("retry failed uploads", SearchMode::Lexical);
        assert!(0.0 < keyword.related && keyword.related < short.related);
    }

    /// A stored function chunk of one line (its id is its line), for the
    /// rules that read only a chunk's path, place and enclosing names.
    fn stored(path: &str, line: u32, enclosing: &[&str]) -> StoredChunk {
        StoredChunk {
            chunk_id: u64::from(line),
            path: path.to_owned(),
            language: "rust".to_owned(),
            kind: ChunkKind::Function,
            symbol: None,
            enclosing: enclosing.iter().map(|e| (*e).to_owned()).collect(),
            start_line: line,
            end_line: line,
            byte_range: 0..0,
            part: None,
            definition: None,
            digest: dowse_syntax::Digest::of(b""),
            content_key: 0,
            test: false,
        }
    }

    #[test]
    fn test_code_is_recognised_by_path_and_module() {
        let chunk = |path: &str, enclosing: &[&str]| stored(path, 1, enclosing);
        assert!(is_test_code(&chunk("tests/test_app.py", &[])));
        assert!(is_test_code(&chunk("pkg/test_io.py", &[])));
        assert!(is_test_code(&chunk("src/lib.rs", &["mod tests"])));
        assert!(is_test_code(&chunk("conftest.py", &[])));
        // A module that happens to be called `tests.py` (a template engine's
        // tests, say) is code, not test code.
        assert!(!is_test_code(&chunk("templating/tests.py", &[])));
        assert!(is_test_code(&chunk("web/src/client.test.ts", &[])));
        assert!(is_test_code(&chunk("web/__tests__/client.js", &[])));
        assert!(is_test_code(&chunk("server/conn_test.go", &[])));
        // Test support (a virtual clock for tests) and Go's fixtures.
        assert!(is_test_code(&chunk("src/testing/VirtualClock.ts", &[])));
        assert!(is_test_code(&chunk("parser/testdata/fuzz.go", &[])));
        assert!(!is_test_code(&chunk("src/attesting/sign.ts", &[])));
        assert!(is_test_code(&chunk(
            "src/test/java/net/ClientTest.java",
            &[]
        )));
        assert!(is_test_code(&chunk("Net.Tests/ClientTests.cs", &[])));
        assert!(is_test_code(&chunk("spec/client_spec.rb", &[])));
        assert!(!is_test_code(&chunk("src/main/java/net/Contest.java", &[])));
        assert!(!is_test_code(&chunk("src/contest.rs", &["impl Contest"])));
    }

    #[test]
    fn test_code_ranks_below_the_code_it_tests() {
        let (_dir, engine) = engine_over(&[
            (
                "src/retry.rs",
                "pub fn retry_upload(n: u32) -> u32 {\n    n + 1\n}\n\n#[cfg(test)]\nmod tests {\n    #[test]\n    fn retry_upload_retries() {\n        assert_eq!(super::retry_upload(1), 2);\n        assert_eq!(super::retry_upload(2), 3);\n    }\n}\n"
                    .to_owned(),
            ),
        ]);
        let results = lexical(&engine, "retry upload");
        assert_eq!(
            results[0].symbol.as_deref(),
            Some("retry_upload"),
            "{results:#?}"
        );
        assert_eq!(results[1].symbol.as_deref(), Some("retry_upload_retries"));
    }

    #[test]
    fn a_name_finds_its_definition_before_its_many_uses() {
        let mut uses = String::new();
        for i in 0..30 {
            uses.push_str(&format!(
                "pub fn caller_{i}(s: &str) -> Vec<String> {{\n    split_identifier(s)\n}}\n\n"
            ));
        }
        let (_dir, engine) = engine_over(&[
            ("src/callers.rs", uses),
            (
                "src/text.rs",
                "pub fn split_identifier(s: &str) -> Vec<String> {\n    s.split('_').map(str::to_owned).collect()\n}\n\n#[cfg(test)]\nmod split_tests {\n    #[test]\n    fn splits() {\n        assert_eq!(super::split_identifier(\"a_b\").len(), 2);\n    }\n}\n"
                    .to_owned(),
            ),
            (
                "PublicAPI.txt",
                "split_identifier\nsplit_identifier(s)\nsplit_identifier split_identifier\n".to_owned(),
            ),
        ]);
        for query in [
            "split_identifier",
            "fn split_identifier",
            "`split_identifier()`",
        ] {
            let results = lexical(&engine, query);
            assert_eq!(
                (results[0].path.as_str(), results[0].symbol.as_deref()),
                ("src/text.rs", Some("split_identifier")),
                "{query}: {results:#?}"
            );
        }
        // In another case, still the definition.
        let results = lexical(&engine, "SplitIdentifier");
        assert_eq!(results[0].symbol.as_deref(), Some("split_identifier"));
        // The `#[cfg(test)]` module is test code, whatever its name; the
        // list of API names is not code: both below the code that uses it.
        let results = lexical(&engine, "split identifier");
        let rank = |path: &str, symbol: Option<&str>| {
            results
                .iter()
                .position(|r| r.path == path && r.symbol.as_deref() == symbol)
        };
        let definition = rank("src/text.rs", Some("split_identifier")).unwrap();
        assert_eq!(definition, 0, "{results:#?}");
        let test = rank("src/text.rs", Some("splits"));
        let listing = results.iter().position(|r| r.path == "PublicAPI.txt");
        let caller = rank("src/callers.rs", Some("caller_0")).unwrap_or(usize::MAX);
        assert!(test.is_none_or(|t| t > definition), "{results:#?}");
        assert!(listing.is_none_or(|l| l > caller.min(2)), "{results:#?}");
    }

    #[test]
    fn a_description_of_what_is_returned_finds_the_getter() {
        // Written the way flag packages are: setters that mention the
        // type, the value and the name more often than the getter does.
        let flags = "package flags\n\n\
            func (f *FlagSet) GetBool(name string) (bool, error) {\n\
            \tval, err := f.getFlagType(name, \"bool\", boolConv)\n\
            \tif err != nil {\n\t\treturn false, err\n\t}\n\
            \treturn val.(bool), nil\n}\n\n\
            func (f *FlagSet) BoolVar(p *bool, name string, value bool) {\n\
            \tf.Var(newBoolValue(value, p), name)\n}\n\n\
            func (f *FlagSet) Bool(name string, value bool) *bool {\n\
            \tp := new(bool)\n\tf.BoolVar(p, name, value)\n\treturn p\n}\n\n\
            func (f *FlagSet) GetString(name string) (string, error) {\n\
            \tval, err := f.getFlagType(name, \"string\", stringConv)\n\
            \tif err != nil {\n\t\treturn \"\", err\n\t}\n\
            \treturn val.(string), nil\n}\n"
            .to_owned();
        let query = "return the bool value of a flag with the given name";
        // The rest of the package: every function takes a name and a value.
        let mut rest = String::from("package flags\n\n");
        let verbs = "Parse Print Visit Set Lookup Usage Args Changed Sort Merge Hide Mark Init Add";
        for verb in verbs.split(' ') {
            rest.push_str(&format!(
                "func (f *FlagSet) {verb}(name string, value Value) error {{\n\
                 \tfor _, arg := range f.args {{\n\t\tf.visit(arg, name, value)\n\t}}\n\treturn nil\n}}\n\n"
            ));
        }
        let top = |ranking: Ranking| {
            let files = [
                ("flags/bool.go", flags.clone()),
                ("flags/set.go", rest.clone()),
            ];
            let (_dir, engine) = engine_ranked(&files, ranking);
            lexical(&engine, query)[0].symbol.clone()
        };
        assert_eq!(top(Ranking::default()).as_deref(), Some("GetBool"));
        // Without the rule `Bool`, which says `value` twice, is first.
        let off = Ranking {
            returns_getter: 0.0,
            ..Ranking::default()
        };
        assert_ne!(top(off).as_deref(), Some("GetBool"));
    }

    #[test]
    fn a_file_many_of_whose_chunks_match_is_lifted_when_asked() {
        let chunk = |path: &str, line: u32| stored(path, line, &[]);
        let mut chunks = vec![
            (1.0, chunk("lone.py", 1)),
            (0.9, chunk("routing.py", 2)),
            (0.6, chunk("routing.py", 3)),
            (0.5, chunk("routing.py", 4)),
        ];
        lift_by_file(&mut chunks, 0.2);
        // routing.py's best: 0.9 * (1 + 0.2 * (0.6 + 0.5) / 1.0) = 1.098.
        assert!((chunks[1].0 - 1.098).abs() < 1e-4, "{chunks:?}");
        assert_eq!(chunks[0].0, 1.0);
        assert_eq!((chunks[2].0, chunks[3].0), (0.6, 0.5));
    }

    #[test]
    fn the_head_of_an_answer_stays_as_ranked_and_the_rest_is_spread() {
        let chunk = |path: &str, line: u32| stored(path, line, &[]);
        let ranked = || {
            vec![
                (1.0, chunk("a.py", 1)),
                (0.95, chunk("a.py", 2)),
                (0.9, chunk("a.py", 3)),
                (0.85, chunk("a.py", 4)),
                (0.8, chunk("b.py", 1)),
                (0.7, chunk("b.py", 2)),
                (0.6, chunk("c.py", 1)),
            ]
        };
        let places = |share: FileShare, limit: usize| {
            let (chunks, more) = spread(ranked(), limit, share);
            let shown: Vec<String> = chunks
                .iter()
                .map(|(_, c)| format!("{}:{}", c.path, c.start_line))
                .collect();
            (shown.join(" "), more.get("a.py").copied().unwrap_or(0))
        };
        // The first three stay as ranked, then one place a file: a.py's
        // fourth chunk is folded under its first while other files match.
        let head = FileShare {
            head: 3,
            head_per_file: usize::MAX,
            head_near_best: 0.0,
            per_file: 1,
            second: 1.0,
        };
        assert_eq!(
            places(head, 5),
            ("a.py:1 a.py:2 a.py:3 b.py:1 c.py:1".into(), 1)
        );
        // At most two of a file in the head: a.py's third is folded too.
        let capped = FileShare {
            head_per_file: 2,
            ..head
        };
        assert_eq!(places(capped, 4), ("a.py:1 a.py:2 b.py:1 c.py:1".into(), 2));
        // Spread from the first answer, only a.py's first is shown.
        let from_first = FileShare { head: 0, ..head };
        assert_eq!(places(from_first, 3), ("a.py:1 b.py:1 c.py:1".into(), 3));
        // With room left, the folded come back, best first.
        assert_eq!(
            places(capped, 7).0,
            "a.py:1 a.py:2 b.py:1 c.py:1 a.py:3 a.py:4 b.py:2"
        );
        assert_eq!(places(FileShare::ALL, 3).0, "a.py:1 a.py:2 a.py:3");
        // In the head, a file's later chunk only near the best: a.py's
        // second (0.95 of the best) stays, its third (0.9) is folded.
        let near = FileShare {
            head_near_best: 0.92,
            ..head
        };
        assert_eq!(places(near, 4), ("a.py:1 a.py:2 b.py:1 c.py:1".into(), 2));
    }

    #[test]
    fn a_hybrid_answer_folds_a_file_s_further_places_while_others_match() {
        let mut many = String::new();
        for i in 0..12 {
            many.push_str(&format!(
                "def upload_part_{i}(chunk):\n    return retry_upload(chunk, {i})\n\n\n"
            ));
        }
        let (_dir, engine) = engine_over(&[
            ("big.py", many),
            (
                "one.py",
                "def send(chunk):\n    return retry_upload(chunk)\n".to_owned(),
            ),
            (
                "two.py",
                "def resend(chunk):\n    retry_upload(chunk)\n    retry_upload(chunk)\n".to_owned(),
            ),
        ]);
        let search = |mode: SearchMode, limit: usize, path_prefix: Option<&str>| {
            let request = SearchRequest {
                mode,
                limit,
                path_prefix: path_prefix.map(str::to_owned),
                ..SearchRequest::new("upload part retry")
            };
            engine.search(&request).unwrap().results
        };
        let from = |results: &[SearchResult], path: &str| -> Vec<SearchResult> {
            results.iter().filter(|r| r.path == path).cloned().collect()
        };
        // Ten places asked for, three files match: the other two files are
        // in; big.py shows at most three of its chunks among the first five
        // and then fills the places nothing else fills, its first result
        // counting what stays folded.
        let results = search(SearchMode::Hybrid, 10, None);
        assert_eq!(results.len(), 10, "{results:#?}");
        assert_eq!(from(&results, "one.py").len(), 1, "{results:#?}");
        assert_eq!(from(&results, "two.py").len(), 1, "{results:#?}");
        let big = from(&results, "big.py");
        assert_eq!(big.len(), 8);
        assert_eq!(big[0].more_in_file, 12 - 8);
        assert!(big[1..].iter().all(|r| r.more_in_file == 0));
        // Asked for four, at most three of big.py and the rest folded.
        let results = search(SearchMode::Hybrid, 4, None);
        let big = from(&results, "big.py");
        assert_eq!(results.len(), 4);
        assert!((1..=3).contains(&big.len()), "{results:#?}");
        assert_eq!(big[0].more_in_file as usize, 12 - big.len());
        // Keyword search alone ranks what it finds: big.py's chunks, which
        // hold every word, fill the answer, nothing folded.
        let results = search(SearchMode::Lexical, 10, None);
        assert_eq!(from(&results, "big.py").len(), 10, "{results:#?}");
        assert!(results.iter().all(|r| r.more_in_file == 0));
        // A search within one file shows its places, nothing folded.
        let results = search(SearchMode::Hybrid, 4, Some("big.py"));
        assert_eq!(from(&results, "big.py").len(), 4, "{results:#?}");
        assert!(results.iter().all(|r| r.more_in_file == 0));
    }

    #[test]
    fn two_places_a_file_with_the_second_discounted_when_asked() {
        let chunk = |path: &str, line: u32| stored(path, line, &[]);
        let ranked = vec![
            (1.0, chunk("a.py", 1)),
            (0.95, chunk("a.py", 2)),
            (0.9, chunk("b.py", 1)),
            (0.7, chunk("c.py", 1)),
        ];
        let share = FileShare {
            head: 0,
            head_per_file: usize::MAX,
            head_near_best: 0.0,
            per_file: 2,
            second: 0.8,
        };
        // a.py's second scores 0.76: below b.py's first, above c.py's.
        let (chunks, _) = spread(ranked, 10, share);
        let shown: Vec<String> = chunks
            .iter()
            .map(|(score, c)| format!("{}:{} {score:.2}", c.path, c.start_line))
            .collect();
        assert_eq!(
            shown,
            ["a.py:1 1.00", "b.py:1 0.90", "a.py:2 0.76", "c.py:1 0.70"]
        );
    }

    #[test]
    fn a_part_of_a_large_definition_is_reported_as_the_whole_definition() {
        let mut body = String::from("def render_everything(context):\n");
        for i in 0..400 {
            body.push_str(&format!("    value_{i} = context.lookup('key_{i}')\n"));
        }
        body.push_str("    return wombat_total(value_399)\n");
        let (_dir, engine) = engine_over(&[("app.py", body)]);
        let results = lexical(&engine, "wombat_total");
        assert_eq!(results.len(), 1, "{results:#?}");
        let hit = &results[0];
        assert_eq!((hit.start_line, hit.end_line), (1, 402), "{hit:#?}");
        // The snippet is the matching lines, inside the last part.
        assert!(hit.snippet.contains("wombat_total"), "{}", hit.snippet);
        assert!(hit.snippet_line > 300);
    }

    #[test]
    fn modes_parse_and_unknown_modes_name_the_choices() {
        assert_eq!(
            "lexical".parse::<SearchMode>().unwrap(),
            SearchMode::Lexical
        );
        let err = "fuzzy".parse::<SearchMode>().unwrap_err().to_string();
        assert_eq!(
            err,
            "unknown search mode `fuzzy`: use one of hybrid, lexical, semantic"
        );
    }
}
