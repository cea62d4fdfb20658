//! The real model (all-MiniLM-L6-v2 through ONNX Runtime), as provisioned by
//! `dowse model install` (the README's test command runs it first). These
//! tests fail, never skip, when the model is missing.

use std::path::PathBuf;

use dowse_embed::model::{ModelSource, check_dir, user_cache_dir};
use dowse_embed::{Embedder, ModelFiles, OnnxEmbedder, OnnxOptions, cosine};

fn model() -> ModelFiles {
    let dir = std::env::var_os("DOWSE_MODEL_DIR").map_or_else(
        || user_cache_dir().expect("a user cache directory"),
        PathBuf::from,
    );
    check_dir(&dir, ModelSource::UserCache).unwrap_or_else(|reason| {
        panic!("the real model is needed: {reason}; run `dowse model install` (scripts/test does)")
    })
}

fn copy_model(real: &ModelFiles, dir: &std::path::Path) {
    std::fs::copy(&real.model, dir.join("model.onnx")).unwrap();
    for (path, name) in real
        .tokenizer
        .iter()
        .zip(dowse_embed::model::TOKENIZER_FILES)
    {
        std::fs::copy(path, dir.join(name)).unwrap();
    }
    std::os::unix::fs::symlink(&real.runtime, dir.join(dowse_embed::model::RUNTIME_LIBRARY))
        .unwrap();
}

#[test]
fn related_text_ranks_above_unrelated_text() {
    let embedder = OnnxEmbedder::load(&model(), &OnnxOptions::default()).expect("the model loads");
    assert_eq!(embedder.info().dimensions, 384);
    let query = "retry failed uploads with a growing delay";
    let texts = [
        query,
        "def retry_failed_uploads(self):\n    for attempt in range(5):\n        time.sleep(2 ** attempt)\n        self.upload()",
        "def parse_config(path):\n    with open(path) as f:\n        return toml.load(f)",
        "The weather in the mountains was cold and windy all week.",
    ];
    let vectors = embedder.embed(&texts).expect("embedding works");
    for v in &vectors {
        let norm: f32 = v.iter().map(|x| x * x).sum::<f32>().sqrt();
        assert!((norm - 1.0).abs() < 1e-3, "vectors are L2-normalised");
    }
    let related = cosine(&vectors[0], &vectors[1]);
    let code_unrelated = cosine(&vectors[0], &vectors[2]);
    let prose_unrelated = cosine(&vectors[0], &vectors[3]);
    assert!(
        related > code_unrelated + 0.2,
        "{related} vs {code_unrelated}"
    );
    assert!(
        related > prose_unrelated + 0.2,
        "{related} vs {prose_unrelated}"
    );
    // Deterministic: the same text gives the same vector.
    let again = embedder.embed(&[texts[1]]).unwrap();
    assert!(cosine(&again[0], &vectors[1]) > 0.9999);
}

#[test]
fn a_truncated_model_file_is_an_error_not_a_panic() {
    let real = model();
    let dir = tempfile::tempdir().unwrap();
    copy_model(&real, dir.path());
    let bytes = std::fs::read(&real.model).unwrap();
    std::fs::write(dir.path().join("model.onnx"), &bytes[..bytes.len() / 3]).unwrap();
    let broken = check_dir(dir.path(), ModelSource::Configured).unwrap();
    let err = OnnxEmbedder::load(&broken, &OnnxOptions::default())
        .err()
        .expect("a truncated model fails to load");
    assert!(
        err.to_string().contains("cannot load the embedding model"),
        "{err}"
    );
}

#[test]
fn a_bad_tokenizer_file_is_an_error_not_a_panic() {
    let real = model();
    let dir = tempfile::tempdir().unwrap();
    copy_model(&real, dir.path());
    std::fs::write(dir.path().join("tokenizer.json"), b"{ not json").unwrap();
    let broken = check_dir(dir.path(), ModelSource::Configured).unwrap();
    let err = OnnxEmbedder::load(&broken, &OnnxOptions::default())
        .err()
        .expect("a bad tokenizer fails to load");
    assert!(
        err.to_string().contains("cannot load the embedding model"),
        "{err}"
    );
}

