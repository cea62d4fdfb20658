//! In-process runner for retrieval set D: opens the engine once over a
//! corpus (indexing and embedding it first when needed, with the real
//! model), runs every query of the given files in each mode, and writes one
//! results file per mode in the shape `score.py` reads. `tests/eval/run.py`
//! drives it and scores the output per query kind.
//!
//! ```text
//! cargo run --release -p dowse-tests --example eval_search -- \
//!     CORPUS INDEX_DIR OUT_PREFIX --queries FILE... [--mode hybrid|lexical|semantic]...
//!     [--fusion normalized|rrf] [--lexical-weight W] [--candidates N]
//!     [--names rule|always|never|A,B] [--test-factor F] [--parts] [--max-tokens N]
//!     [--no-definitions-first] [--sentence-lift F] [--keep-punctuation] [--per-file N] [--second-in-file F] [--spread-after N] [--head-per-file N] [--head-near-best F] [--file-support W] [--returns-getter F] [--related F] [--keyword-related F]
//!     [--limit N] [--model DIR SHA256] [--dump-chunks FILE]
//! ```
//!
//! `--dump-chunks FILE` also writes every chunk of the corpus (path, lines,
//! symbol, text; one JSON object per line), so that a plain BM25 can be run
//! over the very chunks dowse ranks (`tests/eval/run.py`'s `bm25` baseline).
//!
//! `--model DIR SHA256` embeds with another model (an ONNX file with a
//! `last_hidden_state` output and its tokenizer files in DIR, as for
//! `DOWSE_MODEL_DIR`), to measure it against the default; `--limit N` asks
//! for N answers per query (the scorers read the first ten), to study what
//! a re-ranking of the first N would do.
//!
//! The ranking switches exist to measure what each setting of
//! [`dowse_engine::search::Ranking`] brings (its ablation table): `--names
//! always` weighs names fully for every query, `never` not at all, `A,B`
//! fully up to A content words and not at all from B on;
//! `--parts` reports parts of large definitions as themselves;
//! `--test-factor 1` ranks test code like any other; `--no-definitions-first`
//! ranks the definitions of a named thing like any chunk; `--spread-after 0
//! --per-file 1000` lets one file fill the answer.
#![allow(clippy::print_stderr)]

use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

use dowse_engine::search::{Fusion, Ranking};
use dowse_engine::{Config, Engine, SearchMode, SearchRequest};
use dowse_syntax::chunk_file;

struct Args {
    corpus: PathBuf,
    index_dir: PathBuf,
    out_prefix: String,
    queries: Vec<PathBuf>,
    modes: Vec<SearchMode>,
    ranking: Ranking,
    /// The model's window (`--max-tokens`); give each window its own
    /// INDEX_DIR, or the embedding cache of the other is started anew.
    max_tokens: usize,
    /// Another model to measure (`--model DIR SHA256`: its `model.onnx`
    /// and tokenizer files, and the sha256 of `model.onnx`); give it its
    /// own INDEX_DIR.
    model: Option<(PathBuf, String)>,
    /// Answers asked per query (`--limit`, 10).
    limit: usize,
    /// Where to write the corpus's chunks (`--dump-chunks`).
    dump_chunks: Option<PathBuf>,
}

fn usage(problem: &str) -> ! {
    eprintln!(
        "eval_search: {problem}\nusage: eval_search CORPUS INDEX_DIR OUT_PREFIX --queries FILE... \
         [--mode MODE]... [--fusion normalized|rrf] [--lexical-weight W] [--candidates N] \
         [--names rule|always|never|A,B] [--test-factor F] [--parts] [--max-tokens N] \
         [--no-definitions-first] [--sentence-lift F] [--keep-punctuation] [--per-file N] [--second-in-file F] [--spread-after N] [--head-per-file N] [--head-near-best F] [--file-support W] [--returns-getter F] [--related F] [--keyword-related F] \
         [--limit N] [--model DIR SHA256] [--dump-chunks FILE]"
    );
    std::process::exit(2)
}

