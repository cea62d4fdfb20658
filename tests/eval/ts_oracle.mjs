// Usages targets for TypeScript with the TypeScript compiler as the oracle:
// for every function, class, method and property declared in a corpus's
// .ts files (declaration files apart), the language service's
// findReferences gives the references a type checker sees. Prints JSON
// lines in the format of set D's usages.jsonl plus the references:
//   {"symbol", "kind", "def": {"path", "line", "column"}, "refs": [{"path", "line", "column"}]}
// Paths are relative to the corpus; lines and columns 1-based (columns in
// UTF-16 units, as the compiler counts; the corpora used are ASCII).
//
//   node tests/eval/ts_oracle.mjs CORPUS_DIR [--js] > targets.jsonl
//
// With --js the corpus's JavaScript files are read instead (the compiler
// infers their types; `allowJs`).
//
// Needs the `typescript` package (the repository's own devDependency).

import { readdirSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, relative, resolve } from 'node:path';

const require = createRequire(import.meta.url);
const ts = require('typescript');

// Absolute, or the compiler resolves imports against another directory
// than the files' names and links nothing across files.
const root = process.argv[2] && resolve(process.argv[2]);
const js = process.argv.includes('--js');
const pattern = js ? /\.(js|mjs|cjs|jsx)$/ : /\.tsx?$/;
if (!root) {
  console.error('usage: node tests/eval/ts_oracle.mjs CORPUS_DIR');
  process.exit(2);
}

function sources(dir) {
  const out = [];
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) {
      if (name !== 'node_modules') out.push(...sources(path));
    } else if (pattern.test(name) && !name.endsWith('.d.ts') && !name.includes('.min.')) {
      out.push(path);
    }
  }
  return out;
}

const files = sources(root);
const texts = new Map(files.map((f) => [f, readFileSync(f, 'utf8')]));
const host = {
  getScriptFileNames: () => files,
  getScriptVersion: () => '1',
  getScriptSnapshot: (f) => {
    const text = texts.get(f) ?? (ts.sys.fileExists(f) ? ts.sys.readFile(f) : undefined);
    return text === undefined ? undefined : ts.ScriptSnapshot.fromString(text);
  },
  getCurrentDirectory: () => root,
  getCompilationSettings: () => ({ target: ts.ScriptTarget.ES2020, module: ts.ModuleKind.CommonJS, strict: false, allowJs: js, checkJs: false, noLib: false }),
  getDefaultLibFileName: (o) => ts.getDefaultLibFilePath(o),
  fileExists: ts.sys.fileExists,
  readFile: ts.sys.readFile,
  readDirectory: ts.sys.readDirectory,
};
const service = ts.createLanguageService(host, ts.createDocumentRegistry());
const program = service.getProgram();

function position(file, pos) {
  const sf = program.getSourceFile(file);
  const { line, character } = sf.getLineAndCharacterOfPosition(pos);
  return { path: relative(root, file), line: line + 1, column: character + 1 };
}

const KINDS = {
  [ts.SyntaxKind.FunctionDeclaration]: 'function',
  [ts.SyntaxKind.ClassDeclaration]: 'class',
  [ts.SyntaxKind.MethodDeclaration]: 'method',
  [ts.SyntaxKind.InterfaceDeclaration]: 'interface',
  [ts.SyntaxKind.TypeAliasDeclaration]: 'type',
  [ts.SyntaxKind.EnumDeclaration]: 'enum',
};

// `x.m = function () {..}` (or an arrow function): the property access
// `x.m` assigned to, else undefined.
function assignedFunction(node) {
  const assigns =
    ts.isBinaryExpression(node) &&
    node.operatorToken.kind === ts.SyntaxKind.EqualsToken &&
    ts.isPropertyAccessExpression(node.left) &&
    (ts.isFunctionExpression(node.right) || ts.isArrowFunction(node.right));
  return assigns ? node.left : undefined;
}

for (const file of files) {
  const sf = program.getSourceFile(file);
  const visit = (node) => {
    let kind = KINDS[node.kind];
    // A method of an object literal is found through the interface the
    // literal implements: the compiler links every implementation, a
    // different question from a class's method.
    if (kind === 'method' && node.parent && ts.isObjectLiteralExpression(node.parent)) {
      kind = 'object-method';
    }
    let name = node.name;
    const assigned = kind ? undefined : assignedFunction(node);
    if (
      assigned &&
      ts.isPropertyAccessExpression(assigned.expression) &&
      assigned.expression.name.text === 'prototype'
    ) {
      // JavaScript's `F.prototype.m = function () {..}`: a method of `F`.
      kind = 'prototype-method';
      name = assigned.name;
    } else if (
      assigned &&
      ts.isIdentifier(assigned.expression) &&
      !['exports', 'module'].includes(assigned.expression.text)
    ) {
      // `obj.m = function () {..}` with `obj` a name (express's `res.send =
      // function send(..)`): a method of the object. The compiler types
      // `this` in such a function only for some objects (an object
      // literal's or a function's expando properties, not
      // `Object.create(..)`'s), and only in functions assigned after the
      // method: read its misses so.
      kind = 'assigned-method';
      name = assigned.name;
    }
    if (kind && name && ts.isIdentifier(name)) {
      const at = name.getStart(sf);
      const found = service.findReferences(file, at) ?? [];
      const refs = [];
      for (const symbol of found) {
        for (const ref of symbol.references) {
          if (ref.isDefinition || !files.includes(ref.fileName)) continue;
          refs.push(position(ref.fileName, ref.textSpan.start));
        }
      }
      const key = (r) => `${r.path}:${String(r.line).padStart(6, '0')}:${String(r.column).padStart(4, '0')}`;
      refs.sort((a, b) => key(a).localeCompare(key(b)));
      const unique = refs.filter((r, i) => i === 0 || key(r) !== key(refs[i - 1]));
      console.log(JSON.stringify({ symbol: name.text, kind, def: position(file, at), refs: unique }));
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
}
