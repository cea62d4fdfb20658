#!/usr/bin/env python3
"""Builds a language set's corpus from the packages its packages.json pins:
OUTDIR/original/PACKAGE/... as published, OUTDIR/corpus/PACKAGE/... with the
documentation comments removed (the lines deleted), so that a query taken
from a documentation sentence cannot be found by its own words. Prints the
corpus digest and fails when it differs from the set's corpus.sha256 (the
queries' line numbers would not match).

    prepare.py SET_DIR OUTDIR

A package comes from the npm registry (`"registry": "npm"`, a tarball URL),
from PyPI (`"registry": "pypi"`, the source distribution `pip download`
fetches) or from Debian (`"registry": "debian"`, `apt-get download
NAME=VERSION`); either way its sha256 is checked. `include` is the folder kept (a prefix of
the paths in the archive), `suffix` the files kept in it (tests, `.d.ts` and
Go's `_test.go` left out), `strip` how documentation is written: `jsdoc`
(`/** ... */` blocks filling whole lines, JSDoc and Javadoc), `go` (the `//`
lines directly above a top-level declaration or `package` clause) or
`xmldoc` (C#'s `///` lines), `doxygen` (C++'s `/** */`, `/*! */`, `///` and
`//!`) or `c` (a whole-line `/* */` block right above a definition).
`leave` lists paths under `include` left out (a test harness, an
amalgamation that only includes the other files).

Standard library only (and pip for PyPI, apt-get and dpkg-deb for Debian);
deterministic: files in sorted order, no timestamps.
"""
import hashlib
import io
import json
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import urllib.request
from pathlib import Path


def block_end(lines: list, i: int, at: int):
    """The index of the line that closes the `/*` comment opened on line `i`
    (its body starting at column `at`), when that comment fills whole lines:
    nothing but blanks after its `*/`. None otherwise."""
    end = i
    while end < len(lines) and "*/" not in lines[end][at if end == i else 0:]:
        end += 1
    if end == len(lines):
        return None
    close = lines[end].find("*/", at if end == i else 0)
    return end if not lines[end][close + 2:].strip() else None


def strip_marked(text: str, blocks: tuple = (), lines_marked: tuple = ()):
    """The text without its marked documentation, and the 1-based line
    ranges removed: whole-line `/* */` blocks whose line starts with one of
    `blocks` (`/**/` is not one) and ends on the line holding the next
    `*/`, which must end that line; and every line whose first characters
    are one of `lines_marked`. Anything else is left as it is."""
    lines = text.split("\n")
    drop = set()
    i = 0
    while i < len(lines):
        line = lines[i].lstrip()
        if line.startswith(lines_marked):
            drop.add(i)
        elif line.startswith(blocks) and not line.startswith("/**/"):
            end = block_end(lines, i, lines[i].find("/*") + 3)
            if end is not None:
                drop.update(range(i, end + 1))
                i = end
        i += 1
    return without(lines, drop)


def strip_jsdoc(text: str):
    """JSDoc and Javadoc: whole-line `/** */` blocks."""
    return strip_marked(text, blocks=("/**",))


GO_DECLARATION = re.compile(r"^(func|type|var|const|package)\b")


def strip_go_doc(text: str):
    """The text without its doc comments: a run of `//` lines at the start
    of a line (no blank line inside) that ends right above a top-level
    `func`, `type`, `var`, `const` or `package`. Build constraints
    (`//go:build`, `// +build`) stay."""
    lines = text.split("\n")
    drop = set()
    for i, line in enumerate(lines):
        if not GO_DECLARATION.match(line):
            continue
        start = i
        while start > 0 and lines[start - 1].startswith("//") \
                and not lines[start - 1].startswith(("//go:", "// +build")):
            start -= 1
        drop.update(range(start, i))
    return without(lines, drop)


def strip_xmldoc(text: str):
    """C#'s XML documentation: every line whose first characters are `///`
    (a run of them is one removed range)."""
    return strip_marked(text, lines_marked=("///",))


def without(lines: list, drop: set):
    """The lines not in `drop` (0-based), joined, and the dropped ones as
    1-based inclusive ranges of consecutive lines."""
    removed = []
    for i in sorted(drop):
        if removed and removed[-1][1] == i:
            removed[-1] = (removed[-1][0], i + 1)
        else:
            removed.append((i + 1, i + 1))
    return "\n".join(l for i, l in enumerate(lines) if i not in drop), removed


