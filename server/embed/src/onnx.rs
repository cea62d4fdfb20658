//! all-MiniLM-L6-v2 on a dynamically loaded ONNX Runtime, every session of a
//! process running one copy of the model's weights.
//!
//! ONNX Runtime allows one environment per process and loads its library
//! once, so both live in a process-wide slot. Every step that can fail (a
//! missing library, a truncated model, a bad tokenizer file) returns an
//! error, which the engine turns into keyword-only search with the reason
//! attached.
//!
//! Where the memory goes, and why the model is loaded this way (measured
//! with `server/embed/examples/session_memory.rs`, one single-thread session
//! each, this 2-core machine): the int8 file's weights are dequantised to
//! f32 by ONNX Runtime's constant folding at every load (without the folding
//! inference is 40% slower), through two transient 90 MB buffers, and each
//! session kept its own copy: fastembed (which builds the session itself
//! from the .onnx bytes) held 179 MB after one session with a 255 MB peak,
//! 401 MB after three. So the model is optimised once (its token table kept
//! int8, `graph.rs`), saved in ONNX Runtime's own format beside the model
//! (or in the user cache), and that file is mapped once per process and
//! shared by every session, which reads its weights from it in place
//! (`commit_from_memory_directly`): three sessions 101 MB, no load peak.
//! Mapped, not read into the heap, the weights are page cache: shared with
//! the machine's other dowse processes, and resident in this one only while
//! a session reads them (`release_unused_weights`). The language server
//! under the 64-client MCP load: 410 -> 368 MB (`scripts/bench --only mcp`,
//! 2026-12-05), its query session running on its prepacked copy.
//! Prepacking is off but for a server's query session: it makes a session
//! 40 MB larger, batches of chunks 9% faster, one short query 30%. Memory
//! patterns are off: one planned block per input shape, kept, made each
//! session's arena grow with the variety of batch shapes (`builder`).
//! Tokenising and the input tensors are done here; mean pooling is
//! fastembed's, on the session's output, so the vectors are the ones
//! fastembed computed before (a test compares them).
//!
//! `Session::run` needs `&mut`, hence one mutex per session: callers that
//! must not wait on each other (queries vs. background indexing) each load
//! their own [`OnnxEmbedder`], which costs a few MB, not a model.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use fastembed::Pooling;
use fastembed::output::{OutputKey, SingleBatchOutput};
use memmap2::{Mmap, UncheckedAdvice};
use ort::session::InMemorySession;
use ort::session::builder::{GraphOptimizationLevel, SessionBuilder};
use ort::value::Tensor;
use tokenizers::{
    AddedToken, Model as _, OffsetReferential, OffsetType, PaddingParams, PaddingStrategy,
    PreTokenizer as _, Tokenizer, TruncationParams,
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
    /// Keep the weight matrices prepacked for the matrix kernels: 40 MB
    /// more per session, a short query embedded in 3.0 ms instead of 4.2
    /// (the kernels otherwise pack every matrix on every call, which for a
    /// one-line input costs as much as the product); batches of chunks
    /// gain little. For a server's query session.
    pub prepack: bool,
}

impl Default for OnnxOptions {
    fn default() -> OnnxOptions {
        OnnxOptions {
            threads: 1,
            max_tokens: 256,
            prepack: false,
        }
    }
}

pub struct OnnxEmbedder {
    info: ModelInfo,
    session: Mutex<InMemorySession<'static>>,
    needs_token_types: bool,
    /// Pads and truncates to the model's window; counts tokens too
    /// ([`count_untruncated`]), never waiting for the session's lock.
    batcher: Arc<Tokenizer>,
}

/// The process's ONNX Runtime environment, once created.
static ENVIRONMENT: Mutex<Option<ort::environment::Environment>> = Mutex::new(None);

/// The process's ONNX Runtime environment, created from the library at
/// `runtime` by the first caller (later callers get the same one). The
/// library is native code: it is loaded only when its sha256 is
/// `expected_sha256`.
pub fn environment(
    runtime: &Path,
    expected_sha256: &str,
) -> Result<ort::environment::Environment, EmbedError> {
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
    crate::model::verify_sha256(runtime, expected_sha256, "the ONNX Runtime library")
        .map_err(err)?;
    let env = ort::init_from(runtime)
        .map_err(|e| err(e.to_string()))?
        .with_name("dowse")
        .build()
        .map_err(|e| err(e.to_string()))?;
    *slot = Some(env.clone());
    Ok(env)
}

