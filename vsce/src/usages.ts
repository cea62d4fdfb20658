// Usages and similar code in VS Code's References view (the built-in
// references-view extension's API: a tree of files and places), or in the
// peek widget when that extension is missing.

import * as vscode from 'vscode';
import type * as P from './protocol';

/** The API of the built-in references-view extension (its `SymbolTree`). */
interface SymbolTree {
  setInput(input: SymbolTreeInput): void;
}

interface SymbolTreeInput {
  readonly contextValue: string;
  readonly title: string;
  readonly location: vscode.Location;
  resolve(): vscode.ProviderResult<SymbolTreeModel>;
  with(location: vscode.Location): SymbolTreeInput;
}

interface SymbolTreeModel {
  message: string | undefined;
  provider: vscode.TreeDataProvider<Node>;
  navigation?: {
    nearest(uri: vscode.Uri, position: vscode.Position): Node | undefined;
    next(from: Node): Node;
    previous(from: Node): Node;
  };
}

/** A place to list: where, what to show, and a line of context. */
export interface Place {
  uri: string;
  path: string;
  range: P.Range;
  label: string;
  description?: string;
}

type Node = { kind: 'file'; uri: string; path: string; places: Place[] } | { kind: 'place'; place: Place; file: string };

export function toRange(range: P.Range): vscode.Range {
  return new vscode.Range(range.start.line, range.start.character, range.end.line, range.end.character);
}

function files(places: readonly Place[]): Node[] {
  const byFile = new Map<string, Extract<Node, { kind: 'file' }>>();
  for (const place of places) {
    let file = byFile.get(place.uri);
    if (!file) {
      file = { kind: 'file', uri: place.uri, path: place.path, places: [] };
      byFile.set(place.uri, file);
    }
    file.places.push(place);
  }
  return [...byFile.values()];
}

class PlacesInput implements SymbolTreeInput {
  readonly contextValue = 'dowsePlaces';

  constructor(
    readonly title: string,
    readonly location: vscode.Location,
    private readonly places: readonly Place[],
    private readonly empty: string,
  ) {}

  resolve(): SymbolTreeModel {
    const roots = files(this.places);
    const all: Node[] = roots.flatMap((f) =>
      f.kind === 'file' ? f.places.map((place) => ({ kind: 'place' as const, place, file: f.uri })) : [],
    );
    const provider: vscode.TreeDataProvider<Node> = {
      getChildren: (node?: Node) =>
        node === undefined
          ? roots
          : node.kind === 'file'
            ? node.places.map((place) => ({ kind: 'place' as const, place, file: node.uri }))
            : [],
      getTreeItem: (node: Node) => {
        if (node.kind === 'file') {
          const item = new vscode.TreeItem(vscode.Uri.parse(node.uri), vscode.TreeItemCollapsibleState.Expanded);
          item.description = `${node.path} · ${node.places.length}`;
          return item;
        }
        const item = new vscode.TreeItem(node.place.label, vscode.TreeItemCollapsibleState.None);
        item.description = node.place.description;
        item.command = {
          command: 'vscode.open',
          title: 'Open',
          arguments: [vscode.Uri.parse(node.place.uri), { selection: toRange(node.place.range) }],
        };
        return item;
      },
    };
    const index = (node: Node): number =>
      all.findIndex((n) => n.kind === 'place' && node.kind === 'place' && n.place === node.place);
    return {
      message: this.places.length === 0 ? this.empty : `${this.places.length} result${this.places.length === 1 ? '' : 's'}`,
      provider,
      navigation: {
        nearest: (uri) => all.find((n) => n.kind === 'place' && n.place.uri === uri.toString()),
        next: (from) => all[(index(from) + 1) % all.length] ?? from,
        previous: (from) => all[(index(from) - 1 + all.length) % all.length] ?? from,
      },
    };
  }

  with(location: vscode.Location): SymbolTreeInput {
    return new PlacesInput(this.title, location, this.places, this.empty);
  }
}

/** Shows places in the References view (or the peek widget). */
export async function showPlaces(
  title: string,
  anchor: vscode.Location,
  places: readonly Place[],
  empty: string,
): Promise<void> {
  const extension =
    vscode.extensions.getExtension<SymbolTree>('vscode.references-view') ??
    vscode.extensions.getExtension<SymbolTree>('ms-vscode.references-view');
  if (extension) {
    try {
      const api = await extension.activate();
      if (api && typeof api.setInput === 'function') {
        api.setInput(new PlacesInput(title, anchor, places, empty));
        return;
      }
    } catch {
      // Fall through to the peek widget.
    }
  }
  if (places.length === 0) {
    void vscode.window.showInformationMessage(empty);
    return;
  }
  await vscode.commands.executeCommand(
    'editor.action.showReferences',
    anchor.uri,
    anchor.range.start,
    places.map((p) => new vscode.Location(vscode.Uri.parse(p.uri), toRange(p.range))),
  );
}

export function usagePlaces(response: P.UsagesResponse): Place[] {
  const place = (u: P.Usage, what: string): Place => ({
    uri: u.uri,
    path: u.path,
    range: u.range,
    label: u.context.trim(),
    description: `${what} · line ${u.line}`,
  });
  return [
    ...response.definitions.map((u) => place(u, 'definition')),
    ...response.references.map((u) => place(u, 'reference')),
  ];
}
