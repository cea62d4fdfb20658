import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import type { Range, SearchHit } from '../src/protocol';
import { dedent, groupByFile, highlight, hitTitle, lineLabel, unfold } from '../src/results';

const range = (line: number, from: number, to: number, endLine = line): Range => ({
  start: { line, character: from },
  end: { line: endLine, character: to },
});

function hit(path: string, startLine: number, extra: Partial<SearchHit> = {}): SearchHit {
  const root = extra.root ?? '/ws/app';
  return {
    uri: `file://${root}/${path}`,
    root,
    path,
    range: range(startLine - 1, 0, 0, startLine + 2),
    startLine,
    endLine: startLine + 2,
    enclosing: [],
    kind: 'function',
    language: 'python',
    score: 1,
    snippet: 'def f():\n    pass',
    snippetRange: range(startLine - 1, 0, 8, startLine),
    matchRanges: [],
    ...extra,
  };
}

test('team index results group by repository and path and name their repository', () => {
  const remote = (repo: string, path: string, line: number): SearchHit =>
    hit(path, line, { uri: '', root: '', repo });
  const groups = groupByFile([hit('a.py', 10), remote('api', 'a.py', 3), remote('web', 'a.py', 7), remote('api', 'a.py', 30)]);
  assert.deepEqual(
    groups.map((g) => [g.rootName, g.path, g.repo, g.hits.map((h) => h.startLine)]),
    [
      ['app', 'a.py', undefined, [10]],
      ['api', 'a.py', 'api', [3, 30]],
      ['web', 'a.py', 'web', [7]],
    ],
  );
});

test('results are grouped by file in the order of each file’s best hit', () => {
  const hits = [hit('a.py', 10), hit('b.py', 5), hit('a.py', 40), hit('c.py', 1), hit('b.py', 90)];
  const groups = groupByFile(hits);
  assert.deepEqual(
    groups.map((g) => [g.path, g.hits.map((h) => h.startLine)]),
    [
      ['a.py', [10, 40]],
      ['b.py', [5, 90]],
      ['c.py', [1]],
    ],
  );
  assert.equal(groups[0].rootName, undefined, 'one root: no root names');
});

test('a group counts the matches the server folded away in its file', () => {
  const groups = groupByFile([hit('a.py', 10, { moreInFile: 7 }), hit('b.py', 5), hit('a.py', 40)]);
  assert.deepEqual(
    groups.map((g) => [g.path, g.hits.length, g.more]),
    [
      ['a.py', 2, 7],
      ['b.py', 1, 0],
    ],
  );
});

test('the same path in two roots is two groups, each named by its root', () => {
  const groups = groupByFile([hit('src/x.py', 1, { root: '/ws/front' }), hit('src/x.py', 1, { root: '/ws/back' })]);
  assert.deepEqual(
    groups.map((g) => [g.rootName, g.path]),
    [
      ['front', 'src/x.py'],
      ['back', 'src/x.py'],
    ],
  );
});

test('line labels and titles read as people count lines', () => {
  assert.equal(lineLabel({ startLine: 26, endLine: 40 }), 'L26–40');
  assert.equal(lineLabel({ startLine: 7, endLine: 7 }), 'L7');
  assert.equal(hitTitle({ symbol: 'render', enclosing: ['class Template'], kind: 'method', startLine: 3 }), 'render');
  assert.equal(hitTitle({ symbol: undefined, enclosing: [], kind: 'text', startLine: 41 }), 'text at line 41');
});

test('snippets are cut at the match ranges, line by line', () => {
  const snippet = '    def retry_upload(self):\n        """Retry later."""';
  const lines = highlight(snippet, range(25, 0, 26, 26), [
    range(25, 8, 13),
    range(25, 14, 20),
    range(26, 11, 16),
    range(30, 0, 4), // outside the snippet
    range(25, 9, 12), // overlaps an earlier match
  ]);
  assert.deepEqual(lines, [
    [
      { text: '    def ', match: false },
      { text: 'retry', match: true },
      { text: '_', match: false },
      { text: 'upload', match: true },
      { text: '(self):', match: false },
    ],
    [
      { text: '        """', match: false },
      { text: 'Retry', match: true },
      { text: ' later."""', match: false },
    ],
  ]);
  assert.deepEqual(dedent(lines)[0][0], { text: 'def ', match: false });
  assert.deepEqual(dedent(lines)[1][0], { text: '    """', match: false });
});

test('a snippet without matches is one plain piece a line', () => {
  assert.deepEqual(highlight('a\n\nb', range(0, 0, 1, 2), []), [
    [{ text: 'a', match: false }],
    [{ text: '', match: false }],
    [{ text: 'b', match: false }],
  ]);
});

test('unfolding a file puts all its matches where its first stood and folds nothing of it', () => {
  const answer = [hit('a.py', 1, { moreInFile: 2 }), hit('b.py', 5), hit('a.py', 20), hit('c.py', 9, { moreInFile: 1 })];
  const within = [hit('a.py', 20), hit('a.py', 1), hit('a.py', 40), hit('a.py', 60)];
  const shown = unfold(answer, 'file:///ws/app/a.py', within);
  assert.deepEqual(
    shown.map((h) => `${h.path}:${h.startLine}`),
    ['a.py:20', 'a.py:1', 'a.py:40', 'a.py:60', 'b.py:5', 'c.py:9'],
  );
  assert.deepEqual(
    groupByFile(shown).map((g) => [g.path, g.more]),
    [
      ['a.py', 0],
      ['b.py', 0],
      ['c.py', 1],
    ],
  );
  // A file the answer no longer has (a newer search came first) changes nothing.
  assert.deepEqual(unfold(answer, 'file:///ws/app/gone.py', within), answer);
});
