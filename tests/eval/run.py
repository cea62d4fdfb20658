#!/usr/bin/env python3
"""Runs dowse over retrieval benchmark set D (../shared/eval) and scores it.

    tests/eval/run.py search [--mode lexical|hybrid|semantic]
    tests/eval/run.py usages

Prepares the corpus with the set's own prepare.sh (once, under --work),
indexes it with the real `dowse` binary, asks every query through the CLI
(`dowse search QUERY --json` / `dowse usages ... --json`), writes the results
file the scorer reads, and prints the scorer's numbers overall, per package
and per kind. Standard library only.
"""
import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def sh(cmd, **kw):
    done = subprocess.run(cmd, capture_output=True, text=True, **kw)
    if done.returncode != 0:
        sys.exit(f"{' '.join(cmd)} failed ({done.returncode}):\n{done.stderr}")
    return done


def prepare(eval_dir: Path, work: Path) -> Path:
    corpus = work / "corpus"
    if not corpus.is_dir():
        print(f"preparing the corpus in {work} ...", file=sys.stderr)
        subprocess.run([str(eval_dir / "prepare.sh"), str(work)], check=True)
    return corpus


def dowse_env(work: Path) -> dict:
    env = dict(os.environ)
    env["DOWSE_INDEX_DIR"] = str(work / "index")
    return env


def run_search(args, eval_dir: Path, corpus: Path, work: Path) -> Path:
    env = dowse_env(work)
    started = time.time()
    report = json.loads(sh([args.dowse, "index", str(corpus), "--json"], env=env).stdout)
    print(f"indexed {report['files']} files, {report['chunks']} chunks in {time.time() - started:.1f} s",
          file=sys.stderr)
    out = work / f"search-{args.mode}.jsonl"
    latencies = []
    with open(eval_dir / "queries.jsonl") as queries, open(out, "w") as results:
        for line in queries:
            q = json.loads(line)
            t = time.time()
            r = json.loads(sh([args.dowse, "search", q["query"], "--json", "--limit", "10",
                               "--mode", args.mode], cwd=corpus, env=env).stdout)
            latencies.append(time.time() - t)
            results.write(json.dumps({"id": q["id"], "results": r["results"]}) + "\n")
    latencies.sort()
    print(f"{len(latencies)} queries, CLI wall p50 {latencies[len(latencies) // 2] * 1000:.0f} ms",
          file=sys.stderr)
    return out


def run_usages(args, eval_dir: Path, corpus: Path, work: Path) -> Path:
    """Asks for the usages of every identifier from its definition's
    position, as the set prescribes."""
    env = dowse_env(work)
    sh([args.dowse, "index", str(corpus), "--json", "--lexical-only"], env=env)
    out = work / "usages.jsonl"
    latencies = []
    with open(eval_dir / "usages.jsonl") as usages, open(out, "w") as results:
        for line in usages:
            u = json.loads(line)
            d = u["definitions"][0]
            position = f"{d['path']}:{d['line']}:{d['column']}"
            t = time.time()
            r = json.loads(sh([args.dowse, "usages", position, "--json"], cwd=corpus, env=env).stdout)
            latencies.append(time.time() - t)
            r["id"] = u["id"]
            results.write(json.dumps(r) + "\n")
    latencies.sort()
    print(f"{len(latencies)} identifiers, CLI wall p50 {latencies[len(latencies) // 2] * 1000:.0f} ms",
          file=sys.stderr)
    return out


def score(eval_dir: Path, flag: str, truth: str, results_flag: str, results: Path):
    out = sh([sys.executable, str(eval_dir / "score.py"), flag, str(eval_dir / truth),
              results_flag, str(results)]).stdout
    print(out)
    as_json = sh([sys.executable, str(eval_dir / "score.py"), flag, str(eval_dir / truth),
                  results_flag, str(results), "--json"]).stdout
    (results.with_suffix(".score.json")).write_text(as_json)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("task", choices=["search", "usages"])
    ap.add_argument("--mode", default="hybrid", choices=["hybrid", "lexical", "semantic"])
    ap.add_argument("--eval-dir", default=str(REPO.parent / "shared" / "eval"))
    ap.add_argument("--work", default=str(REPO / ".eval"))
    ap.add_argument("--dowse", default=str(REPO / "target" / "release" / "dowse"))
    args = ap.parse_args()
    args.dowse = str(Path(args.dowse).resolve())
    eval_dir = Path(args.eval_dir).resolve()
    work = Path(args.work).resolve()
    work.mkdir(parents=True, exist_ok=True)
    if not Path(args.dowse).exists():
        sys.exit(f"no dowse binary at {args.dowse}: run `cargo build --release` first")
    corpus = prepare(eval_dir, work)
    if args.task == "search":
        results = run_search(args, eval_dir, corpus, work)
        score(eval_dir, "--queries", "queries.jsonl", "--results", results)
    else:
        results = run_usages(args, eval_dir, corpus, work)
        score(eval_dir, "--usages", "usages.jsonl", "--usage-results", results)


if __name__ == "__main__":
    main()
