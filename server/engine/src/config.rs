//! The engine's settings, with their defaults.

use std::path::PathBuf;

use dowse_syntax::ChunkConfig;

use crate::semantic::SemanticConfig;
use crate::walk::WalkOptions;

/// Everything the engine can be told. Front ends (CLI flags, the config
/// files, environment variables, LSP settings) fill one of these.
#[derive(Clone, Debug)]
pub struct Config {
    /// Where the index lives; `None` for the per-user cache default.
    pub index_dir: Option<PathBuf>,
    /// Files larger than this many bytes are skipped.
    pub max_file_size: u64,
    /// Globs a file must match to be indexed (all files when empty), from
    /// the user's own settings: an entry that names a path literally also
    /// admits that path when it is hidden or looks like a secret.
    pub include: Vec<String>,
    /// Globs from the workspace's `dowse.toml` a file must match as well:
    /// a workspace may narrow what is indexed, never widen it.
    pub workspace_include: Vec<String>,
    /// Globs of files and directories to leave out.
    pub exclude: Vec<String>,
    pub follow_symlinks: bool,
    /// Worker threads for indexing and embedding sessions; 0 for one per
    /// core, and never more than the cores (more sessions cost memory and
    /// buy no speed).
    pub threads: usize,
    /// Memory for the lexical indexer's buffers, in bytes.
    pub index_heap_bytes: usize,
    pub chunk: ChunkConfig,
    pub semantic: SemanticConfig,
    /// How results are ranked (not a user setting: chosen by measurement).
    pub ranking: crate::search::Ranking,
    /// Backups of verified commits kept in the index directory.
    pub backups: usize,
    /// On SIGTERM / SIGINT / LSP shutdown, how long in-flight work may take
    /// to reach its next commit before the process exits anyway (the index
    /// stays consistent either way: commits are atomic).
    pub shutdown_timeout: std::time::Duration,
    /// The MCP endpoint of the language server (the engine does not use
    /// these; they share the one schema of settings).
    pub mcp: McpConfig,
    /// The team index searched with `scope` team or all (the engine does
    /// not use it either: `dowse-team` does).
    pub remote: RemoteConfig,
}

/// Where the team index is (`dowse publish` fills it; searches with scope
/// `team` or `all` read it). From the user's own settings only: a
/// repository cannot point dowse at a server.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RemoteConfig {
    /// The Qdrant gRPC URL, e.g. `http://127.0.0.1:6334` (`https://` for TLS).
    pub url: Option<String>,
    pub collection: String,
    pub api_key: Option<String>,
    /// Repositories to search (all of the collection's when empty).
    pub repos: Vec<String>,
    /// How long a search waits for the team index before answering with
    /// local results alone.
    pub timeout: std::time::Duration,
    /// Where repositories of the team index are checked out on this
    /// machine (name → directory): their results open the local file.
    pub checkouts: std::collections::BTreeMap<String, PathBuf>,
}

impl Default for RemoteConfig {
    fn default() -> RemoteConfig {
        RemoteConfig {
            url: None,
            collection: "dowse".to_owned(),
            api_key: None,
            repos: Vec::new(),
            timeout: std::time::Duration::from_millis(300),
            checkouts: Default::default(),
        }
    }
}

/// Where and whether `dowse lsp` serves MCP over HTTP.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct McpConfig {
    pub enabled: bool,
    /// 0 for any free port.
    pub port: u16,
    pub bind: std::net::IpAddr,
    /// Serve on a non-loopback address (refused otherwise).
    pub allow_remote: bool,
}

impl Default for McpConfig {
    fn default() -> McpConfig {
        McpConfig {
            enabled: true,
            port: 0,
            bind: std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST),
            allow_remote: false,
        }
    }
}

impl Default for Config {
    fn default() -> Config {
        Config {
            index_dir: None,
            max_file_size: 1024 * 1024,
            include: Vec::new(),
            workspace_include: Vec::new(),
            exclude: Vec::new(),
            follow_symlinks: true,
            threads: 0,
            index_heap_bytes: 128 * 1024 * 1024,
            chunk: ChunkConfig::default(),
            semantic: SemanticConfig::default(),
            ranking: Default::default(),
            backups: 2,
            shutdown_timeout: std::time::Duration::from_secs(5),
            mcp: McpConfig::default(),
            remote: RemoteConfig::default(),
        }
    }
}