/// The embedder tokenises and builds its own session (so that sessions share
/// one copy of the weights); its vectors must stay fastembed's, or every
/// embedding cache made before would silently mix two models.
#[test]
fn vectors_equal_fastembeds_for_the_same_model() {
    use fastembed::{
        InitOptionsUserDefined, Pooling, TextEmbedding, TokenizerFiles, UserDefinedEmbeddingModel,
    };
    let files = model();
    let read = |p: &std::path::Path| std::fs::read(p).unwrap();
    let [tokenizer, config, special, tokenizer_config] = &files.tokenizer;
    let reference = UserDefinedEmbeddingModel::new(
        read(&files.model),
        TokenizerFiles {
            tokenizer_file: read(tokenizer),
            config_file: read(config),
            special_tokens_map_file: read(special),
            tokenizer_config_file: read(tokenizer_config),
        },
    )
    .with_pooling(Pooling::Mean);
    let ours = OnnxEmbedder::load(&files, &OnnxOptions::default()).expect("the model loads");
    let mut theirs = TextEmbedding::try_new_from_user_defined(
        reference,
        InitOptionsUserDefined::new()
            .with_max_length(256)
            .with_intra_threads(1)
            .with_environment(
                dowse_embed::onnx_environment(&files.runtime, &files.pins.runtime).unwrap(),
            ),
    )
    .expect("fastembed loads the same model");
    let long = "def upload(self, path):\n    return self.client.put(path)\n".repeat(40);
    let texts = [
        "retry failed uploads",
        "def parse_config(path):\n    with open(path) as f:\n        return toml.load(f)",
        "[CLS] special [SEP] tokens and ünïcödé text",
        "",
        long.as_str(),
    ];
    // One batch with padding, and each text alone.
    let batched = ours.embed(&texts).unwrap();
    let expected = theirs.embed(texts, Some(texts.len())).unwrap();
    for (i, (a, b)) in batched.iter().zip(&expected).enumerate() {
        assert!(cosine(a, b) > 0.99999, "text {i}: cosine {}", cosine(a, b));
        let alone = ours.embed(&[texts[i]]).unwrap();
        assert!(cosine(&alone[0], b) > 0.99999, "text {i} alone");
    }
    // Counting sees the whole text, as the model's own tokenizer does
    // without the window (and without the special tokens around it).
    let mut plain = tokenizers::Tokenizer::from_file(tokenizer).unwrap();
    plain.with_truncation(None).unwrap();
    plain.with_padding(None);
    for text in texts {
        let expected = plain.encode(text, false).unwrap().get_ids().len();
        assert_eq!(ours.count_tokens(text), Some(expected), "{text:.40}");
    }
    assert!(ours.count_tokens(&long).unwrap() > 256);
}

#[test]
fn an_idle_process_drops_its_query_session_and_the_next_query_loads_it_again() {
    let files = model();
    let handle = dowse_embed::ModelHandle::resolve(&dowse_embed::PoolConfig {
        enabled: true,
        model_dir: files.model.parent().map(PathBuf::from),
        model_sha256: None,
        runtime_sha256: None,
        threads: 1,
        window: 256,
        prepack_queries: true,
    });
    assert!(!handle.release_idle(), "nothing is loaded yet");
    let model = handle.get().expect("the model loads");
    let query = "retry failed uploads with a growing delay";
    let before = model.embed_query_uncached(query).expect("a query vector");
    assert!(model.query_session_loaded());

    // A query under way keeps its session.
    let guard = model.query_started();
    assert!(!handle.release_idle());
    assert!(model.query_session_loaded());
    drop(guard);

    assert!(handle.release_idle(), "the query session is dropped");
    assert!(!model.query_session_loaded());
    assert!(!handle.release_idle(), "nothing is left to drop");
    // A health check runs the model without loading the session back.
    let probed = model.probe(query).expect("a probe vector");
    assert!(cosine(&probed, &before) > 0.9999);
    assert!(!model.query_session_loaded());

    let after = model.embed_query_uncached(query).expect("a query vector");
    assert!(
        model.query_session_loaded(),
        "the next query loads it again"
    );
    assert_eq!(before, after, "the same vector from the reloaded session");
}
