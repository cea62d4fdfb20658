//! The readable table on stderr: every section's figures and targets.

use super::*;

pub(crate) fn print_table(report: &Value) {
    let c = &report["corpus"];
    eprintln!();
    eprintln!(
        "corpus: {} ({} files, {:.1} MB, {} lines), machine: {} cores, load {}",
        c["path"].as_str().unwrap_or(""),
        c["files"],
        c["bytes"].as_f64().unwrap_or(0.0) / 1e6,
        c["lines"],
        report["machine"]["cores"],
        report["machine"]["loadavg_at_start"].as_str().unwrap_or("")
    );
    let row = |name: &str, value: String| eprintln!("  {name:<36} {value}");
    if !report["team"].is_null() {
        team::print(&report["team"]);
    }
    if !report["chunking"].is_null() {
        chunking::print(&report["chunking"]);
    }
    let p = &report["persistence"];
    if !p.is_null() {
        let f = |k: &str| p[k].as_f64().unwrap_or(f64::NAN);
        eprintln!("persistence");
        eprintln!(
            "  warm start → 1st query {:>10.0} ms (max {:.0})",
            f("warm_start_first_query_ms_median"),
            f("warm_start_first_query_ms_max")
        );
        eprintln!(
            "  one-file change        {:>10.0} ms (max {:.0})",
            f("one_file_change_ms_median"),
            f("one_file_change_ms_max")
        );
        eprintln!(
            "  lexical index / source {:>10.2}×",
            f("lexical_index_ratio")
        );
        eprintln!(
            "  SIGKILL rounds         {:>10} ({} killed mid-work, {} mismatches, {} recoveries)",
            p["crash_rounds"],
            p["crash_kills_mid_work"],
            p["crash_mismatches"],
            p["crash_recoveries"]
        );
    }
    let l = &report["lsp"];
    if !l.is_null() {
        let f = |k: &str| l[k].as_f64().unwrap_or(f64::NAN);
        eprintln!("lsp (stdio)");
        eprintln!(
            "  startup → indexed      {:>10.2} s",
            f("startup_to_indexed_seconds")
        );
        eprintln!(
            "  edits timed            {:>10} idle, {} during a graph build ({} timeouts)",
            l["edits_idle"], l["edits_during_graph_build"], l["edit_timeouts"]
        );
        eprintln!(
            "  edit→lexical p50/p95   {:>10.1} / {:.1} ms",
            f("edit_to_searchable_lexical_p50_ms"),
            f("edit_to_searchable_lexical_p95_ms")
        );
        eprintln!(
            "  edit→semantic p50/p95  {:>10.1} / {:.1} ms (idle)",
            f("edit_to_searchable_semantic_p50_ms"),
            f("edit_to_searchable_semantic_p95_ms")
        );
        eprintln!(
            "  edit→semantic p50/p95  {:>10.1} / {:.1} ms (during a graph build)",
            f("during_graph_build_semantic_p50_ms"),
            f("during_graph_build_semantic_p95_ms")
        );
        eprintln!(
            "  workspace/symbol p50/p95 {:>8.1} / {:.1} ms ({} of {} during a graph build)",
            f("workspace_symbol_p50_ms"),
            f("workspace_symbol_p95_ms"),
            l["workspace_symbol_queries_during_graph_build"],
            l["workspace_symbol_queries"]
        );
    }
    let c = &report["coverage"];
    if !c.is_null() {
        let f = |k: &str| c[k].as_f64().unwrap_or(f64::NAN);
        eprintln!("lsp, first embedding running on every core");
        eprintln!(
            "  embedding rate         {:>10.1} chunks/s (of {} chunks; still embedding at the end: {})",
            f("chunks_per_s_while_editing"),
            c["chunks"],
            c["still_embedding_at_end"]
        );
        eprintln!(
            "  didOpen→semantic p50/max {:>8.0} / {:.0} ms ({} files, {} timeouts; target max 2000)",
            f("open_to_semantic_p50_ms"),
            f("open_to_semantic_max_ms"),
            c["opens_timed"],
            c["open_timeouts"]
        );
        eprintln!(
            "  edit→semantic p50/p95  {:>10.1} / {:.1} ms ({} edits, {} timeouts; target p95 250)",
            f("edit_to_semantic_p50_ms"),
            f("edit_to_semantic_p95_ms"),
            c["edits_timed"],
            c["edit_timeouts"]
        );
        eprintln!(
            "  server peak RSS        {:>10.0} MB",
            f("server_peak_rss_mb")
        );
    }
    let u = &report["usages"];
    if !u.is_null() {
        eprintln!("usages");
        eprintln!(
            "  extract all files      {:>10.2} s",
            u["extract_all_seconds"].as_f64().unwrap_or(f64::NAN)
        );
        eprintln!("  queries                {:>10}", u["queries"]);
        eprintln!(
            "  query p50 / p99        {:>10.2} / {:.2} ms",
            u["query_p50_ms"].as_f64().unwrap_or(f64::NAN),
            u["query_p99_ms"].as_f64().unwrap_or(f64::NAN)
        );
        eprintln!(
            "  peak RSS               {:>10.0} MB",
            u["peak_rss_mb"].as_f64().unwrap_or(f64::NAN)
        );
    }
    let s = &report["semantic"];
    if !s.is_null() {
        let f = |key: &str| s[key].as_f64().unwrap_or(f64::NAN);
        eprintln!("semantic");
        row(
            "raw model throughput",
            format!(
                "{:.1} chunks/s ({} sampled chunks)",
                f("raw_chunks_per_s"),
                s["raw_sample_chunks"]
            ),
        );
        row(
            "pipeline throughput",
            format!(
                "{:.1} chunks/s on all cores; on one, {:.0}% of raw (target >= 90%)",
                f("pipeline_chunks_per_s"),
                100.0 * f("pipeline_vs_raw")
            ),
        );
        row(
            "full semantic coverage",
            format!(
                "{:.0} s ({} vectors; lexical {:.1} s + embedding {:.0} s)",
                f("full_coverage_seconds"),
                s["vectors"],
                f("lexical_index_seconds"),
                f("pipeline_embed_seconds")
            ),
        );
        if !s["one_thread_embed_seconds"].is_null() {
            row(
                "all cores vs one",
                format!(
                    "{:.0} s on {} cores vs {:.0} s on one: {:.2}x",
                    f("pipeline_embed_seconds"),
                    s["cores"],
                    f("one_thread_embed_seconds"),
                    f("all_cores_speedup")
                ),
            );
        }
        row(
            "building HNSW (server)",
            format!(
                "{:.1} s, segments (hnsw, exact) {}",
                f("hnsw_build_seconds"),
                s["vector_segments"]
            ),
        );
        row(
            "peak RSS (index / query process)",
            format!(
                "{:.0} MB / {:.0} MB",
                f("index_peak_rss_mb"),
                f("query_process_peak_rss_mb")
            ),
        );
        row("index bytes", format!("{}", s["index_bytes"]));
        row(
            "hybrid query p50 / p99",
            format!(
                "{:.2} / {:.2} ms (targets 15 / 50 ms, {} distinct queries)",
                f("hybrid_p50_ms"),
                f("hybrid_p99_ms"),
                s["hybrid_query_count"]
            ),
        );
        row(
            "ANN recall@10 vs exact",
            format!("{:.3}", f("ann_recall_at_10")),
        );
        row("targets met", format!("{}", s["targets"]["met"]));
    }
    let l = &report["limits"];
    if !l.is_null() {
        eprintln!("mcp endpoint limits (one client while others hold connections)");
        let side = |k: &str| {
            format!(
                "p50 {:.1} ms, slowest {:.1} ms, {} of {} answered",
                l[k]["p50_ms"].as_f64().unwrap_or(f64::NAN),
                l[k]["max_ms"].as_f64().unwrap_or(f64::NAN),
                l[k]["answered"],
                l["calls"]
            )
        };
        row("before", side("before"));
        row(
            &format!(
                "during {} idle + {} half-header + {} slow-body",
                l["idle_connections"], l["half_headers"], l["slow_bodies"]
            ),
            side("during"),
        );
        row(
            "attackers closed by the server",
            format!(
                "{} held, {} slow bodies cut",
                l["attackers_closed_by_server"], l["slow_bodies_cut"]
            ),
        );
        row(
            "targets met (every answer within 1 s)",
            format!("{}", l["pass"]),
        );
    }
    let m = &report["mcp"];
    if !m.is_null() {
        let f = |key: &str| m[key].as_f64().unwrap_or(f64::NAN);
        eprintln!("mcp (streamable HTTP)");
        row(
            "load",
            format!(
                "{} clients x {} calls, think {} ms: {} done, {} failures, {} answered 429",
                m["clients"],
                m["calls_per_client"],
                m["think_ms"],
                m["calls_completed"],
                m["failures"],
                m["rate_limited_429"]
            ),
        );
        for tool in mcp_load::TOOLS {
            let t = &m["tools"][tool];
            row(
                &format!("{tool} p50 / p99"),
                format!(
                    "{:.2} / {:.2} ms ({} calls)",
                    t["p50_ms"].as_f64().unwrap_or(f64::NAN),
                    t["p99_ms"].as_f64().unwrap_or(f64::NAN),
                    t["calls"]
                ),
            );
        }
        row(
            "server RSS before / after",
            format!(
                "{:.0} / {:.0} MB ({:+.1}%, target < 10%)",
                f("rss_before_mb"),
                f("rss_after_mb"),
                100.0 * f("rss_growth")
            ),
        );
        row(
            "  private / file-backed",
            format!(
                "{:.0} → {:.0} / {:.0} → {:.0} MB",
                f("anon_before_mb"),
                f("anon_after_mb"),
                f("file_before_mb"),
                f("file_after_mb")
            ),
        );
        row(
            "  quiet 6 s / idle 65 s after / peak",
            format!(
                "{:.0} / {:.0} MB (targets: {:.0} after, {:.0} idle) / {:.0} MB; memory targets met: {}",
                f("rss_quiet_after_mb"),
                f("rss_idle_after_mb"),
                m["targets"]["rss_after_mb"].as_f64().unwrap_or(f64::NAN),
                m["targets"]["rss_idle_after_mb"]
                    .as_f64()
                    .unwrap_or(f64::NAN),
                f("peak_rss_mb"),
                m["memory_pass"]
            ),
        );
        row(
            "  first search after idle",
            format!("{:.1} ms", f("semantic_search_after_idle_ms")),
        );
        row(
            "fuzz",
            format!(
                "{} cases, server alive: {}, statuses {}",
                m["fuzz_cases"], m["fuzz_server_alive"], m["fuzz_statuses"]
            ),
        );
        row("targets met", format!("{}", m["pass"]));
    }
    let l = &report["lexical"];
    if l.is_null() {
        eprintln!();
        return;
    }
    eprintln!("lexical");
    row(
        "cold index wall (median)",
        format!("{:.2} s", l["index_wall_s"].as_f64().unwrap_or(0.0)),
    );
    row(
        "files/s, MB/s",
        format!(
            "{:.0}, {:.2}",
            l["files_per_s"].as_f64().unwrap_or(0.0),
            l["mb_per_s"].as_f64().unwrap_or(0.0)
        ),
    );
    row("chunks", format!("{}", l["chunks"]));
    row(
        "peak RSS",
        format!("{:.0} MB", l["peak_rss_mb"].as_f64().unwrap_or(0.0)),
    );
    row(
        "index bytes / source bytes",
        format!(
            "{} / {:.2}",
            l["index_bytes"],
            l["index_to_source_ratio"].as_f64().unwrap_or(0.0)
        ),
    );
    row(
        "rg --count-matches '\\w+' (floor)",
        format!(
            "{:.3} s -> index is {:.1}x (target <= 20x)",
            l["rg_count_words_s"].as_f64().unwrap_or(0.0),
            l["index_vs_rg_count_words"].as_f64().unwrap_or(0.0)
        ),
    );
    row(
        "rg -c 'def \\w+'",
        format!(
            "{:.3} s -> index is {:.1}x",
            l["rg_def_s"].as_f64().unwrap_or(0.0),
            l["index_vs_rg_def"].as_f64().unwrap_or(0.0)
        ),
    );
    row(
        "rg -c <literal>",
        format!(
            "{:.3} s -> index is {:.1}x",
            l["rg_literal_s"].as_f64().unwrap_or(0.0),
            l["index_vs_rg_literal"].as_f64().unwrap_or(0.0)
        ),
    );
    row(
        "lexical query p50 / p99",
        format!(
            "{:.2} / {:.2} ms (target p50 <= 5 ms, {} queries)",
            l["query_p50_ms"].as_f64().unwrap_or(0.0),
            l["query_p99_ms"].as_f64().unwrap_or(0.0),
            l["query_count"]
        ),
    );
    row("targets met", format!("{}", l["targets"]["met"]));
    eprintln!();
}
