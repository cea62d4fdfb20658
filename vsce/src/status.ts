// The index state in words: for the status bar and the sidebar. Pure,
// unit-tested.

import type { StatusParams } from './protocol';

export interface StatusView {
  /** Status-bar text (with a codicon). */
  text: string;
  /** One line a user understands. */
  summary: string;
  /** Longer, for the tooltip. */
  detail: string;
  /** How the view should look. */
  level: 'ok' | 'busy' | 'warning' | 'error';
}

const number = (n: number): string => n.toLocaleString('en-US');

function percent(part: number, whole: number): number {
  return whole > 0 ? Math.min(100, Math.floor((part * 100) / whole)) : 100;
}

/** The state of a running server. */
export function describeStatus(status: StatusParams): StatusView {
  const counts = `${number(status.files)} files, ${number(status.chunks)} chunks`;
  const coverage = Math.floor(status.coverage * 100);
  const meaning =
    status.vectorsTotal > 0
      ? `search by meaning covers ${coverage}% (${number(status.vectors)} of ${number(status.vectorsTotal)} chunks)`
      : 'nothing to search by meaning yet';
  const roots =
    status.roots.length > 1 ? `\n${status.roots.map((r) => `${r.name}: ${number(r.files)} files`).join('\n')}` : '';
  const readOnly = status.roots.filter((r) => r.readOnly).map((r) => r.name);
  const detailParts = [`${counts}; ${meaning}.`];
  if (status.degraded) {
    detailParts.push(status.degraded);
  }
  if (status.openBuffers > 0) {
    detailParts.push(`${status.openBuffers} unsaved buffer${status.openBuffers === 1 ? '' : 's'} searched as you type.`);
  }
  const languages = status.languages ?? [];
  if (languages.length > 0) {
    detailParts.push(`Languages: ${languages.map((l) => `${l.name} ${number(l.files)}`).join(', ')}.`);
    const noUsages = languages.filter((l) => l.usages === 'none' && l.name !== 'text').map((l) => l.name);
    if (noUsages.length > 0) {
      detailParts.push(`Find usages does not cover ${noUsages.join(', ')}.`);
    }
  }
  const detail = detailParts.join('\n') + roots;

  switch (status.phase) {
    case 'starting':
      return { text: '$(sync~spin) dowse', summary: 'Starting…', detail, level: 'busy' };
    case 'indexing': {
      const work = status.work;
      const progress = work && work.total > 0 ? ` ${percent(work.done, work.total)}%` : '';
      const summary =
        work && work.total > 0
          ? `Indexing: ${number(work.done)} of ${number(work.total)} files. Keyword results cover what is indexed so far.`
          : 'Indexing the workspace. Keyword results cover what is indexed so far.';
      return { text: `$(sync~spin) dowse: indexing${progress}`, summary, detail, level: 'busy' };
    }
    case 'embedding':
      return {
        text: `$(sync~spin) dowse: ${coverage}% by meaning`,
        summary: `Indexed ${counts}. Learning what the code means: ${meaning}; keyword search is complete.`,
        detail,
        level: 'busy',
      };
    case 'stopping':
      return { text: '$(circle-slash) dowse', summary: 'Stopping.', detail, level: 'warning' };
    case 'ready':
    default:
      if (readOnly.length > 0 || status.degraded) {
        const reason = status.degraded ?? `${readOnly.join(', ')} is read-only`;
        return {
          text: '$(warning) dowse',
          summary: keywordOnly(reason) ? `Keyword search only. ${capitalize(reason)}` : capitalize(reason),
          detail,
          level: 'warning',
        };
      }
      return { text: '$(search) dowse', summary: `Ready: ${counts}.`, detail, level: 'ok' };
  }
}

function keywordOnly(reason: string): boolean {
  return reason.startsWith('keyword search only');
}

function capitalize(text: string): string {
  const trimmed = text.replace(/^keyword search only:\s*/, '');
  return trimmed.charAt(0).toUpperCase() + trimmed.slice(1);
}

/** The server is not running: why, in words. */
export function describeFailure(message: string): StatusView {
  return {
    text: '$(error) dowse',
    summary: `The dowse server is not running: ${message}`,
    detail: message,
    level: 'error',
  };
}
