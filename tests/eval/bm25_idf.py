#!/usr/bin/env python3
"""Plain BM25 over a set's chunks with either IDF, to tell a ranking gap
from a BM25-variant gap (README, "lexical against that BM25").

    tests/eval/bm25_idf.py SET lucene|okapi

Reads the chunks `tests/eval/run.py search --set SET` dumped
(`.eval-SET/chunks.jsonl`, `.eval/` for set D) and the set's queries;
tokens are set D's baseline tokens; k1 = 1.2, b = 0.75 (tantivy's). `lucene`
is tantivy's IDF, ln(1 + (N - n + .5) / (n + .5)); `okapi` is rank_bm25's,
ln((N - n + .5) / (n + .5)), floored at a quarter of the mean IDF for terms
in more than half the chunks. Prints MRR@10 per query kind, hits counted
by set D's scorer (`score.first_hit_rank`).
"""
import json
import math
import sys
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SHARED = REPO.parent / "shared" / "eval"
sys.path.insert(0, str(SHARED))
from baselines import tokens  # noqa: E402
from score import first_hit_rank  # noqa: E402

K1, B = 1.2, 0.75


def main():
    name, variant = sys.argv[1], sys.argv[2]
    work = REPO / (".eval" if name == "D" else f".eval-{name}")
    sets = SHARED if name == "D" else REPO / "tests" / "eval" / "sets" / name
    chunks = [json.loads(line) for line in open(work / "chunks.jsonl")]
    docs = [Counter(tokens(f"{c['path']}\n{c['symbol'] or ''}\n{c['text']}")) for c in chunks]
    lengths = [sum(d.values()) for d in docs]
    n_docs, mean_length = len(docs), sum(lengths) / len(docs)
    df = Counter(t for d in docs for t in d)
    raw = {t: math.log((n_docs - n + 0.5) / (n + 0.5)) for t, n in df.items()}
    floor = 0.25 * sum(raw.values()) / len(raw)

    def idf(term):
        n = df[term]
        if variant == "lucene":
            return math.log(1 + (n_docs - n + 0.5) / (n + 0.5))
        return raw[term] if raw[term] > 0 else floor

    queries = [json.loads(line) for f in ("queries.jsonl", "queries-questions.jsonl")
               for line in open(sets / f)]
    mrr = {}
    for q in queries:
        terms = [t for t in tokens(q["query"]) if t in df]
        scores = []
        for i, doc in enumerate(docs):
            norm = K1 * (1 - B + B * lengths[i] / mean_length)
            score = sum(idf(t) * doc[t] * (K1 + 1) / (doc[t] + norm) for t in terms if doc[t])
            scores.append((-score, i))
        scores.sort()
        rank = first_hit_rank([chunks[i] for _, i in scores[:10]], q)
        mrr.setdefault(q["kind"], []).append(1 / rank if rank else 0.0)
    print(variant, {kind: round(sum(v) / len(v), 3) for kind, v in mrr.items()})


if __name__ == "__main__":
    main()
