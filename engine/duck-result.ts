// A streaming DuckDB result as the wire layer's QueryResult: typed columns, then rows pulled chunk
// by chunk, read column by column from the vectors (about 3× faster than chunk.getRows()). The
// same chunks are offered undecoded (QueryResult.duck) for the wire server's native encoder.
import {
  StatementType, type DuckDBConnection, type DuckDBDataChunk, type DuckDBExtractedStatements,
  type DuckDBMaterializedResult, type DuckDBPreparedStatement, type DuckDBResult,
} from '@duckdb/node-api';
import type { ColumnType } from './schema.ts';
import { SqlError, SqlState, type QueryOptions, type QueryResult, type Value } from './query.ts';
import { columnTypeOf, toValue } from './duck-types.ts';
import { readOnlyError, toSqlError } from './duck-errors.ts';

/** The statements of `sql`, which must be exactly one (the wire layer splits multi-statement text). */
export async function extractOne(conn: DuckDBConnection, sql: string): Promise<DuckDBExtractedStatements> {
  const extracted = await conn.extractStatements(sql);
  if (extracted.count !== 1) throw new SqlError(SqlState.syntaxError, `expected one statement, got ${extracted.count}`);
  return extracted;
}

/**
 * `sql` prepared without splitting it first (one thread-pool round trip less than extractOne +
 * prepare): DuckDB refuses to prepare several statements, and then extractOne gives the error
 * it would have given (`expected one statement, got N`).
 */
async function prepareOne(conn: DuckDBConnection, sql: string): Promise<DuckDBPreparedStatement> {
  try {
    return await conn.prepare(sql);
  } catch (err) {
    await extractOne(conn, sql);
    throw err;
  }
}

/** `EXPLAIN`, `EXPLAIN ANALYZE` or `EXPLAIN (options)` with the comments around them. */
const explainHead = /^(?:\s|--[^\n]*\n|\/\*[\s\S]*?\*\/)*explain\b(?:\s|--[^\n]*\n|\/\*[\s\S]*?\*\/)*(?:analy[sz]e\b|\([^)]*\))?/i;

/**
 * Statement 0 of `extracted` (the text `sql`) prepared. The engine and merge databases do not
 * lock their configuration (each statement's connection is SET to the session's TimeZone), and
 * EXPLAIN ANALYZE executes what it explains, so an EXPLAIN is refused unless it explains a query
 * (`EXPLAIN ANALYZE SET threads = 1` would otherwise change the database). Anything that is not
 * SELECT/EXPLAIN is refused later by streamReadOnly(), before it runs.
 */
export async function prepareQuery(conn: DuckDBConnection, extracted: DuckDBExtractedStatements | null, sql: string): Promise<DuckDBPreparedStatement> {
  const prepared = extracted ? await extracted.prepare(0) : await prepareOne(conn, sql);
  if (prepared.statementType !== StatementType.EXPLAIN) return prepared;
  let inner: DuckDBPreparedStatement | undefined;
  try {
    const head = explainHead.exec(sql);
    if (!head) throw readOnlyError();
    inner = await (await extractOne(conn, sql.slice(head[0].length))).prepare(0);
    if (inner.statementType !== StatementType.SELECT) throw readOnlyError();
    return prepared;
  } catch {
    prepared.destroySync();
    throw readOnlyError(); // whatever the explained text is, it did not prepare as a query
  } finally {
    inner?.destroySync();
  }
}

/**
 * Applies the statement's session options to its fresh connection: the TimeZone DuckDB's ICU
 * date/time functions (date_trunc, extract, ::date, strftime, text → timestamptz) run in.
 * Connections start in UTC (SET GLOBAL at start), so UTC needs nothing on a fresh one.
 */
export async function applyQueryOptions(conn: DuckDBConnection, options: QueryOptions | undefined, current = 'UTC'): Promise<void> {
  const zone = options?.timeZone || 'UTC';
  if (zone === current) return; // `current`: the zone a reused (pooled) connection is already in
  try {
    await conn.run(`SET TimeZone = '${zone.replace(/'/g, "''")}'`);
  } catch {
    throw new SqlError('22023', `time zone "${zone}" is not known to the query engine`, undefined, 'Set TimeZone to another name of the zone, e.g. its tz database name.');
  }
}

/**
 * Starts a DuckDB call on a connection and marks it running until it settles (closing the
 * connection under it would be a use-after-free); may refuse to start one (the engine is closing).
 */
