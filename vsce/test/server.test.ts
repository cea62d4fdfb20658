import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { type Lookup, NOT_FOUND, resolveServer } from '../src/server';

function lookup(executables: string[], extra: Partial<Lookup> = {}): Lookup {
  return {
    setting: '',
    extensionPath: '/ext',
    platform: 'linux',
    envPath: '/usr/local/bin:/usr/bin',
    home: '/home/me',
    isExecutable: (file) => executables.includes(file),
    ...extra,
  };
}

test('the setting wins over the bundled binary and PATH', () => {
  const all = ['/opt/dowse', '/ext/vsce/bin/dowse', '/usr/bin/dowse'];
  assert.deepEqual(resolveServer(lookup(all, { setting: '/opt/dowse' })), { path: '/opt/dowse', source: 'setting' });
});

test('then the binary bundled in the .vsix', () => {
  assert.deepEqual(resolveServer(lookup(['/ext/vsce/bin/dowse', '/usr/bin/dowse'])), {
    path: '/ext/vsce/bin/dowse',
    source: 'bundled',
  });
});

test('then the first dowse on PATH', () => {
  assert.deepEqual(resolveServer(lookup(['/usr/bin/dowse'])), { path: '/usr/bin/dowse', source: 'PATH' });
  assert.deepEqual(
    resolveServer(lookup(['C:\\tools\\dowse.exe'], { platform: 'win32', envPath: 'C:\\tools', extensionPath: 'C:\\ext' })),
    { path: 'C:\\tools\\dowse.exe', source: 'PATH' },
  );
});

test('nothing found: an error that says how to get one', () => {
  const resolved = resolveServer(lookup([]));
  assert.deepEqual(resolved, { error: NOT_FOUND });
  assert.match(NOT_FOUND, /dowse\.server\.path/);
  assert.match(NOT_FOUND, /PATH/);
});

test('a setting that names no executable is an error, not a silent fallback', () => {
  const resolved = resolveServer(lookup(['/usr/bin/dowse'], { setting: '/nowhere/dowse' }));
  assert.ok('error' in resolved);
  assert.match(resolved.error, /\/nowhere\/dowse/);
});

test('~ in the setting is the home directory', () => {
  assert.deepEqual(resolveServer(lookup(['/home/me/bin/dowse'], { setting: '~/bin/dowse' })), {
    path: '/home/me/bin/dowse',
    source: 'setting',
  });
});
