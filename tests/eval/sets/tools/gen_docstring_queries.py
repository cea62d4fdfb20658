#!/usr/bin/env python3
"""Derives a language set's docstring queries: the first sentence of the
documentation prepare.py removed from a function or method, with that
function's lines in the stripped corpus as the target.

    gen_docstring_queries.py SET_DIR OUTDIR [MAX] > SET_DIR/queries.jsonl

OUTDIR is what the set's prepare.sh wrote. Needs tree-sitter and the
grammars of the set's languages from PyPI (tree-sitter-typescript,
tree-sitter-javascript, tree-sitter-go, tree-sitter-java, tree-sitter-c-sharp,
tree-sitter-c, tree-sitter-cpp), which only this generator uses; the
queries it writes are committed, so running a set does not need them.

Rules, mechanical and the same as set D's where they can be:
  * the documentation sits right above a function, a method, or (JavaScript)
    a function assigned to a property (`app.render = function render(...)`),
    whose body in the stripped copy spans at least MIN_BODY_LINES lines;
  * its first sentence (markup, links and HTML dropped; Go's leading name,
    "Execute uses the args ..." -> "uses the args ...", dropped as a
    docstring does not repeat its function's name) has at least five words,
    does not only restate the name, and is not a pointer ("See ...",
    "Alias ...", "Deprecated ...", "Same as ...", "Refer to ...", "TODO ...");
  * a sentence that starts the documentation of two definitions is dropped;
  * a package's `queries` in packages.json (if any) caps its own share, a
    seeded sample, before MAX caps the whole;
  * every block prepare.py removed is checked to be comments only, so that
    the stripping never cut code.
"""
import html
import json
import random
import re
import sys
from pathlib import Path

from tree_sitter import Language, Parser

sys.path.insert(0, str(Path(__file__).parent))
from prepare import STRIPPERS  # noqa: E402

MIN_BODY_LINES = 5
COMMENTS = ("comment", "line_comment", "block_comment")  # Java names two kinds
POINTER = re.compile(r"^(see|alias|deprecated|same as|use|refer to|todo)\b", re.I)
STOP = set("""a an the of to for in on and or is are be by with from as at it its this that
these those given if into when which whether return returns returned get gets set sets new
value values object instance using use used""".split())


def parser(suffix: str, lang: str) -> Parser:
    if lang == "c":
        import tree_sitter_c
        return Parser(Language(tree_sitter_c.language()))
    if lang == "cpp":
        import tree_sitter_cpp
        return Parser(Language(tree_sitter_cpp.language()))
    if suffix == ".ts":
        import tree_sitter_typescript
        return Parser(Language(tree_sitter_typescript.language_typescript()))
    if suffix == ".js":
        import tree_sitter_javascript
        return Parser(Language(tree_sitter_javascript.language()))
    if suffix == ".go":
        import tree_sitter_go
        return Parser(Language(tree_sitter_go.language()))
    if suffix == ".java":
        import tree_sitter_java
        return Parser(Language(tree_sitter_java.language()))
    if suffix == ".cs":
        import tree_sitter_c_sharp
        return Parser(Language(tree_sitter_c_sharp.language()))
    raise SystemExit(f"no grammar for {suffix}")


