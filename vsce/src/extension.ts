// The Dowse extension: starts `dowse lsp` through vscode-languageclient and
// puts its index in front of the user — a search sidebar, commands, a
// status-bar item fed by `dowse/status`, work-done progress while indexing —
// and in front of the editor's agent (the MCP endpoint, registered with VS
// Code). The extension calls the custom requests `dowse/*` (never the
// server's `dowse.*` commands, which the client registers as VS Code
// commands of those names).

import * as fs from 'fs';
import * as vscode from 'vscode';
import {
  LanguageClient,
  type LanguageClientOptions,
  type ServerOptions,
  State,
} from 'vscode-languageclient/node';
import * as P from './protocol';
import { McpProvider, registerMcp } from './mcp';
import { SearchViewProvider } from './searchView';
import { resolveServer } from './server';
import { SERVER_KEYS, serverSettings } from './settings';
import { describeFailure, describeStatus } from './status';
import { showPlaces, usagePlaces } from './usages';

let dowse: Dowse | undefined;

export async function activate(context: vscode.ExtensionContext): Promise<void> {
  dowse = new Dowse(context);
  await dowse.start();
}

export async function deactivate(): Promise<void> {
  await dowse?.stop();
  dowse = undefined;
}

function isExecutable(file: string): boolean {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}

/** The settings the user set, as the server's keys. */
function explicitSettings(): Record<string, unknown> {
  const config = vscode.workspace.getConfiguration('dowse');
  return serverSettings((setting) => {
    const inspected = config.inspect(setting);
    return inspected?.workspaceFolderValue ?? inspected?.workspaceValue ?? inspected?.globalValue;
  });
}

class Dowse {
  private client: LanguageClient | undefined;
  private readonly log: vscode.LogOutputChannel;
  private readonly statusItem: vscode.StatusBarItem;
  private readonly view: SearchViewProvider;
  private readonly mcp = new McpProvider();
  private status: P.StatusParams | undefined;
  private failure: string | undefined;

  constructor(private readonly context: vscode.ExtensionContext) {
    this.log = vscode.window.createOutputChannel('Dowse', { log: true });
    this.statusItem = vscode.window.createStatusBarItem('dowse.status', vscode.StatusBarAlignment.Left, 0);
    this.statusItem.name = 'Dowse';
    this.statusItem.command = 'dowse.showHealth';
    this.view = new SearchViewProvider(
      context.extensionUri,
      {
        search: (params) => this.request<P.SearchResponse>(P.Methods.search, params),
        restart: () => this.restart(),
      },
      this.log,
    );
    const mcp = registerMcp(this.mcp, this.log);
    context.subscriptions.push(
      this.log,
      this.statusItem,
      this.mcp,
      ...(mcp ? [mcp] : []),
      vscode.window.registerWebviewViewProvider(SearchViewProvider.id, this.view, {
        webviewOptions: { retainContextWhenHidden: true },
      }),
      vscode.commands.registerCommand('dowse.openSearch', () => this.openSearch()),
      vscode.commands.registerCommand('dowse.showUsages', () => this.showUsages()),
      vscode.commands.registerCommand('dowse.showSimilar', () => this.showSimilar()),
      vscode.commands.registerCommand('dowse.showHealth', () => this.showHealth()),
      vscode.commands.registerCommand('dowse.reindexWorkspace', () => this.reindex()),
      vscode.commands.registerCommand('dowse.restartServer', () => this.restart()),
      vscode.workspace.onDidChangeConfiguration((event) => this.configurationChanged(event)),
    );
    this.render();
  }

