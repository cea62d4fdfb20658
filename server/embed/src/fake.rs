//! A deterministic embedder for unit tests: the hashing trick over words.
//!
//! Each word (identifiers split at `_` and case changes, lower-cased) adds
//! ±1 to a dimension chosen by its hash; the sum is normalised. Texts sharing
//! words come out similar, unrelated texts nearly orthogonal, and the same
//! text always gives the same vector. No model, no files, no threads.

use crate::{EmbedError, Embedder, ModelInfo, normalize};

pub struct FakeEmbedder {
    info: ModelInfo,
}

impl FakeEmbedder {
    pub fn new(dimensions: usize) -> FakeEmbedder {
        FakeEmbedder {
            info: ModelInfo {
                id: format!("fake-{dimensions}"),
                dimensions,
                max_tokens: 256,
            },
        }
    }

    pub fn vector(&self, text: &str) -> Vec<f32> {
        let dims = self.info.dimensions;
        let mut v = vec![0.0f32; dims];
        for word in words(text) {
            let hash = blake3::hash(word.as_bytes());
            let bytes = hash.as_bytes();
            let slot = u64::from_le_bytes(bytes[..8].try_into().expect("8 bytes")) as usize % dims;
            v[slot] += if bytes[8] & 1 == 0 { 1.0 } else { -1.0 };
        }
        normalize(&mut v);
        v
    }
}

fn words(text: &str) -> impl Iterator<Item = String> + '_ {
    text.split(|c: char| !c.is_alphanumeric())
        .flat_map(split_case)
        .filter(|w| !w.is_empty())
        .map(|w| w.to_lowercase())
}

fn split_case(word: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let mut start = 0;
    let chars: Vec<(usize, char)> = word.char_indices().collect();
    for pair in chars.windows(2) {
        let ((_, a), (i, b)) = (pair[0], pair[1]);
        if a.is_lowercase() && b.is_uppercase() {
            parts.push(&word[start..i]);
            start = i;
        }
    }
    parts.push(&word[start..]);
    parts
}

impl Embedder for FakeEmbedder {
    fn info(&self) -> &ModelInfo {
        &self.info
    }

    fn embed(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>, EmbedError> {
        Ok(texts.iter().map(|t| self.vector(t)).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cosine;

    #[test]
    fn deterministic_and_word_sensitive() {
        let fake = FakeEmbedder::new(384);
        let a = fake.vector("retry failed uploads");
        assert_eq!(a, fake.vector("retry failed uploads"));
        let related = fake.vector("def retry_failed_uploads(self): upload again");
        let unrelated = fake.vector("parse a configuration file");
        assert!(cosine(&a, &related) > cosine(&a, &unrelated) + 0.3);
        assert!((cosine(&a, &a) - 1.0).abs() < 1e-5);
    }
}
