// Rows on their way to the client, and the one place that picks native or JS DataRow encoding.
// A result from DuckDB travels as DuckRows — row ranges of its chunks, not yet decoded — through
// portals (Execute row limits slice them) to the connection, which asks nativeDataRows() for the
// bytes: wiretap_duck's PgRowEncoder (native/src/duck/pg-rows.cc) writes them straight from the
// vectors, byte-for-byte what the JS encoders (text-format.ts, binary-format.ts) write. When it
// cannot (addon not built, a column type it does not encode, a session setting it does not
// honour) the range is decoded to Values and goes the JS way — never wrong bytes.
import type { DuckDBDataChunk } from '@duckdb/node-api';
import type { QueryResult, Value } from '../../engine/query.ts';
import type { ColumnType } from '../../engine/schema.ts';
import { chunkValues } from '../../engine/duck-result.ts';
import { resolveTimeZone, type TimeZone } from '../../planner/session/time-zone.ts';
import { pgRowsAddon, type PgRowEncoder } from '../../native/duck-pg-rows.ts';

/** What a result's DuckDB chunks share: column types and the encoders made for them. */
class DuckSource {
  private readonly encoders = new Map<string, PgRowEncoder>();

  constructor(
    /** DuckDB type id of each column. */
    readonly typeIds: number[],
    /** Wire type of each column (what JS decoding yields). */
    readonly types: ColumnType[],
  ) {}

  encoder(formats: number[]): PgRowEncoder {
    const key = formats.join('');
    let e = this.encoders.get(key);
    if (!e) {
      e = new (pgRowsAddon()!.PgRowEncoder)(Uint8Array.from(formats));
      this.encoders.set(key, e);
    }
    return e;
  }
}

/** Rows [start, end) of one DuckDB chunk, not yet decoded or encoded. */
export class DuckRows {
  constructor(
    readonly source: DuckSource,
    readonly chunk: DuckDBDataChunk,
    readonly start: number,
    readonly end: number,
    /** The chunk decoded once, shared by its slices (small Execute row limits on the JS path). */
    private readonly decoded: { rows?: Value[][] } = {},
  ) {}

  get count(): number {
    return this.end - this.start;
  }

  /** Rows [from, to) of this range. */
  slice(from: number, to: number): DuckRows {
    return new DuckRows(this.source, this.chunk, this.start + from, this.start + Math.min(to, this.count), this.decoded);
  }

  /** The rows as Values (for the JS encoders and for consumers that read values). */
  values(): Value[][] {
    const all = (this.decoded.rows ??= chunkValues(this.chunk, this.source.types));
    return this.start === 0 && this.end === all.length ? all : all.slice(this.start, this.end);
  }
}

/** A batch of rows on its way to the client. */
export type RowBatch = Value[][] | DuckRows;

export function batchLength(batch: RowBatch): number {
  return batch instanceof DuckRows ? batch.count : batch.length;
}

export function sliceBatch(batch: RowBatch, from: number, to: number): RowBatch {
  return batch.slice(from, to);
}

export function batchValues(batch: RowBatch): Value[][] {
  return batch instanceof DuckRows ? batch.values() : batch;
}

/** A result whose rows already travel as RowBatches (a SQL cursor's FETCH); `chunks` decodes them. */
export interface BatchedResult extends QueryResult {
  batches: AsyncIterable<RowBatch>;
}

/**
 * A result's rows in batches: its DuckDB chunks undecoded when it has them (one DuckRows per
 * chunk), else its Values. Consumes the result; return() releases it.
 */
export function resultBatches(result: QueryResult | BatchedResult): AsyncIterable<RowBatch> {
  if ('batches' in result) return result.batches;
  const duck = result.duck;
  if (!duck) return result.chunks;
  const source = new DuckSource(duck.typeIds, result.columns.map((c) => c.type));
  return (async function* () {
    // One chunk ahead: DuckDB computes the next chunk (on a libuv thread) while this one is
    // encoded and the socket drains. Bounded: at most two chunks are held.
    const it = duck.chunks[Symbol.asyncIterator]();
    let ahead: Promise<IteratorResult<DuckDBDataChunk>> | null = it.next();
    ahead.catch(() => {}); // awaited below; this only keeps an early exit from leaving it unhandled
    try {
      for (;;) {
        const step: IteratorResult<DuckDBDataChunk> = await ahead;
        ahead = null;
        if (step.done) return;
        ahead = it.next();
        ahead.catch(() => {});
        yield new DuckRows(source, step.value, 0, step.value.rowCount);
      }
    } finally {
      // the consumer stopped (or failed): let the fetch in flight settle, then release the result
      if (ahead) await ahead.catch(() => {});
      await it.return?.();
    }
  })();
}

