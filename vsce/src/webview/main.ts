// The sidebar's page: query box, mode toggle, results grouped by file with
// highlighted snippets; keyboard first (↓ from the box into the results,
// ↑/↓ between them, Enter opens, Esc back to the box). Talks to
// searchView.ts by messages; builds the DOM with textContent only.

import type * as P from '../protocol';
import type { FromView, ToView } from '../searchView';
import { dedent, groupByFile, highlight, hitTitle, lineLabel, unfold } from '../results';
import type { StatusView } from '../status';

interface VsCodeApi {
  postMessage(message: FromView): void;
  getState(): Saved | undefined;
  setState(state: Saved): void;
}

interface Saved {
  query: string;
  mode: P.SearchMode;
  /** A language name, or '' for all. */
  lang?: string;
  scope?: P.SearchScope;
}

declare function acquireVsCodeApi(): VsCodeApi;

const vscode = acquireVsCodeApi();
const input = document.getElementById('query') as HTMLInputElement;
const modes = document.getElementById('modes') as HTMLDivElement;
const stateBox = document.getElementById('state') as HTMLDivElement;
const langSelect = document.getElementById('lang') as HTMLSelectElement;
const scopeSelect = document.getElementById('scope') as HTMLSelectElement;
const resultsBox = document.getElementById('results') as HTMLDivElement;

const TYPING_DELAY_MS = 200;
const REFRESH_EVERY_MS = 700;

let mode: P.SearchMode = vscode.getState()?.mode ?? 'hybrid';
let lang: string = vscode.getState()?.lang ?? '';
let scope: P.SearchScope = vscode.getState()?.scope ?? 'local';
/** Whether a team index is set (the picker of scopes shows then). */
let team = false;
let languages: string[] = [];
let seq = 0;
let shown = 0;
let typing: ReturnType<typeof setTimeout> | undefined;
let refreshAt = 0;
let refreshTimer: ReturnType<typeof setTimeout> | undefined;
let generation = -1;
let server: StatusView | null = null;
let last: { query: string; lang?: string; response?: P.SearchResponse; failed?: string; similar?: P.SearchHit } = { query: '' };
/** Files whose folded matches were unfolded for the question shown: unfolded again when its answer is refreshed. */
const unfolded = new Set<string>();
/** The language each search in flight was asked with, by sequence number. */
const askedLang = new Map<number, string>();

input.value = vscode.getState()?.query ?? '';
setMode(mode, false);

function save(): void {
  vscode.setState({ query: input.value, mode, lang, scope });
}

/** The workspace's languages as options; the picker shows when there are two or more. */
function setLanguages(next: string[]): void {
  const known = lang === '' || next.includes(lang) ? next : [...next, lang];
  if (known.join() === languages.join()) {
    return;
  }
  languages = known;
  while (langSelect.options.length > 1) {
    langSelect.remove(1);
  }
  for (const name of languages) {
    const option = document.createElement('option');
    option.value = name;
    option.textContent = name;
    langSelect.add(option);
  }
  langSelect.value = lang;
  langSelect.hidden = languages.length < 2 && lang === '';
}

function setMode(next: P.SearchMode, search: boolean): void {
  mode = next;
  for (const button of modes.querySelectorAll<HTMLButtonElement>('button')) {
    const on = button.dataset.mode === next;
    button.setAttribute('aria-checked', String(on));
    button.tabIndex = on ? 0 : -1;
  }
  save();
  if (search) {
    searchNow();
  }
}

function searchNow(): void {
  clearTimeout(typing);
  const query = input.value.trim();
  save();
  if (query.length === 0) {
    last = { query: '' };
    render();
    return;
  }
  seq += 1;
  askedLang.set(seq, lang);
  const asked: FromView = { type: 'search', seq, query, mode };
  if (lang !== '') {
    asked.lang = lang;
  }
  if (team && scope !== 'local') {
    asked.scope = scope;
  }
  vscode.postMessage(asked);
}

