//! Quantised vectors: how dowse stores embeddings.
//!
//! Vectors are stored as `i8` with one `f32` scale each (`v ≈ scale · q`),
//! a quarter of the bytes of `f32` for a similarity error well under one
//! percent on L2-normalised embeddings; similarity is an integer dot
//! product, which the compiler vectorises. A chunk's name vector, read only
//! to re-score candidates, takes 4 bits a value ([`Quantized4`]), where the
//! coarser steps cost nothing measurable on set D and save a third of the
//! cache file.

/// A quantised vector: `values[i] as f32 * scale` approximates the original.
#[derive(Clone, Debug, PartialEq)]
pub struct Quantized {
    pub scale: f32,
    pub values: Vec<i8>,
}

impl Quantized {
    /// Approximate cosine similarity with another quantised vector.
    pub fn similarity(&self, other: &Quantized) -> f32 {
        similarity(&self.values, self.scale, &other.values, other.scale)
    }
}

/// A vector quantised to 4 bits a value, two values a byte (low nibble
/// first): `nibble as f32 * scale` approximates the original.
#[derive(Clone, Debug, PartialEq)]
pub struct Quantized4 {
    pub scale: f32,
    pub packed: Vec<u8>,
}

impl Quantized4 {
    /// The value at `i`, from -7 to 7.
    #[inline]
    fn value(&self, i: usize) -> i32 {
        let byte = self.packed[i / 2];
        let nibble = if i.is_multiple_of(2) {
            byte & 0x0f
        } else {
            byte >> 4
        };
        // Sign-extend the 4-bit two's complement value.
        ((nibble as i8) << 4 >> 4) as i32
    }

    /// Approximate dot product with an `i8` vector (a cosine for unit
    /// vectors).
    pub fn dot(&self, other: &Quantized) -> f32 {
        let sum: i32 = (0..other.values.len())
            .map(|i| self.value(i) * i32::from(other.values[i]))
            .sum();
        sum as f32 * self.scale * other.scale
    }
}

/// Quantises a vector symmetrically to 4 bits a value.
pub fn quantize4(v: &[f32]) -> Quantized4 {
    let max = v.iter().fold(0.0f32, |m, x| m.max(x.abs()));
    let scale = if max == 0.0 { 0.0 } else { max / 7.0 };
    let level = |x: f32| -> u8 {
        if scale == 0.0 {
            0
        } else {
            ((x / scale).round().clamp(-7.0, 7.0) as i8 as u8) & 0x0f
        }
    };
    let packed = v
        .chunks(2)
        .map(|pair| level(pair[0]) | (pair.get(1).map_or(0, |&x| level(x)) << 4))
        .collect();
    Quantized4 { scale, packed }
}

/// What the cache keeps of one chunk text: the vector of its body view and
/// of its name view.
#[derive(Clone, Debug, PartialEq)]
pub struct Embedding {
    pub body: Quantized,
    pub name: Quantized4,
}

/// Quantises a vector symmetrically to `i8`.
pub fn quantize(v: &[f32]) -> Quantized {
    let max = v.iter().fold(0.0f32, |m, x| m.max(x.abs()));
    if max == 0.0 {
        return Quantized {
            scale: 0.0,
            values: vec![0; v.len()],
        };
    }
    let scale = max / 127.0;
    Quantized {
        scale,
        values: v
            .iter()
            .map(|x| (x / scale).round().clamp(-127.0, 127.0) as i8)
            .collect(),
    }
}

/// The integer dot product; written so that it vectorises, and compiled
/// twice on x86-64: for the baseline (SSE2, which has no instruction to
/// widen signed bytes) and for AVX2, taken when the CPU has it. The HNSW
/// search spends most of its time here: under the benchmark's 64-client MCP
/// load (`scripts/bench --only mcp`, perf) this function took 11% of the
/// server's CPU in its SSE2 form. Integer arithmetic: both forms give the
/// same sum, so rankings do not depend on the CPU.
#[inline]
pub fn dot_i8(a: &[i8], b: &[i8]) -> i32 {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        return dot_i8_avx2(a, b);
    }
    dot_i8_portable(a, b)
}

#[inline(always)]
fn dot_i8_portable(a: &[i8], b: &[i8]) -> i32 {
    a.iter()
        .zip(b)
        .map(|(&x, &y)| i32::from(x) * i32::from(y))
        .sum()
}