export type TrackCall = <T>(call: () => Promise<T>) => Promise<T>;
const untracked: TrackCall = (call) => call();

/**
 * The error to raise when a stream ends because its connection was interrupted, else null: an
 * interrupted DuckDB stream just ends (an empty chunk), which must not pass for the last row.
 */
export type Interrupted = () => SqlError | null;

export interface StreamOptions {
  /** The statement gives one row: run it materialized (no thread-pool round trip per chunk). */
  oneRow?: boolean;
  track?: TrackCall;
  /** Default: the signal's cancel (57014) once it aborted. */
  interrupted?: Interrupted;
}

export const canceled = () => new SqlError(SqlState.queryCanceled, 'canceling statement due to user request');

/**
 * The last step of every read-only query: anything but SELECT/EXPLAIN is refused, `signal`
 * interrupts the statement while it streams (`release` must unlink `onAbort` and free).
 */
export async function streamReadOnly(
  prepared: DuckDBPreparedStatement, signal: AbortSignal | undefined, onAbort: () => void, release: (complete: boolean) => void,
  o: StreamOptions = {},
): Promise<QueryResult> {
  if (prepared.statementType !== StatementType.SELECT && prepared.statementType !== StatementType.EXPLAIN) {
    throw readOnlyError();
  }
  if (signal?.aborted) throw canceled();
  signal?.addEventListener('abort', onAbort, { once: true });
  const track = o.track ?? untracked;
  if (o.oneRow) return materializedResult(await track(() => prepared.run()), release);
  const interrupted = o.interrupted ?? (() => (signal?.aborted ? canceled() : null));
  return streamedResult(await track(() => prepared.stream()), release, track, interrupted);
}

/**
 * `release` runs once the rows are exhausted (complete = true), fail, or the consumer stops early
 * (false: the connection may still hold a pending result).
 */
export function streamedResult(result: DuckDBResult, release: (complete: boolean) => void, track = untracked, interrupted: Interrupted = () => null): QueryResult {
  return resultOf(result, release, async () => {
    const chunk = await track(() => result.fetchChunk());
    if (!chunk || chunk.rowCount === 0) {
      const err = interrupted();
      if (err) throw err;
    }
    return chunk;
  });
}

/**
 * A result DuckDB has already materialized (`oneRow` above: a statement known to give one row):
 * its chunks are read without a thread-pool round trip each (a stream costs two more: execute
 * until the first chunk, then the empty chunk that ends it).
 */
export function materializedResult(result: DuckDBMaterializedResult, release: (complete: boolean) => void): QueryResult {
  let next = 0;
  return resultOf(result, release, () => Promise.resolve(next < result.chunkCount ? result.getChunk(next++) : null));
}

function resultOf(result: DuckDBResult, release: (complete: boolean) => void, fetch: () => Promise<DuckDBDataChunk | null>): QueryResult {
  const columns = result.columnNames().map((name, i) => ({ name, type: columnTypeOf(result.columnType(i)) }));
  const types = columns.map((c) => c.type);
  async function* raw(): AsyncGenerator<DuckDBDataChunk> {
    let complete = false;
    try {
      for (;;) {
        const chunk = await fetch();
        if (!chunk || chunk.rowCount === 0) {
          complete = true;
          return;
        }
        yield chunk;
      }
    } catch (err) {
      throw toSqlError(err);
    } finally {
      release(complete);
    }
  }
  const rawChunks = raw();
  async function* rows(): AsyncGenerator<Value[][]> {
    try {
      for await (const chunk of rawChunks) yield chunkValues(chunk, types);
    } catch (err) {
      throw toSqlError(err);
    }
  }
  const typeIds = columns.map((_, i) => result.columnTypeId(i) as number);
  return { command: 'SELECT', columns, chunks: rows(), duck: { typeIds, chunks: rawChunks } };
}

/** One chunk's rows as wire Values (engine/query.ts conventions). */
export function chunkValues(chunk: DuckDBDataChunk, types: ColumnType[]): Value[][] {
  const n = chunk.rowCount;
  const out: Value[][] = new Array(n);
  for (let r = 0; r < n; r++) out[r] = new Array(types.length);
  for (let c = 0; c < types.length; c++) {
    const vector = chunk.getColumnVector(c);
    const type = types[c]!;
    for (let r = 0; r < n; r++) out[r]![c] = toValue(vector.getItem(r), type);
  }
  return out;
}