/** The index moved: the same question again, at most every REFRESH_EVERY_MS. */
function refreshSoon(): void {
  if (input.value.trim().length === 0 || last.similar) {
    return;
  }
  const wait = Math.max(0, refreshAt - Date.now());
  clearTimeout(refreshTimer);
  refreshTimer = setTimeout(() => {
    refreshAt = Date.now() + REFRESH_EVERY_MS;
    searchNow();
  }, wait);
}

input.addEventListener('input', () => {
  clearTimeout(typing);
  typing = setTimeout(searchNow, TYPING_DELAY_MS);
});

input.addEventListener('keydown', (event) => {
  if (event.key === 'Enter') {
    event.preventDefault();
    searchNow();
  } else if (event.key === 'ArrowDown') {
    event.preventDefault();
    rows()[0]?.focus();
  }
});

document.getElementById('form')?.addEventListener('submit', (event) => event.preventDefault());

langSelect.addEventListener('change', () => {
  lang = langSelect.value;
  searchNow();
});

scopeSelect.value = scope;
scopeSelect.addEventListener('change', () => {
  scope = scopeSelect.value as P.SearchScope;
  searchNow();
});

modes.addEventListener('click', (event) => {
  const button = (event.target as HTMLElement).closest('button');
  if (button?.dataset.mode) {
    setMode(button.dataset.mode as P.SearchMode, true);
  }
});

modes.addEventListener('keydown', (event) => {
  const order: P.SearchMode[] = ['hybrid', 'lexical', 'semantic'];
  const step = event.key === 'ArrowRight' || event.key === 'ArrowDown' ? 1 : event.key === 'ArrowLeft' || event.key === 'ArrowUp' ? -1 : 0;
  if (step !== 0) {
    event.preventDefault();
    const next = order[(order.indexOf(mode) + step + order.length) % order.length];
    setMode(next, true);
    modes.querySelector<HTMLButtonElement>(`button[data-mode="${next}"]`)?.focus();
  }
});

function rows(): HTMLElement[] {
  return [...resultsBox.querySelectorAll<HTMLElement>('.hit')];
}

resultsBox.addEventListener('keydown', (event) => {
  const all = rows();
  const at = all.indexOf(document.activeElement as HTMLElement);
  if (at < 0) {
    return;
  }
  const go = (i: number) => {
    event.preventDefault();
    all[Math.max(0, Math.min(all.length - 1, i))]?.focus();
  };
  switch (event.key) {
    case 'ArrowDown':
      return go(at + 1);
    case 'ArrowUp':
      if (at === 0) {
        event.preventDefault();
        input.focus();
        return;
      }
      return go(at - 1);
    case 'Home':
      return go(0);
    case 'End':
      return go(all.length - 1);
    case 'Enter':
    case ' ':
      event.preventDefault();
      open(all[at]);
      return;
    case 'Escape':
      event.preventDefault();
      input.focus();
      return;
  }
});

resultsBox.addEventListener('click', (event) => {
  const unfoldButton = (event.target as HTMLElement).closest<HTMLButtonElement>('button[data-unfold]');
  if (unfoldButton?.dataset.unfold) {
    unfoldButton.disabled = true;
    unfolded.add(unfoldButton.dataset.unfold);
    askUnfold(unfoldButton.dataset.unfold);
    return;
  }
  const row = (event.target as HTMLElement).closest<HTMLElement>('.hit');
  if (row) {
    row.focus();
    open(row);
  }
});

/** Asks for every match of the file `uri` for the answer shown. */
function askUnfold(uri: string): void {
  if (!last.response || last.similar) {
    return;
  }
  const asked: FromView = { type: 'unfold', seq: shown, query: last.response.query, mode: last.response.mode, uri };
  if (last.lang) {
    asked.lang = last.lang;
  }
  vscode.postMessage(asked);
}

/** Team index results shown, by row, for opening their published text. */
const remoteHits = new WeakMap<HTMLElement, P.SearchHit>();