/// The cores of this machine.
pub fn cores() -> usize {
    std::thread::available_parallelism().map_or(2, |n| n.get())
}

impl Config {
    /// The number of worker threads to use: the setting, one per core when
    /// it is 0, and never more than the cores.
    pub fn worker_threads(&self) -> usize {
        let cores = cores();
        if self.threads > 0 {
            self.threads.min(cores)
        } else {
            cores
        }
    }

    /// The walker's options from these settings; `skip_dirs` are the
    /// directories never descended into (the index directory).
    pub fn walk_options(&self, skip_dirs: Vec<PathBuf>) -> WalkOptions {
        WalkOptions {
            max_file_size: self.max_file_size,
            include: self.include.clone(),
            workspace_include: self.workspace_include.clone(),
            exclude: self.exclude.clone(),
            follow_symlinks: self.follow_symlinks,
            skip_dirs,
            threads: self.worker_threads(),
        }
    }
}

/// What a workspace's own `dowse.toml` may do with a key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WorkspaceMay {
    /// Set it only to narrow or lessen what the user's settings give
    /// (fewer files, fewer threads, a smaller cap, semantic search off).
    Narrow,
    /// Nothing: the key names a location or opens a door, so it comes from
    /// the user only (SECURITY.md).
    Never,
}

/// One key of the schema.
pub struct Key {
    pub name: &'static str,
    /// What a value must be, said for people.
    pub expected: &'static str,
    pub workspace: WorkspaceMay,
}

const fn key(name: &'static str, expected: &'static str, workspace: WorkspaceMay) -> Key {
    Key {
        name,
        expected,
        workspace,
    }
}

/// One schema for every source of settings: the user's config file, a
/// workspace's `dowse.toml`, `DOWSE_*` environment variables, LSP settings
/// and CLI flags. Later sources win: defaults < user config file <
/// `dowse.toml` (narrowing only) < editor settings < environment < flags.
pub const KEYS: &[Key] = &[
    key("index_dir", "a directory path", WorkspaceMay::Never),
    key(
        "include",
        "a list of globs, e.g. [\"src/**\"]",
        WorkspaceMay::Narrow,
    ),
    key(
        "exclude",
        "a list of globs, e.g. [\"vendor/**\"]",
        WorkspaceMay::Narrow,
    ),
    key(
        "max_file_size",
        "a size in bytes, from 1",
        WorkspaceMay::Narrow,
    ),
    key("follow_symlinks", "true or false", WorkspaceMay::Never),
    key(
        "threads",
        "a number of threads, 0 for one per core",
        WorkspaceMay::Narrow,
    ),
    key("model_dir", "a directory path", WorkspaceMay::Never),
    key(
        "model_sha256",
        "the sha256 of model.onnx in model_dir, 64 hex digits",
        WorkspaceMay::Never,
    ),
    key(
        "runtime_sha256",
        "the sha256 of the ONNX Runtime library, 64 hex digits",
        WorkspaceMay::Never,
    ),
    key(
        "semantic",
        "true or false (false: keyword search only)",
        WorkspaceMay::Narrow,
    ),
    key(
        "backups",
        "a number of backups to keep, 0 to 100",
        WorkspaceMay::Narrow,
    ),
    key(
        "shutdown_timeout_ms",
        "milliseconds, 0 to 600000",
        WorkspaceMay::Narrow,
    ),
    key(
        "mcp",
        "true or false (false: no MCP endpoint in the language server)",
        WorkspaceMay::Never,
    ),
    key(
        "mcp_port",
        "a port number, 0 for any free one",
        WorkspaceMay::Never,
    ),
    key(
        "mcp_bind",
        "an IP address, e.g. 127.0.0.1",
        WorkspaceMay::Never,
    ),
    key(
        "mcp_allow_remote",
        "true or false (true lets mcp_bind be reachable from other machines)",
        WorkspaceMay::Never,
    ),
    key(
        "remote_url",
        "a Qdrant gRPC URL, e.g. http://127.0.0.1:6334",
        WorkspaceMay::Never,
    ),
    key(
        "remote_collection",
        "a Qdrant collection name",
        WorkspaceMay::Never,
    ),
    key(
        "remote_api_key",
        "the Qdrant API key (a read-only key is enough to search)",
        WorkspaceMay::Never,
    ),
    key(
        "remote_repos",
        "a list of repository names, e.g. [\"api\", \"web\"]",
        WorkspaceMay::Never,
    ),
    key(
        "remote_timeout_ms",
        "milliseconds, 1 to 60000",
        WorkspaceMay::Never,
    ),
    key(
        "remote_checkouts",
        "a table of repository names and directories, e.g. { api = \"/src/api\" }",
        WorkspaceMay::Never,
    ),
];

