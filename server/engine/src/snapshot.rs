//! What one query reads: the committed index and the overlay of unsaved
//! buffers, taken together at one moment.
//!
//! A file in the overlay masks its committed copy everywhere: keyword hits,
//! vector hits, chunk lookups, chunk texts. Both indexes are scored with
//! their statistics combined, so that a chunk scores the same whether it was
//! saved or not.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use dowse_index::lexical::{Boosts, CombinedStatistics, DocAddress, LexicalSnapshot, StoredChunk};

use crate::Result;
use crate::overlay::OverlayView;

/// A keyword hit.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Hit {
    pub(crate) chunk_id: u64,
    pub(crate) content_key: u64,
    pub(crate) score: f32,
}

pub(crate) struct Snapshot {
    pub(crate) disk: LexicalSnapshot,
    pub(crate) overlay: Arc<OverlayView>,
    /// Where the committed chunks this query has met so far are: a keyword
    /// hit or a keyword score finds a chunk's document, and ranking then
    /// loads it by id. Finding it again by id was 3% of the server's CPU
    /// under the benchmark's 64-client MCP load on the CPython stdlib
    /// (perf). The snapshot is one query's, so nothing here goes stale.
    found: Mutex<HashMap<u64, DocAddress>>,
}

impl Snapshot {
    pub(crate) fn new(disk: LexicalSnapshot, overlay: Arc<OverlayView>) -> Snapshot {
        Snapshot {
            disk,
            overlay,
            found: Mutex::new(HashMap::new()),
        }
    }

    /// The committed document of `chunk_id`, if it is live there.
    fn find_on_disk(&self, chunk_id: u64) -> Result<Option<DocAddress>> {
        if let Some(doc) = self.found.lock().expect("found lock").get(&chunk_id) {
            return Ok(Some(*doc));
        }
        let doc = self.disk.find(chunk_id)?;
        if let Some(doc) = doc {
            self.found.lock().expect("found lock").insert(chunk_id, doc);
        }
        Ok(doc)
    }

    /// The best `limit` chunks for `query` by boosted BM25, from both the
    /// committed index (overlaid files masked) and the overlay.
    pub(crate) fn lexical(&self, query: &str, boosts: &Boosts, limit: usize) -> Result<Vec<Hit>> {
        let masked = self.overlay.paths();
        let sides = self.sides();
        let statistics = CombinedStatistics::of(&sides);
        let none: [&str; 0] = [];
        let excluded: [&[&str]; 2] = [&masked, &none];
        let mut hits = Vec::new();
        for (i, (side, excluded)) in sides.iter().zip(excluded).enumerate() {
            for hit in side.search_with(query, boosts, limit, excluded, &statistics)? {
                let keys = side.keys(hit.doc)?;
                if i == 0 {
                    self.found
                        .lock()
                        .expect("found lock")
                        .insert(keys.chunk_id, hit.doc);
                }
                hits.push(Hit {
                    chunk_id: keys.chunk_id,
                    content_key: keys.content_key,
                    score: hit.score,
                });
            }
        }
        hits.sort_by(|a, b| {
            b.score
                .total_cmp(&a.score)
                .then(a.chunk_id.cmp(&b.chunk_id))
        });
        hits.truncate(limit);
        Ok(hits)
    }

