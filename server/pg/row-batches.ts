// How a result's rows become DataRow messages — the one place that picks native or JS encoding.
// Native: DuckDB's chunks go undecoded to wiretap_duck's PgRowEncoder (native/src/duck/pg-rows.cc),
// which writes a whole chunk's DataRows in one Buffer, byte-for-byte what the JS encoders write.
// JS: rows as Values (engine/query.ts), encoded by text-format.ts / binary-format.ts. Native is
// used when the result comes from DuckDB, the addon is built, every column's type is one it
// encodes, and the session's output settings are ones it honours; otherwise the whole result
// goes the JS way (never wrong bytes).
import type { QueryResult, Value } from '../../engine/query.ts';
import { pgRowsAddon } from '../../native/duck-pg-rows.ts';

/** DataRow messages already encoded, `count` of them, back to back. */
export class EncodedRows {
  constructor(readonly bytes: Buffer, readonly count: number) {}

  /** Rows [start, end): DataRows carry their length, so a walk over the headers finds them. */
  slice(start: number, end: number): EncodedRows {
    let at = 0;
    let from = 0;
    for (let i = 0; i < end; i++) {
      if (i === start) from = at;
      at += 1 + this.bytes.readInt32BE(at + 1);
    }
    return new EncodedRows(this.bytes.subarray(from, at), end - start);
  }
}

/** A batch of rows on its way to the client. */
export type RowBatch = Value[][] | EncodedRows;

export function batchLength(batch: RowBatch): number {
  return batch instanceof EncodedRows ? batch.count : batch.length;
}

export function sliceBatch(batch: RowBatch, start: number, end: number): RowBatch {
  return batch instanceof EncodedRows ? batch.slice(start, end) : batch.slice(start, end);
}

/** The session settings that change output (SessionSettings.get; absent = PostgreSQL's defaults as we report them). */
export type OutputSetting = (name: string) => string | undefined;

// DuckDB type ids (DuckDBTypeId) whose output depends on a setting.
const FLOAT = 10, DOUBLE = 11, TIMESTAMP = 12, DATE = 13, INTERVAL = 15, TIMESTAMP_TZ = 31;

/**
 * Why the native encoder cannot write this result the way the session wants it, or null if it can.
 * It writes timestamptz in UTC, DateStyle ISO, IntervalStyle postgres and shortest-exact floats
 * (extra_float_digits ≥ 1).
 */
export function nativeRefusal(typeIds: number[], setting: OutputSetting): string | null {
  const addon = pgRowsAddon();
  if (!addon) return 'addon not built';
  if (process.env.WIRETAP_PG_NATIVE_ROWS === '0') return 'disabled by WIRETAP_PG_NATIVE_ROWS=0';
  for (const id of typeIds) {
    if (!addon.pgRowTypeSupported(id)) return `DuckDB type ${id}`;
    if (id === TIMESTAMP_TZ && !/^(utc|etc\/utc)$/i.test(setting('TimeZone') ?? 'UTC')) return 'TimeZone';
    if ((id === FLOAT || id === DOUBLE) && !(Number(setting('extra_float_digits') ?? '1') >= 1)) return 'extra_float_digits';
    if ((id === DATE || id === TIMESTAMP || id === TIMESTAMP_TZ) && !/^\s*iso\b/i.test(setting('DateStyle') ?? 'ISO')) return 'DateStyle';
    if (id === INTERVAL && (setting('IntervalStyle') ?? 'postgres').toLowerCase() !== 'postgres') return 'IntervalStyle';
  }
  return null;
}

/**
 * The rows of a result in batches (one per DuckDB chunk), encoded natively when possible.
 * formats: per column 0 text / 1 binary. Consumes the result; return() releases it.
 */
export function rowBatches(result: QueryResult, formats: number[], setting: OutputSetting): AsyncIterable<RowBatch> {
  const duck = result.duck;
  if (!duck || nativeRefusal(duck.typeIds, setting) !== null) return result.chunks;
  const encoder = new (pgRowsAddon()!.PgRowEncoder)(Uint8Array.from(formats));
  return (async function* () {
    for await (const chunk of duck.chunks) {
      yield new EncodedRows(encoder.encode((chunk as unknown as { chunk: unknown }).chunk), chunk.rowCount);
    }
  })();
}
