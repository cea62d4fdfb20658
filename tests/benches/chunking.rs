//! The chunking section: how fast each language is cut into chunks by its
//! grammar and queries, in MB/s of source, against Python's in the same run.
//!
//! Sources come from directories on the machine (`--chunk-root DIR`, any
//! number; by default the benchmark's corpus, the cargo registry's sources,
//! the npm packages of the test clients, `/usr/include`, the Neovim the
//! tests install, and the corpora of the language evaluation sets once
//! `tests/eval/run.py --set NAME` has prepared them, `.eval-NAME/corpus`:
//! Go and TypeScript): every file whose name maps to a language, up to
//! [`BYTES_PER_LANGUAGE`] per language, minified and generated files apart.
//! A language with no files there is reported as such, not guessed.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use dowse_syntax::{ChunkConfig, Language, chunk_file};
use serde_json::{Value, json};

/// Each language's source: its total bytes and its files with their text.
type Sources = BTreeMap<Language, (usize, Vec<(PathBuf, String)>)>;

/// Enough source for a stable figure, little enough to hold in memory.
const BYTES_PER_LANGUAGE: usize = 6_000_000;
/// Larger files are generated or vendored more often than written.
const MAX_FILE_BYTES: u64 = 400_000;

/// The default places to find source, beside `--chunk-root`s.
pub fn default_roots(corpus: &Path) -> Vec<PathBuf> {
    let home = std::env::var_os("HOME")
        .map(PathBuf::from)
        .unwrap_or_default();
    let cargo = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| home.join(".cargo"));
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    vec![
        corpus.to_path_buf(),
        cargo.join("registry/src"),
        repo.join("tests/mcp/node_modules"),
        repo.join("target/tools/neovim"),
        PathBuf::from("/usr/include"),
        repo.join(".eval-go/corpus"),
        repo.join(".eval-tsjs/corpus"),
        repo.join(".eval-java/corpus"),
        repo.join(".eval-csharp/corpus"),
        repo.join(".eval-c-cpp/corpus"),
    ]
}

pub fn run(roots: &[PathBuf], runs: usize) -> Value {
    let mut files: Sources = BTreeMap::new();
    for root in roots {
        collect(root, &mut files, 0);
    }
    let config = ChunkConfig::default();
    let mut out = serde_json::Map::new();
    for lang in Language::ALL {
        let Some((bytes, texts)) = files.get(&lang) else {
            out.insert(
                lang.name().to_owned(),
                json!({"files": 0, "note": "no source of this language on this machine"}),
            );
            continue;
        };
        let mut best = f64::INFINITY;
        let mut chunks = 0;
        let mut windowed = 0;
        for _ in 0..runs.max(1) {
            let started = Instant::now();
            chunks = 0;
            windowed = 0;
            for (path, text) in texts {
                let file = chunk_file(path, text, &config);
                chunks += file.chunks.len();
                windowed += usize::from(file.fallback.is_some());
            }
            best = best.min(started.elapsed().as_secs_f64());
        }
        out.insert(
            lang.name().to_owned(),
            json!({
                "files": texts.len(),
                "mb": *bytes as f64 / 1e6,
                "chunks": chunks,
                "windowed_files": windowed,
                "seconds": best,
                "mb_per_s": *bytes as f64 / 1e6 / best,
            }),
        );
    }
    let python = out
        .get("python")
        .and_then(|p| p["mb_per_s"].as_f64())
        .unwrap_or(f64::NAN);
    for value in out.values_mut() {
        if let Some(speed) = value["mb_per_s"].as_f64() {
            value["vs_python"] = json!(speed / python);
        }
    }
    json!({
        "roots": roots.iter().map(|r| r.display().to_string()).collect::<Vec<_>>(),
        "target": "every language within 2× of Python's MB/s (vs_python >= 0.5)",
        "languages": out,
    })
}

fn collect(dir: &Path, files: &mut Sources, depth: usize) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<_> = entries.flatten().collect();
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        let path = entry.path();
        let Ok(kind) = entry.file_type() else {
            continue;
        };
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if kind.is_dir() {
            if depth < 12 && !name.starts_with('.') && name != "target" && name != "site-packages" {
                collect(&path, files, depth + 1);
            }
            continue;
        }
        if !kind.is_file() || name.contains(".min.") || name.ends_with(".d.ts") {
            continue;
        }
        let Some(by_name) = Language::from_path(&path) else {
            continue;
        };
        // Full already (a `.h` may still be C++, known from its text).
        let full = |lang| {
            files
                .get(&lang)
                .is_some_and(|(b, _)| *b >= BYTES_PER_LANGUAGE)
        };
        if full(by_name) && (by_name != Language::C || full(Language::Cpp)) {
            continue;
        }
        let Ok(meta) = entry.metadata() else {
            continue;
        };
        if meta.len() > MAX_FILE_BYTES {
            continue;
        }
        let Ok(text) = std::fs::read_to_string(&path) else {
            continue;
        };
        // As the indexer does: a `.h` header is C or C++ by its text.
        let Some(lang) = Language::detect(&path, &text) else {
            continue;
        };
        let (bytes, list) = files.entry(lang).or_default();
        if *bytes >= BYTES_PER_LANGUAGE {
            continue;
        }
        // Bundled or minified: lines thousands of characters long.
        let lines = text.lines().count().max(1);
        if text.len() / lines > 300 {
            continue;
        }
        *bytes += text.len();
        list.push((path, text));
    }
}

pub fn print(report: &Value) {
    eprintln!("chunking (MB/s of source, one thread; target: within 2× of Python)");
    let Some(langs) = report["languages"].as_object() else {
        return;
    };
    for (name, l) in langs {
        if l["files"] == 0 {
            eprintln!("  {name:<12} no source on this machine");
            continue;
        }
        eprintln!(
            "  {name:<12} {:>6.1} MB/s  {:>5.2}× Python  ({} files, {:.1} MB, {} chunks, {} by windows)",
            l["mb_per_s"].as_f64().unwrap_or(f64::NAN),
            l["vs_python"].as_f64().unwrap_or(f64::NAN),
            l["files"],
            l["mb"].as_f64().unwrap_or(0.0),
            l["chunks"],
            l["windowed_files"],
        );
    }
}
