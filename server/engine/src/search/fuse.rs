//! Scoring by meaning and hybrid fusion: a chunk's similarity to the query
//! (its body vector, its name vector mixed in by the query's name weight),
//! and the keyword and meaning candidates scored on both signals and fused.

use std::collections::HashMap;

use dowse_index::lexical::Boosts;
use dowse_index::quantize::Quantized;

use super::ranking::mixed_similarity;
use super::{Fusion, Ranking};
use crate::Result;
use crate::snapshot::Snapshot;

/// Scores chunks by meaning for one query: the body vector's cosine, with
/// the name vector mixed in by the query's name weight.
pub(super) struct MeaningScorer<'a> {
    pub(super) ready: &'a crate::semantic::Ready,
    pub(super) query: &'a Quantized,
    pub(super) name_weight: f32,
}

impl MeaningScorer<'_> {
    /// The score of the chunk whose text has `content_key`, given its body
    /// cosine when known; 0 for a chunk without a vector yet. A body read
    /// in several windows counts by its best: its one vector, or any
    /// window's own.
    fn score(&self, content_key: u64, cos_body: Option<f32>) -> Option<f32> {
        match self.ready.cached_with_windows(content_key) {
            Some((e, windows)) => {
                let cos_body = cos_body.unwrap_or_else(|| e.body.similarity(self.query));
                let cos_body = windows
                    .iter()
                    .map(|window| window.similarity(self.query))
                    .fold(cos_body, f32::max);
                if self.name_weight == 0.0 {
                    return Some(cos_body);
                }
                Some(mixed_similarity(
                    cos_body,
                    e.name.dot(self.query),
                    e.name.dot(&e.body),
                    self.name_weight,
                ))
            }
            None => cos_body,
        }
    }

    /// Search by meaning alone: the body vectors' nearest chunks, scored
    /// again with their names mixed in.
    pub(super) fn rescore(
        &self,
        snapshot: &Snapshot,
        hits: Vec<(u64, f32)>,
    ) -> Result<Vec<(u64, f32)>> {
        let mut out = Vec::with_capacity(hits.len());
        for (chunk_id, cos_body) in hits {
            if let Some(key) = snapshot.content_key(chunk_id)? {
                out.push((
                    chunk_id,
                    self.score(key, Some(cos_body)).unwrap_or(cos_body),
                ));
            }
        }
        out.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        Ok(out)
    }
}

/// Hybrid ranking. The candidates are the best `ranking.candidates` by
/// keywords and the best by meaning; each is then scored on *both* signals
/// (its BM25 scored for it, its similarity from its vectors), so a chunk
/// found by one side is not penalised for being missed by the other; see
/// [`Fusion`].
pub(super) fn fuse(
    snapshot: &Snapshot,
    scorer: &MeaningScorer<'_>,
    (query, boosts): (&str, &Boosts),
    by_meaning: &[(u64, f32)],
    ranking: &Ranking,
) -> Result<Vec<(u64, f32)>> {
    // (bm25, meaning) per candidate; meaning is `None` for a chunk without
    // a vector yet (while embedding runs).
    let mut candidates: HashMap<u64, (f32, Option<f32>)> = HashMap::new();
    for hit in snapshot.lexical(query, boosts, ranking.candidates)? {
        candidates.insert(
            hit.chunk_id,
            (hit.score, scorer.score(hit.content_key, None)),
        );
    }
    // Found by meaning alone: their keyword scores one by one.
    let by_meaning: Vec<(u64, f32)> = by_meaning
        .iter()
        .take(ranking.candidates)
        .filter(|(id, _)| !candidates.contains_key(id))
        .copied()
        .collect();
    let ids: Vec<u64> = by_meaning.iter().map(|&(id, _)| id).collect();
    let keywords = snapshot.keyword_scores(query, boosts, &ids)?;
    for ((id, cos_body), found) in by_meaning.into_iter().zip(keywords) {
        if let Some((key, score)) = found {
            candidates.insert(id, (score, scorer.score(key, Some(cos_body))));
        }
    }
    let mut fused: Vec<(u64, f32)> = match ranking.fusion {
        Fusion::Normalized { lexical_weight } => {
            let bm25_max = candidates
                .values()
                .map(|c| c.0)
                .fold(f32::EPSILON, f32::max);
            let sims = || candidates.values().filter_map(|c| c.1);
            let sim_max = sims().fold(f32::MIN, f32::max);
            let sim_min = sims().fold(f32::MAX, f32::min);
            let sim_range = (sim_max - sim_min).max(f32::EPSILON);
            candidates
                .into_iter()
                .map(|(id, (b, c))| {
                    let keywords = b / bm25_max;
                    // Without a vector yet, the keyword score stands for
                    // both: no evidence of meaning either way, rather than
                    // the worst meaning.
                    let meaning = c.map_or(keywords, |c| (c - sim_min) / sim_range);
                    (
                        id,
                        lexical_weight * keywords + (1.0 - lexical_weight) * meaning,
                    )
                })
                .collect()
        }
        Fusion::Rrf { k } => {
            let rank_of = |side: fn(&(f32, Option<f32>)) -> f32| -> HashMap<u64, usize> {
                let mut order: Vec<(u64, f32)> =
                    candidates.iter().map(|(id, c)| (*id, side(c))).collect();
                order.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
                order
                    .into_iter()
                    .enumerate()
                    .map(|(rank, (id, _))| (id, rank))
                    .collect()
            };
            let by_keywords = rank_of(|c| c.0);
            let by_meaning = rank_of(|c| c.1.unwrap_or(f32::MIN));
            candidates
                .iter()
                .map(|(id, (b, _))| {
                    let keyword = if *b > 0.0 {
                        1.0 / (k + by_keywords[id] as f32 + 1.0)
                    } else {
                        0.0
                    };
                    (*id, keyword + 1.0 / (k + by_meaning[id] as f32 + 1.0))
                })
                .collect()
        }
    };
    fused.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    Ok(fused)
}
