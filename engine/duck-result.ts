// A streaming DuckDB result as the wire layer's QueryResult: typed columns, then rows pulled chunk
// by chunk, read column by column from the vectors (about 3× faster than chunk.getRows()). The
// same chunks are offered undecoded (QueryResult.duck) for the wire server's native encoder.
import {
  StatementType, type DuckDBConnection, type DuckDBDataChunk, type DuckDBExtractedStatements,
  type DuckDBPreparedStatement, type DuckDBResult,
} from '@duckdb/node-api';
import type { ColumnType } from './schema.ts';
import { SqlError, SqlState, type QueryResult, type Value } from './query.ts';
import { columnTypeOf, toValue } from './duck-types.ts';
import { readOnlyError, toSqlError } from './duck-errors.ts';

/** The statements of `sql`, which must be exactly one (the wire layer splits multi-statement text). */
export async function extractOne(conn: DuckDBConnection, sql: string): Promise<DuckDBExtractedStatements> {
  const extracted = await conn.extractStatements(sql);
  if (extracted.count !== 1) throw new SqlError(SqlState.syntaxError, `expected one statement, got ${extracted.count}`);
  return extracted;
}

/**
 * The last step of every read-only query: anything but SELECT/EXPLAIN is refused, `signal`
 * interrupts the statement while it streams (`release` must unlink `onAbort` and free).
 */
export async function streamReadOnly(
  prepared: DuckDBPreparedStatement, signal: AbortSignal | undefined, onAbort: () => void, release: () => void,
): Promise<QueryResult> {
  if (prepared.statementType !== StatementType.SELECT && prepared.statementType !== StatementType.EXPLAIN) {
    throw readOnlyError();
  }
  if (signal?.aborted) throw new SqlError(SqlState.queryCanceled, 'canceling statement due to user request');
  signal?.addEventListener('abort', onAbort, { once: true });
  return streamedResult(await prepared.stream(), release);
}

/** `release` runs once the rows are exhausted, fail, or the consumer stops early. */
export function streamedResult(result: DuckDBResult, release: () => void): QueryResult {
  const columns = result.columnNames().map((name, i) => ({ name, type: columnTypeOf(result.columnType(i)) }));
  const types = columns.map((c) => c.type);
  async function* raw(): AsyncGenerator<DuckDBDataChunk> {
    try {
      for (;;) {
        const chunk = await result.fetchChunk();
        if (!chunk || chunk.rowCount === 0) return;
        yield chunk;
      }
    } catch (err) {
      throw toSqlError(err);
    } finally {
      release();
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
