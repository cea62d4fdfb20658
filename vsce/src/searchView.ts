// The Dowse sidebar: a webview view with a query box, a mode toggle and
// results grouped by file. The webview (webview/main.ts) renders; this side
// asks the server and opens files. Messages carry a sequence number so that
// a slow answer never replaces a newer one.

import * as vscode from 'vscode';
import type * as P from './protocol';
import type { StatusView } from './status';
import { toRange } from './usages';

/** Webview → extension. */
export type FromView =
  | { type: 'ready' }
  | { type: 'search'; seq: number; query: string; mode: P.SearchMode; lang?: string; scope?: P.SearchScope }
  | { type: 'unfold'; seq: number; query: string; mode: P.SearchMode; lang?: string; uri: string }
  | { type: 'openSnippet'; hit: P.SearchHit }
  | { type: 'open'; uri: string; range: P.Range }
  | { type: 'restart' };

/** Extension → webview. */
export type ToView =
  | { type: 'results'; seq: number; response: P.SearchResponse }
  | { type: 'unfolded'; seq: number; uri: string; response: P.SearchResponse }
  | { type: 'similar'; source: P.SearchHit; response: P.SimilarResponse }
  | { type: 'failed'; seq: number; message: string }
  | { type: 'state'; view: StatusView | null; generation: number; languages: string[]; team: string | null }
  | { type: 'focus'; query?: string };

/** Matches of one file shown when its folded matches are unfolded (the server's maximum). */
const UNFOLD_LIMIT = 100;

export interface Searcher {
  search(params: P.SearchParams): Promise<P.SearchResponse>;
  restart(): Promise<void>;
}

export class SearchViewProvider implements vscode.WebviewViewProvider {
  static readonly id = 'dowse.searchView';

  private view?: vscode.WebviewView;
  private ready = false;
  private pending: ToView[] = [];
  private lastState: ToView | undefined;

  constructor(
    private readonly extensionUri: vscode.Uri,
    private readonly searcher: Searcher,
    private readonly log: vscode.LogOutputChannel,
  ) {}

  resolveWebviewView(view: vscode.WebviewView): void {
    this.view = view;
    this.ready = false;
    const media = vscode.Uri.joinPath(this.extensionUri, 'vsce', 'media');
    const out = vscode.Uri.joinPath(this.extensionUri, 'vsce', 'out');
    view.webview.options = { enableScripts: true, localResourceRoots: [media, out] };
    view.webview.html = this.html(view.webview, media, out);
    view.webview.onDidReceiveMessage((message: FromView) => this.receive(message));
    view.onDidDispose(() => {
      this.view = undefined;
      this.ready = false;
    });
  }

  /** Shows the state (and makes the view refresh its results when the index moved). */
  setState(view: StatusView | null, generation: number, languages: string[] = [], team: string | null = null): void {
    this.lastState = { type: 'state', view, generation, languages, team };
    this.post(this.lastState);
  }

  focus(query?: string): void {
    this.post({ type: 'focus', query });
  }

  showSimilar(source: P.SearchHit, response: P.SimilarResponse): void {
    this.post({ type: 'similar', source, response });
  }

  private post(message: ToView): void {
    if (this.view && this.ready) {
      void this.view.webview.postMessage(message);
    } else if (message.type !== 'state') {
      this.pending.push(message);
    }
  }

  private async receive(message: FromView): Promise<void> {
    switch (message.type) {
      case 'ready': {
        this.ready = true;
        if (this.lastState) {
          this.post(this.lastState);
        }
        for (const queued of this.pending.splice(0)) {
          this.post(queued);
        }
        return;
      }
      case 'search': {
        try {
          const params: P.SearchParams = { query: message.query, mode: message.mode, limit: 30 };
          if (message.lang) {
            params.lang = message.lang;
          }
          if (message.scope && message.scope !== 'local') {
            params.scope = message.scope;
          }
          const response = await this.searcher.search(params);
          this.post({ type: 'results', seq: message.seq, response });
        } catch (err) {
          const text = err instanceof Error ? err.message : String(err);
          this.log.warn(`search failed: ${text}`);
          this.post({ type: 'failed', seq: message.seq, message: text });
        }
        return;
      }
      case 'unfold': {
        // A file's matches folded under its first result: the same
        // question asked within that file.
        try {
          const params: P.SearchParams = {
            query: message.query,
            mode: message.mode,
            limit: UNFOLD_LIMIT,
            pathPrefix: vscode.Uri.parse(message.uri).fsPath,
          };
          if (message.lang) {
            params.lang = message.lang;
          }
          const response = await this.searcher.search(params);
          this.post({ type: 'unfolded', seq: message.seq, uri: message.uri, response });
        } catch (err) {
          const text = err instanceof Error ? err.message : String(err);
          this.log.warn(`search within ${message.uri} failed: ${text}`);
        }
        return;
      }
      case 'open': {
        const range = toRange(message.range);
        const start = new vscode.Selection(range.start, range.start);
        await vscode.window.showTextDocument(vscode.Uri.parse(message.uri), { selection: start, preview: true });
        const editor = vscode.window.activeTextEditor;
        editor?.revealRange(range, vscode.TextEditorRevealType.InCenterIfOutsideViewport);
        return;
      }
      case 'openSnippet': {
        // A team index result of a repository not open here: its published
        // text, in a read-only editor of its own.
        const hit = message.hit;
        const header = `${hit.repo ?? ''}//${hit.path}:${hit.startLine}-${hit.endLine} (from the team index)`;
        const document = await vscode.workspace.openTextDocument({
          content: `${header}\n\n${hit.snippet}\n`,
          language: hit.language,
        });
        await vscode.window.showTextDocument(document, { preview: true });
        return;
      }
      case 'restart':
        await this.searcher.restart();
        return;
    }
  }

  private html(webview: vscode.Webview, media: vscode.Uri, out: vscode.Uri): string {
    const nonce = [...Array(32)].map(() => Math.floor(Math.random() * 36).toString(36)).join('');
    const css = webview.asWebviewUri(vscode.Uri.joinPath(media, 'search.css'));
    const script = webview.asWebviewUri(vscode.Uri.joinPath(out, 'webview.js'));
    return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src ${webview.cspSource}; script-src 'nonce-${nonce}';">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<link href="${css}" rel="stylesheet">
<title>Dowse search</title>
</head>
<body>
<form id="form" role="search">
  <input id="query" type="search" autocomplete="off" spellcheck="false"
    placeholder="Search by meaning or name" aria-label="Search the workspace by meaning or by name">
  <div id="modes" role="radiogroup" aria-label="How to search">
    <button type="button" role="radio" data-mode="hybrid" aria-checked="true" title="Keywords and meaning, combined">Both</button>
    <button type="button" role="radio" data-mode="lexical" aria-checked="false" title="Words and names as written">Keywords</button>
    <button type="button" role="radio" data-mode="semantic" aria-checked="false" title="What the code does">Meaning</button>
  </div>
  <select id="scope" aria-label="Where to search" title="Where to search: this workspace, the team index, or both" hidden>
    <option value="local">This workspace</option>
    <option value="all">Workspace and team</option>
    <option value="team">Team index</option>
  </select>
  <select id="lang" aria-label="Only results in this language" title="Only results in this language" hidden>
    <option value="">All languages</option>
  </select>
</form>
<div id="state" role="status" aria-live="polite"></div>
<div id="results" role="tree" aria-label="Results"></div>
<script nonce="${nonce}" src="${script}"></script>
</body>
</html>`;
  }
}
