//! Reading the vector index: a consistent view for one query, searched
//! without locks (HNSW for sealed segments, an exact scan for blocks).

use std::collections::HashSet;
use std::sync::Arc;

use instant_distance::{Point, Search};

use super::segment::{Block, QuantPoint, Segment};
use crate::quantize::{Quantized, similarity};

thread_local! {
    /// A thread's HNSW search state, kept from search to search: a fresh
    /// one allocates and zeroes a byte per vector of the graph (64 KB on
    /// the CPython stdlib) for every query; a kept one starts again by
    /// bumping a generation.
    static SEARCH: std::cell::RefCell<Search> = std::cell::RefCell::new(Search::default());
}

/// A consistent view of the vector index for one query.
#[derive(Clone)]
pub struct VectorSnapshot {
    pub(super) dims: usize,
    pub(super) segments: Vec<Arc<Segment>>,
    pub(super) tombstones: Arc<HashSet<u64>>,
    pub(super) live: usize,
}

/// A vector hit: the chunk and its similarity to the query.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct VectorHit {
    pub chunk_id: u64,
    pub score: f32,
}

impl VectorSnapshot {
    /// Live vectors in this snapshot.
    pub fn len(&self) -> usize {
        self.live
    }

    pub fn is_empty(&self) -> bool {
        self.live == 0
    }

    /// (HNSW segments, exact blocks).
    pub fn segment_counts(&self) -> (usize, usize) {
        let graphs = self
            .segments
            .iter()
            .filter(|s| matches!(***s, Segment::Graph(_)))
            .count();
        (graphs, self.segments.len() - graphs)
    }

    /// The `k` nearest live vectors: HNSW for sealed segments, exact scan
    /// for the rest.
    pub fn search(&self, query: &Quantized, k: usize) -> Vec<VectorHit> {
        self.search_with(query, k, false)
    }

    /// The `k` nearest live vectors by exhaustive search (for measuring
    /// recall, and the ground truth of tests).
    pub fn exact_search(&self, query: &Quantized, k: usize) -> Vec<VectorHit> {
        self.search_with(query, k, true)
    }

    fn search_with(&self, query: &Quantized, k: usize, exact: bool) -> Vec<VectorHit> {
        if k == 0 || query.values.len() != self.dims {
            return Vec::new();
        }
        let mut hits: Vec<VectorHit> = Vec::with_capacity(k * (self.segments.len() + 1));
        let point = QuantPoint::alone(query);
        for segment in &self.segments {
            match &**segment {
                Segment::Flat(block) => self.scan(block, query, k, &mut hits),
                Segment::Graph(graph) if exact => {
                    // Values are stored in point order.
                    let mut found: Vec<VectorHit> = graph
                        .hnsw
                        .values
                        .iter()
                        .zip(graph.hnsw.iter())
                        .filter(|((row, _), _)| !self.tombstones.contains(row))
                        .map(|((_, chunk), (_, p))| VectorHit {
                            chunk_id: *chunk,
                            score: 1.0 - point.distance(p),
                        })
                        .collect();
                    top_k(&mut found, k);
                    hits.extend(found);
                }
                // A search calls nothing that searches again: the state is
                // never borrowed twice.
                Segment::Graph(graph) => SEARCH.with_borrow_mut(|search| {
                    let mut taken = 0;
                    for item in graph.hnsw.search(&point, search) {
                        let (row, chunk) = *item.value;
                        if self.tombstones.contains(&row) {
                            continue;
                        }
                        hits.push(VectorHit {
                            chunk_id: chunk,
                            score: 1.0 - item.distance,
                        });
                        taken += 1;
                        if taken == k {
                            break;
                        }
                    }
                }),
            }
        }
        top_k(&mut hits, k);
        hits
    }

    fn scan(&self, block: &Block, query: &Quantized, k: usize, hits: &mut Vec<VectorHit>) {
        let mut found: Vec<VectorHit> = Vec::with_capacity(k + 1);
        let mut floor = f32::MIN;
        for i in 0..block.len() {
            let score = similarity(
                block.vector(i, self.dims),
                block.scales[i],
                &query.values,
                query.scale,
            );
            if score <= floor || self.tombstones.contains(&block.rows[i]) {
                continue;
            }
            found.push(VectorHit {
                chunk_id: block.chunks[i],
                score,
            });
            if found.len() > 2 * k {
                top_k(&mut found, k);
                floor = found.last().map_or(f32::MIN, |h| h.score);
            }
        }
        top_k(&mut found, k);
        hits.extend(found);
    }
}

fn top_k(hits: &mut Vec<VectorHit>, k: usize) {
    hits.sort_by(|a, b| b.score.total_cmp(&a.score));
    hits.truncate(k);
}
