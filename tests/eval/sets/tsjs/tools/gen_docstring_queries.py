#!/usr/bin/env python3
"""Derives the set's docstring queries: the first sentence of the JSDoc that
prepare.py removed from a function or method, with that function's lines in
the stripped corpus as the target.

    gen_docstring_queries.py OUTDIR [MAX] > queries.jsonl

OUTDIR is what prepare.sh wrote. Needs tree-sitter, tree-sitter-typescript
and tree-sitter-javascript (PyPI), which only this generator uses; the
queries it wrote are committed, so running the set does not need them.

Rules, mechanical and the same as set D's where they can be:
  * the JSDoc sits right before a function, a method, or a function assigned
    to a property (`app.render = function render(...)`), whose body in the
    stripped copy spans at least MIN_BODY_LINES lines;
  * its first sentence (markup, links and HTML dropped) has at least five
    words, does not only restate the name, and is not a pointer ("See ...",
    "Alias ...", "Deprecated ...", "Same as ...");
  * a sentence that starts the JSDoc of two definitions is dropped;
  * every block prepare.py removed is checked to be one comment node of the
    grammar, so that the stripping never cut code.
"""
import json
import random
import re
import sys
from pathlib import Path

import tree_sitter_javascript
import tree_sitter_typescript
from tree_sitter import Language, Parser

sys.path.insert(0, str(Path(__file__).parent))
from prepare import strip_jsdoc  # noqa: E402

MIN_BODY_LINES = 5
PARSERS = {
    ".ts": Parser(Language(tree_sitter_typescript.language_typescript())),
    ".js": Parser(Language(tree_sitter_javascript.language())),
}
FUNCTIONS = {"function_declaration", "generator_function_declaration", "method_definition"}
POINTER = re.compile(r"^(see|alias|deprecated|same as|use)\b", re.I)
STOP = set("""a an the of to for in on and or is are be by with from as at it its this that
these those given if into when which whether return returns returned get gets set sets new
value values object instance using use used""".split())


def words_of_name(name):
    parts = re.findall(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|[0-9]+", name)
    return {p.lower() for p in parts}


def description(comment: str) -> str:
    """The JSDoc's leading description as plain text."""
    body = comment.removeprefix("/**").removesuffix("*/")
    lines = []
    for line in body.split("\n"):
        line = re.sub(r"^\s*\*?\s?", "", line)
        if line.startswith("@") or (not line.strip() and lines):
            break
        lines.append(line)
    text = " ".join(" ".join(lines).split())
    text = re.sub(r"\{@link(?:code|plain)?\s+([^}|\s]+)(?:[ |][^}]*)?\}", r"\1", text)
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", text)
    text = re.sub(r"<[^>]+>", "", text)
    return " ".join(text.split())


def first_sentence(text: str) -> str:
    for m in re.finditer(r"[.!?](?=\s|$)", text):
        before = text[:m.start() + 1]
        if not re.search(r"\b(e\.g|i\.e|etc|vs|cf)\.$", before, re.I):
            return before
    return text


def target(node):
    """(name, owner, definition node) of what a doc comment documents."""
    decl = node.next_named_sibling
    if decl is None:
        return None
    if decl.type == "export_statement":
        inner = decl.child_by_field_name("declaration")
        decl = inner if inner is not None else decl
    if decl.type in FUNCTIONS:
        name = decl.child_by_field_name("name")
        owner = None
        if decl.type == "method_definition":
            cls = decl.parent.parent if decl.parent else None
            cls_name = cls.child_by_field_name("name") if cls is not None else None
            owner = cls_name.text.decode() if cls_name is not None else None
        return (name.text.decode(), owner, decl) if name is not None else None
    if decl.type == "expression_statement":
        expr = decl.named_children[0] if decl.named_children else None
        if expr is not None and expr.type == "assignment_expression":
            left, right = expr.child_by_field_name("left"), expr.child_by_field_name("right")
            if right is not None and right.type in ("function_expression", "function", "arrow_function") \
                    and left.type == "member_expression":
                prop = left.child_by_field_name("property").text.decode()
                obj = left.child_by_field_name("object").text.decode()
                return prop, obj.removesuffix(".prototype"), decl
    return None


def comments(node):
    if node.type == "comment":
        yield node
    for child in node.children:
        yield from comments(child)


def main():
    out = Path(sys.argv[1])
    most = int(sys.argv[2]) if len(sys.argv) > 2 else 100
    packages = json.loads((Path(__file__).parents[1] / "packages.json").read_text())["packages"]
    lang_of = {p["name"]: p["lang"] for p in packages}
    candidates, openings = [], {}
    for path in sorted((out / "original").rglob("*")):
        if not path.is_file():
            continue
        rel = path.relative_to(out / "original").as_posix()
        text = path.read_text()
        tree = PARSERS[path.suffix].parse(text.encode())
        stripped, removed = strip_jsdoc(text)
        assert stripped == (out / "corpus" / rel).read_text(), rel
        spans = {(c.start_point[0] + 1, c.end_point[0] + 1) for c in comments(tree.root_node)}
        for block in removed:
            assert block in spans, f"{rel}: removed lines {block} are not one comment"

        def to_stripped(line):
            return line - sum(e - s + 1 for s, e in removed if e < line)

        for node in comments(tree.root_node):
            doc = node.text.decode()
            if not doc.startswith("/**") or (node.start_point[0] + 1, node.end_point[0] + 1) not in removed:
                continue
            found = target(node)
            if found is None:
                continue
            name, owner, decl = found
            start, end = to_stripped(decl.start_point[0] + 1), to_stripped(decl.end_point[0] + 1)
            if end - start - 1 < MIN_BODY_LINES:
                continue
            sentence = first_sentence(description(doc))
            content = [w for w in re.findall(r"[a-z0-9]+", sentence.lower()) if w not in STOP]
            if len(sentence.split()) < 5 or POINTER.match(sentence) or set(content) <= words_of_name(name):
                continue
            openings.setdefault(sentence, 0)
            openings[sentence] += 1
            package = rel.split("/")[0]
            candidates.append({
                "package": package, "lang": lang_of[package], "query": sentence, "path": rel,
                "symbol": f"{owner}.{name}" if owner else name,
                "start_line": start, "end_line": end, "kind": "docstring",
            })
    candidates = [c for c in candidates if openings[c["query"]] == 1]
    if len(candidates) > most:
        candidates = sorted(random.Random(7).sample(candidates, most),
                            key=lambda c: (c["path"], c["start_line"]))
    for i, c in enumerate(candidates, 1):
        print(json.dumps(dict({"id": f"{c['package']}-doc-{i:03d}"}, **c)))
    print(f"{len(candidates)} queries", file=sys.stderr)


if __name__ == "__main__":
    main()