function open(row: HTMLElement): void {
  const remote = remoteHits.get(row);
  if (remote) {
    vscode.postMessage({ type: 'openSnippet', hit: remote });
    return;
  }
  const uri = row.dataset.uri;
  const range = row.dataset.range;
  if (uri && range) {
    vscode.postMessage({ type: 'open', uri, range: JSON.parse(range) as P.Range });
  }
}

function el<K extends keyof HTMLElementTagNameMap>(tag: K, className?: string, text?: string): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  if (className) {
    node.className = className;
  }
  if (text !== undefined) {
    node.textContent = text;
  }
  return node;
}

function message(lines: string[], level: string, restart = false): void {
  stateBox.replaceChildren();
  stateBox.className = `state ${level}`;
  for (const line of lines) {
    stateBox.append(el('p', undefined, line));
  }
  if (restart) {
    const button = el('button', 'restart', 'Restart the server');
    button.type = 'button';
    button.addEventListener('click', () => vscode.postMessage({ type: 'restart' }));
    stateBox.append(button);
  }
  stateBox.hidden = lines.length === 0 && !restart;
}

function hitRow(hit: P.SearchHit): HTMLElement {
  const row = el('div', 'hit');
  row.setAttribute('role', 'treeitem');
  row.tabIndex = -1;
  row.dataset.uri = hit.uri;
  row.dataset.range = JSON.stringify(hit.range);
  if (hit.repo !== undefined) {
    row.dataset.repo = hit.repo;
    // Checked out here (remote_checkouts): the file opens like any other.
    if (hit.uri === '') {
      remoteHits.set(row, hit);
    }
  }
  row.dataset.path = hit.path;
  row.dataset.line = String(hit.startLine);
  const head = el('div', 'head');
  head.append(el('span', 'symbol', hitTitle(hit)));
  if (hit.enclosing.length > 0) {
    head.append(el('span', 'container', `in ${hit.enclosing[hit.enclosing.length - 1]}`));
  }
  head.append(el('span', 'lines', lineLabel(hit)));
  row.append(head);
  const code = el('code');
  const lines = dedent(highlight(hit.snippet, hit.snippetRange, hit.matchRanges));
  lines.forEach((pieces, i) => {
    if (i > 0) {
      code.append('\n');
    }
    for (const piece of pieces) {
      code.append(piece.match ? el('mark', undefined, piece.text) : document.createTextNode(piece.text));
    }
  });
  const pre = el('pre', 'snippet');
  pre.append(code);
  row.append(pre);
  const name = hit.symbol ?? hit.kind;
  row.setAttribute('aria-label', `${name}, ${hit.path} ${lineLabel(hit)}`);
  return row;
}

function renderHits(hits: P.SearchHit[]): void {
  resultsBox.replaceChildren();
  for (const group of groupByFile(hits)) {
    const box = el('div', 'group');
    box.setAttribute('role', 'group');
    const slash = group.path.lastIndexOf('/');
    const file = el('div', 'file');
    file.title = group.path;
    file.append(el('span', 'name', slash >= 0 ? group.path.slice(slash + 1) : group.path));
    if (slash > 0) {
      file.append(el('span', 'dir', group.path.slice(0, slash)));
    }
    if (group.rootName) {
      file.append(el('span', 'root', group.rootName));
    }
    if (group.more > 0) {
      const matches = `${group.more} more ${group.more === 1 ? 'match' : 'matches'} in this file`;
      // A search's local results unfold (the same question within the
      // file); similar code and the team index's only say how many.
      const local = group.repo === undefined && !last.similar && last.response !== undefined;
      const more = el(local ? 'button' : 'span', 'more', `+${group.more} more`);
      if (more instanceof HTMLButtonElement) {
        more.type = 'button';
        more.title = `${matches}, folded to show other places: show them`;
        more.setAttribute('aria-label', `Show ${matches}`);
        more.dataset.unfold = group.uri;
      } else {
        more.title = `${matches}, folded to show other places`;
      }
      file.append(more);
    }
    box.setAttribute('aria-label', group.path);
    box.append(file);
    for (const hit of group.hits) {
      box.append(hitRow(hit));
    }
    resultsBox.append(box);
  }
}

