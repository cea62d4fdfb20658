// The manifest, the settings and the docs against the server they describe.
import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { SERVER_KEYS, serverSettings } from '../src/settings';

const repo = join(__dirname, '..', '..', '..');
const manifest = JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8'));

test('every setting but the server path mirrors a configuration key of the server', () => {
  const config = readFileSync(join(repo, 'server', 'engine', 'src', 'config.rs'), 'utf8');
  const lsp = readFileSync(join(repo, 'server', 'lsp', 'src', 'lib.rs'), 'utf8');
  const settings = Object.keys(manifest.contributes.configuration.properties).map((k: string) => k.replace(/^dowse\./, ''));
  assert.deepEqual(settings.filter((s) => s !== 'server.path').sort(), Object.keys(SERVER_KEYS).sort());
  for (const key of Object.values(SERVER_KEYS)) {
    const known = config.includes(`"${key}" =>`) || config.includes(`"${key}" |`) || lsp.includes(`"${key}"`);
    assert.ok(known, `the server has no setting ${key}`);
  }
});

test('only the settings the user set are sent, as the server names them', () => {
  const set: Record<string, unknown> = { exclude: ['vendor/**'], debounceMs: 50, indexDir: '  ', semantic: false };
  assert.deepEqual(serverSettings((k) => set[k]), { exclude: ['vendor/**'], debounce_ms: 50, semantic: false });
});

test('extension commands never collide with the server’s commands', () => {
  const lsp = readFileSync(join(repo, 'server', 'lsp', 'src', 'commands.rs'), 'utf8');
  assert.match(lsp, /format!\("dowse\.\{\}", self\.name\(\)\)/, 'server commands are dowse.<name>');
  const serverCommands = ['search', 'findUsages', 'findSimilar', 'context', 'health', 'stats', 'reindex'].map((n) => `dowse.${n}`);
  for (const name of serverCommands) {
    assert.ok(lsp.includes(`"${name.slice('dowse.'.length)}"`), `${name} is a server command`);
  }
  const ours: string[] = manifest.contributes.commands.map((c: { command: string }) => c.command);
  assert.equal(ours.length, 6);
  for (const command of ours) {
    assert.ok(!serverCommands.includes(command), `${command} is also a server command`);
  }
});

test('the .vscodeignore is an allow-list', () => {
  const lines = readFileSync(join(repo, '.vscodeignore'), 'utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l.length > 0 && !l.startsWith('#'));
  assert.equal(lines[0], '**', 'everything is left out first');
  assert.ok(lines.slice(1).every((l) => l.startsWith('!')), 'then only what ships is let back in');
  assert.ok(lines.includes('!vsce/out/extension.js'));
});

test('docs/protocol.md shows the shapes of protocol.ts verbatim', () => {
  const source = readFileSync(join(repo, 'vsce', 'src', 'protocol.ts'), 'utf8');
  const shapes = source.slice(source.indexOf('// --- shapes ---') + '// --- shapes ---'.length, source.indexOf('// --- methods ---')).trim();
  const doc = readFileSync(join(repo, 'docs', 'protocol.md'), 'utf8');
  const block = /```ts\n([\s\S]*?)```/.exec(doc);
  assert.ok(block, 'docs/protocol.md has a ```ts block');
  assert.equal(block[1].trim(), shapes);
  const methods = [...source.matchAll(/'(dowse\/\w+)'/g)].map((m) => m[1]);
  for (const method of methods) {
    assert.ok(doc.includes(`\`${method}\``), `docs/protocol.md documents ${method}`);
  }
});
