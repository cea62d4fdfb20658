//! Tidy tests for `queries/`: every embedded query compiles against its
//! grammar, every file on disk is embedded, and a broken query names itself.

use std::path::Path;

use dowse_syntax::Language;
use dowse_syntax::queries::{QueryKind, QuerySet, compile, query_source};

#[test]
fn every_embedded_query_compiles() {
    for lang in Language::ALL {
        for kind in QueryKind::ALL {
            if let Err(err) = compile(lang, kind, query_source(lang, kind)) {
                panic!("{err}");
            }
            assert!(QuerySet::of(lang).get(kind).is_some());
        }
    }
}

#[test]
fn every_query_file_on_disk_is_embedded() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../queries");
    for entry in std::fs::read_dir(&root).unwrap() {
        let dir = entry.unwrap().path();
        if !dir.is_dir() {
            continue;
        }
        let name = dir.file_name().unwrap().to_str().unwrap().to_owned();
        let lang = Language::from_name(&name)
            .unwrap_or_else(|| panic!("queries/{name}: no such language"));
        for file in std::fs::read_dir(&dir).unwrap() {
            let file = file.unwrap().path();
            let file_name = file.file_name().unwrap().to_str().unwrap();
            let kind = QueryKind::ALL
                .into_iter()
                .find(|k| k.file_name() == file_name)
                .unwrap_or_else(|| panic!("queries/{name}/{file_name} is not a known query file"));
            assert_eq!(
                std::fs::read_to_string(&file).unwrap(),
                query_source(lang, kind),
                "queries/{name}/{file_name} differs from the embedded copy"
            );
        }
    }
}

#[test]
fn a_broken_query_reports_its_file_and_reason() {
    let err = compile(
        Language::Rust,
        QueryKind::Chunks,
        "(function_item name: (nonexistent_node) @name)",
    )
    .unwrap_err();
    assert!(
        err.starts_with("queries/rust/chunks.scm does not compile"),
        "{err}"
    );
    assert!(err.contains("nonexistent_node"), "{err}");
}

#[test]
fn a_broken_chunks_query_falls_back_to_line_windows() {
    use dowse_syntax::chunk::chunk_file_with;
    use dowse_syntax::{ChunkConfig, ChunkKind};
    let broken = QuerySet::from_sources(Language::Python, |kind| match kind {
        QueryKind::Chunks => "(function_definition name: (no_such_node) @name) @chunk.function",
        other => query_source(Language::Python, other),
    });
    assert!(broken.get(QueryKind::Chunks).is_none());
    assert!(
        broken.get(QueryKind::Tags).is_some(),
        "only the broken feature is disabled"
    );
    let text = "def f():\n    return 1\n";
    let file = chunk_file_with(
        Some(&broken),
        Path::new("a.py"),
        text,
        &ChunkConfig::default(),
    );
    assert_eq!(file.language, None);
    assert_eq!(file.chunks.len(), 1);
    assert_eq!(file.chunks[0].kind, ChunkKind::Text);
}
