// The broker's merge database: a locked-down in-memory DuckDB (engine/duck.ts settings) in which
// each query gets its own connection, its shipped inputs as temporary tables (appended to as the
// nodes answer), and the merge SQL.
import {
  DuckDBInstance, DuckDBDateValue, DuckDBIntervalValue, DuckDBTimeValue, DuckDBTimestampTZValue,
  DuckDBTimestampValue, StatementType, DuckDBDataChunk, BOOLEAN, SMALLINT, INTEGER, BIGINT, FLOAT, DOUBLE, DATE, TIME,
  TIMESTAMP, TIMESTAMPTZ, VARCHAR, type DuckDBAppender, type DuckDBConnection, type DuckDBType, type DuckDBValue,
} from '@duckdb/node-api';
import { lockedDownConfig } from '../../engine/duck.ts';
import { toSqlError } from '../../engine/duck-errors.ts';
import { applyQueryOptions, extractOne, prepareQuery, streamReadOnly } from '../../engine/duck-result.ts';
import { SqlError, SqlState, type QueryOptions, type QueryResult, type ResultColumn, type Value } from '../../engine/query.ts';
import type { ColumnType } from '../../engine/schema.ts';
import { quoteIdent } from './sql-ast.ts';

/** How a wire column is stored at the broker; uuid/json/numeric come back through a casting view. */
function storageType(t: ColumnType): string {
  switch (t) {
    case 'bool': return 'BOOLEAN';
    case 'int2': return 'SMALLINT';
    case 'int4': return 'INTEGER';
    case 'int8': return 'BIGINT';
    case 'float4': return 'FLOAT';
    case 'float8': return 'DOUBLE';
    case 'bytea': return 'BLOB';
    case 'date': return 'DATE';
    case 'time': return 'TIME';
    case 'timestamp': return 'TIMESTAMP';
    case 'timestamptz': return 'TIMESTAMPTZ';
    case 'interval': return 'INTERVAL';
    case 'numeric': return 'NUMERIC'; // appended as text; partial sums of integers (HUGEINT on the nodes) stay exact
    default: return 'VARCHAR'; // text, json, uuid
  }
}

function appendValue(a: DuckDBAppender, storage: string, v: Value): void {
  if (v === null) return a.appendNull();
  switch (storage) {
    case 'BOOLEAN': return a.appendBoolean(v as boolean);
    case 'SMALLINT': return a.appendSmallInt(v as number);
    case 'INTEGER': return a.appendInteger(v as number);
    case 'BIGINT': return a.appendBigInt(BigInt(v as bigint));
    case 'FLOAT': return a.appendFloat(v as number);
    case 'DOUBLE': return a.appendDouble(Number(v));
    case 'BLOB': return a.appendBlob(v as Uint8Array);
    case 'DATE': return a.appendDate(new DuckDBDateValue(v as number));
    case 'TIME': return a.appendTime(new DuckDBTimeValue(v as bigint));
    case 'TIMESTAMP': return a.appendTimestamp(new DuckDBTimestampValue(v as bigint));
    case 'TIMESTAMPTZ': return a.appendTimestampTZ(new DuckDBTimestampTZValue(v as bigint));
    case 'INTERVAL': {
      const i = v as { months: number; days: number; micros: bigint };
      return a.appendInterval(new DuckDBIntervalValue(i.months, i.days, i.micros));
    }
    default: return a.appendVarchar(String(v));
  }
}

/** Rows per data chunk (DuckDB's vector size). */
const chunkRows = 2048;

const chunkTypeOf: Record<string, DuckDBType> = {
  BOOLEAN, SMALLINT, INTEGER, BIGINT, FLOAT, DOUBLE, DATE, TIME, TIMESTAMP, TIMESTAMPTZ, VARCHAR, NUMERIC: VARCHAR,
};

/** The data chunk types of a table's storage; null when one is appended value by value (BLOB, INTERVAL). */
function chunkTypes(storage: string[]): DuckDBType[] | null {
  const types = storage.map((s) => chunkTypeOf[s]);
  return types.every((t) => t !== undefined) ? (types as DuckDBType[]) : null;
}

/** A wire Value as the data chunk vector of its storage takes it. */
function chunkValue(storage: string, v: Value): DuckDBValue {
  if (v === null) return null;
  switch (storage) {
    case 'BIGINT': return BigInt(v as bigint);
    case 'DOUBLE': return Number(v);
    case 'DATE': return new DuckDBDateValue(v as number);
    case 'TIME': return new DuckDBTimeValue(v as bigint);
    case 'TIMESTAMP': return new DuckDBTimestampValue(v as bigint);
    case 'TIMESTAMPTZ': return new DuckDBTimestampTZValue(v as bigint);
    case 'BOOLEAN': case 'SMALLINT': case 'INTEGER': case 'FLOAT': return v as DuckDBValue;
    default: return String(v);
  }
}

