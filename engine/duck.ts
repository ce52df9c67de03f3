// The standalone engine: http_events kept in a locked-down in-memory DuckDB, appended in
// batches, queried with streaming results. (The compressed Arrow store replaces the storage
// side later; the query interface stays.)
import { DuckDBInstance, DuckDBConnection, StatementType, type DuckDBAppender } from '@duckdb/node-api';
import { tables, type ColumnDef, type RowSink, type RowTypes, type TableName } from './schema.ts';
import { SqlError, SqlState, type QueryExecutor, type QueryResult, type Value } from './query.ts';
import { columnTypeOf, toValue } from './duck-types.ts';
import { toSqlError } from './duck-errors.ts';
import { rowAppender } from './duck-append.ts';

export interface DuckEngineOptions {
  /** Rows kept per table; the oldest are deleted beyond it. */
  maxRowsPerTable?: number;
  /** Rows buffered in JS before an append flush (also flushed every flushIntervalMs). */
  flushRows?: number;
  flushIntervalMs?: number;
  /** DuckDB worker threads. */
  threads?: number;
  /** DuckDB memory limit, e.g. '1GB'. */
  memoryLimit?: string;
}

export interface EngineStats {
  rowsAppended: number;
  rowsExpired: number;
  rowsBuffered: number;
}

/** Settings that make user SQL unable to touch files, the network, extensions or config. */
function lockedDownConfig(o: Required<DuckEngineOptions>): Record<string, string> {
  return {
    enable_external_access: 'false',
    autoinstall_known_extensions: 'false',
    autoload_known_extensions: 'false',
    allow_community_extensions: 'false',
    allow_unsigned_extensions: 'false',
    threads: String(o.threads),
    memory_limit: o.memoryLimit,
  };
}

const defaults: Required<DuckEngineOptions> = {
  maxRowsPerTable: 2_000_000,
  flushRows: 4096,
  flushIntervalMs: 200,
  threads: 2,
  memoryLimit: '2GB',
};

