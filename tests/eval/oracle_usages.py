#!/usr/bin/env python3
"""Scores `dowse usages` against an oracle's references (a type checker's).

    tests/eval/oracle_usages.py CORPUS TARGETS.jsonl [--dowse BIN] [--json FILE]
                                [--details FILE]

TARGETS.jsonl holds one target a line, as tests/eval/ts_oracle.mjs writes
them: {"symbol", "kind", "def": {"path", "line", "column"}, "refs": [...]}.
For each target, dowse is asked for the usages of the symbol at its
definition (`dowse usages PATH:LINE:COL --json`, in CORPUS) and its
references are compared with the oracle's by position. Prints precision
and recall per kind of definition and overall (micro: over all references),
and the targets with the most misses, so that a change shows where it helps;
`--details` writes every target's missed and extra references (JSON lines).
Standard library only.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
from collections import defaultdict
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("corpus")
    ap.add_argument("targets")
    ap.add_argument("--dowse", default=str(REPO / "target" / "release" / "dowse"))
    ap.add_argument("--json", help="where to write the report")
    ap.add_argument("--details", help="where to write each target's missed and extra references")
    args = ap.parse_args()
    corpus = Path(args.corpus).resolve()
    targets = [json.loads(line) for line in open(args.targets) if line.strip()]
    index_dir = tempfile.mkdtemp(prefix="dowse-oracle-")
    env = dict(os.environ, DOWSE_INDEX_DIR=index_dir)
    env.pop("DOWSE_MODEL_DIR", None)
    subprocess.run([args.dowse, "index", "--lexical-only"], cwd=corpus, env=env, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    per_kind = defaultdict(lambda: {"targets": 0, "tp": 0, "fp": 0, "fn": 0, "found": 0})
    worst = []
    for t in targets:
        if not t["refs"]:
            continue
        d = t["def"]
        out = subprocess.run([args.dowse, "usages", f"{d['path']}:{d['line']}:{d['column']}", "--json"],
                             cwd=corpus, env=env, capture_output=True, text=True)
        got = set()
        if out.returncode == 0 and out.stdout.strip():
            answer = json.loads(out.stdout)
            got = {(u["path"], u["line"], u["column"]) for u in answer.get("references", [])}
        want = {(r["path"], r["line"], r["column"]) for r in t["refs"]}
        k = per_kind[t["kind"]]
        k["targets"] += 1
        k["found"] += bool(got)
        k["tp"] += len(got & want)
        k["fp"] += len(got - want)
        k["fn"] += len(want - got)
        worst.append((len(want - got) + len(got - want), t["symbol"], t["kind"], d,
                      sorted(want - got), sorted(got - want)))
    total = {"targets": 0, "tp": 0, "fp": 0, "fn": 0, "found": 0}
    for k in per_kind.values():
        for key in total:
            total[key] += k[key]
    per_kind["ALL"] = total
    report = {}
    print(f"{'kind':<10} {'targets':>7} {'P':>6} {'R':>6}  refs (tp / fp / fn)", file=sys.stderr)
    for kind, k in sorted(per_kind.items(), key=lambda kv: (kv[0] == "ALL", kv[0])):
        p = k["tp"] / (k["tp"] + k["fp"]) if k["tp"] + k["fp"] else 0.0
        r = k["tp"] / (k["tp"] + k["fn"]) if k["tp"] + k["fn"] else 0.0
        report[kind] = dict(k, precision=round(p, 4), recall=round(r, 4))
        print(f"{kind:<10} {k['targets']:>7} {p:>6.3f} {r:>6.3f}  {k['tp']} / {k['fp']} / {k['fn']}", file=sys.stderr)
    worst.sort(key=lambda w: -w[0])
    print("\nmost wrong, by kind:", file=sys.stderr)
    for kind in sorted(per_kind):
        for n, symbol, k, d, missed, extra in [w for w in worst if w[2] == kind][:3]:
            print(f"  {n:>3} {k} {symbol} ({d['path']}:{d['line']}) missed {missed[:3]} extra {extra[:3]}",
                  file=sys.stderr)
    if args.details:
        with open(args.details, "w") as fh:
            for n, symbol, k, d, missed, extra in worst:
                fh.write(json.dumps({"symbol": symbol, "kind": k, "def": d, "missed": missed,
                                     "extra": extra}) + "\n")
    text = json.dumps({"corpus": str(corpus), "targets": args.targets, "kinds": report}, indent=2)
    if args.json:
        Path(args.json).write_text(text + "\n")
    else:
        print(text)


if __name__ == "__main__":
    main()
