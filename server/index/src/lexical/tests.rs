//! Tests of the lexical index: fields, the writer and snapshot queries.

use super::*;
use dowse_syntax::{ChunkConfig, chunk_file};

fn add(writer: &LexicalWriter, path: &str, text: &str) {
    let file = chunk_file(Path::new(path), text, &ChunkConfig::default());
    writer.delete_file(path);
    let keys = vec![0; file.chunks.len()];
    writer
        .add_file(path, "python", &file.chunks, text, &keys)
        .unwrap();
}

/// A fresh index and its writer, with one file added, not yet committed.
fn index_with(path: &str, text: &str) -> (tempfile::TempDir, LexicalIndex, LexicalWriter) {
    let dir = tempfile::tempdir().unwrap();
    let index = LexicalIndex::open(dir.path()).unwrap();
    let writer = index.writer(1, 20_000_000).unwrap();
    add(&writer, path, text);
    (dir, index, writer)
}

/// [`index_with`] `net/upload.py` (a retry and a duration parser).
fn index_with_uploads() -> (tempfile::TempDir, LexicalIndex, LexicalWriter) {
    index_with(
        "net/upload.py",
        "def retry_failed_uploads(queue):\n    for item in queue:\n        item.retry()\n\n\ndef parse_duration(text):\n    return int(text[:-1]) * 60\n",
    )
}

fn top_symbols(index: &LexicalIndex, query: &str) -> Vec<String> {
    let snapshot = index.snapshot();
    let hits = snapshot.search(query, &Boosts::default(), 5).unwrap();
    hits.iter()
        .map(|h| snapshot.chunk(h.doc).unwrap().symbol.unwrap_or_default())
        .collect()
}

#[test]
fn documents_scored_one_by_one_score_as_the_ranking_does() {
    let (_dir, index, mut writer) = index_with_uploads();
    writer.commit(1).unwrap();
    // A second segment, so that documents of two segments are scored.
    add(
        &writer,
        "jobs/queue.py",
        "def drain(queue):\n    while queue:\n        queue.pop().retry()\n",
    );
    add(&writer, "other.py", "def unrelated():\n    return 1\n");
    writer.commit(2).unwrap();
    index.reload().unwrap();
    let snapshot = index.snapshot();
    let boosts = Boosts {
        content: 1.0,
        symbol: 0.5,
        symbol_min_terms: 1,
        getter: 0.0,
        related: 0.0,
    };
    let query = "retry the queue";
    let ranked = snapshot.search(query, &boosts, 10).unwrap();
    assert!(ranked.len() >= 2, "both files mention a retry and a queue");
    let unrelated = snapshot.search("unrelated", &Boosts::default(), 1).unwrap()[0].doc;
    // Asked in another order than ranked, with a document that matches
    // no word and one asked twice.
    let mut docs: Vec<DocAddress> = ranked.iter().rev().map(|h| h.doc).collect();
    docs.insert(1, unrelated);
    docs.push(ranked[0].doc);
    let statistics = CombinedStatistics::of(&[&snapshot]);
    let scores = snapshot
        .score_docs(query, &boosts, &docs, &statistics)
        .unwrap();
    let expected: Vec<f32> = docs
        .iter()
        .map(|doc| {
            ranked
                .iter()
                .find(|h| h.doc == *doc)
                .map_or(0.0, |h| h.score)
        })
        .collect();
    assert_eq!(scores, expected);
    assert!(scores[0] > 0.0 && scores[1] == 0.0);
    assert!(!ranked.iter().any(|h| h.doc == unrelated));
    assert!(
        ranked
            .iter()
            .any(|h| h.doc.segment_ord != ranked[0].doc.segment_ord)
    );
}

