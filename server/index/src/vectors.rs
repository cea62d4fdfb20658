//! The vector index: what search by meaning searches, in memory.
//!
//! Immutable segments — exact ("flat") blocks for recent additions and HNSW
//! graphs (instant-distance) sealed from them in the background once they
//! are large enough to pay for the build — plus tombstones for removed
//! entries. Every insertion gets a fresh row id, so a chunk that comes back
//! (an edit undone) is never hidden by its old tombstone. Readers take an
//! `Arc` snapshot and search it without locks; the writer publishes a new
//! snapshot. Nothing here is on disk: a process rebuilds the segments from
//! the embedding cache.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, RwLock};

use instant_distance::Builder;

use crate::quantize::Quantized;

mod segment;
mod snapshot;

use segment::{Block, Graph, QuantPoint, Segment, live_in};
pub use snapshot::{VectorHit, VectorSnapshot};

/// When and how segments are built.
#[derive(Clone, Debug)]
pub struct VectorConfig {
    /// Exact blocks are sealed into an HNSW graph once they hold this many
    /// live vectors; below it, exact search is fast enough (MODEL.md: 10k
    /// vectors in 0.4 ms) and a graph would not pay for its build.
    pub seal_threshold: usize,
    /// More exact blocks than this are merged into one.
    pub max_flat_blocks: usize,
    /// A graph whose tombstoned share exceeds this is rebuilt. Each dead
    /// entry is still visited and then dropped, so a search asks the graph
    /// for that many more neighbours; past a quarter dead, a rebuild (a
    /// minute of one core for 60k vectors) costs less than what every
    /// query pays. A judgement, not a measurement: edits leave few
    /// tombstones in practice (a changed file's chunks).
    pub max_dead_fraction: f32,
    /// The breadth of the HNSW build and of its searches: at 100 and 128,
    /// recall@10 against exact search is 0.990 on the CPython stdlib's
    /// 63,783 real vectors (the benchmark's answering process, 2026-12-01)
    /// for a 209 s build on one core and 0.4 ms queries; recall on real,
    /// clustered embeddings is the measure (random vectors are far worse,
    /// MODEL.md).
    pub ef_construction: usize,
    pub ef_search: usize,
    /// Threads of a graph build; 0 for half the cores (at least one). A
    /// build runs beside edits and queries: on both cores of a 2-core
    /// machine it doubled edit-to-searchable latency (p95 452 ms against
    /// 200 ms), so it leaves the other half to them.
    pub build_threads: usize,
    /// Keep which chunks have a vector, not the vectors: for a process that
    /// embeds and exits without searching (`dowse index`), whose vectors
    /// are in the embedding cache for the next process to load. Searches
    /// find nothing. The CPython stdlib's index is 25 MB of vectors.
    pub ids_only: bool,
}

impl Default for VectorConfig {
    fn default() -> VectorConfig {
        VectorConfig {
            seal_threshold: 20_000,
            max_flat_blocks: 8,
            max_dead_fraction: 0.25,
            ef_construction: 100,
            ef_search: 128,
            build_threads: 0,
            ids_only: false,
        }
    }
}

impl VectorConfig {
    fn graph_threads(&self) -> usize {
        match self.build_threads {
            0 => (std::thread::available_parallelism().map_or(2, |n| n.get()) / 2).max(1),
            n => n,
        }
    }
}

/// Exact blocks grow by copy up to this many vectors.
const SMALL_BLOCK: usize = 4096;

/// The writer's bookkeeping: which row holds each chunk's vector.
#[derive(Default)]
struct Rows {
    next: u64,
    by_chunk: HashMap<u64, u64>,
}

/// The vector index of a workspace: one writer, snapshot readers.
pub struct VectorIndex {
    dims: usize,
    config: VectorConfig,
    current: RwLock<Arc<VectorSnapshot>>,
    rows: Mutex<Rows>,
    /// Serialises maintenance (sealing, merging) runs.
    maintenance: Mutex<()>,
}

