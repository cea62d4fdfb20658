//! The engine's settings, with their defaults.

use std::path::PathBuf;

use dowse_syntax::ChunkConfig;

use crate::semantic::SemanticConfig;
use crate::walk::WalkOptions;

/// Everything the engine can be told. Front ends (CLI flags, the config file,
/// environment variables, LSP settings) fill one of these.
#[derive(Clone, Debug)]
pub struct Config {
    /// Where the index lives; `None` for the per-user cache default.
    pub index_dir: Option<PathBuf>,
    /// Files larger than this many bytes are skipped.
    pub max_file_size: u64,
    /// Globs a file must match to be indexed (all files when empty).
    pub include: Vec<String>,
    /// Globs of files and directories to leave out.
    pub exclude: Vec<String>,
    pub follow_symlinks: bool,
    /// Worker threads for indexing; 0 for one per core.
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
        }
    }
}

impl Config {
    /// The number of worker threads to use.
    pub fn worker_threads(&self) -> usize {
        if self.threads > 0 {
            self.threads
        } else {
            std::thread::available_parallelism().map_or(2, |n| n.get())
        }
    }

    pub(crate) fn walk_options(&self, skip_dirs: Vec<PathBuf>) -> WalkOptions {
        WalkOptions {
            max_file_size: self.max_file_size,
            include: self.include.clone(),
            exclude: self.exclude.clone(),
            follow_symlinks: self.follow_symlinks,
            skip_dirs,
            threads: self.worker_threads(),
        }
    }
}

/// One schema for every source of settings: `dowse.toml` at the workspace
/// root, `DOWSE_*` environment variables, LSP settings and CLI flags.
/// Later sources win: defaults < `dowse.toml` < LSP settings < environment
/// < CLI flags.
pub const KEYS: &[(&str, &str)] = &[
    ("index_dir", "a directory path"),
    ("include", "a list of globs, e.g. [\"src/**\"]"),
    ("exclude", "a list of globs, e.g. [\"vendor/**\"]"),
    ("max_file_size", "a size in bytes, from 1"),
    ("follow_symlinks", "true or false"),
    ("threads", "a number of threads, 0 for one per core"),
    ("model_dir", "a directory path"),
    ("semantic", "true or false (false: keyword search only)"),
    ("backups", "a number of backups to keep, 0 to 100"),
    ("shutdown_timeout_ms", "milliseconds, 0 to 600000"),
    (
        "mcp",
        "true or false (false: no MCP endpoint in the language server)",
    ),
    ("mcp_port", "a port number, 0 for any free one"),
    ("mcp_bind", "an IP address, e.g. 127.0.0.1"),
    (
        "mcp_allow_remote",
        "true or false (true lets mcp_bind be reachable from other machines)",
    ),
];

/// A rejected setting: where it came from, the key, the value and the fix.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{origin}: invalid setting `{key}` = {value}: {fix}")]
pub struct ConfigError {
    /// The file, variable or protocol message it came from.
    pub origin: String,
    pub key: String,
    pub value: String,
    pub fix: String,
}

/// The environment variable of each key.
pub fn env_var(key: &str) -> String {
    format!("DOWSE_{}", key.to_uppercase())
}

impl Config {
    /// Sets one key from a JSON value (TOML and LSP settings arrive as
    /// such; environment values are parsed by [`Config::set_str`]).
    pub fn set(
        &mut self,
        source: &str,
        key: &str,
        value: &serde_json::Value,
    ) -> Result<(), ConfigError> {
        let error = |fix: String| ConfigError {
            origin: source.to_owned(),
            key: key.to_owned(),
            value: value.to_string(),
            fix,
        };
        let expected = KEYS.iter().find(|(k, _)| *k == key).map(|(_, e)| *e);
        let Some(expected) = expected else {
            let known: Vec<&str> = KEYS.iter().map(|(k, _)| *k).collect();
            return Err(error(format!(
                "unknown key; known keys: {}",
                known.join(", ")
            )));
        };
        let bad = || error(format!("expected {expected}"));
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
            _ => return Err(bad()),
        }
        Ok(())
    }

    /// Sets one key from text (an environment variable): lists are
    /// comma-separated, booleans `true`/`false`.
    pub fn set_str(&mut self, source: &str, key: &str, text: &str) -> Result<(), ConfigError> {
        let value = match key {
            "include" | "exclude" => serde_json::Value::Array(
                text.split(',')
                    .map(str::trim)
                    .filter(|g| !g.is_empty())
                    .map(|g| g.into())
                    .collect(),
            ),
            "index_dir" | "model_dir" | "mcp_bind" => text.into(),
            _ => serde_json::from_str(text.trim()).unwrap_or_else(|_| text.into()),
        };
        self.set(source, key, &value)
    }

    /// Applies `dowse.toml` of `root`, if there is one.
    pub fn apply_file(&mut self, root: &std::path::Path) -> Vec<ConfigError> {
        let path = root.join("dowse.toml");
        let Ok(text) = std::fs::read_to_string(&path) else {
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
                }];
            }
        };
        let mut errors = Vec::new();
        for (key, value) in table {
            let value = serde_json::to_value(&value).unwrap_or(serde_json::Value::Null);
            if let Err(err) = self.set(&source, &key, &value) {
                errors.push(err);
            }
        }
        errors
    }

    /// Applies the `DOWSE_*` variables of the schema found in `vars`.
    pub fn apply_env(&mut self, vars: impl Iterator<Item = (String, String)>) -> Vec<ConfigError> {
        let mut errors = Vec::new();
        for (name, value) in vars {
            let Some((key, _)) = KEYS.iter().find(|(k, _)| env_var(k) == name) else {
                continue;
            };
            if let Err(err) = self.set_str(&name, key, &value) {
                errors.push(err);
            }
        }
        errors
    }
}