/// What every session of one model shares in a process: the optimised
/// model file, mapped (kept for the life of the process, because sessions
/// read their weights from it), and the tokenizers.
struct Shared {
    digest: String,
    /// The optimised model file, mapped: its pages are the kernel's page
    /// cache, shared with every other dowse process on the machine and
    /// reclaimable, and only those a running session reads count in this
    /// process's memory (see [`release_unused_weights`]).
    map: &'static Mmap,
    /// True when the mapped file was made by an earlier run, which a
    /// different runtime may have written: such a file is made again if a
    /// session cannot be built from it.
    from_cache: bool,
    batcher: Arc<Tokenizer>,
}

/// Keyed by the model file, its length and time, and the token window.
type SharedKey = (PathBuf, u64, Option<std::time::SystemTime>, usize);

static SHARED: Mutex<Option<HashMap<SharedKey, Arc<Shared>>>> = Mutex::new(None);

/// Where the optimised form of a model may be kept, first choice first:
/// beside the model (so every user and test of that directory shares one),
/// else the user cache. It depends on the
/// model's bytes and on the runtime that wrote it, so both are in the name.
fn optimized_paths(files: &ModelFiles, digest: &str) -> Vec<PathBuf> {
    let runtime_name = files
        .runtime
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or("onnxruntime");
    // The version of what dowse does to the graph before optimising it
    // (`graph.rs`): a file made by an older dowse is made again.
    const REWRITE: u32 = 2;
    let key = blake3::hash(format!("{digest}:{runtime_name}:{REWRITE}").as_bytes()).to_hex();
    let name = format!("optimized-{}.ort", &key[..24]);
    // Never a shared temporary directory: another user could plant a file
    // there for this process to load.
    let mut paths = vec![files.dir.join(&name)];
    paths.extend(crate::user_cache_root().map(|root| root.join("optimized").join(&name)));
    paths
}

/// Writes `onnx` optimised to the first of `paths` that can be written (to
/// a temporary file, then renamed, so a crash or a concurrent process never
/// leaves half a file), returning the file mapped.
fn write_optimized(
    env: &ort::environment::Environment,
    onnx: &[u8],
    paths: &[PathBuf],
) -> Result<Mmap, String> {
    let mut last_error = String::new();
    for path in paths {
        let dir = path.parent().expect("a file in a directory");
        let partial = dir.join(format!(".optimized.{}.partial.ort", std::process::id()));
        // Whether the directory takes files at all, before any work.
        let writable = std::fs::create_dir_all(dir)
            .and_then(|()| std::fs::File::create(&partial))
            .map_err(|e| e.to_string());
        if let Err(e) = writable {
            last_error = format!("cannot write in {}: {e}", dir.display());
            continue;
        }
        let made = builder(env, 1, false)
            .and_then(|b| Ok(b.with_optimized_model_path(&partial)?))
            .and_then(|mut b| b.commit_from_memory(onnx))
            .map_err(|e| e.to_string())
            .and_then(|_| {
                std::fs::rename(&partial, path)
                    .map_err(|e| format!("cannot write {}: {e}", path.display()))
            })
            .and_then(|()| map_file(path));
        match &made {
            Ok(_) => remove_older_versions(dir, path),
            Err(_) => {
                let _ = std::fs::remove_file(&partial);
            }
        }
        return made;
    }
    Err(last_error)
}

fn builder(
    env: &ort::environment::Environment,
    threads: usize,
    prepack: bool,
) -> ort::Result<SessionBuilder> {
    // No memory pattern: with it ONNX Runtime plans, per input shape, one
    // block for all of a run's intermediate values, keeps every plan, and
    // takes the block from its arena at each run; chunk batches come in
    // hundreds of shapes, and the arena grows to fit them. Measured
    // (`dowse index` of 5,496 chunks of the stdlib on both cores, runs
    // alternated): peak RSS 229 / 229 MB with patterns, 182 / 178 MB
    // without, and embedding no slower (117 / 118 s with, 108 / 113 s
    // without).
    Ok(ort::session::Session::builder(env)?
        .with_memory_pattern(false)?
        .with_optimization_level(GraphOptimizationLevel::Level3)?
        .with_intra_threads(threads)?
        .with_config_entry(
            "session.disable_prepacking",
            if prepack { "0" } else { "1" },
        )?)
}

