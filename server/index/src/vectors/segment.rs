//! What the vector index stores: exact blocks (vectors side by side,
//! searched by brute force) and the HNSW graphs sealed from them, whose
//! points are rows of the block they were built from.

use std::collections::HashSet;
use std::sync::Arc;

use instant_distance::{HnswMap, Point};

use crate::quantize::{Quantized, similarity};

/// One stored vector, as an HNSW point: a row of the exact block its graph
/// was built from, which the graph keeps (often the very block that was
/// searched exactly before, not a copy). A point of its own per vector (an
/// `Arc<Quantized>`) cost two heap allocations, 464 bytes for 388 of data,
/// and a second copy of every vector while the graph was built.
#[derive(Clone, Debug)]
pub(super) struct QuantPoint {
    pub(super) block: Arc<Block>,
    pub(super) index: u32,
    pub(super) dims: u32,
}

impl QuantPoint {
    /// A point outside any graph (a query).
    pub(super) fn alone(q: &Quantized) -> QuantPoint {
        let mut block = Block::default();
        block.push(0, 0, q);
        QuantPoint {
            block: Arc::new(block),
            index: 0,
            dims: q.values.len() as u32,
        }
    }

    pub(super) fn scale(&self) -> f32 {
        self.block.scales[self.index as usize]
    }

    pub(super) fn values(&self) -> &[i8] {
        self.block.vector(self.index as usize, self.dims as usize)
    }
}

impl Point for QuantPoint {
    fn distance(&self, other: &Self) -> f32 {
        1.0 - similarity(self.values(), self.scale(), other.values(), other.scale())
    }
}

/// Vectors stored contiguously, searched exactly.
#[derive(Debug, Default)]
pub(super) struct Block {
    pub(super) rows: Vec<u64>,
    pub(super) chunks: Vec<u64>,
    pub(super) scales: Vec<f32>,
    pub(super) values: Vec<i8>,
}

impl Block {
    pub(super) fn len(&self) -> usize {
        self.rows.len()
    }

    pub(super) fn vector(&self, i: usize, dims: usize) -> &[i8] {
        &self.values[i * dims..(i + 1) * dims]
    }

    /// A copy of `from` with room for `extra` more vectors: a large
    /// addition allocates once instead of doubling (and copying) its way up.
    pub(super) fn with_capacity(from: &Block, extra: usize, dims: usize) -> Block {
        let n = from.len() + extra;
        let mut block = Block {
            rows: Vec::with_capacity(n),
            chunks: Vec::with_capacity(n),
            scales: Vec::with_capacity(n),
            values: Vec::with_capacity(n * dims),
        };
        block.rows.extend_from_slice(&from.rows);
        block.chunks.extend_from_slice(&from.chunks);
        block.scales.extend_from_slice(&from.scales);
        block.values.extend_from_slice(&from.values);
        block
    }

    pub(super) fn push(&mut self, row: u64, chunk: u64, q: &Quantized) {
        self.push_values(row, chunk, q.scale, &q.values);
    }

    /// Appends row `i` of `from`.
    pub(super) fn push_row(&mut self, from: &Block, i: usize, dims: usize) {
        self.push_values(
            from.rows[i],
            from.chunks[i],
            from.scales[i],
            from.vector(i, dims),
        );
    }

    pub(super) fn push_values(&mut self, row: u64, chunk: u64, scale: f32, values: &[i8]) {
        self.rows.push(row);
        self.chunks.push(chunk);
        self.scales.push(scale);
        self.values.extend_from_slice(values);
    }
}

/// An HNSW graph over vectors that were an exact block.
pub(super) struct Graph {
    pub(super) hnsw: HnswMap<QuantPoint, (u64, u64)>,
    pub(super) len: usize,
}

pub(super) enum Segment {
    Flat(Arc<Block>),
    Graph(Graph),
}

impl Segment {
    pub(super) fn len(&self) -> usize {
        match self {
            Segment::Flat(block) => block.len(),
            Segment::Graph(graph) => graph.len,
        }
    }

    pub(super) fn rows(&self) -> Vec<u64> {
        match self {
            Segment::Flat(block) => block.rows.clone(),
            Segment::Graph(graph) => graph.hnsw.values.iter().map(|(row, _)| *row).collect(),
        }
    }
}

pub(super) fn live_in(segment: &Segment, tombstones: &HashSet<u64>) -> usize {
    match segment {
        Segment::Flat(block) => block
            .rows
            .iter()
            .filter(|r| !tombstones.contains(r))
            .count(),
        Segment::Graph(graph) => graph
            .hnsw
            .values
            .iter()
            .filter(|(r, _)| !tombstones.contains(r))
            .count(),
    }
}