def strip_doxygen(text: str):
    """Doxygen (C++): whole-line `/** */` and `/*! */` blocks, and every
    line whose first characters are `///` or `//!`."""
    return strip_marked(text, blocks=("/**", "/*!"), lines_marked=("///", "//!"))


def strip_c_comment(text: str):
    """The text without the comments that document C definitions: a
    `/* ... */` block filling whole lines from the first column, right above
    (no blank line between) a line that starts a declaration or definition
    in the first column (a letter or `_`, not a `#` directive). C has no
    documentation marker; this is where its writers put one (Lua's `/*\n**
    ...\n*/` above each function). Comments inside bodies and section banners
    followed by a blank line stay."""
    lines = text.split("\n")
    drop = set()
    i = 0
    while i < len(lines):
        if lines[i].startswith("/*"):
            end = block_end(lines, i, 2)
            if end is not None and end + 1 < len(lines):
                below = lines[end + 1]
                if below[:1].isalpha() or below[:1] == "_":
                    drop.update(range(i, end + 1))
                i = end
        i += 1
    return without(lines, drop)


STRIPPERS = {"jsdoc": strip_jsdoc, "go": strip_go_doc, "xmldoc": strip_xmldoc,
             "doxygen": strip_doxygen, "c": strip_c_comment}


def checked(data: bytes, package: dict) -> bytes:
    digest = hashlib.sha256(data).hexdigest()
    if digest != package["sha256"]:
        sys.exit(f"{package['name']} {package['version']}: sha256 {digest}, pinned {package['sha256']}")
    return data


def archive(package: dict) -> tarfile.TarFile:
    """The package's files as a tar archive, its sha256 checked."""
    if package["registry"] == "npm":
        with urllib.request.urlopen(package["tarball"], timeout=60) as response:
            data = checked(response.read(), package)
        return tarfile.open(fileobj=io.BytesIO(data), mode="r:gz")
    if package["registry"] == "pypi":
        with tempfile.TemporaryDirectory() as tmp:
            subprocess.run([sys.executable, "-m", "pip", "download", "--quiet", "--no-deps",
                            "--no-binary", ":all:", "--dest", tmp,
                            f"{package.get('pypi', package['name'])}=={package['version']}"], check=True)
            sdist = next(Path(tmp).glob("*.tar.gz"))
            data = checked(sdist.read_bytes(), package)
        return tarfile.open(fileobj=io.BytesIO(data), mode="r:gz")
    if package["registry"] == "debian":
        with tempfile.TemporaryDirectory() as tmp:
            subprocess.run(["apt-get", "download", f"{package['deb']}={package['version']}"],
                           cwd=tmp, check=True, capture_output=True)
            deb = next(Path(tmp).glob("*.deb"))
            checked(deb.read_bytes(), package)
            data = subprocess.run(["dpkg-deb", "--fsys-tarfile", str(deb)], check=True,
                                  capture_output=True).stdout
        return tarfile.open(fileobj=io.BytesIO(data), mode="r:")
    sys.exit(f"{package['name']}: unknown registry {package['registry']!r}")


def kept(name: str, package: dict) -> bool:
    suffix = package["suffix"]
    return (name.startswith(package["include"])
            and name.endswith(tuple(suffix) if isinstance(suffix, list) else suffix)
            and not name.endswith((".d.ts", "_test.go"))
            and not any(name.startswith(package["include"] + left) for left in package.get("leave", [])))


def main():
    set_dir, out = Path(sys.argv[1]), Path(sys.argv[2])
    packages = json.loads((set_dir / "packages.json").read_text())["packages"]
    for sub in ("original", "corpus"):
        shutil.rmtree(out / sub, ignore_errors=True)
    manifest = []
    for package in packages:
        strip = STRIPPERS[package["strip"]]
        with archive(package) as tar:
            for member in sorted(tar.getmembers(), key=lambda m: m.name):
                name = member.name.removeprefix("./").removeprefix("package/")
                if not (member.isfile() and kept(name, package)):
                    continue
                text = tar.extractfile(member).read().decode("utf-8")
                rel = Path(package["name"]) / name.removeprefix(package.get("drop", ""))
                stripped, _ = strip(text)
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