export class MergeDb {
  private constructor(private readonly instance: DuckDBInstance, readonly aggregateNames: ReadonlySet<string>) {}

  static async create(threads = 2, memoryLimit = '1GB'): Promise<MergeDb> {
    const instance = await DuckDBInstance.create(':memory:', lockedDownConfig(threads, memoryLimit));
    const admin = await instance.connect();
    // not locked (as the node engine's): each statement's connection takes its session's TimeZone
    await admin.run("SET GLOBAL TimeZone = 'UTC'");
    const names = (await admin.runAndReadAll("SELECT DISTINCT lower(function_name) FROM duckdb_functions() WHERE function_type = 'aggregate'")).getRows();
    admin.closeSync();
    return new MergeDb(instance, new Set(names.map((r) => String(r[0]))));
  }

  /**
   * A statement's merge: its own connection, opened while the fragments run, so each node's rows
   * are appended as they arrive and only the last node's rows and the merge SQL remain after it.
   */
  async open(options?: QueryOptions): Promise<MergeRun> {
    const conn = await this.instance.connect();
    try {
      await applyQueryOptions(conn, options); // the merge's date/time functions run in the session's TimeZone
    } catch (err) {
      conn.closeSync();
      throw err;
    }
    return new MergeRun(conn);
  }

  /**
   * The tightest bounds (µs since the epoch) of time_ lower/upper bound expressions, evaluated here
   * (now(), intervals, literals in the session's TimeZone); null when one cannot be evaluated.
   */
  async timeBoundsUs(lower: string[], upper: string[], options?: QueryOptions): Promise<{ lower: number | null; upper: number | null } | null> {
    const all = [...lower, ...upper];
    if (all.length === 0) return { lower: null, upper: null };
    const conn = await this.instance.connect();
    try {
      await applyQueryOptions(conn, options);
      const row = (await conn.runAndReadAll(`SELECT ${all.map((e) => `epoch_us(CAST((${e}) AS TIMESTAMPTZ))`).join(', ')}`)).getRows()[0]!;
      const us = row.map((v) => (v === null ? null : Number(v)));
      if (us.some((v) => v === null)) return null;
      const lo = us.slice(0, lower.length) as number[];
      const hi = us.slice(lower.length) as number[];
      return { lower: lo.length ? Math.max(...lo) : null, upper: hi.length ? Math.min(...hi) : null };
    } catch {
      return null;
    } finally {
      conn.closeSync();
    }
  }

  close(): void {
    this.instance.closeSync();
  }
}

/** One shipped input as a temporary table (per connection, so concurrent queries never meet). */
class MergeTable {
  /** numeric columns travel as text: all-integer ones become HUGEINT (exact partial sums), others DOUBLE. */
  private readonly integral: boolean[];
  rows = 0;

  constructor(readonly name: string, readonly columns: ResultColumn[], readonly storage: string[], private readonly appender: DuckDBAppender) {
    this.integral = columns.map(() => true);
  }

  add(columns: ResultColumn[], rows: Value[][]): void {
    if (columns.length !== this.columns.length) {
      throw new SqlError(SqlState.internalError, `nodes answered ${this.name} with different columns (${this.columns.length} vs ${columns.length})`);
    }
    const { storage, appender: a, integral } = this;
    const n = storage.length;
    for (let i = 0; i < n; i++) {
      if (storage[i] !== 'NUMERIC' || !integral[i]) continue;
      for (const row of rows) if (row[i] !== null && !/^-?\d+$/.test(String(row[i]))) { integral[i] = false; break; }
    }
    // a data chunk costs ~0.1 ms to create: small answers (a count, a few groups) go value by value
    const types = rows.length * n >= 256 ? chunkTypes(storage) : null;
    if (types) {
      // column by column into data chunks: fixed-width values are written into the vectors in JS
      // and copied once, instead of one native call per value (a 4,800-row × 7-column partial
      // group-by: 9.9 vs 15.8 ms, 0.62×, alternating rounds at load 15)
      for (let off = 0; off < rows.length; off += chunkRows) {
        const part = rows.length <= chunkRows ? rows : rows.slice(off, off + chunkRows);
        const chunk = DuckDBDataChunk.create(types, part.length);
        for (let i = 0; i < n; i++) chunk.setColumnValues(i, part.map((r) => chunkValue(storage[i]!, r[i]!)));
        a.appendDataChunk(chunk);
      }
    } else {
      for (const row of rows) {
        for (let i = 0; i < n; i++) appendValue(a, storage[i]!, row[i]!);
        a.endRow();
      }
    }
    this.rows += rows.length;
  }

