import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import type { StatusParams } from '../src/protocol';
import { describeFailure, describeStatus } from '../src/status';

function status(extra: Partial<StatusParams>): StatusParams {
  return {
    phase: 'ready',
    files: 1200,
    chunks: 9000,
    vectors: 9000,
    vectorsTotal: 9000,
    coverage: 1,
    health: 'healthy',
    degraded: null,
    work: null,
    graphsBuilding: false,
    openBuffers: 0,
    diskCommits: 3,
    generation: 7,
    languages: [
      { name: 'typescript', files: 900, chunks: 7000, syntax: true, usages: 'file' },
      { name: 'markdown', files: 300, chunks: 2000, syntax: true, usages: 'none' },
    ],
    roots: [{ name: 'app', path: '/ws/app', files: 1200, chunks: 9000, vectors: 9000, readOnly: false }],
    team: null,
    ...extra,
  };
}

test('ready: counts, no alarm', () => {
  const view = describeStatus(status({}));
  assert.equal(view.level, 'ok');
  assert.equal(view.text, '$(search) dowse');
  assert.equal(view.summary, 'Ready: 1,200 files, 9,000 chunks.');
});

test('indexing: how far, and that keyword results cover what is done', () => {
  const view = describeStatus(status({ phase: 'indexing', work: { stage: 'indexing', done: 300, total: 1200 } }));
  assert.equal(view.level, 'busy');
  assert.equal(view.text, '$(sync~spin) dowse: indexing 25%');
  assert.match(view.summary, /300 of 1,200 files/);
});

test('embedding: the coverage of search by meaning', () => {
  const view = describeStatus(
    status({ phase: 'embedding', vectors: 4050, coverage: 0.45, work: { stage: 'embedding', done: 4050, total: 9000 } }),
  );
  assert.equal(view.text, '$(sync~spin) dowse: 45% by meaning');
  assert.match(view.summary, /covers 45% \(4,050 of 9,000 chunks\)/);
});

test('degraded: keyword only, with the reason and the fix', () => {
  const view = describeStatus(
    status({ health: 'degraded', degraded: 'keyword search only: no embedding model found; run `dowse model install`' }),
  );
  assert.equal(view.level, 'warning');
  assert.equal(view.summary, 'Keyword search only. No embedding model found; run `dowse model install`');
});

test('unsaved buffers and several roots show in the detail', () => {
  const view = describeStatus(
    status({
      openBuffers: 2,
      roots: [
        { name: 'front', path: '/ws/front', files: 200, chunks: 1, vectors: 1, readOnly: false },
        { name: 'back', path: '/ws/back', files: 1000, chunks: 1, vectors: 1, readOnly: false },
      ],
    }),
  );
  assert.match(view.detail, /2 unsaved buffers searched as you type/);
  assert.match(view.detail, /front: 200 files\nback: 1,000 files/);
});

test('a server that is not running says why', () => {
  const view = describeFailure('spawn /opt/dowse ENOENT');
  assert.equal(view.level, 'error');
  assert.equal(view.summary, 'The dowse server is not running: spawn /opt/dowse ENOENT');
});

test('the workspace languages, and those find usages does not cover', () => {
  const view = describeStatus(status({}));
  assert.match(view.detail, /Languages: typescript 900, markdown 300\./);
  assert.match(view.detail, /Find usages does not cover markdown\./);
});