def words_of_name(name):
    parts = re.findall(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|[0-9]+", name)
    return {p.lower() for p in parts}


def description(comment: str, strip: str) -> str:
    """A documentation comment's leading paragraph as plain text. C#'s XML
    documentation (`///` lines): its `<summary>` (or, without one, the whole
    comment), a `<see cref="..."/>` read as the name it points at. Doxygen's
    commands (`\\rst`, `\\brief`, `@brief`) and reStructuredText roles
    (``:ref:`gil` ``) dropped, their text kept."""
    if strip == "xmldoc":
        body = re.sub(r"^\s*///", "", comment, flags=re.M)
        if "<summary>" in body:
            body = body.split("<summary>", 1)[1].split("</summary>", 1)[0]
        body = re.sub(r'<(?:see|seealso)\s+(?:cref|langword|href)="(?:\w:)?([^"(]*)(?:\([^"]*\))?"\s*/>',
                      lambda m: m.group(1).split(".")[-1], body)
        body = re.sub(r'<(?:paramref|typeparamref)\s+name="([^"]*)"\s*/>', r"\1", body)
        body = html.unescape(re.sub(r"<[^>]+>", "", body))
        return " ".join(body.split())
    if strip == "doxygen":
        comment = re.sub(r"[\\@](?:rst|endrst|brief)\b", "", comment)
        comment = re.sub(r":\w+(?::\w+)?:`([^`]*)`", r"\1", comment).replace("``", "")
    lines = []
    for line in comment.split("\n"):
        line = re.sub(r"^\s*(?:/\*[*!]?|\*/|\*\*?|//[/!]?)?\s?", "", line).removesuffix("*/")
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


def receiver_type(receiver) -> str:
    """`Command` for Go's `(c *Command)`."""
    names = re.findall(r"[A-Za-z_][A-Za-z0-9_]*", receiver.text.decode())
    return names[-1] if names else ""


def target(decl):
    """(name, owner, definition node) of what documentation above `decl`
    documents, or None."""
    if decl.type == "export_statement":
        inner = decl.child_by_field_name("declaration")
        decl = inner if inner is not None else decl
    if decl.type in ("function_declaration", "generator_function_declaration"):
        name = decl.child_by_field_name("name")
        return (name.text.decode(), None, decl) if name is not None else None
    if decl.type == "method_declaration" and decl.child_by_field_name("receiver") is not None:  # Go
        name = decl.child_by_field_name("name")
        return name.text.decode(), receiver_type(decl.child_by_field_name("receiver")), decl
    if decl.type in ("method_declaration", "constructor_declaration"):  # Java, C#
        name = decl.child_by_field_name("name")
        owner = decl.parent.parent.child_by_field_name("name") if decl.parent.parent else None
        return name.text.decode(), owner.text.decode() if owner is not None else None, decl
    if decl.type == "template_declaration":  # C++: what the template declares
        inner = [c for c in decl.named_children if c.type == "function_definition"]
        return target(inner[0]) if inner else None
    if decl.type == "function_definition":  # C, C++
        declarator = decl.child_by_field_name("declarator")
        while declarator is not None and declarator.type != "function_declarator":
            declarator = declarator.child_by_field_name("declarator")
        if declarator is None:
            return None
        name = declarator.child_by_field_name("declarator")
        owner = None
        if name.type == "qualified_identifier":  # `Class::method` defined outside its class
            owner = name.child_by_field_name("scope")
            owner = owner.text.decode() if owner is not None else None
            name = name.child_by_field_name("name")
        else:
            body = decl.parent
            while body is not None and body.type in ("template_declaration",):
                body = body.parent
            if body is not None and body.type == "field_declaration_list":
                cls = body.parent.child_by_field_name("name")
                owner = cls.text.decode() if cls is not None else None
        while decl.parent is not None and decl.parent.type == "template_declaration":
            decl = decl.parent
        return name.text.decode(), owner, decl
    if decl.type == "method_definition":
        name = decl.child_by_field_name("name")
        cls = decl.parent.parent if decl.parent else None
        cls_name = cls.child_by_field_name("name") if cls is not None else None
        owner = cls_name.text.decode() if cls_name is not None else None
        return (name.text.decode(), owner, decl) if name is not None else None
    if decl.type == "expression_statement" and decl.named_children:
        expr = decl.named_children[0]
        if expr.type == "assignment_expression":
            left, right = expr.child_by_field_name("left"), expr.child_by_field_name("right")
            if right is not None and right.type in ("function_expression", "function", "arrow_function") \
                    and left.type == "member_expression":
                prop = left.child_by_field_name("property").text.decode()
                obj = left.child_by_field_name("object").text.decode()
                return prop, obj.removesuffix(".prototype"), decl
    return None


def starting_at(node, row):
    """The outermost node other than a comment that starts on `row`."""
    if node.start_point[0] == row and node.type not in COMMENTS and node.parent is not None:
        return node
    for child in node.children:
        if child.start_point[0] <= row <= child.end_point[0]:
            found = starting_at(child, row)
            if found is not None:
                return found
    return None


def comment_rows(node, rows):
    if node.type in COMMENTS:
        rows.update(range(node.start_point[0], node.end_point[0] + 1))
    for child in node.children:
        comment_rows(child, rows)
    return rows


def main():
    set_dir, out = Path(sys.argv[1]), Path(sys.argv[2])
    most = int(sys.argv[3]) if len(sys.argv) > 3 else 100
    packages = {p["name"]: p for p in json.loads((set_dir / "packages.json").read_text())["packages"]}
    parsers = {}
    candidates, openings = [], {}
    for path in sorted((out / "original").rglob("*")):
        if not path.is_file():
            continue
        rel = path.relative_to(out / "original").as_posix()
        package = packages[rel.split("/")[0]]
        text = path.read_text()
        key = (path.suffix, package["lang"])
        tree = parsers.setdefault(key, parser(*key)).parse(text.encode())
        stripped, removed = STRIPPERS[package["strip"]](text)
        assert stripped == (out / "corpus" / rel).read_text(), rel
        comments = comment_rows(tree.root_node, set())
        lines = text.split("\n")
        for start, end in removed:
            assert all(r in comments for r in range(start - 1, end)), f"{rel}: lines {start}-{end}"

        def to_stripped(line):
            return line - sum(e - s + 1 for s, e in removed if e < line)

        for start, end in removed:
            below = end  # 0-based: the first row below the block that is not blank
            while below < len(lines) and not lines[below].strip():
                below += 1
            decl = starting_at(tree.root_node, below)
            found = target(decl) if decl is not None else None
            if found is None:
                continue
            name, owner, node = found
            first, last = to_stripped(node.start_point[0] + 1), to_stripped(node.end_point[0] + 1)
            if last - first - 1 < MIN_BODY_LINES:
                continue
            sentence = first_sentence(description("\n".join(lines[start - 1:end]), package["strip"]))
            if package["strip"] == "go" and sentence.split(" ", 1)[0] == name:
                sentence = sentence.split(" ", 1)[1] if " " in sentence else ""
            content = [w for w in re.findall(r"[a-z0-9]+", sentence.lower()) if w not in STOP]
            if len(sentence.split()) < 5 or POINTER.match(sentence) or set(content) <= words_of_name(name):
                continue
            openings[sentence] = openings.get(sentence, 0) + 1
            candidates.append({
                "package": package["name"], "lang": package["lang"], "query": sentence, "path": rel,
                "symbol": f"{owner}.{name}" if owner else name,
                "start_line": first, "end_line": last, "kind": "docstring",
            })
    candidates = [c for c in candidates if openings[c["query"]] == 1]
    for name, package in packages.items():  # a package's own cap, so that one does not crowd out another
        own = [c for c in candidates if c["package"] == name]
        if len(own) > package.get("queries", len(own)):
            chosen = random.Random(7).sample(own, package["queries"])
            candidates = [c for c in candidates if c["package"] != name or c in chosen]
    if len(candidates) > most:
        candidates = sorted(random.Random(7).sample(candidates, most),
                            key=lambda c: (c["path"], c["start_line"]))
    for i, c in enumerate(candidates, 1):
        print(json.dumps(dict({"id": f"{c['package']}-doc-{i:03d}"}, **c)))
    print(f"{len(candidates)} queries", file=sys.stderr)


if __name__ == "__main__":
    main()