impl VectorIndex {
    pub fn new(dims: usize, config: VectorConfig) -> VectorIndex {
        VectorIndex {
            dims,
            config,
            current: RwLock::new(Arc::new(VectorSnapshot {
                dims,
                segments: Vec::new(),
                tombstones: Arc::new(HashSet::new()),
                live: 0,
            })),
            rows: Mutex::new(Rows::default()),
            maintenance: Mutex::new(()),
        }
    }

    pub fn dims(&self) -> usize {
        self.dims
    }

    pub fn snapshot(&self) -> Arc<VectorSnapshot> {
        self.current.read().expect("vector snapshot lock").clone()
    }

    pub fn contains(&self, chunk_id: u64) -> bool {
        self.rows
            .lock()
            .expect("rows lock")
            .by_chunk
            .contains_key(&chunk_id)
    }

    /// The chunks that have a vector.
    pub fn chunk_ids(&self) -> Vec<u64> {
        self.rows
            .lock()
            .expect("rows lock")
            .by_chunk
            .keys()
            .copied()
            .collect()
    }

    pub fn len(&self) -> usize {
        self.rows.lock().expect("rows lock").by_chunk.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Removes the vectors of `removed` chunks and adds `added` ones (a chunk
    /// already present is replaced), publishing one new snapshot.
    pub fn apply(&self, removed: &[u64], added: &[(u64, Quantized)]) {
        self.apply_with(removed, added, |q| Some(q.clone()));
    }

    /// [`VectorIndex::apply`] with each added chunk's vector made by
    /// `vector` as it is stored, so that adding a whole cache's worth of
    /// vectors never holds a second copy of them (`None` adds nothing).
    /// With [`VectorConfig::ids_only`], `vector` is not called and every
    /// added chunk counts as having its vector.
    pub fn apply_with<T>(
        &self,
        removed: &[u64],
        added: &[(u64, T)],
        mut vector: impl FnMut(&T) -> Option<Quantized>,
    ) {
        if removed.is_empty() && added.is_empty() {
            return;
        }
        let mut rows = self.rows.lock().expect("rows lock");
        let mut current = self.current.write().expect("vector snapshot lock");
        let mut tombstones = (*current.tombstones).clone();
        for chunk in removed.iter().chain(added.iter().map(|(c, _)| c)) {
            if let Some(row) = rows.by_chunk.remove(chunk) {
                tombstones.insert(row);
            }
        }
        let mut segments = current.segments.clone();
        // Small additions go into a copy of the last exact block while it is
        // small, so that a stream of batches does not leave thousands of
        // tiny segments behind.
        let stored = if self.config.ids_only { 0 } else { added.len() };
        let mut block = match segments.last().map(|s| &**s) {
            Some(Segment::Flat(last)) if last.len() + stored <= SMALL_BLOCK => {
                let copy = Block::with_capacity(last, stored, self.dims);
                segments.pop();
                copy
            }
            _ => Block::with_capacity(&Block::default(), stored, self.dims),
        };
        for (chunk, item) in added {
            let q = if self.config.ids_only {
                None
            } else {
                match vector(item) {
                    Some(q) if q.values.len() == self.dims => Some(q),
                    _ => continue,
                }
            };
            let row = rows.next;
            rows.next += 1;
            rows.by_chunk.insert(*chunk, row);
            if let Some(q) = q {
                block.push(row, *chunk, &q);
            }
        }
        if block.len() > 0 {
            segments.push(Arc::new(Segment::Flat(Arc::new(block))));
        }
        *current = Arc::new(VectorSnapshot {
            dims: self.dims,
            segments,
            tombstones: Arc::new(tombstones),
            live: rows.by_chunk.len(),
        });
    }

    /// True when [`VectorIndex::maintain`] has work to do.
    pub fn needs_maintenance(&self) -> bool {
        self.plan(true).is_some()
    }

    /// What maintenance would do: merge the exact blocks (`false`) or seal
    /// them into a graph (`true`), or rebuild the given graph. With
    /// `graphs` false, only merges of exact blocks (cheap) are planned.
    fn plan(&self, graphs: bool) -> Option<Plan> {
        let snapshot = self.snapshot();
        let flat: Vec<&Arc<Segment>> = snapshot
            .segments
            .iter()
            .filter(|s| matches!(***s, Segment::Flat(_)))
            .collect();
        let flat_live: usize = flat.iter().map(|s| live_in(s, &snapshot.tombstones)).sum();
        if graphs && flat_live >= self.config.seal_threshold {
            return Some(Plan::Seal);
        }
        if flat.len() > self.config.max_flat_blocks {
            return Some(Plan::MergeFlat);
        }
        if !graphs {
            return None;
        }
        for segment in &snapshot.segments {
            if let Segment::Graph(graph) = &**segment {
                let dead = graph.len - live_in(segment, &snapshot.tombstones);
                if graph.len > 0 && dead as f32 / graph.len as f32 > self.config.max_dead_fraction {
                    return Some(Plan::Rebuild(Arc::as_ptr(segment) as usize));
                }
            }
        }
        None
    }

    /// Seals, merges or rebuilds segments, off the query path (call it from
    /// a background thread). Queries keep using the old segments until the
    /// new ones are published. Returns true if anything changed.
    pub fn maintain(&self) -> bool {
        let _running = self.maintenance.lock().expect("maintenance lock");
        self.maintain_with(true)
    }

    /// Merges exact blocks when there are too many, and nothing else: no
    /// graph is built. For a process that answers a few queries and exits,
    /// where an HNSW build (about a minute per 60k vectors on one core)
    /// would never pay for itself. Never waits: while another maintenance
    /// run (a graph build) is under way it does nothing, and that run
    /// merges what needs merging after it.
    pub fn merge_blocks(&self) -> bool {
        let Ok(_running) = self.maintenance.try_lock() else {
            return false;
        };
        self.maintain_with(false)
    }

    /// One maintenance step; the caller holds the maintenance lock.
    fn maintain_with(&self, graphs: bool) -> bool {
        let Some(plan) = self.plan(graphs) else {
            return false;
        };
        let snapshot = self.snapshot();
        let (chosen, seal): (Vec<Arc<Segment>>, bool) = match plan {
            Plan::Seal => (
                snapshot
                    .segments
                    .iter()
                    .filter(|s| matches!(***s, Segment::Flat(_)))
                    .cloned()
                    .collect(),
                true,
            ),
            Plan::MergeFlat => (
                snapshot
                    .segments
                    .iter()
                    .filter(|s| matches!(***s, Segment::Flat(_)))
                    .cloned()
                    .collect(),
                false,
            ),
            Plan::Rebuild(ptr) => (
                snapshot
                    .segments
                    .iter()
                    .filter(|s| Arc::as_ptr(s) as usize == ptr)
                    .cloned()
                    .collect(),
                true,
            ),
        };
        // A single exact block with none removed becomes the graph's as it
        // is; otherwise the chosen segments' live vectors are gathered.
        let source = if seal
            && let [segment] = chosen.as_slice()
            && let Segment::Flat(block) = &**segment
            && !block.rows.iter().any(|r| snapshot.tombstones.contains(r))
        {
            block.clone()
        } else {
            Arc::new(self.live_vectors(&chosen, &snapshot.tombstones))
        };
        let replacement = if seal && source.len() > 0 {
            Segment::Graph(self.build_graph(source))
        } else {
            Segment::Flat(source)
        };
        let graph_built = matches!(replacement, Segment::Graph(_));
        // Publish: the chosen segments give way to the replacement. Rows
        // tombstoned while building are still in the tombstone set.
        let rows = self.rows.lock().expect("rows lock");
        let mut current = self.current.write().expect("vector snapshot lock");
        let chosen_ptrs: HashSet<usize> = chosen.iter().map(|s| Arc::as_ptr(s) as usize).collect();
        // Rows the replacement took over. While it was built, `apply` may
        // have replaced a chosen exact block by a copy with more rows: the
        // copy stays, without the rows it shares with the chosen block.
        let taken: HashSet<u64> = chosen.iter().flat_map(|s| s.rows()).collect();
        let mut segments: Vec<Arc<Segment>> = current
            .segments
            .iter()
            .filter(|s| !chosen_ptrs.contains(&(Arc::as_ptr(s) as usize)))
            .filter_map(|s| match &**s {
                Segment::Flat(block) if block.rows.iter().any(|r| taken.contains(r)) => {
                    let mut rest = Block::default();
                    for i in 0..block.len() {
                        if !taken.contains(&block.rows[i]) {
                            rest.push_row(block, i, self.dims);
                        }
                    }
                    (rest.len() > 0).then(|| Arc::new(Segment::Flat(Arc::new(rest))))
                }
                _ => Some(s.clone()),
            })
            .collect();
        if replacement.len() > 0 {
            segments.insert(0, Arc::new(replacement));
        }
        // Tombstones of rows that no segment holds any more are dropped.
        let present: HashSet<u64> = segments.iter().flat_map(|s| s.rows()).collect();
        let tombstones: HashSet<u64> = current
            .tombstones
            .iter()
            .copied()
            .filter(|r| present.contains(r))
            .collect();
        *current = Arc::new(VectorSnapshot {
            dims: self.dims,
            segments,
            tombstones: Arc::new(tombstones),
            live: rows.by_chunk.len(),
        });
        drop(current);
        drop(rows);
        drop(chosen);
        drop(snapshot);
        if graph_built {
            // What building the graph used and freed.
            crate::memory::release_free_memory();
        }
        true
    }

    /// The live vectors of these segments, in one exact block sized once
    /// (grown by doubling, the copy's reallocations left a hole as large as
    /// the copy behind in the heap).
    fn live_vectors(&self, segments: &[Arc<Segment>], tombstones: &HashSet<u64>) -> Block {
        let capacity = segments.iter().map(|s| s.len()).sum();
        let mut live = Block::with_capacity(&Block::default(), capacity, self.dims);
        for segment in segments {
            match &**segment {
                Segment::Flat(block) => {
                    for i in 0..block.len() {
                        if !tombstones.contains(&block.rows[i]) {
                            live.push_row(block, i, self.dims);
                        }
                    }
                }
                Segment::Graph(graph) => {
                    for ((row, chunk), (_, point)) in
                        graph.hnsw.values.iter().zip(graph.hnsw.iter())
                    {
                        if !tombstones.contains(row) {
                            live.push_values(*row, *chunk, point.scale(), point.values());
                        }
                    }
                }
            }
        }
        live
    }

    /// A graph over the block's vectors, which it keeps (not a copy).
    fn build_graph(&self, block: Arc<Block>) -> Graph {
        let len = block.len();
        let values: Vec<(u64, u64)> = block
            .rows
            .iter()
            .copied()
            .zip(block.chunks.iter().copied())
            .collect();
        let points: Vec<QuantPoint> = (0..len)
            .map(|i| QuantPoint {
                block: block.clone(),
                index: i as u32,
                dims: self.dims as u32,
            })
            .collect();
        let builder = Builder::default()
            .ef_construction(self.config.ef_construction)
            .ef_search(self.config.ef_search);
        // instant-distance builds on rayon: on a pool of its own, so that a
        // long build never holds up work on the global pool (usages).
        let hnsw = match rayon::ThreadPoolBuilder::new()
            .num_threads(self.config.graph_threads())
            .thread_name(|i| format!("dowse-hnsw-{i}"))
            .build()
        {
            Ok(pool) => pool.install(|| builder.build(points, values)),
            Err(_) => builder.build(points, values),
        };
        Graph { hnsw, len }
    }
}

enum Plan {
    Seal,
    MergeFlat,
    Rebuild(usize),
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::quantize::quantize;
    use crate::quantize::testing::{Rng, clustered};

    #[test]
    fn apply_search_remove_and_come_back() {
        let vs = clustered(300, 10, 64, 3);
        let index = VectorIndex::new(64, VectorConfig::default());
        let added: Vec<(u64, Quantized)> = vs
            .iter()
            .enumerate()
            .map(|(i, v)| (i as u64, quantize(v)))
            .collect();
        index.apply(&[], &added);
        let hits = index.snapshot().search(&quantize(&vs[42]), 5);
        assert_eq!(hits[0].chunk_id, 42);
        assert!(hits[0].score > 0.99);

        index.apply(&[42], &[]);
        let hits = index.snapshot().search(&quantize(&vs[42]), 5);
        assert!(hits.iter().all(|h| h.chunk_id != 42));
        assert_eq!(index.len(), 299);

        // The same chunk id again is not hidden by its old tombstone.
        index.apply(&[], &[(42, quantize(&vs[42]))]);
        assert_eq!(
            index.snapshot().search(&quantize(&vs[42]), 1)[0].chunk_id,
            42
        );
    }

    #[test]
    fn an_ids_only_index_knows_which_chunks_have_vectors_and_holds_none() {
        let vs = clustered(100, 5, 64, 7);
        let index = VectorIndex::new(
            64,
            VectorConfig {
                ids_only: true,
                ..VectorConfig::default()
            },
        );
        let mut asked = 0;
        let added: Vec<(u64, usize)> = (0..vs.len()).map(|i| (i as u64, i)).collect();
        index.apply_with(&[], &added, |&i| {
            asked += 1;
            Some(quantize(&vs[i]))
        });
        assert_eq!(asked, 0, "no vector is made");
        assert_eq!(index.len(), 100);
        assert!(index.contains(42));
        assert!(index.snapshot().segments.is_empty());
        assert!(index.snapshot().search(&quantize(&vs[42]), 5).is_empty());

        index.apply(&[42], &[]);
        assert!(!index.contains(42));
        assert_eq!(index.len(), 99);
        assert!(!index.needs_maintenance());
    }

    #[test]
    fn sealed_hnsw_segments_recall_against_exact_search() {
        let dims = 96;
        let vs = clustered(6000, 60, dims, 11);
        let config = VectorConfig {
            seal_threshold: 2000,
            ..VectorConfig::default()
        };
        let index = VectorIndex::new(dims, config);
        for (n, batch) in vs.chunks(1000).enumerate() {
            let added: Vec<(u64, Quantized)> = batch
                .iter()
                .enumerate()
                .map(|(i, v)| ((n * 1000 + i) as u64, quantize(v)))
                .collect();
            index.apply(&[], &added);
            while index.maintain() {}
        }
        // Remove a tenth: tombstones must hide them from graph searches too.
        let removed: Vec<u64> = (0..6000).step_by(10).collect();
        index.apply(&removed, &[]);
        let snapshot = index.snapshot();
        let (graphs, _) = snapshot.segment_counts();
        assert!(
            graphs >= 2,
            "expected sealed segments, got {:?}",
            snapshot.segment_counts()
        );

        let queries = clustered(200, 60, dims, 99);
        let mut found = 0;
        for q in &queries {
            let q = quantize(q);
            let ann: HashSet<u64> = snapshot.search(&q, 10).iter().map(|h| h.chunk_id).collect();
            let exact = snapshot.exact_search(&q, 10);
            assert!(
                ann.iter().all(|c| c % 10 != 0),
                "a removed vector came back"
            );
            found += exact.iter().filter(|h| ann.contains(&h.chunk_id)).count();
        }
        let recall = found as f64 / (queries.len() * 10) as f64;
        assert!(recall >= 0.95, "recall@10 {recall}");
    }

    /// An index holding one exact block of 1,000 clustered 32-dimensional
    /// vectors (chunk ids 0..1000), large enough to be sealed; and the vectors.
    fn one_block_to_seal(seed: u64) -> (VectorIndex, Vec<Vec<f32>>) {
        let dims = 32;
        let vs = clustered(1000, 20, dims, seed);
        let index = VectorIndex::new(
            dims,
            VectorConfig {
                seal_threshold: 500,
                ..VectorConfig::default()
            },
        );
        let added: Vec<(u64, Quantized)> = vs
            .iter()
            .enumerate()
            .map(|(i, v)| (i as u64, quantize(v)))
            .collect();
        index.apply(&[], &added);
        (index, vs)
    }

    #[test]
    fn a_graph_with_many_tombstones_is_rebuilt() {
        let (index, _) = one_block_to_seal(5);
        assert!(index.maintain());
        assert_eq!(index.snapshot().segment_counts(), (1, 0));
        let removed: Vec<u64> = (0..400).collect();
        index.apply(&removed, &[]);
        assert!(index.needs_maintenance());
        assert!(index.maintain());
        let snapshot = index.snapshot();
        assert_eq!(snapshot.segment_counts(), (1, 0));
        assert_eq!(snapshot.len(), 600);
        assert!(
            snapshot.tombstones.is_empty(),
            "tombstones of rebuilt rows are dropped"
        );
    }

    #[test]
    fn sealing_one_exact_block_keeps_its_vectors_once() {
        let (index, vs) = one_block_to_seal(7);
        let Segment::Flat(block) = &*index.snapshot().segments[0] else {
            panic!("expected an exact block first");
        };
        let block = block.clone();
        assert!(index.maintain());
        let snapshot = index.snapshot();
        let Segment::Graph(graph) = &*snapshot.segments[0] else {
            panic!("expected a graph, got {:?}", snapshot.segment_counts());
        };
        assert!(
            graph
                .hnsw
                .iter()
                .all(|(_, p)| Arc::ptr_eq(&p.block, &block)),
            "the graph's points are the exact block's rows, not a copy"
        );
        for (i, v) in vs.iter().enumerate().step_by(50) {
            let hits = snapshot.search(&quantize(v), 10);
            assert!(
                hits.iter().any(|h| h.chunk_id == i as u64),
                "vector {i} not among its own nearest: {hits:?}"
            );
        }
    }

    /// Rows of live vectors, in every segment of a snapshot.
    fn live_rows(snapshot: &VectorSnapshot) -> Vec<u64> {
        snapshot
            .segments
            .iter()
            .flat_map(|s| s.rows())
            .filter(|r| !snapshot.tombstones.contains(r))
            .collect()
    }

    /// Additions publish a copy of the last exact block while maintenance
    /// rebuilds from the same block: the replaced block must not survive
    /// beside its copy, or its rows are returned twice.
    #[test]
    fn concurrent_additions_and_maintenance_never_duplicate_a_row() {
        let dims = 16;
        let index = std::sync::Arc::new(VectorIndex::new(
            dims,
            VectorConfig {
                seal_threshold: 300,
                max_flat_blocks: 1,
                ..VectorConfig::default()
            },
        ));
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let maintainer = {
            let (index, stop) = (index.clone(), stop.clone());
            std::thread::spawn(move || {
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    index.maintain();
                }
            })
        };
        let mut rng = Rng(99);
        for round in 0..3000u64 {
            let added: Vec<(u64, Quantized)> = (0..3)
                .map(|i| (round * 3 + i, quantize(&rng.vector(dims))))
                .collect();
            // Now and then a chunk comes back (an edit undone).
            let removed: Vec<u64> = if round % 7 == 0 && round > 0 {
                vec![(round - 1) * 3]
            } else {
                Vec::new()
            };
            index.apply(&removed, &added);
            let snapshot = index.snapshot();
            let rows = live_rows(&snapshot);
            let distinct: HashSet<u64> = rows.iter().copied().collect();
            assert_eq!(
                rows.len(),
                distinct.len(),
                "round {round}: a row appears twice"
            );
            assert_eq!(distinct.len(), snapshot.len(), "round {round}");
        }
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        maintainer.join().unwrap();
        let snapshot = index.snapshot();
        assert_eq!(live_rows(&snapshot).len(), snapshot.len());
    }

    #[test]
    fn merging_blocks_never_waits_for_a_graph_build() {
        let dims = 16;
        let index = VectorIndex::new(
            dims,
            VectorConfig {
                max_flat_blocks: 2,
                ..VectorConfig::default()
            },
        );
        // Many separate additions past SMALL_BLOCK make several blocks.
        for round in 0..4u64 {
            let added: Vec<(u64, Quantized)> = (0..SMALL_BLOCK as u64)
                .map(|i| {
                    let id = round * SMALL_BLOCK as u64 + i;
                    (id, quantize(&vec![(id % 7) as f32 + 1.0; dims]))
                })
                .collect();
            index.apply(&[], &added);
        }
        assert!(index.snapshot().segment_counts().1 > 2);
        {
            // A long maintenance run (a graph build) holds the lock.
            let _build = index.maintenance.lock().unwrap();
            assert!(!index.merge_blocks(), "merged under a running build");
        }
        assert!(index.merge_blocks());
        assert_eq!(index.snapshot().segment_counts(), (0, 1));
    }
}
