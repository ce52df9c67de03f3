// The broker's merge database: a locked-down in-memory DuckDB (engine/duck.ts settings) in which
// each query gets its own connection, its shipped inputs as temporary tables, and the merge SQL.
import {
  DuckDBInstance, DuckDBDateValue, DuckDBIntervalValue, DuckDBTimeValue, DuckDBTimestampTZValue,
  DuckDBTimestampValue, type DuckDBAppender, type DuckDBConnection,
} from '@duckdb/node-api';
import { lockedDownConfig } from '../../engine/duck.ts';
import { toSqlError } from '../../engine/duck-errors.ts';
import { extractOne, streamReadOnly } from '../../engine/duck-result.ts';
import { type QueryResult, type ResultColumn, type Value } from '../../engine/query.ts';
import type { ColumnType } from '../../engine/schema.ts';
import { quoteIdent } from './sql-ast.ts';

export interface MergeInput { name: string; columns: ResultColumn[]; rows: Value[][] }

/** How a wire column is stored at the broker; uuid/json come back through a casting view. */
function storageType(t: ColumnType, values: () => Iterable<Value>): string {
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
    case 'numeric': {
      // partial sums of integers are HUGEINT on the nodes; keep them exact
      for (const v of values()) if (v !== null && !/^-?\d+$/.test(String(v))) return 'DOUBLE';
      return 'HUGEINT';
    }
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
    case 'HUGEINT': return a.appendHugeInt(BigInt(v as string));
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

export class MergeDb {
  private constructor(private readonly instance: DuckDBInstance, readonly aggregateNames: ReadonlySet<string>) {}

  static async create(threads = 2, memoryLimit = '1GB'): Promise<MergeDb> {
    const instance = await DuckDBInstance.create(':memory:', lockedDownConfig(threads, memoryLimit));
    const admin = await instance.connect();
    await admin.run("SET GLOBAL TimeZone = 'UTC'");
    await admin.run('SET GLOBAL lock_configuration = true');
    const names = (await admin.runAndReadAll("SELECT DISTINCT lower(function_name) FROM duckdb_functions() WHERE function_type = 'aggregate'")).getRows();
    admin.closeSync();
    return new MergeDb(instance, new Set(names.map((r) => String(r[0]))));
  }

  /** Loads the inputs into a fresh connection and runs the merge SQL; the connection closes with the result. */
  async run(inputs: MergeInput[], sql: string, signal?: AbortSignal): Promise<QueryResult> {
    const conn = await this.instance.connect();
    let released = false;
    const onAbort = () => conn.interrupt();
    const release = () => {
      if (released) return;
      released = true;
      signal?.removeEventListener('abort', onAbort);
      conn.closeSync();
    };
    try {
      for (const input of inputs) await load(conn, input);
      const prepared = await (await extractOne(conn, sql)).prepare(0);
      return await streamReadOnly(prepared, signal, onAbort, release);
    } catch (err) {
      release();
      throw toSqlError(err);
    }
  }

  /**
   * The tightest bounds (µs since the epoch) of time_ lower/upper bound expressions, evaluated here
   * (now(), intervals, literals in the broker's UTC); null when one cannot be evaluated.
   */
  async timeBoundsUs(lower: string[], upper: string[]): Promise<{ lower: number | null; upper: number | null } | null> {
    const all = [...lower, ...upper];
    if (all.length === 0) return { lower: null, upper: null };
    const conn = await this.instance.connect();
    try {
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
async function load(conn: DuckDBConnection, input: MergeInput): Promise<void> {
  const storage = input.columns.map((c, i) => storageType(c.type, function* () { for (const r of input.rows) yield r[i]!; }));
  const raw = quoteIdent(`${input.name}__raw`);
  await conn.run(`CREATE TEMP TABLE ${raw} (${input.columns.map((c, i) => `${quoteIdent(c.name)} ${storage[i]}`).join(', ')})`);
  const appender = await conn.createAppender(`${input.name}__raw`, 'main', 'temp');
  for (const row of input.rows) {
    for (let i = 0; i < storage.length; i++) appendValue(appender, storage[i]!, row[i]!);
    appender.endRow();
  }
  appender.closeSync();
  // uuid and json travel as text; the view gives them their types back
  const select = input.columns.map((c) =>
    c.type === 'uuid' ? `CAST(${quoteIdent(c.name)} AS UUID) AS ${quoteIdent(c.name)}`
      : c.type === 'json' ? `CAST(${quoteIdent(c.name)} AS JSON) AS ${quoteIdent(c.name)}` : quoteIdent(c.name));
  await conn.run(`CREATE TEMP VIEW ${quoteIdent(input.name)} AS SELECT ${select.join(', ') || '1 AS "?column?"'} FROM ${raw}`);
}