/// A setting that was not applied: where it came from, the key, the value
/// and the fix. `ignored` marks a key a workspace may not set, which is
/// reported and skipped; anything else is a mistake to correct.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{origin}: {} `{key}` = {value}: {fix}", if *.ignored { "ignored setting" } else { "invalid setting" })]
pub struct ConfigError {
    /// The file, variable or protocol message it came from.
    pub origin: String,
    pub key: String,
    pub value: String,
    pub fix: String,
    /// A workspace file set a key only the user may set: not an error in
    /// what the user did, so it never stops a command.
    pub ignored: bool,
}

/// The environment variable of each key.
pub fn env_var(key: &str) -> String {
    format!("DOWSE_{}", key.to_uppercase())
}

/// The user's own config file: `$XDG_CONFIG_HOME/dowse/config.toml`
/// (`~/.config/dowse/config.toml`).
pub fn user_config_file() -> Option<PathBuf> {
    dirs::config_dir().map(|dir| dir.join("dowse").join("config.toml"))
}

fn sha256_hex(value: &serde_json::Value) -> Option<String> {
    let text = value.as_str()?.trim().to_lowercase();
    (text.len() == 64 && text.bytes().all(|b| b.is_ascii_hexdigit())).then_some(text)
}

/// A value as messages show it: a secret never.
fn shown(key: &str, value: &serde_json::Value) -> String {
    if key.ends_with("api_key") {
        "(hidden)".to_owned()
    } else {
        value.to_string()
    }
}

impl Config {
    /// Sets one key from a JSON value (TOML and LSP settings arrive as
    /// such; environment values are parsed by [`Config::set_str`]), from a
    /// source the user controls.
    pub fn set(
        &mut self,
        source: &str,
        key: &str,
        value: &serde_json::Value,
    ) -> Result<(), ConfigError> {
        let error = |fix: String| ConfigError {
            origin: source.to_owned(),
            key: key.to_owned(),
            value: shown(key, value),
            fix,
            ignored: false,
        };
        let Some(schema) = KEYS.iter().find(|k| k.name == key) else {
            let known: Vec<&str> = KEYS.iter().map(|k| k.name).collect();
            return Err(error(format!(
                "unknown key; known keys: {}",
                known.join(", ")
            )));
        };
        let bad = || error(format!("expected {}", schema.expected));
        let globs = |v: &serde_json::Value| -> Option<Vec<String>> {
            v.as_array()?
                .iter()
                .map(|g| g.as_str().map(str::to_owned))
                .collect()
        };
        match key {
            "index_dir" => {
                self.index_dir = Some(PathBuf::from(
                    value.as_str().filter(|s| !s.is_empty()).ok_or_else(bad)?,
                ))
            }
            "model_dir" => {
                self.semantic.model_dir = Some(PathBuf::from(
                    value.as_str().filter(|s| !s.is_empty()).ok_or_else(bad)?,
                ))
            }
            "model_sha256" => self.semantic.model_sha256 = Some(sha256_hex(value).ok_or_else(bad)?),
            "runtime_sha256" => {
                self.semantic.runtime_sha256 = Some(sha256_hex(value).ok_or_else(bad)?)
            }
            "include" => self.include = globs(value).ok_or_else(bad)?,
            "exclude" => self.exclude = globs(value).ok_or_else(bad)?,
            "max_file_size" => {
                self.max_file_size = value.as_u64().filter(|n| *n > 0).ok_or_else(bad)?
            }
            "follow_symlinks" => self.follow_symlinks = value.as_bool().ok_or_else(bad)?,
            "threads" => {
                self.threads = value.as_u64().filter(|n| *n <= 1024).ok_or_else(bad)? as usize
            }
            "semantic" => self.semantic.enabled = value.as_bool().ok_or_else(bad)?,
            "backups" => {
                self.backups = value.as_u64().filter(|n| *n <= 100).ok_or_else(bad)? as usize
            }
            "shutdown_timeout_ms" => {
                let ms = value.as_u64().filter(|n| *n <= 600_000).ok_or_else(bad)?;
                self.shutdown_timeout = std::time::Duration::from_millis(ms);
            }
            "mcp" => self.mcp.enabled = value.as_bool().ok_or_else(bad)?,
            "mcp_port" => {
                self.mcp.port = value
                    .as_u64()
                    .and_then(|n| u16::try_from(n).ok())
                    .ok_or_else(bad)?
            }
            "mcp_bind" => {
                self.mcp.bind = value
                    .as_str()
                    .and_then(|s| s.parse().ok())
                    .ok_or_else(bad)?
            }
            "mcp_allow_remote" => self.mcp.allow_remote = value.as_bool().ok_or_else(bad)?,
            "remote_url" => {
                let url = value.as_str().map(str::trim).ok_or_else(bad)?;
                if !(url.starts_with("http://") || url.starts_with("https://")) {
                    return Err(bad());
                }
                self.remote.url = Some(url.to_owned());
            }
            "remote_collection" => {
                self.remote.collection = value
                    .as_str()
                    .filter(|s| !s.trim().is_empty())
                    .ok_or_else(bad)?
                    .trim()
                    .to_owned()
            }
            "remote_api_key" => {
                self.remote.api_key = value
                    .as_str()
                    .filter(|s| !s.is_empty())
                    .map(str::to_owned)
                    .ok_or_else(bad)
                    .map(Some)?
            }
            "remote_repos" => self.remote.repos = globs(value).ok_or_else(bad)?,
            "remote_checkouts" => {
                let table = value.as_object().ok_or_else(bad)?;
                let mut checkouts = std::collections::BTreeMap::new();
                for (name, dir) in table {
                    let dir = dir.as_str().filter(|d| !d.is_empty()).ok_or_else(bad)?;
                    checkouts.insert(name.clone(), PathBuf::from(dir));
                }
                self.remote.checkouts = checkouts;
            }
            "remote_timeout_ms" => {
                let ms = value
                    .as_u64()
                    .filter(|n| (1..=60_000).contains(n))
                    .ok_or_else(bad)?;
                self.remote.timeout = std::time::Duration::from_millis(ms);
            }
            _ => return Err(bad()),
        }
        Ok(())
    }

