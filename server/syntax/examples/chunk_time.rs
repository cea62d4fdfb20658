//! Times chunking of the files named on the command line and prints a digest
//! of all chunks, to compare chunker changes on a large tree. With
//! `CHUNK_DUMP=file`, writes every chunk to that file.
#![allow(clippy::print_stderr)]
use std::io::Write;
use std::time::Instant;
fn main() {
    let files: Vec<String> = std::env::args().skip(1).collect();
    let texts: Vec<(String, String)> = files
        .iter()
        .filter_map(|f| std::fs::read_to_string(f).ok().map(|t| (f.clone(), t)))
        .collect();
    let mut dump = std::env::var("CHUNK_DUMP")
        .ok()
        .map(|p| std::fs::File::create(p).unwrap());
    let t = Instant::now();
    let mut hasher = blake3::Hasher::new();
    let mut chunks = 0;
    for (f, text) in &texts {
        for c in dowse_syntax::chunk_file(std::path::Path::new(f), text, &Default::default()).chunks
        {
            chunks += 1;
            let line = format!("{f}:{:?}\n", c);
            hasher.update(line.as_bytes());
            if let Some(d) = dump.as_mut() {
                d.write_all(line.as_bytes()).unwrap();
            }
        }
    }
    eprintln!(
        "chunk_file: {:?} ({chunks} chunks) digest {}",
        t.elapsed(),
        &hasher.finalize().to_hex()[..16]
    );
}
