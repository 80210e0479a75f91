// The console's view of the HTTP API of `streamsql serve --http` (server/http.go, console.go).

export interface StateOperator {
  operatorName: string;
  numRowsTotal: number;
  memoryUsedBytes: number;
  numRowsDroppedByWatermark: number;
  numRowsDroppedByWatermarkTotal: number;
  numRowsUpdated: number;
  numRowsRemoved: number;
  numRowsBySide?: number[];
}

export interface Progress {
  id: string;
  runId: string;
  name: string;
  batchId: number;
  timestamp: string;
  numInputRows: number;
  inputRowsPerSecond: number;
  processedRowsPerSecond: number;
  durationMs: Record<string, number>;
  durationSeconds: Record<string, number>;
  eventTime?: Record<string, string>;
  watermark: string;
  nextWatermark: string;
  stateOperators: StateOperator[] | null;
  numRowsDroppedByWatermark: number;
  numRowsDroppedByWatermarkTotal: number;
  numBadRecords: number;
  numBadRecordsTotal: number;
  numOutputRows: number;
  sink: string;
}

export interface QueryInfo {
  name: string;
  kind: string;
  status: string;
  error?: string;
  sinkStatus?: string;
  mode: string;
  trigger: string;
  sink: string;
  sql: string;
  lastProgress: Progress | null;
  recentProgress?: Progress[];
  plan?: string;
  deadLetterTable?: string;
}

export interface Sample {
  t: number;
  epochs: number;
  inputRows: number;
  outputRows: number;
  inputRowsPerSecond: number;
  processedRowsPerSecond: number;
  epochP50Seconds: number;
  epochP99Seconds: number;
  watermarkLagSeconds: number | null;
  stateRows: number;
  stateBytes: number;
  lateRows: number;
  badRecords: number;
}

export interface SQLColumn { name: string; type: string }
export interface SQLResult { tag: string; columns?: SQLColumn[]; rows?: unknown[][]; truncated?: boolean; notices?: string[] }
export interface SQLError { message: string; code: string; position: number; line?: number; column?: number; text?: string; caret?: string }
export interface SQLAnswer { results: SQLResult[]; error?: SQLError }

async function getJSON<T>(path: string): Promise<T> {
  const r = await fetch(path, { headers: { Accept: 'application/json' } });
  if (!r.ok) throw new Error(`${path}: ${r.status} ${await r.text()}`);
  return r.json() as Promise<T>;
}

// post sends a console action; the server requires the JSON content type (see console.go).
async function post<T>(path: string, body: unknown): Promise<{ status: number; body: T }> {
  const r = await fetch(path, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
  const text = await r.text();
  try {
    return { status: r.status, body: JSON.parse(text) as T };
  } catch {
    throw new Error(`${path}: ${r.status} ${text}`);
  }
}

export const api = {
  queries: () => getJSON<QueryInfo[]>('api/queries'),
  query: (name: string) => getJSON<QueryInfo>(`api/queries/${encodeURIComponent(name)}`),
  series: (name: string) => getJSON<Sample[]>(`api/queries/${encodeURIComponent(name)}/series`),
  stop: (name: string) => post<{ tag?: string; error?: SQLError | string }>(`api/queries/${encodeURIComponent(name)}/stop`, {}),
  drop: (name: string) => post<{ tag?: string; error?: SQLError | string }>(`api/queries/${encodeURIComponent(name)}/drop`, {}),
  sql: (sql: string) => post<SQLAnswer>('api/sql', { sql }),
};

// quoteIdent quotes a name for SQL as PostgreSQL does.
export function quoteIdent(name: string): string {
  return '"' + name.replace(/"/g, '""') + '"';
}
