// Usages targets for Go with the Go type checker (go/types) as the oracle:
// for every function, method, type and struct field declared in a corpus's
// .go files (tests apart), the identifiers the checker resolves to it.
// Prints JSON lines in the format of tests/eval/ts_oracle.mjs, for
// tests/eval/oracle_usages.py:
//
//	{"symbol", "kind", "def": {"path", "line", "column"}, "refs": [{"path", "line", "column"}]}
//
// Paths relative to the corpus; lines and columns 1-based (bytes; the
// corpora used are ASCII).
//
//	go run tests/eval/go_oracle.go CORPUS_DIR > targets.jsonl
//
// The standard library only (go/parser, go/types, go/importer). Every
// directory of the corpus with .go files is a package; an import whose
// path ends with a corpus directory (github.com/spf13/pflag -> pflag/) is
// that package, checked once and shared, so that a use in one package of a
// name of another links to the same object; anything else comes from the
// standard library's source, or is missing (its names stay unresolved and
// are not counted).
package main

import (
	"encoding/json"
	"fmt"
	"go/ast"
	"go/importer"
	"go/parser"
	"go/token"
	"go/types"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

type pos struct {
	Path   string `json:"path"`
	Line   int    `json:"line"`
	Column int    `json:"column"`
}

type target struct {
	Symbol string `json:"symbol"`
	Kind   string `json:"kind"`
	Def    pos    `json:"def"`
	Refs   []pos  `json:"refs"`
}

type checker struct {
	root     string
	fset     *token.FileSet
	std      types.Importer
	dirs     []string // corpus directories holding a package, relative
	packages map[string]*types.Package
	defs     map[*ast.Ident]types.Object
	uses     map[*ast.Ident]types.Object
	order    []string // package directories in the order checked
}

func (c *checker) Import(path string) (*types.Package, error) {
	for _, dir := range c.dirs {
		if path == dir || strings.HasSuffix(path, "/"+dir) {
			return c.check(dir)
		}
	}
	return c.std.Import(path)
}

func (c *checker) check(dir string) (*types.Package, error) {
	if pkg, ok := c.packages[dir]; ok {
		if pkg == nil {
			return nil, fmt.Errorf("import cycle through %s", dir)
		}
		return pkg, nil
	}
	c.packages[dir] = nil
	entries, err := os.ReadDir(filepath.Join(c.root, dir))
	if err != nil {
		return nil, err
	}
	var files []*ast.File
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || !strings.HasSuffix(name, ".go") || strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(c.fset, filepath.Join(c.root, dir, name), nil, parser.ParseComments)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			continue
		}
		files = append(files, f)
	}
	// A directory may hold several packages (a `main` beside a library);
	// keep the most common name.
	count := map[string]int{}
	for _, f := range files {
		count[f.Name.Name]++
	}
	best := ""
	for name, n := range count {
		if n > count[best] || (n == count[best] && name < best) {
			best = name
		}
	}
	kept := files[:0]
	for _, f := range files {
		if f.Name.Name == best {
			kept = append(kept, f)
		}
	}
	info := &types.Info{Defs: c.defs, Uses: c.uses}
	config := types.Config{Importer: c, Error: func(error) {}}
	pkg, _ := config.Check(dir, c.fset, kept, info)
	c.packages[dir] = pkg
	c.order = append(c.order, dir)
	return pkg, nil
}

func (c *checker) position(p token.Pos) pos {
	at := c.fset.Position(p)
	rel, _ := filepath.Rel(c.root, at.Filename)
	return pos{filepath.ToSlash(rel), at.Line, at.Column}
}

// kind says what a definition is, or "" for what is not a target (locals,
// parameters, package names, constants and variables).
func kind(obj types.Object) string {
	switch o := obj.(type) {
	case *types.Func:
		if o.Type().(*types.Signature).Recv() != nil {
			return "method"
		}
		return "function"
	case *types.TypeName:
		if o.Parent() == o.Pkg().Scope() {
			return "type"
		}
	case *types.Var:
		if o.IsField() {
			return "field"
		}
	}
	return ""
}

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: go run tests/eval/go_oracle.go CORPUS_DIR")
		os.Exit(2)
	}
	root, err := filepath.Abs(os.Args[1])
	if err != nil {
		panic(err)
	}
	fset := token.NewFileSet()
	c := &checker{
		root: root, fset: fset, std: importer.ForCompiler(fset, "source", nil),
		packages: map[string]*types.Package{},
		defs:     map[*ast.Ident]types.Object{}, uses: map[*ast.Ident]types.Object{},
	}
	filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(path, ".go") && !strings.HasSuffix(path, "_test.go") {
			dir, _ := filepath.Rel(root, filepath.Dir(path))
			if len(c.dirs) == 0 || c.dirs[len(c.dirs)-1] != filepath.ToSlash(dir) {
				c.dirs = append(c.dirs, filepath.ToSlash(dir))
			}
		}
		return nil
	})
	// Longest first, so that `cobra/doc` is matched before `cobra`.
	sort.Slice(c.dirs, func(i, j int) bool { return len(c.dirs[i]) > len(c.dirs[j]) })
	for _, dir := range c.dirs {
		c.check(dir)
	}

	refs := map[types.Object][]pos{}
	for ident, obj := range c.uses {
		if obj != nil && obj.Pkg() != nil && c.packages[obj.Pkg().Path()] == obj.Pkg() {
			refs[obj] = append(refs[obj], c.position(ident.Pos()))
		}
	}
	var out []target
	for ident, obj := range c.defs {
		if obj == nil || ident.Name == "_" {
			continue
		}
		k := kind(obj)
		if k == "" || obj.Pos() != ident.Pos() {
			continue
		}
		found := refs[obj]
		sort.Slice(found, func(i, j int) bool {
			a, b := found[i], found[j]
			if a.Path != b.Path {
				return a.Path < b.Path
			}
			if a.Line != b.Line {
				return a.Line < b.Line
			}
			return a.Column < b.Column
		})
		out = append(out, target{ident.Name, k, c.position(ident.Pos()), found})
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i].Def, out[j].Def
		if a.Path != b.Path {
			return a.Path < b.Path
		}
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		return a.Column < b.Column
	})
	encoder := json.NewEncoder(os.Stdout)
	for _, t := range out {
		if t.Refs == nil {
			t.Refs = []pos{}
		}
		encoder.Encode(t)
	}
	fmt.Fprintf(os.Stderr, "%d targets in %d packages\n", len(out), len(c.order))
}