fn parse_args() -> Args {
    let mut positional = Vec::new();
    let mut args = Args {
        corpus: PathBuf::new(),
        index_dir: PathBuf::new(),
        out_prefix: String::new(),
        queries: Vec::new(),
        modes: Vec::new(),
        ranking: Ranking::default(),
        max_tokens: 256,
        limit: 10,
        model: None,
        dump_chunks: None,
    };
    let mut it = std::env::args().skip(1);
    let value = |it: &mut dyn Iterator<Item = String>, flag: &str| {
        it.next()
            .unwrap_or_else(|| usage(&format!("{flag} needs a value")))
    };
    let number = |text: String, flag: &str| -> f32 {
        text.parse()
            .unwrap_or_else(|_| usage(&format!("{flag} takes a number, not `{text}`")))
    };
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--queries" => args.queries.push(value(&mut it, &arg).into()),
            "--mode" => args.modes.push(
                value(&mut it, &arg)
                    .parse()
                    .unwrap_or_else(|e| usage(&format!("{e}"))),
            ),
            "--fusion" => {
                args.ranking.fusion = match value(&mut it, &arg).as_str() {
                    "normalized" => Fusion::Normalized {
                        lexical_weight: 0.45,
                    },
                    "rrf" => Fusion::Rrf { k: 60.0 },
                    other => usage(&format!("unknown fusion `{other}`")),
                }
            }
            "--lexical-weight" => {
                args.ranking.fusion = Fusion::Normalized {
                    lexical_weight: number(value(&mut it, &arg), &arg),
                }
            }
            "--candidates" => args.ranking.candidates = number(value(&mut it, &arg), &arg) as usize,
            "--names" => {
                args.ranking.name_words = match value(&mut it, &arg).as_str() {
                    "rule" => Ranking::default().name_words,
                    "always" => (usize::MAX - 1, usize::MAX),
                    "never" => (0, 0),
                    // `A,B`: names weigh fully up to A content words, not
                    // at all from B on (`Ranking::name_words`).
                    other => match other.split_once(',') {
                        Some((a, b)) => (
                            number(a.to_owned(), &arg) as usize,
                            number(b.to_owned(), &arg) as usize,
                        ),
                        None => usage(&format!("unknown --names `{other}`")),
                    },
                }
            }
            "--test-factor" => args.ranking.test_factor = number(value(&mut it, &arg), &arg),
            "--parts" => args.ranking.whole_definitions = false,
            "--no-definitions-first" => args.ranking.definitions_first = false,
            "--sentence-lift" => {
                args.ranking.sentence_name_lift = number(value(&mut it, &arg), &arg)
            }
            "--two-word-names" => {
                args.ranking.two_word_names_from = number(value(&mut it, &arg), &arg) as usize
            }
            "--keep-punctuation" => args.ranking.trim_closing_punctuation = false,
            "--file-support" => args.ranking.file_support = number(value(&mut it, &arg), &arg),
            "--returns-getter" => args.ranking.returns_getter = number(value(&mut it, &arg), &arg),
            "--related" => args.ranking.related_words = number(value(&mut it, &arg), &arg),
            "--keyword-related" => {
                args.ranking.keyword_related_words = number(value(&mut it, &arg), &arg)
            }
            "--second-in-file" => args.ranking.second_in_file = number(value(&mut it, &arg), &arg),
            "--spread-after" => {
                args.ranking.spread_after = number(value(&mut it, &arg), &arg) as usize
            }
            "--head-per-file" => {
                args.ranking.head_per_file = number(value(&mut it, &arg), &arg).max(1.0) as usize
            }
            "--head-near-best" => args.ranking.head_near_best = number(value(&mut it, &arg), &arg),
            "--per-file" => {
                args.ranking.per_file = number(value(&mut it, &arg), &arg).max(1.0) as usize
            }
            // Answers per query: the scorers read the first ten; more are
            // for studying what lies below them.
            "--model" => {
                let dir = value(&mut it, &arg).into();
                args.model = Some((dir, value(&mut it, &arg)));
            }
            "--limit" => args.limit = number(value(&mut it, &arg), &arg).max(1.0) as usize,
            "--dump-chunks" => args.dump_chunks = Some(value(&mut it, &arg).into()),
            "--max-tokens" => {
                args.max_tokens = number(value(&mut it, &arg), &arg) as usize;
            }
            flag if flag.starts_with("--") => usage(&format!("unknown option {flag}")),
            _ => positional.push(arg),
        }
    }
    let [corpus, index_dir, out_prefix] = <[String; 3]>::try_from(positional)
        .unwrap_or_else(|_| usage("expected CORPUS INDEX_DIR OUT_PREFIX"));
    if args.queries.is_empty() {
        usage("give at least one --queries file");
    }
    if args.modes.is_empty() {
        args.modes.push(SearchMode::Hybrid);
    }
    args.corpus = corpus.into();
    args.index_dir = index_dir.into();
    args.out_prefix = out_prefix;
    args
}

