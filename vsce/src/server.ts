// Which `dowse` binary the extension runs: the `dowse.server.path` setting,
// else the binary bundled in the .vsix, else `dowse` on PATH, else an error
// that says how to get one. Pure (the file system is passed in), unit-tested.

import * as path from 'path';

export interface Lookup {
  /** `dowse.server.path`, as set (may be empty). */
  setting: string;
  /** The extension's install directory. */
  extensionPath: string;
  platform: NodeJS.Platform;
  /** PATH. */
  envPath: string | undefined;
  home: string | undefined;
  /** Whether an executable file is at this path. */
  isExecutable(file: string): boolean;
}

export type Resolved =
  | { path: string; source: 'setting' | 'bundled' | 'PATH' }
  | { error: string };

export const NOT_FOUND =
  'Could not find the dowse binary. Set "dowse.server.path" to it, or put dowse on your PATH ' +
  '(build it with `cargo build --release -p dowse-cli` and use target/release/dowse).';

export function resolveServer(lookup: Lookup): Resolved {
  const windows = lookup.platform === 'win32';
  const exe = windows ? 'dowse.exe' : 'dowse';
  const join = windows ? path.win32.join : path.posix.join;
  const setting = lookup.setting.trim();
  if (setting.length > 0) {
    const expanded =
      setting.startsWith('~/') && lookup.home ? join(lookup.home, setting.slice(2)) : setting;
    if (lookup.isExecutable(expanded)) {
      return { path: expanded, source: 'setting' };
    }
    return {
      error: `"dowse.server.path" is set to ${setting}, which is not an executable file. Fix the setting, or clear it to use the bundled binary or dowse on PATH.`,
    };
  }
  const bundled = join(lookup.extensionPath, 'vsce', 'bin', exe);
  if (lookup.isExecutable(bundled)) {
    return { path: bundled, source: 'bundled' };
  }
  const separator = windows ? ';' : ':';
  for (const dir of (lookup.envPath ?? '').split(separator)) {
    if (dir.length === 0) {
      continue;
    }
    const candidate = join(dir, exe);
    if (lookup.isExecutable(candidate)) {
      return { path: candidate, source: 'PATH' };
    }
  }
  return { error: NOT_FOUND };
}
