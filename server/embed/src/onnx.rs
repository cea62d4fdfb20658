//! all-MiniLM-L6-v2 through fastembed and a dynamically loaded ONNX Runtime.
//!
//! ONNX Runtime allows one environment per process and loads its library
//! once, so both live in a process-wide slot: the first embedder to load
//! creates them, later ones reuse them. Every step that can fail (a missing
//! library, a truncated model, a bad tokenizer file) returns an error, which
//! the engine turns into keyword-only search with the reason attached.
//! `TextEmbedding::embed` needs `&mut self`, hence the mutex: callers that
//! must not wait on each other (queries vs. background indexing) each load
//! their own [`OnnxEmbedder`].

use std::path::Path;
use std::sync::Mutex;

use fastembed::{
    InitOptionsUserDefined, Pooling, TextEmbedding, TokenizerFiles, UserDefinedEmbeddingModel,
};

use crate::model::ModelFiles;
use crate::{EmbedError, Embedder, ModelInfo};

/// How to run the model.
#[derive(Clone, Debug)]
pub struct OnnxOptions {
    /// ONNX Runtime intra-op threads. One is as fast as two under load and
    /// leaves a core for the server (MODEL.md).
    pub threads: usize,
    /// Input window in tokens; MiniLM was trained on 256.
    pub max_tokens: usize,
}

impl Default for OnnxOptions {
    fn default() -> OnnxOptions {
        OnnxOptions {
            threads: 1,
            max_tokens: 256,
        }
    }
}

pub struct OnnxEmbedder {
    info: ModelInfo,
    model: Mutex<TextEmbedding>,
    /// A copy of the model's tokenizer, so that counting tokens never waits
    /// for the model's lock.
    tokenizer: tokenizers::Tokenizer,
}

/// The process's ONNX Runtime environment, once created.
static ENVIRONMENT: Mutex<Option<ort::environment::Environment>> = Mutex::new(None);

fn environment(runtime: &Path) -> Result<ort::environment::Environment, EmbedError> {
    let mut slot = ENVIRONMENT.lock().expect("environment lock");
    if let Some(env) = slot.as_ref() {
        return Ok(env.clone());
    }
    let err = |reason: String| EmbedError::Runtime {
        path: runtime.display().to_string(),
        reason,
    };
    // dlopen's own message for a missing file says nothing useful.
    if !runtime.is_file() {
        return Err(err("no such file".to_owned()));
    }
    let env = ort::init_from(runtime)
        .map_err(|e| err(e.to_string()))?
        .with_name("dowse")
        .build()
        .map_err(|e| err(e.to_string()))?;
    *slot = Some(env.clone());
    Ok(env)
}

impl OnnxEmbedder {
    /// Loads the model in `files`; 0.3–1 s.
    pub fn load(files: &ModelFiles, options: &OnnxOptions) -> Result<OnnxEmbedder, EmbedError> {
        let env = environment(&files.runtime)?;
        let model_err = |reason: String| EmbedError::Model {
            dir: files.dir.display().to_string(),
            reason,
        };
        let read = |path: &Path| {
            std::fs::read(path)
                .map_err(|e| model_err(format!("cannot read {}: {e}", path.display())))
        };
        let onnx = read(&files.model)?;
        let [tokenizer, config, special, tokenizer_config] = &files.tokenizer;
        let tokenizer_files = TokenizerFiles {
            tokenizer_file: read(tokenizer)?,
            config_file: read(config)?,
            special_tokens_map_file: read(special)?,
            tokenizer_config_file: read(tokenizer_config)?,
        };
        let digest = blake3::hash(&onnx).to_hex();
        let model =
            UserDefinedEmbeddingModel::new(onnx, tokenizer_files).with_pooling(Pooling::Mean);
        let init = InitOptionsUserDefined::new()
            .with_max_length(options.max_tokens)
            .with_intra_threads(options.threads.max(1))
            .with_environment(env);
        let mut model = TextEmbedding::try_new_from_user_defined(model, init)
            .map_err(|e| model_err(e.to_string()))?;
        // A model that loads but cannot run (a wrong graph) fails here, not
        // on the first query.
        let probe = model
            .embed(["probe"], Some(1))
            .map_err(|e| model_err(format!("the model does not run: {e}")))?;
        let dimensions = probe.first().map_or(0, Vec::len);
        if dimensions == 0 {
            return Err(model_err("the model returns empty vectors".to_owned()));
        }
        // The model's tokenizer truncates to its window; counting the tokens
        // of a longer text needs it whole.
        let mut tokenizer = model.tokenizer.clone();
        tokenizer
            .with_truncation(None)
            .map_err(|e| model_err(format!("the tokenizer: {e}")))?;
        Ok(OnnxEmbedder {
            info: ModelInfo {
                id: format!("{}:{}", crate::model::DEFAULT_MODEL, &digest[..12]),
                dimensions,
                max_tokens: options.max_tokens,
            },
            model: Mutex::new(model),
            tokenizer,
        })
    }
}

impl Embedder for OnnxEmbedder {
    fn info(&self) -> &ModelInfo {
        &self.info
    }

    fn embed(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>, EmbedError> {
        if texts.is_empty() {
            return Ok(Vec::new());
        }
        let mut model = self.model.lock().expect("model lock");
        model
            .embed(texts, Some(texts.len()))
            .map_err(|e| EmbedError::Inference(e.to_string()))
    }

    fn count_tokens(&self, text: &str) -> Option<usize> {
        self.tokenizer
            .encode(text, false)
            .ok()
            .map(|encoding| encoding.get_ids().len())
    }
}
