// Bundles the extension (Node, CommonJS, `vscode` external) and the
// sidebar's script (browser) with esbuild; `--tests` also bundles the unit
// tests; `--production` minifies and drops source maps.
import { build } from 'esbuild';
import { readdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const vsce = join(here, '..');
const production = process.argv.includes('--production');
const tests = process.argv.includes('--tests');

rmSync(join(vsce, 'out'), { recursive: true, force: true });

const common = {
  bundle: true,
  minify: production,
  sourcemap: production ? false : 'linked',
  logLevel: 'warning',
};

await build({
  ...common,
  entryPoints: [join(vsce, 'src', 'extension.ts')],
  outfile: join(vsce, 'out', 'extension.js'),
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  external: ['vscode'],
});

await build({
  ...common,
  entryPoints: [join(vsce, 'src', 'webview', 'main.ts')],
  outfile: join(vsce, 'out', 'webview.js'),
  platform: 'browser',
  format: 'iife',
  target: 'es2022',
});

if (tests) {
  const entries = readdirSync(join(vsce, 'test'))
    .filter((f) => f.endsWith('.test.ts'))
    .map((f) => join(vsce, 'test', f));
  await build({
    ...common,
    entryPoints: entries,
    outdir: join(vsce, 'out', 'test'),
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    external: ['vscode'],
  });
}
