//! Where an embedding session's memory goes: loads N sessions one way or
//! another and prints resident and peak memory after each step.
//!
//! `cargo run --release -p dowse-embed --example session_memory -- MODE N [OPTIONS]`
//! MODE: dowse (N `OnnxEmbedder`s, as the engine loads them) | fastembed (N
//! fastembed `TextEmbedding`s, as dowse loaded them before) | ort (N raw
//! sessions from the .onnx) | ort-shared (the same with one prepacked-weights
//! container) | ort-format-shared (N sessions reading one optimised model's
//! bytes in place). OPTIONS for the ort modes: `noarena`, `nopattern`,
//! `envarena=same|pow2` (one arena in the environment, shared by every
//! session, growing by what is asked or in powers of two), `concurrent`
//! (each session runs chunk-sized batches on a thread of its own, as the
//! engine's workers do), and session config entries as `key=value` (e.g.
//! `session.disable_prepacking=1`).

#![allow(clippy::print_stderr)]

use std::path::Path;

use ort::session::Session;
use ort::session::builder::{GraphOptimizationLevel, PrepackedWeights};
use ort::value::Tensor;

fn status(label: &str) {
    let text = std::fs::read_to_string("/proc/self/status").unwrap();
    let field = |name: &str| {
        text.lines()
            .find(|l| l.starts_with(name))
            .map(|l| l.split_whitespace().nth(1).unwrap().parse::<u64>().unwrap() / 1024)
            .unwrap()
    };
    eprintln!(
        "{label:40} rss {:4} MB  peak {:4} MB",
        field("VmRSS:"),
        field("VmHWM:")
    );
}

