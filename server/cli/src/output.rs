//! Everything the CLI prints. Human output and JSON go to stdout (this is the
//! one module allowed to print there); notes and errors go to stderr.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::io::Write;

use dowse_engine::{
    EmbedReport, Engine, IndexReport, SearchResponse, SearchResult, SimilarResponse, UsagesResponse,
};
use serde::Serialize;

pub fn json<T: Serialize>(value: &T) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    serde_json::to_writer_pretty(&mut out, value)?;
    writeln!(out)?;
    Ok(())
}

pub fn error(err: &anyhow::Error) {
    eprintln!("error: {err:#}");
}

pub fn note(message: &str) {
    eprintln!("{message}");
}

/// The one-line summary after indexing, and a note on semantic search
/// (`embedded` is `None` when embeddings were not asked for).
pub fn index_summary(engine: &Engine, report: &IndexReport, embedded: Option<&EmbedReport>) {
    let skipped = if report.skipped.is_empty() {
        "0 skipped".to_owned()
    } else {
        format!(
            "{} skipped ({})",
            report.skipped.len(),
            report.skipped_summary()
        )
    };
    println!(
        "indexed {} files, {} chunks ({} files and {} chunks updated, {} removed), {skipped}, in {:.2} s",
        report.files,
        report.chunks,
        report.files_indexed,
        report.chunks_indexed,
        report.files_removed,
        report.duration.as_secs_f64()
    );
    let Some(embedded) = embedded else {
        return;
    };
    match engine.semantic_unavailable() {
        Some(reason) => eprintln!("note: keyword search only: {reason}"),
        None => {
            let (have, missing) = engine.vector_coverage();
            println!(
                "embedded {} chunks in {:.2} s; {have} chunks have vectors{}{}",
                embedded.embedded,
                embedded.duration.as_secs_f64(),
                if missing > 0 {
                    format!(", {missing} still lack one")
                } else {
                    String::new()
                },
                match embedded.unused_vectors_dropped {
                    0 => String::new(),
                    n => format!("; {n} cached vectors of text no chunk has any more dropped"),
                }
            );
        }
    }
}

#[derive(Serialize)]
pub struct IndexReportJson<'a> {
    /// Chunks embedded by this run.
    embedded: u64,
    embed_seconds: f64,
    /// Sealing vector segments into HNSW graphs after embedding.
    vector_maintenance_seconds: f64,
    /// Cached vectors of text no chunk has any more, dropped from the
    /// embedding cache (once they outnumber those in use).
    unused_vectors_dropped: u64,
    /// Chunks with a vector afterwards.
    vectors: u64,
    /// Why semantic search is unavailable, when it is.
    #[serde(skip_serializing_if = "Option::is_none")]
    degraded: Option<String>,
    workspace: String,
    index_dir: String,
    /// Threads used for indexing, and embedding sessions at most: the
    /// setting, capped at the machine's cores.
    threads: usize,
    files: u64,
    chunks: u64,
    files_indexed: u64,
    chunks_indexed: u64,
    files_removed: u64,
    seconds: f64,
    skipped: Vec<SkippedJson<'a>>,
    /// Files of a language dowse parses that were cut into line windows
    /// instead (syntax errors over most of the file), with the reason.
    windowed: Vec<SkippedJson<'a>>,
}

#[derive(Serialize)]
struct SkippedJson<'a> {
    path: &'a str,
    reason: String,
}

pub fn index_report_json<'a>(
    engine: &Engine,
    report: &'a IndexReport,
    embedded: Option<&EmbedReport>,
) -> IndexReportJson<'a> {
    let none = EmbedReport::default();
    let (embedded, degraded, vectors) = match embedded {
        Some(embedded) => (
            embedded,
            engine.semantic_unavailable(),
            engine.vector_coverage().0,
        ),
        None => (
            &none,
            Some("embeddings were not asked for (--lexical-only)".to_owned()),
            0,
        ),
    };
    IndexReportJson {
        embedded: embedded.embedded,
        embed_seconds: embedded.duration.as_secs_f64(),
        vector_maintenance_seconds: embedded.maintenance.as_secs_f64(),
        unused_vectors_dropped: embedded.unused_vectors_dropped,
        vectors,
        degraded,
        workspace: engine.root().display().to_string(),
        index_dir: engine.index_dir().root().display().to_string(),
        threads: engine.config().worker_threads(),
        files: report.files,
        chunks: report.chunks,
        files_indexed: report.files_indexed,
        chunks_indexed: report.chunks_indexed,
        files_removed: report.files_removed,
        seconds: report.duration.as_secs_f64(),
        skipped: report
            .skipped
            .iter()
            .map(|s| SkippedJson {
                path: &s.path,
                reason: s.reason.to_string(),
            })
            .collect(),
        windowed: report
            .windowed
            .iter()
            .map(|w| SkippedJson {
                path: &w.path,
                reason: w.reason.clone(),
            })
            .collect(),
    }
}