/** Statements that may read: optional comments/parentheses, then one of these keywords. */
const readOnlyStart = /^(\s|--[^\n]*\n|\/\*[\s\S]*?\*\/|\()*(select|with|values|table|from|explain)\b/i;

function readOnlyError(): SqlError {
  return new SqlError(
    SqlState.readOnlySqlTransaction,
    'cannot execute this statement: wiretap is read-only (only SELECT queries are allowed)',
  );
}

export class DuckEngine implements QueryExecutor, RowSink {
  private readonly pending = new Map<TableName, object[]>();
  private bufferedRows = 0;
  private flushing: Promise<void> = Promise.resolve();
  private readonly timer: NodeJS.Timeout;
  private readonly counters: EngineStats = { rowsAppended: 0, rowsExpired: 0, rowsBuffered: 0 };
  private closed = false;

  private constructor(
    private readonly instance: DuckDBInstance,
    private readonly writer: DuckDBConnection,
    private readonly appenders: Map<TableName, { appender: DuckDBAppender; write: (a: DuckDBAppender, row: object) => void }>,
    private readonly opts: Required<DuckEngineOptions>,
  ) {
    this.timer = setInterval(() => void this.flush(), opts.flushIntervalMs);
    this.timer.unref();
  }

  static async create(options: DuckEngineOptions = {}): Promise<DuckEngine> {
    const opts = { ...defaults, ...options };
    const instance = await DuckDBInstance.create(':memory:', lockedDownConfig(opts));
    const writer = await instance.connect();
    // TimeZone belongs to the ICU extension, so it is set after start; then configuration is locked.
    await writer.run("SET GLOBAL TimeZone = 'UTC'");
    await writer.run('SET GLOBAL lock_configuration = true');
    const appenders = new Map();
    for (const [name, cols] of Object.entries(tables) as [TableName, readonly ColumnDef[]][]) {
      const ddl = cols.map((c) => `"${c.name}" ${c.duck}`).join(', ');
      await writer.run(`CREATE TABLE ${name} (${ddl})`);
      appenders.set(name, { appender: await writer.createAppender(name), write: rowAppender(cols) });
    }
    return new DuckEngine(instance, writer, appenders, opts);
  }

  append<T extends TableName>(table: T, row: RowTypes[T]): void {
    if (this.closed) return;
    let rows = this.pending.get(table);
    if (!rows) this.pending.set(table, (rows = []));
    rows.push(row);
    if (++this.bufferedRows >= this.opts.flushRows) void this.flush();
  }

  /** Makes every row appended so far visible to queries. */
  flush(): Promise<void> {
    this.flushing = this.flushing.then(() => this.flushNow()).catch(() => {});
    return this.flushing;
  }

  private async flushNow(): Promise<void> {
    for (const [table, rows] of this.pending) {
      if (rows.length === 0) continue;
      this.pending.set(table, []);
      this.bufferedRows -= rows.length;
      const { appender, write } = this.appenders.get(table)!;
      for (const r of rows) write(appender, r);
      appender.flushSync();
      this.counters.rowsAppended += rows.length;
      await this.expire(table);
    }
  }

  /** Keeps at most maxRowsPerTable rows, dropping the oldest by time_. */
  private async expire(table: TableName): Promise<void> {
    const keep = this.opts.maxRowsPerTable;
    const reader = await this.writer.runAndReadAll(`SELECT count(*) FROM ${table}`);
    const count = Number(reader.getRows()[0]?.[0] ?? 0);
    if (count <= keep * 1.05) return; // delete in steps, not on every flush
    const excess = count - keep;
    await this.writer.run(
      `DELETE FROM ${table} WHERE time_ <= (SELECT time_ FROM ${table} ORDER BY time_ LIMIT 1 OFFSET ${excess - 1})`,
    );
    const after = await this.writer.runAndReadAll(`SELECT count(*) FROM ${table}`);
    this.counters.rowsExpired += count - Number(after.getRows()[0]?.[0] ?? 0);
  }

  stats(): EngineStats {
    return { ...this.counters, rowsBuffered: this.bufferedRows };
  }

  async query(sql: string, signal?: AbortSignal): Promise<QueryResult> {
    if (this.closed) throw new SqlError('57P01', 'terminating connection due to administrator command');
    const conn = await this.instance.connect();
    const onAbort = () => conn.interrupt();
    try {
      const extracted = await conn.extractStatements(sql);
      if (extracted.count !== 1) {
        throw new SqlError(SqlState.syntaxError, `expected one statement, got ${extracted.count}`);
      }
      // Refuse by leading keyword first: preparing e.g. COPY would already fail on file access.
      if (!readOnlyStart.test(sql)) throw readOnlyError();
      const prepared = await extracted.prepare(0);
      if (prepared.statementType !== StatementType.SELECT && prepared.statementType !== StatementType.EXPLAIN) {
        prepared.destroySync();
        throw readOnlyError();
      }
      if (signal?.aborted) throw new SqlError(SqlState.queryCanceled, 'canceling statement due to user request');
      signal?.addEventListener('abort', onAbort, { once: true });
      const result = await prepared.stream();
      const columns = result.columnNames().map((name, i) => ({ name, type: columnTypeOf(result.columnType(i)) }));
      const types = columns.map((c) => c.type);
      async function* chunks(): AsyncGenerator<Value[][]> {
        try {
          for (;;) {
            const chunk = await result.fetchChunk();
            if (!chunk || chunk.rowCount === 0) return;
            const rows = chunk.getRows();
            const out: Value[][] = new Array(rows.length);
            for (let r = 0; r < rows.length; r++) {
              const src = rows[r]!;
              const row: Value[] = new Array(src.length);
              for (let c = 0; c < src.length; c++) row[c] = toValue(src[c]!, types[c]!);
              out[r] = row;
            }
            yield out;
          }
        } catch (err) {
          throw toSqlError(err);
        } finally {
          signal?.removeEventListener('abort', onAbort);
          conn.closeSync();
        }
      }
      return { command: 'SELECT', columns, chunks: chunks() };
    } catch (err) {
      signal?.removeEventListener('abort', onAbort);
      conn.closeSync();
      throw toSqlError(err);
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    clearInterval(this.timer);
    await this.flush();
    this.closed = true;
    for (const { appender } of this.appenders.values()) appender.closeSync();
    this.writer.closeSync();
    this.instance.closeSync();
  }
}