    /// Sets one key from a workspace's own `dowse.toml`: only to narrow or
    /// lessen what the settings below it give. A key the workspace may not
    /// set at all is returned as an `ignored` error naming where it
    /// belongs.
    pub fn narrow(
        &mut self,
        source: &str,
        key: &str,
        value: &serde_json::Value,
    ) -> Result<(), ConfigError> {
        if let Some(schema) = KEYS.iter().find(|k| k.name == key)
            && schema.workspace == WorkspaceMay::Never
        {
            let user_file = user_config_file().map_or_else(
                || "your own config file".to_owned(),
                |p| p.display().to_string(),
            );
            return Err(ConfigError {
                origin: source.to_owned(),
                key: key.to_owned(),
                value: shown(key, value),
                fix: format!(
                    "a workspace's own files cannot set it (it names a location or opens a door); \
                     set it in {user_file}, the editor's settings, {} or --{}",
                    env_var(key),
                    key.replace('_', "-")
                ),
                ignored: true,
            });
        }
        // Checked and parsed as any source would be, then kept only where
        // it narrows.
        let mut given = Config::default();
        given.set(source, key, value)?;
        match key {
            "include" => self.workspace_include = given.include,
            "exclude" => self.exclude.extend(given.exclude),
            "max_file_size" => self.max_file_size = self.max_file_size.min(given.max_file_size),
            "threads" => {
                let fewer = given.worker_threads();
                if fewer < self.worker_threads() {
                    self.threads = fewer;
                }
            }
            "semantic" => self.semantic.enabled &= given.semantic.enabled,
            "backups" => self.backups = self.backups.min(given.backups),
            "shutdown_timeout_ms" => {
                self.shutdown_timeout = self.shutdown_timeout.min(given.shutdown_timeout)
            }
            _ => {}
        }
        Ok(())
    }

    /// Sets one key from text (an environment variable): lists are
    /// comma-separated, booleans `true`/`false`.
    pub fn set_str(&mut self, source: &str, key: &str, text: &str) -> Result<(), ConfigError> {
        let value = match key {
            "include" | "exclude" | "remote_repos" => serde_json::Value::Array(
                text.split(',')
                    .map(str::trim)
                    .filter(|g| !g.is_empty())
                    .map(|g| g.into())
                    .collect(),
            ),
            "index_dir" | "model_dir" | "mcp_bind" | "model_sha256" | "runtime_sha256"
            | "remote_url" | "remote_collection" | "remote_api_key" => text.into(),
            _ => serde_json::from_str(text.trim()).unwrap_or_else(|_| text.into()),
        };
        self.set(source, key, &value)
    }

