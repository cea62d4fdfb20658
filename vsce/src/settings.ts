// VS Code settings to the server's configuration keys (the keys of
// dowse.toml). Only settings the user set are sent: a value left at its
// default must not override the workspace's dowse.toml (the server layers
// defaults < dowse.toml < editor settings < environment < flags).

/** VS Code setting (under `dowse.`) → server key. */
export const SERVER_KEYS: Readonly<Record<string, string>> = {
  include: 'include',
  exclude: 'exclude',
  maxFileSize: 'max_file_size',
  followSymlinks: 'follow_symlinks',
  threads: 'threads',
  semantic: 'semantic',
  modelDir: 'model_dir',
  indexDir: 'index_dir',
  backups: 'backups',
  debounceMs: 'debounce_ms',
  mcp: 'mcp',
  mcpPort: 'mcp_port',
};

/** A setting's value where the user set it (undefined: not set). */
export type Explicit = (setting: string) => unknown;

export function serverSettings(explicit: Explicit): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [setting, key] of Object.entries(SERVER_KEYS)) {
    const value = explicit(setting);
    if (value === undefined || value === null) {
      continue;
    }
    if (typeof value === 'string' && value.trim().length === 0) {
      continue;
    }
    out[key] = value;
  }
  return out;
}