    /// For each of `ids`, if the chunk is live: its embedding key and its
    /// keyword score for `query`, as [`Snapshot::lexical`] scores it (0 when
    /// no word matches). The chunks hybrid search found by meaning alone get
    /// their keyword evidence here, scored one by one.
    pub(crate) fn keyword_scores(
        &self,
        query: &str,
        boosts: &Boosts,
        ids: &[u64],
    ) -> Result<Vec<Option<(u64, f32)>>> {
        let sides = self.sides();
        let statistics = CombinedStatistics::of(&sides);
        let mut out = vec![None; ids.len()];
        // Per side: the documents to score and where their answers go.
        let mut docs = vec![(Vec::new(), Vec::new()); sides.len()];
        for (i, &id) in ids.iter().enumerate() {
            // The overlay's chunks carry their key; the committed index's
            // is read from its document.
            let overlaid = self.overlay.chunk(id).map(|chunk| chunk.content_key);
            let side = usize::from(overlaid.is_some());
            let doc = match sides.get(side) {
                Some(_) if side == 0 => self.find_on_disk(id)?,
                Some(overlay) => overlay.find(id)?,
                None => None,
            };
            let Some(doc) = doc else {
                continue;
            };
            let key = match overlaid {
                Some(key) => key,
                None => self.disk.keys(doc)?.content_key,
            };
            out[i] = Some((key, 0.0));
            docs[side].0.push(doc);
            docs[side].1.push(i);
        }
        for (side, (docs, at)) in sides.iter().zip(docs) {
            let scores = side.score_docs(query, boosts, &docs, &statistics)?;
            for (i, score) in at.into_iter().zip(scores) {
                if let Some((_, slot)) = &mut out[i] {
                    *slot = score;
                }
            }
        }
        Ok(out)
    }

    /// The committed index, then the overlay's index if it has one: the
    /// sides a keyword query reads, with their statistics combined.
    fn sides(&self) -> Vec<&LexicalSnapshot> {
        let mut sides = vec![&self.disk];
        if let Some(overlay) = &self.overlay.lexical {
            sides.push(overlay);
        }
        sides
    }

    /// The chunk with this id, if it is live: the overlay's, or a committed
    /// one whose file is not overlaid.
    pub(crate) fn chunk(&self, chunk_id: u64) -> Result<Option<StoredChunk>> {
        if let Some(chunk) = self.overlay.chunk(chunk_id) {
            return Ok(Some(chunk.clone()));
        }
        let Some(doc) = self.find_on_disk(chunk_id)? else {
            return Ok(None);
        };
        let chunk = self.disk.chunk(doc)?;
        Ok((!self.overlay.contains(&chunk.path)).then_some(chunk))
    }

    /// The embedding key of a live chunk (read from fast fields, without
    /// loading the chunk).
    pub(crate) fn content_key(&self, chunk_id: u64) -> Result<Option<u64>> {
        if let Some(chunk) = self.overlay.chunk(chunk_id) {
            return Ok(Some(chunk.content_key));
        }
        match self.find_on_disk(chunk_id)? {
            Some(doc) => Ok(Some(self.disk.keys(doc)?.content_key)),
            None => Ok(None),
        }
    }

    /// The nearest chunks to `query` by body vector: the committed index's
    /// (overlaid files' chunks are dropped when resolved) and the
    /// overlay's, whose vectors are read from the cache by key.
    pub(crate) fn vector_hits(
        &self,
        ready: &crate::semantic::Ready,
        query: &dowse_index::quantize::Quantized,
        k: usize,
    ) -> Vec<(u64, f32)> {
        let masked = self.overlay.chunks().count();
        let mut hits: Vec<(u64, f32)> = ready
            .vectors
            .snapshot()
            .search(query, k + masked)
            .into_iter()
            .map(|hit| (hit.chunk_id, hit.score))
            .collect();
        for chunk in self.overlay.chunks() {
            if let Some(vector) = ready.cached(chunk.content_key) {
                hits.retain(|(id, _)| *id != chunk.chunk_id);
                hits.push((chunk.chunk_id, vector.similarity(query)));
            }
        }
        hits.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        hits.truncate(k + masked);
        hits
    }

    /// The chunks of one file (workspace-relative), in no particular order.
    pub(crate) fn file_chunks(&self, path: &str) -> Result<Vec<StoredChunk>> {
        if let Some(file) = self.overlay.files.get(path) {
            return Ok(file.chunks.clone());
        }
        self.disk
            .file_chunks(path)?
            .into_iter()
            .map(|doc| Ok(self.disk.chunk(doc)?))
            .collect()
    }
}
