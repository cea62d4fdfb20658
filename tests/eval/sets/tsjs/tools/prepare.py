#!/usr/bin/env python3
"""Fetches the set's pinned npm tarballs, checks their sha256, and writes
the corpus: OUTDIR/original/PACKAGE/... as published, OUTDIR/corpus/PACKAGE/...
with every JSDoc block that fills whole lines removed (`/** ... */`, the
lines deleted), so that a query taken from a JSDoc sentence cannot be found
by its own words. Prints the corpus digest and fails when it differs from
corpus.sha256 (the queries' line numbers would not match).

    prepare.py SET_DIR OUTDIR

Standard library only; deterministic (files in sorted order, no timestamps).
"""
import hashlib
import io
import json
import shutil
import sys
import tarfile
import urllib.request
from pathlib import Path


def strip_jsdoc(text: str):
    """The text without its whole-line JSDoc blocks, and the 1-based line
    ranges removed. A block starts on a line whose first characters are
    `/**` (not `/**/`) and ends on the line holding the next `*/`, which
    must end that line; anything else is left as it is."""
    lines = text.split("\n")
    kept, removed = [], []
    i = 0
    while i < len(lines):
        line = lines[i].lstrip()
        if line.startswith("/**") and not line.startswith("/**/"):
            end, at = i, lines[i].find("/**") + 3
            while end < len(lines) and "*/" not in lines[end][at if end == i else 0:]:
                end += 1
            if end < len(lines):
                close = lines[end].find("*/", at if end == i else 0)
                if not lines[end][close + 2:].strip():
                    removed.append((i + 1, end + 1))
                    i = end + 1
                    continue
        kept.append(lines[i])
        i += 1
    return "\n".join(kept), removed


def fetch(package: dict) -> bytes:
    with urllib.request.urlopen(package["tarball"], timeout=60) as response:
        data = response.read()
    digest = hashlib.sha256(data).hexdigest()
    if digest != package["sha256"]:
        sys.exit(f"{package['tarball']}: sha256 {digest}, pinned {package['sha256']}")
    return data


def main():
    set_dir, out = Path(sys.argv[1]), Path(sys.argv[2])
    packages = json.loads((set_dir / "packages.json").read_text())["packages"]
    for sub in ("original", "corpus"):
        shutil.rmtree(out / sub, ignore_errors=True)
    manifest = []
    for package in packages:
        with tarfile.open(fileobj=io.BytesIO(fetch(package)), mode="r:gz") as tar:
            members = sorted(tar.getmembers(), key=lambda m: m.name)
            for member in members:
                name = member.name.removeprefix("package/")
                if not (member.isfile() and name.startswith(package["include"])
                        and name.endswith(package["suffix"]) and not name.endswith(".d.ts")):
                    continue
                text = tar.extractfile(member).read().decode("utf-8")
                rel = Path(package["name"]) / name
                stripped, _ = strip_jsdoc(text)
                for sub, body in (("original", text), ("corpus", stripped)):
                    path = out / sub / rel
                    path.parent.mkdir(parents=True, exist_ok=True)
                    path.write_text(body, encoding="utf-8")
                manifest.append(f"{hashlib.sha256(stripped.encode()).hexdigest()}  "
                                f"{stripped.count(chr(10)) + 1}  {rel.as_posix()}")
    manifest.sort()
    (out / "corpus.manifest").write_text("\n".join(manifest) + "\n")
    digest = hashlib.sha256("\n".join(manifest).encode()).hexdigest()
    print(f"corpus: {out / 'corpus'} ({len(manifest)} files), digest {digest}")
    pinned = set_dir / "corpus.sha256"
    if pinned.exists() and pinned.read_text().strip() != digest:
        sys.exit(f"corpus digest differs from {pinned}: the queries' line numbers would not match")


if __name__ == "__main__":
    main()
