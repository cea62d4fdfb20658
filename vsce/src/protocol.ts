// The editor protocol of dowse: the custom requests `dowse/*` and the
// `dowse/status` notification, as docs/protocol.md describes them. The
// shapes below are the documentation's, verbatim (a unit test compares
// them), and the server's real answers are checked against them by an
// end-to-end test (tests/e2e/protocol.rs). camelCase throughout; every
// `Range` is LSP's: 0-based lines, characters in the negotiated encoding
// (UTF-16 for VS Code), end exclusive.

// --- shapes ---

export interface Position {
  line: number;
  character: number;
}

export interface Range {
  start: Position;
  end: Position;
}

export type SearchMode = 'hybrid' | 'lexical' | 'semantic';

export type ChunkKind =
  | 'function'
  | 'method'
  | 'class'
  | 'struct'
  | 'enum'
  | 'trait'
  | 'impl'
  | 'module'
  | 'macro'
  | 'interface'
  | 'type'
  | 'constant'
  | 'section'
  | 'text';

export type HealthStatus = 'healthy' | 'degraded' | 'unhealthy';

/** `dowse/search` params. */
export interface SearchParams {
  query: string;
  mode?: SearchMode;
  /** 1 to 1000; 10 by default. */
  limit?: number;
  /** Only results whose path (relative to its root) starts with this. */
  pathPrefix?: string;
  /** Only results in files of this language or these languages (`typescript`, `go`, `markdown`, `text`...). */
  lang?: string | string[];
  /**
   * `local` (default): the workspace, with unsaved buffers; `team`: the team
   * index (`dowse publish`, the `remote_*` settings); `all`: both, the
   * workspace's own files from the workspace.
   */
  scope?: SearchScope;
}

export type SearchScope = 'local' | 'team' | 'all';

/** One ranked chunk of code. */
export interface SearchHit {
  uri: string;
  /** The workspace root it belongs to (absolute). */
  root: string;
  /** Relative to the root, `/`-separated. */
  path: string;
  /** The chunk's whole lines. */
  range: Range;
  /** 1-based, inclusive: the lines as people count them. */
  startLine: number;
  endLine: number;
  symbol?: string;
  /** Enclosing definitions, outermost first (`class Template`). */
  enclosing: string[];
  kind: ChunkKind;
  language: string;
  score: number;
  /** The best-matching lines of the chunk, at `snippetRange`. */
  snippet: string;
  snippetRange: Range;
  /** The query's words in the snippet, for highlighting. */
  matchRanges: Range[];
  /**
   * Further matches in this file that the answer folded away to show other
   * places; on the file's first hit only, absent when none.
   */
  moreInFile?: number;
  /**
   * The repository of a team index result (scope `team` or `all`): `uri`
   * and `root` are empty and `snippet` is the published text.
   */
  repo?: string;
}

/** `dowse/search` result. */
export interface SearchResponse {
  query: string;
  mode: SearchMode;
  /** Why the results are less than the mode promises, and what to do. */
  degraded?: string;
  results: SearchHit[];
}

/** `dowse/findUsages` params: a symbol by name, or the one at a position. */
export interface FindUsagesParams {
  symbol?: string;
  uri?: string;
  position?: Position;
}

/** One place a symbol is defined or used. */
export interface Usage {
  uri: string;
  root: string;
  path: string;
  /** The name itself. */
  range: Range;
  /** 1-based line; 1-based column in bytes of the line. */
  line: number;
  column: number;
  /** The text of the line. */
  context: string;
}

/** `dowse/findUsages` result. */
export interface UsagesResponse {
  symbol: string;
  definitions: Usage[];
  references: Usage[];
}

/** `dowse/findSimilar` params: the chunk at a position. */
export interface FindSimilarParams {
  uri: string;
  position: Position;
  limit?: number;
}

/** `dowse/findSimilar` result. */
export interface SimilarResponse {
  /** The chunk at the position asked about. */
  source: SearchHit;
  degraded?: string;
  results: SearchHit[];
}

/** `dowse/context` params. */
export interface ContextParams {
  query: string;
  /** The token budget: 100 to 200000; 4000 by default. */
  maxTokens?: number;
}

/** Whole lines of one file, merged from the best chunks. */
export interface ContextChunk {
  uri: string;
  root: string;
  path: string;
  range: Range;
  startLine: number;
  endLine: number;
  /** The definitions in the span, best-ranked first. */
  symbols?: string[];
  language: string;
  score: number;
  tokens: number;
  text: string;
}

