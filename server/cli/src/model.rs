//! `dowse model install` and `dowse model status`.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::time::Instant;

use dowse_engine::Config;
use dowse_engine::embed::install::install as install_model;
use dowse_engine::embed::model::user_cache_dir;
use dowse_engine::embed::resolve_model;
use dowse_engine::embed::{Embedder, OnnxEmbedder, OnnxOptions, Resolution, resolve};
use serde::Serialize;

/// Installs the default model into the user cache, unless one is there.
pub fn install(config: &Config, force: bool) -> anyhow::Result<()> {
    let dest = user_cache_dir().ok_or_else(|| {
        anyhow::anyhow!(
            "there is no user cache directory to install the model into: set HOME or \
             XDG_CACHE_HOME, or install it elsewhere and set DOWSE_MODEL_DIR"
        )
    })?;
    if !force && let Resolution::Found(files) = resolve(None) {
        eprintln!(
            "the model is already installed in {} (use --force to reinstall)",
            files.dir.display()
        );
        return Ok(());
    }
    let started = Instant::now();
    let files = install_model(&dest, &|step| eprintln!("{step}"))?;
    eprintln!(
        "installed the model in {} in {:.1} s",
        files.dir.display(),
        started.elapsed().as_secs_f64()
    );
    if config.semantic.model_dir.is_some() {
        eprintln!(
            "note: DOWSE_MODEL_DIR (or --model-dir) is set and takes precedence over the installed model"
        );
    }
    Ok(())
}

#[derive(Serialize)]
struct Status {
    /// "ready" or "missing" or "broken".
    status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    model_dir: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    source: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    runtime_library: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    model_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    dimensions: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    load_seconds: Option<f64>,
    /// What went wrong and what to do.
    #[serde(skip_serializing_if = "Option::is_none")]
    message: Option<String>,
}

/// Resolves the model and tries to load it.
pub fn status(config: &Config, json: bool) -> anyhow::Result<()> {
    let status = match resolve_model(&config.semantic.pool()) {
        Resolution::Missing { reason, fix } => Status {
            status: "missing",
            model_dir: None,
            source: None,
            runtime_library: None,
            model_id: None,
            dimensions: None,
            load_seconds: None,
            message: Some(format!("{reason}; {fix}")),
        },
        Resolution::Found(files) => {
            let started = Instant::now();
            let loaded = OnnxEmbedder::load(&files, &OnnxOptions::default());
            let base = Status {
                status: "ready",
                model_dir: Some(files.dir.display().to_string()),
                source: Some(files.source.to_string()),
                runtime_library: Some(files.runtime.display().to_string()),
                model_id: None,
                dimensions: None,
                load_seconds: None,
                message: None,
            };
            match loaded {
                Ok(embedder) => Status {
                    model_id: Some(embedder.info().id.clone()),
                    dimensions: Some(embedder.info().dimensions),
                    load_seconds: Some(started.elapsed().as_secs_f64()),
                    ..base
                },
                Err(err) => Status {
                    status: "broken",
                    message: Some(format!(
                        "{err}; reinstall with `dowse model install --force`"
                    )),
                    ..base
                },
            }
        }
    };
    if json {
        println!("{}", serde_json::to_string_pretty(&status)?);
    } else {
        println!("status: {}", status.status);
        for (name, value) in [
            ("model", &status.model_id),
            ("directory", &status.model_dir),
            ("found in", &status.source),
            ("runtime", &status.runtime_library),
            ("problem", &status.message),
        ] {
            if let Some(value) = value {
                println!("{name:>10}: {value}");
            }
        }
        if let (Some(dims), Some(secs)) = (status.dimensions, status.load_seconds) {
            println!(
                "{:>10}: {dims} dimensions, loaded in {secs:.2} s",
                "vectors"
            );
        }
    }
    Ok(())
}
