//! Tests of the settings: layering, validation and what a workspace may set.

use super::*;

#[test]
fn layers_apply_in_the_documented_order() {
    let dir = tempfile::tempdir().unwrap();
    let user = dir.path().join("user.toml");
    std::fs::write(
        &user,
        "backups = 5\nmax_file_size = 100\nexclude = [\"tmp/**\"]\n",
    )
    .unwrap();
    let root = dir.path().join("ws");
    std::fs::create_dir(&root).unwrap();
    std::fs::write(
        root.join("dowse.toml"),
        "backups = 4\nmax_file_size = 10\nexclude = [\"vendor/**\"]\n",
    )
    .unwrap();
    let sources = ConfigSources {
        user_file: Some(user),
        settings: vec![
            ("initializationOptions".into(), "threads".into(), 5.into()),
            ("initializationOptions".into(), "backups".into(), 6.into()),
            ("initializationOptions".into(), "colour".into(), 1.into()),
        ],
        env: vec![("DOWSE_THREADS".into(), "7".into())],
        flags: vec![("backups".into(), 8.into())],
    };
    let (config, errors) = Config::layered(&root, &sources);
    // The user's file beats the defaults, the workspace narrows it,
    // settings beat both, the environment beats settings, flags beat
    // everything.
    assert_eq!(config.max_file_size, 10);
    assert_eq!(config.exclude, ["tmp/**", "vendor/**"]);
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
        "threads = 1\nexclude = [\"vendor/**\"]\nbackups = \"many\"\ncolour = 1\n",
    )
    .unwrap();
    let mut config = Config::default();
    let errors = config.apply_file(dir.path());
    assert_eq!(config.worker_threads(), 1);
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

/// A workspace's own file may narrow and tune, nothing else: keys that
/// name a location or open a door are reported, once each, and ignored;
/// limits only go down; an include narrows without admitting anything.
#[test]
fn a_workspace_file_only_narrows() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("dowse.toml"),
        "index_dir = \"/tmp/elsewhere\"\nmodel_dir = \"models\"\nmcp_port = 9\n\
             mcp_bind = \"0.0.0.0\"\nfollow_symlinks = true\nmodel_sha256 = \"ab\"\n\
             threads = 64\nmax_file_size = 999999999\nbackups = 90\nsemantic = true\n\
             shutdown_timeout_ms = 600000\ninclude = [\"**\"]\n",
    )
    .unwrap();
    let sources = ConfigSources {
        env: vec![("DOWSE_SEMANTIC".into(), "false".into())],
        ..ConfigSources::default()
    };
    let (config, errors) = Config::layered(dir.path(), &sources);
    let defaults = Config::default();
    assert_eq!(config.index_dir, None);
    assert_eq!(config.semantic.model_dir, None);
    assert_eq!(config.semantic.model_sha256, None);
    assert_eq!(config.mcp, McpConfig::default());
    assert_eq!(
        config.worker_threads(),
        cores(),
        "never more than the cores"
    );
    assert_eq!(config.max_file_size, defaults.max_file_size);
    assert_eq!(config.backups, defaults.backups);
    assert_eq!(config.shutdown_timeout, defaults.shutdown_timeout);
    assert!(!config.semantic.enabled, "the user's `false` stands");
    assert!(
        config.include.is_empty(),
        "a workspace include admits nothing"
    );
    assert_eq!(config.workspace_include, ["**"]);
    let ignored: Vec<&str> = errors
        .iter()
        .filter(|e| e.ignored)
        .map(|e| e.key.as_str())
        .collect();
    assert_eq!(
        ignored,
        [
            "follow_symlinks",
            "index_dir",
            "mcp_bind",
            "mcp_port",
            "model_dir",
            "model_sha256"
        ]
    );
    assert!(errors.iter().all(|e| e.ignored), "{errors:?}");
    let said = errors
        .iter()
        .find(|e| e.key == "model_dir")
        .unwrap()
        .to_string();
    assert!(
        said.contains("ignored setting `model_dir`")
            && said.contains("cannot set it")
            && said.contains("DOWSE_MODEL_DIR"),
        "{said}"
    );
}

/// The user's own config file may set every key.
#[test]
fn the_user_file_sets_every_key() {
    let dir = tempfile::tempdir().unwrap();
    let user = dir.path().join("config.toml");
    let hash = "a".repeat(64);
    std::fs::write(
        &user,
        format!(
            "index_dir = \"/tmp/idx\"\nmodel_dir = \"/opt/models\"\nmodel_sha256 = \"{hash}\"\n\
                 mcp_port = 4321\ninclude = [\"certs/dev.pem\"]\n"
        ),
    )
    .unwrap();
    let sources = ConfigSources {
        user_file: Some(user),
        ..ConfigSources::default()
    };
    let (config, errors) = Config::layered(dir.path(), &sources);
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(
        config.index_dir.as_deref(),
        Some(std::path::Path::new("/tmp/idx"))
    );
    assert_eq!(config.semantic.model_sha256.as_deref(), Some(hash.as_str()));
    assert_eq!(config.mcp.port, 4321);
    assert_eq!(config.include, ["certs/dev.pem"]);
}