  async start(): Promise<void> {
    const config = vscode.workspace.getConfiguration('dowse');
    const resolved = resolveServer({
      setting: config.get<string>('server.path', ''),
      extensionPath: this.context.extensionPath,
      platform: process.platform,
      envPath: process.env.PATH,
      home: process.env.HOME,
      isExecutable,
    });
    if ('error' in resolved) {
      this.fail(resolved.error);
      void vscode.window.showErrorMessage(resolved.error, 'Open Settings').then((pick) => {
        if (pick) {
          void vscode.commands.executeCommand('workbench.action.openSettings', 'dowse.server.path');
        }
      });
      return;
    }
    this.log.info(`starting ${resolved.path} lsp (from ${resolved.source})`);
    // stdio, without the `--stdio` flag a transport kind would add.
    const serverOptions: ServerOptions = {
      command: resolved.path,
      args: ['lsp'],
      options: { env: process.env },
    };
    const clientOptions: LanguageClientOptions = {
      documentSelector: [{ scheme: 'file' }],
      initializationOptions: explicitSettings(),
      outputChannel: this.log,
      progressOnInitialization: true,
    };
    const client = new LanguageClient('dowse', 'Dowse', serverOptions, clientOptions);
    this.client = client;
    this.failure = undefined;
    client.onDidChangeState((event) => {
      if (event.newState === State.Stopped && this.client === client) {
        this.mcp.set(null);
        if (!this.failure) {
          this.fail('it stopped (see the Dowse output for why)');
        }
      }
    });
    try {
      await client.start();
    } catch (err) {
      this.fail(err instanceof Error ? err.message : String(err));
      return;
    }
    client.onNotification(P.Methods.status, (status: P.StatusParams) => {
      this.status = status;
      this.render();
    });
    this.render();
    void this.findMcpEndpoint(client);
  }

  async stop(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    this.mcp.set(null);
    if (client) {
      try {
        await client.stop(10_000);
      } catch (err) {
        this.log.warn(`stopping the server: ${String(err)}`);
      }
    }
  }

  async restart(): Promise<void> {
    await this.stop();
    this.status = undefined;
    this.failure = undefined;
    this.render();
    await this.start();
  }