#[cfg(target_arch = "x86_64")]
#[allow(unsafe_code)]
fn dot_i8_avx2(a: &[i8], b: &[i8]) -> i32 {
    #[target_feature(enable = "avx2")]
    fn with_avx2(a: &[i8], b: &[i8]) -> i32 {
        dot_i8_portable(a, b)
    }
    // SAFETY: called only when the CPU reports AVX2 (`dot_i8`); the
    // function itself is safe code compiled for that instruction set.
    unsafe { with_avx2(a, b) }
}

/// Approximate cosine similarity of two quantised normalised vectors.
#[inline]
pub(crate) fn similarity(a: &[i8], a_scale: f32, b: &[i8], b_scale: f32) -> f32 {
    dot_i8(a, b) as f32 * a_scale * b_scale
}

/// Vectors for tests: deterministic, clustered as real embeddings are.
#[cfg(test)]
pub(crate) mod testing {
    use super::*;

    /// A small deterministic generator (xorshift), so tests need no crate.
    pub(crate) struct Rng(pub(crate) u64);

    impl Rng {
        pub(crate) fn next(&mut self) -> f32 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            (self.0 % 20_001) as f32 / 10_000.0 - 1.0
        }

        pub(crate) fn vector(&mut self, dims: usize) -> Vec<f32> {
            (0..dims).map(|_| self.next()).collect()
        }
    }

    pub(crate) fn normalized(mut v: Vec<f32>) -> Vec<f32> {
        let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
        v.iter_mut().for_each(|x| *x /= norm);
        v
    }

    /// Vectors around `clusters` centres, as real embeddings are.
    pub(crate) fn clustered(n: usize, clusters: usize, dims: usize, seed: u64) -> Vec<Vec<f32>> {
        let mut rng = Rng(seed);
        let centres: Vec<Vec<f32>> = (0..clusters).map(|_| rng.vector(dims)).collect();
        (0..n)
            .map(|i| {
                let centre = &centres[i % clusters];
                normalized(centre.iter().map(|c| c + 0.6 * rng.next()).collect())
            })
            .collect()
    }

    pub(crate) fn embedding(v: &[f32]) -> Embedding {
        Embedding {
            body: quantize(v),
            name: quantize4(v),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::testing::clustered;
    use super::*;

    #[test]
    fn the_dot_product_is_exact_at_the_extremes_and_any_length() {
        // Every byte value against every other, at lengths that are not a
        // multiple of any vector width, and the worst case of 384 values of
        // -128 (whose sum needs all of an i32's range to be wrong in i16).
        let bytes: Vec<i8> = (0..=255u8).map(|b| b as i8).collect();
        for len in [0, 1, 15, 31, 33, 255, 256] {
            let a: Vec<i8> = bytes.iter().cycle().take(len).copied().collect();
            let b: Vec<i8> = bytes.iter().rev().cycle().take(len).copied().collect();
            let expected: i64 = a
                .iter()
                .zip(&b)
                .map(|(&x, &y)| i64::from(x) * i64::from(y))
                .sum();
            assert_eq!(i64::from(dot_i8(&a, &b)), expected, "length {len}");
        }
        let low = vec![-128i8; 384];
        assert_eq!(dot_i8(&low, &low), 384 * 128 * 128);
        let high = vec![127i8; 384];
        assert_eq!(dot_i8(&low, &high), -384 * 128 * 127);
    }

    #[test]
    fn four_bit_vectors_keep_similarity_roughly() {
        let vs = clustered(200, 10, 384, 13);
        for pair in vs.windows(2) {
            let (a, b) = (quantize4(&pair[0]), quantize(&pair[1]));
            let approx = a.dot(&b);
            assert!((approx - cos(&pair[0], &pair[1])).abs() < 0.05, "{approx}");
        }
        // Odd dimensions pack the last value alone; signs survive the nibble.
        let q = quantize4(&[0.5, -0.3, -0.5]);
        assert_eq!(q.packed.len(), 2);
        let back: Vec<i32> = (0..3).map(|i| q.value(i)).collect();
        assert_eq!(back, [7, -4, -7]);
    }

    fn cos(a: &[f32], b: &[f32]) -> f32 {
        a.iter().zip(b).map(|(x, y)| x * y).sum()
    }

    #[test]
    fn quantization_keeps_similarity() {
        let vs = clustered(200, 10, 384, 7);
        for pair in vs.windows(2) {
            let (a, b) = (quantize(&pair[0]), quantize(&pair[1]));
            let approx = similarity(&a.values, a.scale, &b.values, b.scale);
            assert!((approx - cos(&pair[0], &pair[1])).abs() < 0.01, "{approx}");
        }
    }
}