fn main() {
    let args = parse_args();
    let config = Config {
        index_dir: Some(args.index_dir.clone()),
        ranking: args.ranking.clone(),
        semantic: dowse_engine::SemanticConfig {
            max_tokens: args.max_tokens,
            model_dir: args.model.clone().map(|(dir, _)| dir),
            model_sha256: args.model.clone().map(|(_, sha)| sha),
            ..dowse_engine::SemanticConfig::default()
        },
        ..Config::default()
    };
    let mut engine = Engine::open(&args.corpus, config.clone()).expect("open engine");
    let started = Instant::now();
    let report = engine.update(&dowse_engine::NoProgress).expect("update");
    let embedded = engine.embed(&dowse_engine::NoProgress).expect("embed");
    eprintln!(
        "{} files, {} chunks, {} embedded now, in {:.1} s",
        report.files,
        report.chunks,
        embedded.embedded,
        started.elapsed().as_secs_f64()
    );
    if let Some(out) = &args.dump_chunks {
        let count = dump_chunks(&args.corpus, &config, out);
        eprintln!("{count} chunks -> {}", out.display());
    }
    let mut queries: Vec<serde_json::Value> = Vec::new();
    for file in &args.queries {
        let file = std::fs::File::open(file)
            .unwrap_or_else(|e| usage(&format!("{}: {e}", file.display())));
        for line in std::io::BufReader::new(file).lines() {
            let line = line.expect("read queries");
            if !line.trim().is_empty() {
                queries.push(serde_json::from_str(&line).expect("a query is JSON"));
            }
        }
    }
    for mode in &args.modes {
        let path = format!("{}-{mode}.jsonl", args.out_prefix);
        let mut out = std::fs::File::create(&path).expect("create results file");
        let started = Instant::now();
        for q in &queries {
            let request = SearchRequest {
                query: q["query"].as_str().expect("query").to_owned(),
                mode: *mode,
                limit: args.limit,
                path_prefix: None,
                languages: Vec::new(),
                scope: Default::default(),
            };
            let response = engine.search(&request).expect("search");
            // A figure for a mode that did not run is worse than none: a
            // missing model would report keyword results as hybrid ones.
            if let Some(reason) = &response.degraded {
                eprintln!("{mode} search is degraded, no figures written: {reason}");
                std::process::exit(2);
            }
            let row = serde_json::json!({"id": q["id"], "results": response.results});
            writeln!(out, "{row}").expect("write results");
        }
        eprintln!(
            "{mode}: {} queries in {:.2} s -> {path}",
            queries.len(),
            started.elapsed().as_secs_f64()
        );
    }
}

/// Writes every chunk of the corpus, as the engine walks and chunks it
/// (the same walker, settings and chunker), to `out`; returns how many.
fn dump_chunks(corpus: &Path, config: &Config, out: &Path) -> usize {
    let walked = dowse_engine::walk::walk(corpus, &config.walk_options(Vec::new()))
        .expect("walk the corpus");
    let mut writer =
        std::io::BufWriter::new(std::fs::File::create(out).expect("create chunks file"));
    let mut count = 0;
    for file in walked.files {
        // Binary or not UTF-8: the engine leaves it out as well.
        let Ok(text) = std::fs::read_to_string(&file.abs_path) else {
            continue;
        };
        for chunk in chunk_file(Path::new(&file.rel_path), &text, &config.chunk).chunks {
            let row = serde_json::json!({
                "path": file.rel_path,
                "start_line": chunk.start_line,
                "end_line": chunk.end_line,
                "symbol": chunk.symbol,
                "text": &text[chunk.byte_range.clone()],
            });
            writeln!(writer, "{row}").expect("write chunks");
            count += 1;
        }
    }
    count
}