    /// Applies a TOML settings file: the user's own (`trust` = User) or a
    /// workspace's `dowse.toml` (Workspace, which only narrows). A missing
    /// file is no error.
    fn apply_toml(&mut self, path: &std::path::Path, trust: Trust) -> Vec<ConfigError> {
        let Ok(text) = std::fs::read_to_string(path) else {
            return Vec::new();
        };
        let source = path.display().to_string();
        let table: toml::Table = match toml::from_str(&text) {
            Ok(table) => table,
            Err(err) => {
                return vec![ConfigError {
                    origin: source,
                    key: "(file)".into(),
                    value: "(unparsable)".into(),
                    fix: format!("not valid TOML: {}", err.message()),
                    ignored: false,
                }];
            }
        };
        let mut errors = Vec::new();
        for (key, value) in table {
            let value = serde_json::to_value(&value).unwrap_or(serde_json::Value::Null);
            let applied = match trust {
                Trust::User => self.set(&source, &key, &value),
                Trust::Workspace => self.narrow(&source, &key, &value),
            };
            if let Err(err) = applied {
                errors.push(err);
            }
        }
        errors
    }

    /// Applies `dowse.toml` of `root`, if there is one: a workspace's own
    /// file, which may only narrow (see [`Config::narrow`]).
    pub fn apply_file(&mut self, root: &std::path::Path) -> Vec<ConfigError> {
        self.apply_toml(&root.join("dowse.toml"), Trust::Workspace)
    }

    /// Applies the `DOWSE_*` variables of the schema found in `vars`.
    pub fn apply_env(&mut self, vars: impl Iterator<Item = (String, String)>) -> Vec<ConfigError> {
        let mut errors = Vec::new();
        for (name, value) in vars {
            let Some(key) = KEYS.iter().find(|k| env_var(k.name) == name) else {
                continue;
            };
            if let Err(err) = self.set_str(&name, key.name, &value) {
                errors.push(err);
            }
        }
        errors
    }
}

/// Who a setting file belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Trust {
    /// The user: every key.
    User,
    /// A workspace (untrusted): narrowing keys only.
    Workspace,
}

/// Settings from every source but the workspace's own `dowse.toml`, which
/// [`Config::layered`] reads per workspace root.
#[derive(Clone, Debug, Default)]
pub struct ConfigSources {
    /// The user's own config file (`None`: none read).
    pub user_file: Option<PathBuf>,
    /// Editor settings (LSP `initializationOptions`, `didChangeConfiguration`),
    /// with where they came from: (origin, key, value).
    pub settings: Vec<(String, String, serde_json::Value)>,
    /// `DOWSE_*` environment variables (others are ignored).
    pub env: Vec<(String, String)>,
    /// Command-line flags, as keys of the schema.
    pub flags: Vec<(String, serde_json::Value)>,
}

impl ConfigSources {
    /// Sources with this process's environment and the user's config file.
    pub fn from_env() -> ConfigSources {
        ConfigSources {
            user_file: user_config_file(),
            env: std::env::vars().collect(),
            ..ConfigSources::default()
        }
    }
}

impl Config {
    /// The settings of the workspace at `root`, in the documented order:
    /// defaults < the user's config file < `dowse.toml` (narrowing only) <
    /// editor settings < environment < flags. A rejected setting keeps the
    /// value below it and is returned, once.
    pub fn layered(root: &std::path::Path, sources: &ConfigSources) -> (Config, Vec<ConfigError>) {
        let mut config = Config::default();
        let mut errors = Vec::new();
        if let Some(file) = &sources.user_file {
            errors.extend(config.apply_toml(file, Trust::User));
        }
        errors.extend(config.apply_file(root));
        for (origin, key, value) in &sources.settings {
            if let Err(err) = config.set(origin, key, value) {
                errors.push(err);
            }
        }
        errors.extend(config.apply_env(sources.env.iter().cloned()));
        for (key, value) in &sources.flags {
            if let Err(err) = config.set(&format!("--{}", key.replace('_', "-")), key, value) {
                errors.push(err);
            }
        }
        (config, errors)
    }
}

#[cfg(test)]
mod tests;
