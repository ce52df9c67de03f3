// The query interface between server/ (wire protocol) and planner/engine (execution).
import type { DuckDBDataChunk } from '@duckdb/node-api';
import type { ColumnType } from './schema.ts';

/**
 * A value as handed to the wire layer. timestamptz/timestamp: bigint microseconds since the
 * Unix epoch; date: number of days since epoch; time: bigint microseconds since midnight;
 * interval: {months, days, micros}; numeric: decimal string; uuid: canonical string;
 * json: string; bytea: Uint8Array.
 */
export type Value =
  | null | boolean | number | bigint | string | Uint8Array
  | { months: number; days: number; micros: bigint };

export interface ResultColumn {
  name: string;
  type: ColumnType;
}

export interface QueryResult {
  /** Command tag verb, e.g. 'SELECT'. */
  command: string;
  columns: ResultColumn[];
  /** Rows in chunks, pulled by the consumer (so a slow client never forces unbounded buffering). */
  chunks: AsyncIterable<Value[][]>;
  /**
   * Results straight from DuckDB also offer their chunks undecoded, for the wire server's native
   * DataRow encoder (server/pg/row-batches.ts). A consumer iterates `chunks` or `duck.chunks`,
   * never both: they share one DuckDB result.
   */
  duck?: DuckChunks;
}

export interface DuckChunks {
  /** DuckDB type id (DuckDBTypeId) of each column. */
  typeIds: number[];
  chunks: AsyncIterable<DuckDBDataChunk>;
}

/** A SQL error with its SQLSTATE; the server turns it into an ErrorResponse. */
export class SqlError extends Error {
  constructor(
    readonly sqlstate: string,
    message: string,
    readonly detail?: string,
    readonly hint?: string,
  ) {
    super(message);
    this.name = 'SqlError';
  }
}

export const SqlState = {
  syntaxError: '42601',
  undefinedTable: '42P01',
  undefinedColumn: '42703',
  undefinedFunction: '42883',
  insufficientPrivilege: '42501',
  readOnlySqlTransaction: '25006',
  featureNotSupported: '0A000',
  queryCanceled: '57014',
  internalError: 'XX000',
  dataException: '22000',
  invalidTextRepresentation: '22P02',
  divisionByZero: '22012',
  tooManyConnections: '53300',
  protocolViolation: '08P01',
  invalidPassword: '28P01',
} as const;

/** What a statement needs from its client session beyond its text. */
export interface QueryOptions {
  /**
   * The session's TimeZone as an ICU zone id (`duckTimeZone()` in planner/session/time-zone.ts):
   * DuckDB's date/time functions (date_trunc, extract, ::date, strftime, casts of text to
   * timestamptz) run in it, as PostgreSQL's do. Absent: UTC.
   */
  timeZone?: string;
}

/** What the server needs from the layer below: run one SQL statement. */
export interface QueryExecutor {
  /** Runs one statement. Rejects with SqlError. The signal aborts a running query (57014). */
  query(sql: string, signal?: AbortSignal, options?: QueryOptions): Promise<QueryResult>;
}

/** Every row of a result, in order (tests, benches and small internal reads; the wire layer streams). */
export async function allRows(r: QueryResult): Promise<Value[][]> {
  const rows: Value[][] = [];
  for await (const chunk of r.chunks) rows.push(...chunk);
  return rows;
}