enum Any {
    Plain(Session),
    Mem(ort::session::InMemorySession<'static>),
}

fn run(session: &mut Any, batch: usize, len: usize) {
    let shape = [batch, len];
    let ids = Tensor::from_array((shape, vec![101i64; batch * len])).unwrap();
    let mask = Tensor::from_array((shape, vec![1i64; batch * len])).unwrap();
    let types = Tensor::from_array((shape, vec![0i64; batch * len])).unwrap();
    let inputs = ort::inputs![
        "input_ids" => ids,
        "attention_mask" => mask,
        "token_type_ids" => types,
    ];
    match session {
        Any::Plain(s) => drop(s.run(inputs).unwrap()),
        Any::Mem(s) => drop(s.run(inputs).unwrap()),
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let mode = args.get(1).map(String::as_str).unwrap_or("ort");
    let n: usize = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(1);
    let dir = std::env::var_os("DOWSE_MODEL_DIR").map_or_else(
        || dowse_embed::model::user_cache_dir().expect("a user cache directory"),
        std::path::PathBuf::from,
    );
    let files = dowse_embed::model::check_dir(&dir, dowse_embed::model::ModelSource::UserCache)
        .expect("model installed");
    status("start");
    if mode == "fastembed" {
        use fastembed::{
            InitOptionsUserDefined, Pooling, TextEmbedding, TokenizerFiles,
            UserDefinedEmbeddingModel,
        };
        let read = |p: &Path| std::fs::read(p).unwrap();
        let [tokenizer, config, special, tokenizer_config] = &files.tokenizer;
        let env = dowse_embed::onnx_environment(&files.runtime, &files.pins.runtime).unwrap();
        let mut models = Vec::new();
        for i in 0..n {
            let model = UserDefinedEmbeddingModel::new(
                read(&files.model),
                TokenizerFiles {
                    tokenizer_file: read(tokenizer),
                    config_file: read(config),
                    special_tokens_map_file: read(special),
                    tokenizer_config_file: read(tokenizer_config),
                },
            )
            .with_pooling(Pooling::Mean);
            let init = InitOptionsUserDefined::new()
                .with_intra_threads(1)
                .with_environment(env.clone());
            models.push(TextEmbedding::try_new_from_user_defined(model, init).unwrap());
            status(&format!("loaded {}", i + 1));
        }
        let text = "def retry(upload): return upload.send() ".repeat(20);
        for m in &mut models {
            m.embed([text.as_str()], None).unwrap();
        }
        status("after one text each");
        return;
    }
    if mode == "dowse" {
        let mut models = Vec::new();
        for i in 0..n {
            let threads = std::env::var("THREADS")
                .ok()
                .and_then(|t| t.parse().ok())
                .unwrap_or(1);
            let m = dowse_embed::OnnxEmbedder::load(
                &files,
                &dowse_embed::OnnxOptions {
                    threads,
                    ..Default::default()
                },
            )
            .unwrap();
            status(&format!("loaded {}", i + 1));
            models.push(m);
        }
        let text = "def retry(upload): return upload.send() ".repeat(20);
        for m in &models {
            use dowse_embed::Embedder;
            m.embed(&[text.as_str()]).unwrap();
        }
        status("after one text each");
        return;
    }
    let env = ort::init_from(&files.runtime)
        .unwrap()
        .with_name("x")
        .build()
        .unwrap();
    let onnx = std::fs::read(&files.model).unwrap();
    let prepacked = PrepackedWeights::new();
    let ort_path = Path::new("/tmp/session_memory_model.ort");
    let ort_bytes: &'static [u8] = if mode == "ort-format-shared" {
        if !ort_path.exists() {
            let mut b = Session::builder(&env)
                .unwrap()
                .with_optimization_level(GraphOptimizationLevel::Level3)
                .unwrap()
                .with_intra_threads(1)
                .unwrap()
                .with_optimized_model_path(ort_path)
                .unwrap();
            b.commit_from_memory(&onnx).unwrap();
            status("saved ort format");
        }
        Box::leak(std::fs::read(ort_path).unwrap().into_boxed_slice())
    } else {
        &[]
    };
    if let Some(arena) = args.iter().find_map(|a| a.strip_prefix("envarena=")) {
        register_env_arena(&env, arena);
        status("registered an environment arena");
    }
    let mut sessions = Vec::new();
    for i in 0..n {
        let mut b = Session::builder(&env)
            .unwrap()
            .with_optimization_level(GraphOptimizationLevel::Level3)
            .unwrap()
            .with_intra_threads(1)
            .unwrap();
        if mode != "ort" {
            b = b.with_prepacked_weights(&prepacked).unwrap();
        }
        if args.iter().any(|a| a == "noarena") {
            b = b
                .with_execution_providers([ort::ep::CPU::default()
                    .with_arena_allocator(false)
                    .build()])
                .unwrap();
        }
        if args.iter().any(|a| a.starts_with("envarena=")) {
            b = b.with_env_allocators().unwrap();
        }
        if args.iter().any(|a| a == "nopattern") {
            b = b.with_memory_pattern(false).unwrap();
        }
        for kv in args.iter().skip(3).filter(|a| a.contains('=')) {
            let (k, v) = kv.split_once('=').unwrap();
            b = b.with_config_entry(k, v).unwrap();
        }
        let s = if mode == "ort-format-shared" {
            Any::Mem(b.commit_from_memory_directly(ort_bytes).unwrap())
        } else {
            Any::Plain(b.commit_from_memory(&onnx).unwrap())
        };
        status(&format!("loaded {}", i + 1));
        sessions.push(s);
    }
    if args.iter().any(|a| a == "concurrent") {
        // As the engine's workers do: each session on a thread of its own,
        // chunk-sized batches (at most 128 estimated tokens, one long text).
        let started = std::time::Instant::now();
        std::thread::scope(|scope| {
            for s in sessions.iter_mut() {
                scope.spawn(move || {
                    for _ in 0..20 {
                        run(s, 1, 256);
                        run(s, 1, 128);
                        run(s, 2, 64);
                        run(s, 4, 32);
                        run(s, 16, 8);
                    }
                });
            }
        });
        eprintln!(
            "20x (1x256, 1x128, 2x64, 4x32, 16x8) concurrently: {:?}",
            started.elapsed()
        );
        status("after the concurrent runs");
        return;
    }
    let started = std::time::Instant::now();
    for _ in 0..40 {
        for s in sessions.iter_mut() {
            run(s, 1, 128);
            run(s, 4, 32);
            run(s, 16, 8);
        }
    }
    eprintln!(
        "40x (1x128, 4x32, 16x8) per session: {:?}",
        started.elapsed()
    );
    status("after a batch 8x128 each");
    for s in sessions.iter_mut() {
        run(s, 16, 256);
    }
    status("after a batch 16x256 each");
}

/// Registers one CPU arena in the environment, shared by every session
/// built `with_env_allocators`. `spec`: `same` (extend by what is asked) or
/// `pow2` (ONNX Runtime's default growth).
#[allow(unsafe_code)]
fn register_env_arena(env: &ort::environment::Environment, spec: &str) {
    use ort::AsPointer;
    let api = ort::api();
    let strategy: usize = if spec == "same" { 1 } else { 0 };
    let keys = [c"arena_extend_strategy".as_ptr()];
    let values = [strategy];
    // SAFETY: the C API as documented; every pointer outlives its call.
    unsafe {
        let mut cfg = std::ptr::null_mut();
        let status = (api.CreateArenaCfgV2)(keys.as_ptr(), values.as_ptr(), keys.len(), &mut cfg);
        assert!(status.0.is_null(), "CreateArenaCfgV2");
        let mut info = std::ptr::null_mut();
        let status = (api.CreateCpuMemoryInfo)(
            ort::sys::OrtAllocatorType::OrtArenaAllocator,
            ort::sys::OrtMemType::OrtMemTypeDefault,
            &mut info,
        );
        assert!(status.0.is_null(), "CreateCpuMemoryInfo");
        let status = (api.CreateAndRegisterAllocator)(env.ptr() as *mut _, info, cfg);
        assert!(status.0.is_null(), "CreateAndRegisterAllocator");
        (api.ReleaseMemoryInfo)(info);
        (api.ReleaseArenaCfg)(cfg);
    }
}