/// Settings from every source but the workspace's own `dowse.toml`, which
/// [`Config::layered`] reads per workspace root.
#[derive(Clone, Debug, Default)]
pub struct ConfigSources {
    /// Editor settings (LSP `initializationOptions`, `didChangeConfiguration`),
    /// with where they came from: (origin, key, value).
    pub settings: Vec<(String, String, serde_json::Value)>,
    /// `DOWSE_*` environment variables (others are ignored).
    pub env: Vec<(String, String)>,
    /// Command-line flags, as keys of the schema.
    pub flags: Vec<(String, serde_json::Value)>,
}

impl ConfigSources {
    /// Sources with this process's environment.
    pub fn from_env() -> ConfigSources {
        ConfigSources {
            env: std::env::vars().collect(),
            ..ConfigSources::default()
        }
    }
}

impl Config {
    /// The settings of the workspace at `root`, in the documented order:
    /// defaults < `dowse.toml` < editor settings < environment < flags. A
    /// rejected setting keeps the value below it and is returned, once.
    pub fn layered(root: &std::path::Path, sources: &ConfigSources) -> (Config, Vec<ConfigError>) {
        let mut config = Config::default();
        let mut errors = config.apply_file(root);
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
mod tests {
    use super::*;

    #[test]
    fn layers_apply_in_the_documented_order() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("dowse.toml"),
            "threads = 3\nbackups = 4\nmax_file_size = 10\n",
        )
        .unwrap();
        let sources = ConfigSources {
            settings: vec![
                ("initializationOptions".into(), "threads".into(), 5.into()),
                ("initializationOptions".into(), "backups".into(), 6.into()),
                ("initializationOptions".into(), "colour".into(), 1.into()),
            ],
            env: vec![("DOWSE_THREADS".into(), "7".into())],
            flags: vec![("backups".into(), 8.into())],
        };
        let (config, errors) = Config::layered(dir.path(), &sources);
        // The file beats the defaults, settings beat the file, the
        // environment beats settings, flags beat everything.
        assert_eq!(config.max_file_size, 10);
        assert_eq!(config.threads, 7);
        assert_eq!(config.backups, 8);
        let said: Vec<String> = errors.iter().map(ToString::to_string).collect();
        assert_eq!(said.len(), 1, "{said:?}");
        assert!(
            said[0].starts_with("initializationOptions: invalid setting `colour` = 1: unknown key"),
            "{said:?}"
        );
    }

    #[test]
    fn every_source_shares_the_schema_and_rejects_clearly() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("dowse.toml"),
            "threads = 3\nexclude = [\"vendor/**\"]\nbackups = \"many\"\ncolour = 1\n",
        )
        .unwrap();
        let mut config = Config::default();
        let errors = config.apply_file(dir.path());
        assert_eq!(config.threads, 3);
        assert_eq!(config.exclude, ["vendor/**"]);
        assert_eq!(config.backups, 2, "a bad value keeps the default");
        let messages: Vec<String> = errors.iter().map(|e| e.to_string()).collect();
        assert_eq!(messages.len(), 2, "{messages:?}");
        assert!(
            messages[0].contains("`backups` = \"many\": expected a number of backups"),
            "{messages:?}"
        );
        assert!(
            messages[1].contains("`colour` = 1: unknown key; known keys: index_dir"),
            "{messages:?}"
        );

        // The environment overrides the file.
        let env = [
            ("DOWSE_THREADS".to_owned(), "5".to_owned()),
            ("DOWSE_INCLUDE".to_owned(), "src/**, lib/**".to_owned()),
            ("DOWSE_SEMANTIC".to_owned(), "maybe".to_owned()),
            ("DOWSE_LOG".to_owned(), "debug".to_owned()),
        ];
        let errors = config.apply_env(env.into_iter());
        assert_eq!(config.threads, 5);
        assert_eq!(config.include, ["src/**", "lib/**"]);
        assert!(config.semantic.enabled);
        assert_eq!(errors.len(), 1);
        assert_eq!(
            errors[0].to_string(),
            "DOWSE_SEMANTIC: invalid setting `semantic` = \"maybe\": expected true or false (false: keyword search only)"
        );
    }
}