/** A session setting by name (SessionSettings.get); undefined = the default we report. */
export type OutputSetting = (name: string) => string | undefined;

// DuckDB type ids (DuckDBTypeId) whose output depends on a setting.
const FLOAT = 10, DOUBLE = 11, TIMESTAMP = 12, DATE = 13, INTERVAL = 15, TIMESTAMP_TZ = 31;

/**
 * Why the native encoder cannot write these columns as the session wants them, or null if it
 * can. It writes timestamptz text in the session TimeZone (at one UTC offset per batch: a batch
 * whose values span an offset change goes the JS way, nativeDataRows), DateStyle ISO,
 * IntervalStyle postgres, bytea hex and shortest-exact floats (extra_float_digits ≥ 1), like
 * the JS encoders with those settings.
 */
export function nativeRefusal(typeIds: number[], setting: OutputSetting): string | null {
  const addon = pgRowsAddon();
  if (!addon) return 'addon not built';
  if (process.env.WIRETAP_PG_NATIVE_ROWS === '0') return 'disabled by WIRETAP_PG_NATIVE_ROWS=0';
  for (const id of typeIds) {
    if (!addon.pgRowTypeSupported(id)) return `DuckDB type ${id}`;
    if (id === TIMESTAMP_TZ && sessionZone(setting) !== null && !addon.PgRowEncoder.prototype.timestamptzSpan) return 'TimeZone';
    if ((id === FLOAT || id === DOUBLE) && !(Number(setting('extra_float_digits') ?? '1') >= 1)) return 'extra_float_digits';
    if ((id === DATE || id === TIMESTAMP || id === TIMESTAMP_TZ) && !/^\s*iso\b/i.test(setting('DateStyle') ?? 'ISO')) return 'DateStyle';
    if (id === INTERVAL && (setting('IntervalStyle') ?? 'postgres').toLowerCase() !== 'postgres') return 'IntervalStyle';
  }
  return null;
}

/** The session's TimeZone unless it is UTC (null); an unreadable one counts as UTC, as connection.ts reads it. */
function sessionZone(setting: OutputSetting): TimeZone | null {
  const name = setting('TimeZone');
  if (name === undefined || name === 'UTC') return null;
  try {
    const zone = resolveTimeZone(name);
    return zone.utc ? null : zone;
  } catch {
    return null;
  }
}

/**
 * The DataRow messages of a batch in the given formats (per column 0 text / 1 binary), written
 * natively; null when this batch must go through the JS encoders (batchValues + text/binary-format).
 */
export function nativeDataRows(batch: RowBatch, formats: number[], setting: OutputSetting): Buffer | null {
  if (!(batch instanceof DuckRows) || nativeRefusal(batch.source.typeIds, setting) !== null) return null;
  const encoder = batch.source.encoder(formats);
  const chunk = (batch.chunk as unknown as { chunk: unknown }).chunk;
  let offset: number | undefined;
  const zone = batch.source.typeIds.includes(TIMESTAMP_TZ) ? sessionZone(setting) : null;
  if (zone) {
    // one offset for the whole batch, if the zone keeps one over the span of its values
    const span = encoder.timestamptzSpan!(chunk, batch.start, batch.end);
    if (span) {
      const o = zone.constantOffset(span[0], span[1]);
      if (o === null) {
        nativeStats.zoneFallbacks++;
        return null; // the JS encoders give each value its own offset
      }
      offset = o;
    }
  }
  const bytes = encoder.encode(chunk, batch.start, batch.end, offset);
  nativeStats.batches++;
  nativeStats.rows += batch.count;
  return bytes;
}

/** Rows and batches this process encoded natively (tests check which path a result took). */
export const nativeStats = { batches: 0, rows: 0, zoneFallbacks: 0 };