/// Removes the optimised files in `dir` other than `keep`: made for an
/// earlier model, runtime or dowse, each 55–90 MB nothing reads any more.
fn remove_older_versions(dir: &Path, keep: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if path != keep && name.starts_with("optimized-") && name.ends_with(".ort") {
            let _ = std::fs::remove_file(&path);
        }
    }
}

/// Maps an optimised model file read-only.
#[allow(unsafe_code)]
fn map_file(path: &Path) -> Result<Mmap, String> {
    let file =
        std::fs::File::open(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    // SAFETY: the mapping must not change under the process. dowse never
    // writes an optimised file in place: a new one is written beside it and
    // renamed over it (`write_optimized`), which leaves this file's inode,
    // and so the mapping, as it was; older versions are unlinked, which
    // does the same. The files live in the model directory or the user's
    // cache, which only the user writes (a repository cannot name them).
    unsafe { Mmap::map(&file) }.map_err(|e| format!("cannot read {}: {e}", path.display()))
}

/// Drops the model weights' pages from the process's resident memory.
/// They stay in the kernel's page cache, and a session reads back the ones
/// it uses on its next run (a page fault each, no disk read while the cache
/// holds them). Called once a session is loaded (building one reads every
/// weight; a server's query session then runs on its own prepacked copy
/// and reads few of them) and when background embedding has finished: the
/// language server, idle or answering queries, no longer counts the 55 MB
/// of weights only the embedding sessions read.
pub fn release_unused_weights() {
    let slot = SHARED.lock().expect("shared lock");
    for shared in slot.iter().flat_map(|known| known.values()) {
        release(shared.map);
    }
}

#[allow(unsafe_code)]
fn release(map: &Mmap) {
    // SAFETY: the mapping is private and read-only, so no page of it holds
    // data of its own: MADV_DONTNEED drops the pages from this process,
    // and the next read maps them again from the file, unchanged.
    if let Err(e) = unsafe { map.unchecked_advise(UncheckedAdvice::DontNeed) } {
        tracing::debug!("could not release the model's pages: {e}");
    }
}

/// ONNX Runtime's format is a flatbuffer whose identifier is `ORTM`.
fn looks_like_ort_format(bytes: &[u8]) -> bool {
    bytes.get(4..8) == Some(b"ORTM")
}

/// The model's shared parts, made on first use: on the first use on this
/// machine the .onnx is loaded once with every graph optimisation and the
/// result saved in ONNX Runtime's format (to a temporary file, then renamed,
/// so a crash or a concurrent process never leaves half a file).
fn shared(
    env: &ort::environment::Environment,
    files: &ModelFiles,
    max_tokens: usize,
    remake: bool,
) -> Result<Arc<Shared>, String> {
    let meta = std::fs::metadata(&files.model)
        .map_err(|e| format!("cannot read {}: {e}", files.model.display()))?;
    let key = (
        files.model.clone(),
        meta.len(),
        meta.modified().ok(),
        max_tokens,
    );
    let mut slot = SHARED.lock().expect("shared lock");
    let known = slot.get_or_insert_with(HashMap::new);
    if !remake && let Some(shared) = known.get(&key) {
        return Ok(shared.clone());
    }
    let onnx = std::fs::read(&files.model)
        .map_err(|e| format!("cannot read {}: {e}", files.model.display()))?;
    crate::model::verify_bytes(&onnx, &files.model, &files.pins.model, "the model")?;
    let digest = blake3::hash(&onnx).to_hex().to_string();
    let batcher = tokenizer(files, max_tokens)?;
    let paths = optimized_paths(files, &digest);
    let cached = if remake {
        None
    } else {
        paths
            .iter()
            .find_map(|p| map_file(p).ok().filter(|m| looks_like_ort_format(m)))
    };
    let from_cache = cached.is_some();
    let map = match cached {
        Some(map) => map,
        None => {
            let rewritten = crate::graph::gather_before_dequantize(&onnx);
            write_optimized(env, rewritten.as_deref().unwrap_or(&onnx), &paths)?
        }
    };
    let shared = Arc::new(Shared {
        digest,
        // Kept for the life of the process: sessions read their weights
        // from it.
        map: Box::leak(Box::new(map)),
        from_cache,
        batcher: Arc::new(batcher),
    });
    known.insert(key, shared.clone());
    Ok(shared)
}

/// The model's tokenizer, padding a batch to its longest text and cutting
/// each at `max_tokens`, with the special tokens the model files name.
fn tokenizer(files: &ModelFiles, max_tokens: usize) -> Result<Tokenizer, String> {
    let [
        tokenizer_file,
        config_file,
        special_file,
        tokenizer_config_file,
    ] = &files.tokenizer;
    let json = |path: &Path| -> Result<serde_json::Value, String> {
        let text =
            std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        serde_json::from_slice(&text).map_err(|e| format!("{}: {e}", path.display()))
    };
    let config = json(config_file)?;
    let special = json(special_file)?;
    let tokenizer_config = json(tokenizer_config_file)?;
    let mut tokenizer = Tokenizer::from_file(tokenizer_file)
        .map_err(|e| format!("{}: {e}", tokenizer_file.display()))?;
    let model_max = tokenizer_config["model_max_length"]
        .as_f64()
        .map_or(max_tokens, |m| m as usize);
    let pad_token = tokenizer_config["pad_token"]
        .as_str()
        .or_else(|| tokenizer_config["pad_token"]["content"].as_str())
        .unwrap_or("[PAD]")
        .to_owned();
    let pad_id = config["pad_token_id"]
        .as_u64()
        .map(|id| id as u32)
        .or_else(|| tokenizer.token_to_id(&pad_token))
        .unwrap_or(0);
    let specials: Vec<AddedToken> = special
        .as_object()
        .into_iter()
        .flat_map(|map| map.values())
        .filter_map(|value| {
            let content = value.as_str().or_else(|| value["content"].as_str())?;
            let flag = |key: &str| value[key].as_bool().unwrap_or(false);
            Some(AddedToken {
                content: content.to_owned(),
                special: true,
                single_word: flag("single_word"),
                lstrip: flag("lstrip"),
                rstrip: flag("rstrip"),
                normalized: flag("normalized"),
            })
        })
        .collect();
    tokenizer
        .add_special_tokens(specials)
        .map_err(|e| format!("the tokenizer's special tokens: {e}"))?;
    tokenizer
        .with_padding(Some(PaddingParams {
            strategy: PaddingStrategy::BatchLongest,
            pad_token,
            pad_id,
            ..PaddingParams::default()
        }))
        .with_truncation(Some(TruncationParams {
            max_length: max_tokens.min(model_max),
            ..TruncationParams::default()
        }))
        .map_err(|e| format!("the tokenizer: {e}"))?;
    Ok(tokenizer)
}

/// The tokens of `text` as the model's tokenizer makes them, all of them
/// (the window does not cut them) and without the special tokens around
/// them: `Tokenizer::encode`'s steps (added tokens, normalising,
/// pre-tokenising, the word pieces) but its truncation and
/// post-processing. A second tokenizer that did not truncate cost 4.7 MB.
fn count_untruncated(tokenizer: &Tokenizer, text: &str) -> Option<usize> {
    let mut pieces = tokenizer
        .get_added_vocabulary()
        .extract_and_normalize(tokenizer.get_normalizer(), text);
    if let Some(pre) = tokenizer.get_pre_tokenizer() {
        pre.pre_tokenize(&mut pieces).ok()?;
    }
    pieces
        .tokenize(|piece| tokenizer.get_model().tokenize(piece.get()))
        .ok()?;
    Some(
        pieces
            .get_splits(OffsetReferential::Original, OffsetType::Byte)
            .iter()
            .map(|(_, _, tokens)| tokens.as_ref().map_or(0, Vec::len))
            .sum(),
    )
}

impl OnnxEmbedder {
    /// Loads the model in `files`: 0.1–0.3 s once the optimised form exists,
    /// about a second more the first time on a machine.
    pub fn load(files: &ModelFiles, options: &OnnxOptions) -> Result<OnnxEmbedder, EmbedError> {
        let env = environment(&files.runtime, &files.pins.runtime)?;
        let model_err = |reason: String| EmbedError::Model {
            dir: files.dir.display().to_string(),
            reason,
        };
        let threads = options.threads.max(1);
        let mut model = shared(&env, files, options.max_tokens, false).map_err(model_err)?;
        let mut attempt = builder(&env, threads, options.prepack)
            .and_then(|mut b| b.commit_from_memory_directly(model.map));
        if attempt.is_err() && model.from_cache {
            // Written by another runtime version, or damaged: make it again.
            model = shared(&env, files, options.max_tokens, true).map_err(model_err)?;
            attempt = builder(&env, threads, options.prepack)
                .and_then(|mut b| b.commit_from_memory_directly(model.map));
        }
        let session = attempt.map_err(|e| model_err(e.to_string()))?;
        let needs_token_types = session
            .inputs()
            .iter()
            .any(|input| input.name() == "token_type_ids");
        let mut embedder = OnnxEmbedder {
            info: ModelInfo {
                // Vectors made through another window are other vectors.
                id: match options.max_tokens {
                    256 => format!("{}:{}", crate::model::DEFAULT_MODEL, &model.digest[..12]),
                    window => format!(
                        "{}:{}:{window}t",
                        crate::model::DEFAULT_MODEL,
                        &model.digest[..12]
                    ),
                },
                dimensions: 0,
                max_tokens: options.max_tokens,
            },
            session: Mutex::new(session),
            needs_token_types,
            batcher: model.batcher.clone(),
        };
        // A model that loads but cannot run (a wrong graph) fails here, not
        // on the first query.
        let probe = embedder
            .embed(&["probe"])
            .map_err(|e| model_err(format!("the model does not run: {e}")))?;
        embedder.info.dimensions = probe.first().map_or(0, Vec::len);
        if embedder.info.dimensions == 0 {
            return Err(model_err("the model returns empty vectors".to_owned()));
        }
        // Building the session read every weight; what it runs on from now
        // on comes back as it reads it.
        release(model.map);
        Ok(embedder)
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
        let failed = |e: &dyn std::fmt::Display| EmbedError::Inference(e.to_string());
        let encodings = self
            .batcher
            .encode_batch(texts.to_vec(), true)
            .map_err(|e| failed(&e))?;
        let width = encodings.first().map_or(0, |e| e.len());
        let shape = [encodings.len(), width];
        let column = |pick: fn(&tokenizers::Encoding) -> &[u32]| -> Vec<i64> {
            encodings
                .iter()
                .flat_map(|e| pick(e).iter().map(|&x| i64::from(x)))
                .collect()
        };
        let mask = column(|e| e.get_attention_mask());
        let mut inputs = ort::inputs![
            "input_ids" => Tensor::from_array((shape, column(|e| e.get_ids()))).map_err(|e| failed(&e))?,
            "attention_mask" => Tensor::from_array((shape, mask.clone())).map_err(|e| failed(&e))?,
        ];
        if self.needs_token_types {
            let types = Tensor::from_array((shape, column(|e| e.get_type_ids())))
                .map_err(|e| failed(&e))?;
            inputs.push(("token_type_ids".into(), types.into()));
        }
        let mut session = self.session.lock().expect("session lock");
        let outputs: Vec<(String, ort::value::Value)> = session
            .run(inputs)
            .map_err(|e| failed(&e))?
            .into_iter()
            .map(|(name, value)| (name.to_owned(), value))
            .collect();
        drop(session);
        let batch = SingleBatchOutput {
            outputs,
            attention_mask_array: ndarray::Array2::from_shape_vec(shape, mask)
                .map_err(|e| failed(&e))?,
        };
        let precedence: &[OutputKey] =
            &[OutputKey::OnlyOne, OutputKey::ByName("last_hidden_state")];
        let pooled = batch
            .select_and_pool_output(&precedence, Some(Pooling::Mean))
            .map_err(|e| failed(&e))?;
        Ok(pooled
            .rows()
            .into_iter()
            .map(|row| {
                let mut v = row.to_vec();
                crate::normalize(&mut v);
                v
            })
            .collect())
    }

    fn count_tokens(&self, text: &str) -> Option<usize> {
        count_untruncated(&self.batcher, text)
    }
}
