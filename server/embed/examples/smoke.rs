//! Installs (if needed) and loads the real model, embeds a few texts and
//! prints similarities and timings: a manual check of the embed crate.
#![allow(clippy::print_stderr)]
use dowse_embed::{Embedder, OnnxEmbedder, OnnxOptions, Resolution, cosine, resolve};
use std::time::Instant;

fn main() {
    let files = match resolve(
        std::env::var_os("DOWSE_MODEL_DIR")
            .as_deref()
            .map(std::path::Path::new),
    ) {
        Resolution::Found(files) => files,
        Resolution::Missing { reason, .. } => {
            eprintln!("{reason}; installing");
            dowse_embed::install::install(
                &dowse_embed::model::user_cache_dir().expect("a user cache directory"),
                &|m| eprintln!("  {m}"),
            )
            .unwrap()
        }
    };
    let t = Instant::now();
    let e = OnnxEmbedder::load(&files, &OnnxOptions::default()).unwrap();
    eprintln!("loaded {} in {:?}", e.info(), t.elapsed());
    let texts = [
        "retry failed uploads",
        "def retry_failed_uploads(self): for path in self.failed: self.upload(path)",
        "parse a configuration file",
    ];
    let t = Instant::now();
    let v = e.embed(&texts).unwrap();
    eprintln!("embedded 3 in {:?}", t.elapsed());
    eprintln!(
        "related {:.3} unrelated {:.3}",
        cosine(&v[0], &v[1]),
        cosine(&v[0], &v[2])
    );
    let t = Instant::now();
    for _ in 0..20 {
        e.embed(&["how to parse a duration string"]).unwrap();
    }
    eprintln!("query embed avg {:?}", t.elapsed() / 20);
}