  /**
   * The view the merge SQL reads (uuid/json/numeric get their types back). Created with the table,
   * numeric as HUGEINT; `finish` replaces it when a numeric column turned out not to be integral.
   */
  viewSql(replace = false): string {
    const select = this.columns.map((c, i) => {
      const col = quoteIdent(c.name);
      if (c.type === 'uuid') return `CAST(${col} AS UUID) AS ${col}`;
      if (c.type === 'json') return `CAST(${col} AS JSON) AS ${col}`;
      if (c.type === 'numeric') return `CAST(${col} AS ${this.integral[i] ? 'HUGEINT' : 'DOUBLE'}) AS ${col}`;
      return col;
    });
    return `CREATE ${replace ? 'OR REPLACE ' : ''}TEMP VIEW ${quoteIdent(this.name)} AS SELECT ${select.join(', ') || '1 AS "?column?"'} FROM ${quoteIdent(`${this.name}__raw`)}`;
  }

  /** Flushes the appended rows; the SQL to fix the view, when the one made at creation no longer fits. */
  finish(): string | null {
    this.appender.closeSync();
    return this.integral.every((x) => x) ? null : this.viewSql(true);
  }
}

/**
 * One statement's merge connection. Inputs are appended as nodes answer (`append`, in any order,
 * concurrently: connection work is chained); `result` runs the merge SQL once every node is in.
 */
export class MergeRun {
  private readonly tables = new Map<string, Promise<MergeTable>>();
  /** DuckDB work on this connection runs one step at a time. */
  private queue: Promise<unknown> = Promise.resolve();
  private closed = false;

  constructor(private readonly conn: DuckDBConnection) {}

  /** Appends one node's rows (of `columns`) to input `name`; the first call creates its table. */
  async append(name: string, columns: ResultColumn[], rows: Value[][]): Promise<void> {
    let table = this.tables.get(name);
    if (!table) {
      table = this.serial(() => this.create(name, columns));
      table.catch(() => {}); // the caller awaiting it below sees the error
      this.tables.set(name, table);
    }
    const t = await table;
    if (this.closed) return; // the statement failed meanwhile
    t.add(columns, rows);
  }

  /**
   * Runs the merge SQL over the inputs (an input no node answered gets `columnsOf(name)` and no
   * rows). The connection closes when the result is drained, fails or is abandoned.
   */
  async result(names: string[], columnsOf: (name: string) => Promise<ResultColumn[]>, sql: string, signal?: AbortSignal): Promise<QueryResult> {
    const conn = this.conn;
    const onAbort = () => conn.interrupt();
    const release = () => {
      signal?.removeEventListener('abort', onAbort);
      this.close();
    };
    try {
      for (const name of names) if (!this.tables.has(name)) this.tables.set(name, this.serial(async () => this.create(name, await columnsOf(name))));
      await this.queue;
      const fixes = (await Promise.all(names.map(async (n) => (await this.tables.get(n)!).finish()))).filter((v) => v !== null);
      if (fixes.length) await conn.run(fixes.join('; '));
      // one round trip for the usual merge SQL; an EXPLAIN takes prepareQuery's checks
      let prepared = await conn.prepare(sql); // one statement: DuckDB refuses to prepare several
      if (prepared.statementType === StatementType.EXPLAIN) {
        prepared.destroySync();
        prepared = await prepareQuery(conn, await extractOne(conn, sql), sql);
      }
      return await streamReadOnly(prepared, signal, onAbort, release);
    } catch (err) {
      release();
      throw toSqlError(err);
    }
  }

  /**
   * Frees the connection (the statement failed, or its result is done). A step may still be running
   * on DuckDB's thread pool (a table created for a late fragment): closing the connection under it
   * is a use-after-free in DuckDB, so it is interrupted and the connection closed once it settles.
   */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.conn.interrupt();
    void this.queue.then(() => this.conn.closeSync());
  }

  /** Runs `step` after the previous ones; refused once the run is closed. */
  private serial<T>(step: () => Promise<T>): Promise<T> {
    const next = this.queue.then(() => {
      if (this.closed) throw new SqlError(SqlState.queryCanceled, 'canceling statement: its merge was closed');
      return step();
    });
    this.queue = next.catch(() => {});
    return next;
  }

  private async create(name: string, columns: ResultColumn[]): Promise<MergeTable> {
    const storage = columns.map((c) => storageType(c.type));
    const raw = `${name}__raw`;
    await this.conn.run(`CREATE TEMP TABLE ${quoteIdent(raw)} (${columns.map((c, i) => `${quoteIdent(c.name)} ${storage[i] === 'NUMERIC' ? 'VARCHAR' : storage[i]}`).join(', ')})`);
    const table = new MergeTable(name, columns, storage, await this.conn.createAppender(raw, 'main', 'temp'));
    await this.conn.run(table.viewSql());
    return table;
  }
}