#[test]
fn search_finds_by_word_and_identifier_and_updates_replace_a_file() {
    let (_dir, index, mut writer) = index_with_uploads();
    add(
        &writer,
        "other.py",
        "def unrelated():\n    return compute_everything_else() + 1\n",
    );
    writer.commit(1).unwrap();
    index.reload().unwrap();
    assert_eq!(index.committed_generation().unwrap(), Some(1));
    assert_eq!(
        top_symbols(&index, "where do we retry uploads")[0],
        "retry_failed_uploads"
    );
    assert_eq!(top_symbols(&index, "parseDuration")[0], "parse_duration");

    // Re-adding the file replaces its chunks instead of duplicating them.
    add(
        &writer,
        "net/upload.py",
        "def parse_duration(text):\n    return int(text[:-1]) * 3600\n",
    );
    writer.commit(2).unwrap();
    index.reload().unwrap();
    assert_eq!(index.snapshot().num_chunks(), 2);
    assert!(top_symbols(&index, "retry failed").is_empty());
    let snapshot = index.snapshot();
    let hit = snapshot
        .search("parse_duration", &Boosts::default(), 1)
        .unwrap()[0];
    let stored = snapshot.chunk(hit.doc).unwrap();
    assert_eq!(
        (stored.path.as_str(), stored.start_line, stored.end_line),
        ("net/upload.py", 1, 2)
    );
    assert_eq!(
        stored.digest,
        dowse_syntax::Digest::of(b"def parse_duration(text):\n    return int(text[:-1]) * 3600")
    );
}

#[test]
fn a_name_can_be_required_to_hold_two_of_the_query_words() {
    let (_dir, index, mut writer) = index_with(
        "jobs/exit.py",
        "def register(handler):\n    handlers.append(handler)\n\n\ndef run_shutdown_handlers():\n    for handler in reversed(handlers):\n        handler()\n",
    );
    writer.commit(1).unwrap();
    index.reload().unwrap();
    let snapshot = index.snapshot();
    let query = "run the registered shutdown handlers in the reverse order";
    let doc = |symbol: &str| {
        let hits = snapshot.search(query, &Boosts::default(), 10).unwrap();
        hits.into_iter()
            .map(|h| h.doc)
            .find(|&d| snapshot.chunk(d).unwrap().symbol.as_deref() == Some(symbol))
            .unwrap_or_else(|| panic!("{symbol} matches the query"))
    };
    let docs = [doc("register"), doc("run_shutdown_handlers")];
    let statistics = CombinedStatistics::of(&[&snapshot]);
    let score = |symbol: f32, symbol_min_terms: usize| {
        let boosts = Boosts {
            content: 1.0,
            symbol,
            symbol_min_terms,
            getter: 0.0,
            related: 0.0,
        };
        snapshot
            .score_docs(query, &boosts, &docs, &statistics)
            .unwrap()
    };
    let (text_only, any_word, two_words) = (score(0.0, 1), score(1.0, 1), score(1.0, 2));
    // `register` holds one of the words: its name counts only when one is
    // enough.
    assert!(any_word[0] > text_only[0]);
    assert_eq!(two_words[0], text_only[0]);
    // `run_shutdown_handlers` holds three: its name counts either way.
    assert!(two_words[1] > text_only[1]);
    assert_eq!(two_words[1], any_word[1]);
}

#[test]
fn related_words_count_at_their_share_when_asked() {
    let (_dir, index, mut writer) = index_with("store.py", "def purge(path):\n    delete(path)\n");
    add(&writer, "other.py", "def unrelated():\n    return 1\n");
    writer.commit(1).unwrap();
    index.reload().unwrap();
    let snapshot = index.snapshot();
    let top = |query: &str, related: f32| {
        let boosts = Boosts {
            related,
            ..Boosts::default()
        };
        snapshot.search(query, &boosts, 10).unwrap()
    };
    // "remove" is not in the file, `delete` is: with the file's own word
    // `path`, the related word adds half the weight of `delete` itself.
    let without = top("remove path", 0.0);
    let with = top("remove path", 0.5);
    let direct = top("delete", 0.0);
    assert_eq!((without.len(), with.len()), (1, 1));
    assert_eq!(with[0].doc, direct[0].doc);
    let ratio = (with[0].score - without[0].score) / direct[0].score;
    assert!((ratio - 0.5).abs() < 1e-3, "{ratio}");
    // A related word alone finds nothing: search finds the query's words.
    assert!(top("remove", 0.5).is_empty());
    // Scoring chunks found otherwise (by meaning) still counts it.
    let boosts = Boosts {
        related: 0.5,
        ..Boosts::default()
    };
    let scored = snapshot
        .score_docs("remove", &boosts, &[direct[0].doc], &snapshot.searcher)
        .unwrap();
    assert!(
        (scored[0] / direct[0].score - 0.5).abs() < 1e-3,
        "{scored:?}"
    );
}