function render(): void {
  const busy = server && server.level === 'busy' ? [server.summary] : [];
  if (server && server.level === 'error') {
    resultsBox.replaceChildren();
    message([server.summary], 'error', true);
    return;
  }
  if (last.similar && last.response) {
    const lines = [`Code similar to ${hitTitle(last.similar)} (${last.similar.path}:${lineLabel(last.similar)}).`];
    if (last.response.degraded) {
      lines.push(last.response.degraded);
    }
    message(lines, 'info');
    renderHits(last.response.results);
    return;
  }
  if (last.query.length === 0) {
    resultsBox.replaceChildren();
    const lines = ['Type what you are looking for: a name (parse_duration) or what the code does (where do we retry failed uploads).'];
    if (server && server.level !== 'ok') {
      lines.push(server.summary);
    }
    message(lines, server?.level === 'warning' ? 'warning' : 'info');
    return;
  }
  if (last.failed !== undefined) {
    resultsBox.replaceChildren();
    message([`Search failed: ${last.failed}`], 'error');
    return;
  }
  const response = last.response;
  if (!response) {
    return;
  }
  const lines: string[] = [];
  let level = 'info';
  if (response.degraded) {
    lines.push(response.degraded);
    level = 'warning';
  }
  if (response.results.length === 0) {
    lines.unshift(`No results for “${response.query}”.`);
  }
  lines.push(...busy);
  message(lines, level);
  renderHits(response.results);
  // Which question the list answers (for tests and assistive tech).
  resultsBox.dataset.query = response.query;
  resultsBox.dataset.lang = last.lang ?? '';
  resultsBox.setAttribute('aria-label', `Results for ${response.query}`);
}

window.addEventListener('message', (event: MessageEvent<ToView>) => {
  const data = event.data;
  switch (data.type) {
    case 'results': {
      if (data.seq < shown) {
        return;
      }
      shown = data.seq;
      const askedWith = askedLang.get(data.seq) ?? '';
      // Another question (or mode, or language) starts folded again.
      if (data.response.query !== last.query || data.response.mode !== last.response?.mode || askedWith !== (last.lang ?? '')) {
        unfolded.clear();
      }
      last = { query: data.response.query, lang: askedWith, response: data.response };
      for (const old of askedLang.keys()) {
        if (old <= data.seq) {
          askedLang.delete(old);
        }
      }
      render();
      // The same question refreshed (the index moved): what was unfolded stays so.
      for (const uri of unfolded) {
        if (data.response.results.some((h) => h.uri === uri && (h.moreInFile ?? 0) > 0)) {
          askUnfold(uri);
        }
      }
      return;
    }
    case 'unfolded':
      // Only into the answer it was asked from.
      if (data.seq !== shown || !last.response || last.similar) {
        return;
      }
      last = { ...last, response: { ...last.response, results: unfold(last.response.results, data.uri, data.response.results) } };
      render();
      return;
    case 'failed':
      if (data.seq < shown) {
        return;
      }
      shown = data.seq;
      last = { query: input.value.trim(), failed: data.message };
      render();
      return;
    case 'similar':
      last = { query: '', response: { query: '', mode: 'semantic', degraded: data.response.degraded, results: data.response.results }, similar: data.source };
      render();
      return;
    case 'state': {
      server = data.view;
      setLanguages(data.languages);
      team = data.team !== null;
      scopeSelect.hidden = !team;
      const moved = data.generation !== generation;
      generation = data.generation;
      if (moved && last.query.length > 0) {
        refreshSoon();
      }
      render();
      return;
    }
    case 'focus':
      if (data.query !== undefined && data.query.length > 0) {
        input.value = data.query;
        searchNow();
      }
      input.focus();
      input.select();
      return;
  }
});

vscode.postMessage({ type: 'ready' });
if (input.value.trim().length > 0) {
  searchNow();
} else {
  render();
}