/** `dowse/context` result. */
export interface ContextResponse {
  query: string;
  degraded?: string;
  maxTokens: number;
  /** Tokens of everything returned: at most `maxTokens`. */
  tokens: number;
  /** `model`: counted by the embedding model's tokenizer. */
  tokenCount: 'model' | 'estimate';
  chunks: ContextChunk[];
}

export interface ComponentHealth {
  status: HealthStatus;
  message: string;
  /** How long the probe took; absent when nothing was probed. */
  latencyMs?: number;
}

/** `dowse/health` result (no params). */
export interface HealthResponse {
  status: HealthStatus;
  /** lexical, vectors, embedder, usages, watcher, storage (prefixed by the root's name with several roots). */
  components: Record<string, ComponentHealth>;
}

/** `dowse/stats` result (no params). */
export interface StatsResponse {
  files: number;
  chunks: number;
  vectors: number;
  pendingEmbeddings: number;
  indexBytes: number;
  lastIndexSeconds: number | null;
  queries: number;
  queryP50Ms: number | null;
  queryP99Ms: number | null;
  recoveries: string[];
  uptimeSeconds: number;
  readOnly: boolean;
  diskCommits: number;
  openBuffers: number;
  languages: LanguageStats[];
  /** The team index, when one is set. */
  remote?: RemoteStatus;
}

/** The team index as `dowse/stats` reports it. */
export interface RemoteStatus {
  url: string;
  collection: string;
  reachable: boolean;
  latencyMs?: number;
  points?: number;
  /** green, yellow, grey, red. */
  status?: string;
  model?: string;
  shards?: number;
  replicationFactor?: number;
  /** [active, all] replicas of the collection's shards. */
  replicasActive?: number[];
  error?: string;
}

/** One language's share of the index, and what dowse does with it. */
export interface LanguageStats {
  /** As results and `lang` name it. */
  name: string;
  files: number;
  chunks: number;
  /** Chunked by syntax; else by line windows. */
  syntax: boolean;
  /** Find usages across the workspace, within a file, or none. */
  usages: 'workspace' | 'file' | 'none';
}

/** `dowse/reindex` result (no params): answered once the disk is committed; vectors follow. */
export interface ReindexResponse {
  files: number;
  chunks: number;
  filesIndexed: number;
  filesRemoved: number;
  seconds: number;
}

/** `dowse/mcpEndpoint` result (no params), or null while it starts or with `mcp = false`. */
export interface McpEndpoint {
  url: string;
  /** Sent as `Authorization: Bearer <token>`. */
  token: string;
}

export type Phase = 'starting' | 'indexing' | 'embedding' | 'ready' | 'stopping';

export interface Work {
  /** `indexing` or `embedding`. */
  stage: string;
  done: number;
  total: number;
}

export interface RootStatus {
  name: string;
  path: string;
  files: number;
  chunks: number;
  vectors: number;
  /** Another dowse process writes this root's index. */
  readOnly: boolean;
}

/** `dowse/status` notification: sent whenever the index state changes. */
export interface StatusParams {
  phase: Phase;
  files: number;
  chunks: number;
  /** Chunks with a vector, of `vectorsTotal`: search by meaning covers `coverage` (0 to 1). */
  vectors: number;
  vectorsTotal: number;
  coverage: number;
  health: HealthStatus;
  /** Why answers are less than they could be, and what to do. */
  degraded: string | null;
  work: Work | null;
  graphsBuilding: boolean;
  openBuffers: number;
  diskCommits: number;
  /** The indexed files by language, most files first. */
  languages: LanguageStats[];
  /** Moves whenever answers may have changed: a view showing results refreshes. */
  generation: number;
  roots: RootStatus[];
  /** The team index (`URL collection`) searches with scope `team` or `all` reach; null when none is set. */
  team: string | null;
}

// --- methods ---

export const Methods = {
  search: 'dowse/search',
  findUsages: 'dowse/findUsages',
  findSimilar: 'dowse/findSimilar',
  context: 'dowse/context',
  health: 'dowse/health',
  stats: 'dowse/stats',
  reindex: 'dowse/reindex',
  mcpEndpoint: 'dowse/mcpEndpoint',
  status: 'dowse/status',
} as const;
