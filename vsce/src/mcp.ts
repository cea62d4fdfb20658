// The MCP endpoint of the running server, registered with VS Code's MCP
// support: the editor's agent mode searches the same live index, with no
// configuration (the URL and the bearer token come from `dowse/mcpEndpoint`).

import * as vscode from 'vscode';
import type { McpEndpoint } from './protocol';

export const PROVIDER_ID = 'dowse.mcp';

export class McpProvider implements vscode.McpServerDefinitionProvider<vscode.McpHttpServerDefinition> {
  private endpoint: McpEndpoint | null = null;
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChangeMcpServerDefinitions = this.changed.event;

  /** The server (re)started with this endpoint, or stopped (null). */
  set(endpoint: McpEndpoint | null): void {
    const same =
      endpoint?.url === this.endpoint?.url && endpoint?.token === this.endpoint?.token;
    this.endpoint = endpoint;
    if (!same) {
      this.changed.fire();
    }
  }

  provideMcpServerDefinitions(): vscode.McpHttpServerDefinition[] {
    if (!this.endpoint) {
      return [];
    }
    return [
      new vscode.McpHttpServerDefinition(
        'dowse',
        vscode.Uri.parse(this.endpoint.url),
        { Authorization: `Bearer ${this.endpoint.token}` },
        // A new token is a new server: the editor reconnects.
        this.endpoint.token.slice(0, 8),
      ),
    ];
  }

  dispose(): void {
    this.changed.dispose();
  }
}

/** Registers the provider where the editor has the MCP API (VS Code ≥ 1.101). */
export function registerMcp(provider: McpProvider, log: vscode.LogOutputChannel): vscode.Disposable | undefined {
  const lm = (vscode as { lm?: typeof vscode.lm }).lm;
  if (!lm || typeof lm.registerMcpServerDefinitionProvider !== 'function') {
    log.info('this editor has no MCP API: the endpoint is not registered');
    return undefined;
  }
  log.info(`registering the MCP server definition provider ${PROVIDER_ID}`);
  return lm.registerMcpServerDefinitionProvider(PROVIDER_ID, provider);
}
