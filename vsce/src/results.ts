// Search results as the sidebar shows them: grouped by file, lines as
// people count them, snippets cut into plain and highlighted pieces. Pure
// functions, shared by the extension and the webview, unit-tested.

import type { Range, SearchHit } from './protocol';

export interface FileGroup {
  /** Empty for a team index result: see `repo`. */
  uri: string;
  /** Relative to its root. */
  path: string;
  root: string;
  /** The root's folder name, when results come from several roots. */
  rootName?: string;
  hits: SearchHit[];
  /** Matches of the file the server folded away to show other places. */
  more: number;
  /** The repository of a team index result (no local file to open). */
  repo?: string;
}

/**
 * Groups hits by file, files in the order of their best hit, hits in rank
 * order within a file (the server ranks them; nothing is re-sorted).
 */
export function groupByFile(hits: readonly SearchHit[]): FileGroup[] {
  const groups = new Map<string, FileGroup>();
  for (const hit of hits) {
    // A team index result has no uri: its repository and path name it.
    const key = hit.repo !== undefined ? `${hit.repo}//${hit.path}` : hit.uri;
    let group = groups.get(key);
    if (!group) {
      group = { uri: hit.uri, path: hit.path, root: hit.root, hits: [], more: 0 };
      if (hit.repo !== undefined) {
        group.repo = hit.repo;
      }
      groups.set(key, group);
    }
    group.hits.push(hit);
    group.more += hit.moreInFile ?? 0;
  }
  const all = [...groups.values()];
  const roots = new Set(all.filter((g) => g.repo === undefined).map((g) => g.root));
  const remote = all.some((g) => g.repo !== undefined);
  for (const group of all) {
    if (group.repo !== undefined) {
      group.rootName = group.repo;
    } else if (roots.size > 1 || remote) {
      group.rootName = baseName(group.root);
    }
  }
  return all;
}

function baseName(path: string): string {
  const parts = path.split(/[\\/]/).filter((p) => p.length > 0);
  return parts.length > 0 ? parts[parts.length - 1] : path;
}

/** `L26–40`, or `L26` for one line. */
export function lineLabel(hit: Pick<SearchHit, 'startLine' | 'endLine'>): string {
  return hit.endLine > hit.startLine ? `L${hit.startLine}–${hit.endLine}` : `L${hit.startLine}`;
}

/** What a hit is called in a list: its symbol (in its container), else its kind and line. */
export function hitTitle(hit: Pick<SearchHit, 'symbol' | 'enclosing' | 'kind' | 'startLine'>): string {
  if (hit.symbol) {
    return hit.symbol;
  }
  return `${hit.kind} at line ${hit.startLine}`;
}

export interface Piece {
  text: string;
  match: boolean;
}

/**
 * The snippet's lines, each cut into pieces at the match ranges (which are
 * in the file's coordinates; the snippet starts at `snippetRange.start`).
 * Ranges outside the snippet or overlapping an earlier one are ignored.
 */
export function highlight(
  snippet: string,
  snippetRange: Range,
  matchRanges: readonly Range[],
): Piece[][] {
  const lines = snippet.split('\n');
  const first = snippetRange.start.line;
  const byLine = new Map<number, Array<[number, number]>>();
  for (const range of matchRanges) {
    const index = range.start.line - first;
    if (index < 0 || index >= lines.length || range.end.line !== range.start.line) {
      continue;
    }
    const list = byLine.get(index) ?? [];
    list.push([range.start.character, range.end.character]);
    byLine.set(index, list);
  }
  return lines.map((line, index) => {
    const spans = (byLine.get(index) ?? []).sort((a, b) => a[0] - b[0]);
    const pieces: Piece[] = [];
    let at = 0;
    for (const [start, end] of spans) {
      if (start < at || end > line.length || end <= start) {
        continue;
      }
      if (start > at) {
        pieces.push({ text: line.slice(at, start), match: false });
      }
      pieces.push({ text: line.slice(start, end), match: true });
      at = end;
    }
    if (at < line.length || pieces.length === 0) {
      pieces.push({ text: line.slice(at), match: false });
    }
    return pieces;
  });
}

/**
 * Common leading whitespace removed from every line, so that a method's
 * snippet does not start eight columns in. Returns the new lines and how
 * many characters were cut from each.
 */
export function dedent(pieces: Piece[][]): Piece[][] {
  const indents = pieces
    .map((line) => line.map((p) => p.text).join(''))
    .filter((text) => text.trim().length > 0)
    .map((text) => text.length - text.trimStart().length);
  const cut = indents.length > 0 ? Math.min(...indents) : 0;
  if (cut === 0) {
    return pieces;
  }
  return pieces.map((line) => {
    let left = cut;
    const out: Piece[] = [];
    for (const piece of line) {
      if (left > 0) {
        const drop = Math.min(left, piece.text.length);
        left -= drop;
        const text = piece.text.slice(drop);
        if (text.length > 0) {
          out.push({ text, match: piece.match });
        }
      } else {
        out.push(piece);
      }
    }
    return out;
  });
}

/**
 * The answer with one file's matches unfolded: the hits of the file `uri`
 * are replaced, where its first hit stood, by `within` (every match of
 * that file, as a search within it ranks them), and nothing of it is
 * folded any more. Hits of other files stay as they were; an answer
 * without that file is returned as it is.
 */
export function unfold(hits: readonly SearchHit[], uri: string, within: readonly SearchHit[]): SearchHit[] {
  const at = hits.findIndex((h) => h.repo === undefined && h.uri === uri);
  if (at < 0) {
    return [...hits];
  }
  const mine = within
    .filter((h) => h.repo === undefined && h.uri === uri)
    .map((h) => ({ ...h, moreInFile: undefined }));
  const others = (h: SearchHit) => h.repo !== undefined || h.uri !== uri;
  return [...hits.slice(0, at).filter(others), ...mine, ...hits.slice(at).filter(others)];
}