/// Results as `path:start-end  kind symbol  (in enclosing)` and the snippet.
pub fn search_results(response: &SearchResponse) {
    if let Some(reason) = &response.degraded {
        eprintln!("note: {reason}");
    }
    if response.results.is_empty() {
        eprintln!("no results for {:?}", response.query);
        return;
    }
    print_results(&response.results);
}

/// The chunk asked about, then its neighbours.
pub fn similar_results(response: &SimilarResponse) {
    if let Some(reason) = &response.degraded {
        eprintln!("note: {reason}");
    }
    let source = &response.source;
    println!(
        "similar to {}:{}-{} {} {}\n",
        source.path,
        source.start_line,
        source.end_line,
        source.kind,
        source.symbol.as_deref().unwrap_or("")
    );
    if response.results.is_empty() {
        eprintln!("no similar code found");
    }
    print_results(&response.results);
}

/// One line per component, worst first.
pub fn health(health: &dowse_engine::health::Health) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{:?}", health.status);
    let mut components: Vec<_> = health.components.iter().collect();
    components.sort_by_key(|(name, c)| (std::cmp::Reverse(c.status), name.as_str()));
    for (name, c) in components {
        let latency = c
            .latency_ms
            .map(|ms| format!(" ({ms:.1} ms)"))
            .unwrap_or_default();
        let _ = writeln!(
            out,
            "  {name:<9} {:<9} {}{latency}",
            format!("{:?}", c.status).to_lowercase(),
            c.message
        );
    }
}

pub fn stats(stats: &dowse_engine::health::Stats) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "files              {}", stats.files);
    let _ = writeln!(out, "chunks             {}", stats.chunks);
    let _ = writeln!(
        out,
        "vectors            {} ({} pending)",
        stats.vectors, stats.pending_embeddings
    );
    let _ = writeln!(out, "index bytes        {}", stats.index_bytes);
    if let Some(s) = stats.last_index_seconds {
        let _ = writeln!(out, "last index         {s:.2} s");
    }
    let _ = writeln!(out, "queries            {}", stats.queries);
    if let (Some(p50), Some(p99)) = (stats.query_p50_ms, stats.query_p99_ms) {
        let _ = writeln!(out, "query p50 / p99    {p50:.2} / {p99:.2} ms");
    }
    for r in &stats.recoveries {
        let _ = writeln!(out, "recovered          {r}");
    }
    let _ = writeln!(out, "uptime             {:.1} s", stats.uptime_seconds);
    if !stats.languages.is_empty() {
        let _ = writeln!(
            out,
            "\n{:<12} {:>7} {:>8}  {:<8} usages",
            "language", "files", "chunks", "chunked"
        );
        for lang in &stats.languages {
            let chunked = if lang.syntax { "syntax" } else { "windows" };
            let _ = writeln!(
                out,
                "{:<12} {:>7} {:>8}  {:<8} {}",
                lang.name, lang.files, lang.chunks, chunked, lang.usages
            );
        }
    }
}

/// Definitions, then references, grep-style: `path:line:column: text`.
pub fn usages(response: &UsagesResponse) {
    if response.definitions.is_empty() {
        eprintln!("no definition of `{}` found", response.symbol);
        return;
    }
    let mut out = std::io::stdout().lock();
    for (title, list) in [
        ("definitions", &response.definitions),
        ("references", &response.references),
    ] {
        let _ = writeln!(out, "{title} of {} ({}):", response.symbol, list.len());
        for u in list {
            let _ = writeln!(
                out,
                "{}:{}:{}: {}",
                u.path,
                u.line,
                u.column,
                u.context.trim()
            );
        }
        let _ = writeln!(out);
    }
}

fn print_results(results: &[SearchResult]) {
    let mut out = std::io::stdout().lock();
    for result in results {
        // A team index result names its repository: `repo//path`.
        let repo = result
            .repo
            .as_deref()
            .map(|repo| format!("{repo}//"))
            .unwrap_or_default();
        let mut title = format!(
            "{repo}{}:{}-{}  {}",
            result.path, result.start_line, result.end_line, result.kind
        );
        if let Some(symbol) = &result.symbol {
            title.push(' ');
            title.push_str(symbol);
        }
        if !result.enclosing.is_empty() {
            title.push_str(&format!("  (in {})", result.enclosing.join(" > ")));
        }
        if result.more_in_file > 0 {
            title.push_str(&format!("  (+{} more in this file)", result.more_in_file));
        }
        let _ = writeln!(out, "{title}  [{:.2}]", result.score);
        for (i, line) in result.snippet.lines().enumerate() {
            let _ = writeln!(out, "{:>6} | {line}", result.snippet_line as usize + i);
        }
        let _ = writeln!(out);
    }
}

/// What `dowse publish` did.
pub fn publish_report(report: &dowse_team::PublishReport) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(
        out,
        "published {} to `{}`: {} chunks, {} sent, {} unchanged, {} removed, in {:.1} s{}",
        report.repo,
        report.collection,
        report.chunks,
        report.sent,
        report.unchanged,
        report.removed,
        report.seconds,
        if report.retried > 0 {
            format!(" ({} requests retried)", report.retried)
        } else {
            String::new()
        }
    );
}