  /** The MCP endpoint starts just after the server: ask until it answers. */
  private async findMcpEndpoint(client: LanguageClient): Promise<void> {
    for (let attempt = 0; attempt < 50 && this.client === client; attempt++) {
      try {
        const endpoint = await client.sendRequest<P.McpEndpoint | null>(P.Methods.mcpEndpoint);
        if (endpoint) {
          this.log.info(`MCP endpoint ${endpoint.url} registered with the editor`);
          this.mcp.set(endpoint);
          return;
        }
      } catch (err) {
        this.log.warn(`dowse/mcpEndpoint: ${String(err)}`);
        return;
      }
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }

  private fail(message: string): void {
    this.failure = message;
    this.log.error(`the server is not running: ${message}`);
    this.render();
  }

  private render(): void {
    const view = this.failure
      ? describeFailure(this.failure)
      : this.status
        ? describeStatus(this.status)
        : { text: '$(sync~spin) dowse', summary: 'Starting…', detail: 'Starting the dowse server.', level: 'busy' as const };
    this.statusItem.text = view.text;
    this.statusItem.tooltip = `${view.summary}\n\n${view.detail}\n\nClick for the health report.`;
    this.statusItem.accessibilityInformation = { label: `Dowse: ${view.summary}` };
    this.statusItem.backgroundColor =
      view.level === 'error'
        ? new vscode.ThemeColor('statusBarItem.errorBackground')
        : view.level === 'warning'
          ? new vscode.ThemeColor('statusBarItem.warningBackground')
          : undefined;
    this.statusItem.show();
    // Results refresh when answers may have changed, or the phase moved.
    const generation = this.status ? this.status.generation * 8 + phaseIndex(this.status.phase) : -1;
    this.view.setState(view, generation, this.status?.languages.map((l) => l.name) ?? [], this.status?.team ?? null);
  }

  private async request<R>(method: string, params?: object): Promise<R> {
    const client = this.client;
    if (!client || !client.isRunning()) {
      throw new Error(this.failure ? `the dowse server is not running: ${this.failure}` : 'the dowse server is starting');
    }
    return params === undefined ? client.sendRequest<R>(method) : client.sendRequest<R>(method, params);
  }

  private async openSearch(): Promise<void> {
    await vscode.commands.executeCommand(`${SearchViewProvider.id}.focus`);
    const editor = vscode.window.activeTextEditor;
    const selected = editor && !editor.selection.isEmpty ? editor.document.getText(editor.selection) : undefined;
    this.view.focus(selected && !selected.includes('\n') ? selected : undefined);
  }

  private async showUsages(): Promise<void> {
    const editor = vscode.window.activeTextEditor;
    if (!editor) {
      void vscode.window.showInformationMessage('Dowse: put the cursor on a symbol in an editor first.');
      return;
    }
    const position = editor.selection.active;
    try {
      const response = await this.request<P.UsagesResponse>(P.Methods.findUsages, {
        uri: editor.document.uri.toString(),
        position: { line: position.line, character: position.character },
      });
      const count = response.definitions.length + response.references.length;
      await showPlaces(
        `Usages of ${response.symbol} (${count})`,
        new vscode.Location(editor.document.uri, position),
        usagePlaces(response),
        `No usages of ${response.symbol} found.`,
      );
    } catch (err) {
      void vscode.window.showWarningMessage(`Dowse: ${err instanceof Error ? err.message : String(err)}`);
    }
  }

  private async showSimilar(): Promise<void> {
    const editor = vscode.window.activeTextEditor;
    if (!editor) {
      void vscode.window.showInformationMessage('Dowse: select some code in an editor first.');
      return;
    }
    const position = editor.selection.start;
    try {
      const response = await this.request<P.SimilarResponse>(P.Methods.findSimilar, {
        uri: editor.document.uri.toString(),
        position: { line: position.line, character: position.character },
        limit: 20,
      });
      await vscode.commands.executeCommand(`${SearchViewProvider.id}.focus`);
      this.view.showSimilar(response.source, response);
    } catch (err) {
      void vscode.window.showWarningMessage(`Dowse: ${err instanceof Error ? err.message : String(err)}`);
    }
  }

  private async showHealth(): Promise<void> {
    try {
      const health = await this.request<P.HealthResponse>(P.Methods.health);
      this.log.info(`health: ${health.status}`);
      for (const [name, component] of Object.entries(health.components)) {
        const latency = component.latencyMs === undefined ? '' : ` (${component.latencyMs.toFixed(1)} ms)`;
        this.log.info(`  ${name}: ${component.status}: ${component.message}${latency}`);
      }
      this.log.show(true);
      const problems = Object.entries(health.components)
        .filter(([, c]) => c.status !== 'healthy')
        .map(([name, c]) => `${name}: ${c.message}`);
      const text = `Dowse is ${health.status}.${problems.length > 0 ? ` ${problems.join(' ')}` : ''}`;
      if (health.status === 'healthy') {
        void vscode.window.showInformationMessage(text);
      } else {
        void vscode.window.showWarningMessage(text);
      }
    } catch (err) {
      void vscode.window.showErrorMessage(`Dowse: ${err instanceof Error ? err.message : String(err)}`, 'Restart').then(
        (pick) => pick && this.restart(),
      );
    }
  }

  private async reindex(): Promise<void> {
    await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: 'Dowse: reindexing the workspace' },
      async () => {
        try {
          const report = await this.request<P.ReindexResponse>(P.Methods.reindex);
          void vscode.window.showInformationMessage(
            `Dowse: ${report.files} files, ${report.chunks} chunks (${report.filesIndexed} read again, ${report.filesRemoved} removed) in ${report.seconds.toFixed(1)} s.`,
          );
        } catch (err) {
          void vscode.window.showErrorMessage(`Dowse: ${err instanceof Error ? err.message : String(err)}`);
        }
      },
    );
  }

  private configurationChanged(event: vscode.ConfigurationChangeEvent): void {
    if (event.affectsConfiguration('dowse.server.path')) {
      if (!this.client) {
        // Not running (no binary was found): try the new path at once.
        void this.restart();
        return;
      }
      void vscode.window
        .showInformationMessage('Dowse: the server path changed.', 'Restart the server')
        .then((pick) => pick && this.restart());
      return;
    }
    if (!Object.keys(SERVER_KEYS).some((key) => event.affectsConfiguration(`dowse.${key}`))) {
      return;
    }
    // The server applies `debounce_ms` at once and says which others need a restart.
    void this.client?.sendNotification('workspace/didChangeConfiguration', {
      settings: { dowse: explicitSettings() },
    });
  }
}

function phaseIndex(phase: P.Phase): number {
  return ['starting', 'indexing', 'embedding', 'ready', 'stopping'].indexOf(phase) + 1;
}
