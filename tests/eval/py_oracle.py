#!/usr/bin/env python3
"""Usages targets for Python with jedi as the oracle (set D's Python truth
came from jedi too): for every function, class and method defined in a
corpus's .py files, jedi's project-wide references. Prints JSON lines in
the format tests/eval/oracle_usages.py reads:

    {"symbol", "kind", "def": {"path", "line", "column"}, "refs": [{"path", "line", "column"}]}

Paths are relative to the corpus; lines and columns 1-based (columns in
characters, as jedi counts; byte columns differ only on non-ASCII lines).
References exclude definitions (the name's own, `@overload` stubs, a
property's setter) but not the names `import` lines bind, as in set D.

    python3 tests/eval/py_oracle.py CORPUS_DIR [--every N] > targets.jsonl

`--every N` keeps every Nth definition (in path and line order), for a
sample of a large corpus. Needs `jedi` (measured with `pip install jedi==0.20.0`).
"""
import argparse
import ast
import json
import sys
from pathlib import Path

import jedi


def definitions(tree: ast.AST):
    """(name, kind, line, column) of every function, class and method."""
    out = []

    def visit(node, in_class):
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
                kind = "method" if in_class else "function"
                out.append((child, kind))
                visit(child, False)
            elif isinstance(child, ast.ClassDef):
                out.append((child, "class"))
                visit(child, True)
            else:
                visit(child, in_class)

    visit(tree, False)
    return out


def name_position(source_lines, node):
    """The 1-based line and 0-based column of a definition's name."""
    line = node.lineno
    text = source_lines[line - 1]
    keyword = "class " if isinstance(node, ast.ClassDef) else "def "
    at = text.find(keyword + node.name)
    if at < 0:
        return None
    return line, at + len(keyword)


def imported(name) -> bool:
    """Whether a name jedi found is bound by an `import` statement."""
    tree_name = getattr(name, "_name", None) and getattr(name._name, "tree_name", None)
    return tree_name is not None and tree_name.search_ancestor("import_from", "import_name") is not None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("corpus")
    ap.add_argument("--every", type=int, default=1)
    args = ap.parse_args()
    root = Path(args.corpus).resolve()
    project = jedi.Project(root)
    files = sorted(p for p in root.rglob("*.py") if "test" not in p.relative_to(root).parts[:-1])
    n = 0
    for path in files:
        source = path.read_text(encoding="utf-8")
        try:
            tree = ast.parse(source)
        except SyntaxError:
            continue
        lines = source.splitlines()
        script = jedi.Script(source, path=path, project=project)
        for node, kind in definitions(tree):
            n += 1
            if (n - 1) % args.every:
                continue
            at = name_position(lines, node)
            if at is None:
                continue
            line, column = at
            refs = []
            for r in script.get_references(line, column, scope="project"):
                # Definitions are not references (the name's own, and the
                # other definitions jedi links to it: `@overload` stubs, a
                # property's setter), but names an import binds are, as set
                # D counts them.
                if r.module_path is None or r.is_definition() and not imported(r):
                    continue
                try:
                    rel = Path(r.module_path).resolve().relative_to(root)
                except ValueError:
                    continue
                refs.append({"path": str(rel), "line": r.line, "column": r.column + 1})
            refs.sort(key=lambda r: (r["path"], r["line"], r["column"]))
            print(json.dumps({
                "symbol": node.name,
                "kind": kind,
                "def": {"path": str(path.relative_to(root)), "line": line, "column": column + 1},
                "refs": refs,
            }), flush=True)


if __name__ == "__main__":
    sys.exit(main())
