// The hot batch of a table: rows appended into growable typed arrays and per-batch dictionaries.
// Append-only, so a snapshot is just (arrays, row count) — later appends and growth never touch
// what a snapshot already holds, and readers never block the writer.
//
// Ingest cost per row is what this file is about (bench/ingest.ts): rows are kept by reference and
// written 64 at a time by a generated chunk writer (reads flush them first), values are converted
// without allocating (bigints through a shared BigInt64Array), and strings are UTF-8-encoded per
// chunk of rows and interned by their bytes (text-entries.ts), so no row's string outlives its chunk.
import type { ColumnDef } from '../schema.ts';
import type { Upid } from '../upid.ts';
import { Utf8Text } from '../utf8-text.ts';
import { ArrayLease } from './array-pool.ts';
import { kindOf, timeColumnIndex, type ColumnKind } from './column-kind.ts';
import { indicesFor, upidKey, type DecodedColumn, type Indices, type ScanBatch, type ZoneMap } from './decoded.ts';
import { entryStrings, TextBuilder, type TextEntries } from './text-entries.ts';

const initialCapacity = 64;

// One 64-bit slot read as two 32-bit halves: BigInt → number without a heap BigInt (Number(v) and
// v / 1000n each cost a runtime call and, for the division, an allocation).
const big = new BigInt64Array(1);
const halves = new Int32Array(big.buffer);
const hiWord = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1 ? 1 : 0;
const loWord = 1 - hiWord;
const int64Min = -(2n ** 63n);
const int64Max = 2n ** 63n - 1n;

/** A bigint as the nearest double (same as Number(v), exact to 2^53). */
export function bigintToNumber(v: bigint): number {
  if (v < int64Min || v > int64Max) return Number(v);
  big[0] = v;
  return halves[hiWord]! * 4294967296 + (halves[loWord]! >>> 0);
}

/** A time column's value (bigint or number ns since the epoch) as whole µs, floored, exact. */
export function timeUs(v: unknown): number {
  if (typeof v === 'bigint') {
    if (v >= int64Min && v <= int64Max) {
      big[0] = v;
      // v = hi·2^32 + lo and 2^32 = 1000·4294967 + 296: below 2^62 ns (year 2116) every term
      // stays exact in a double.
      const hi = halves[hiWord]!;
      const lo = halves[loWord]! >>> 0;
      if (hi < 0x4000_0000 && hi >= -0x4000_0000) return hi * 4294967 + Math.floor((hi * 296 + lo) / 1000);
    }
    return Number(v / 1000n - (v < 0n && v % 1000n !== 0n ? 1n : 0n));
  }
  return Math.floor(Number(v) / 1000);
}

/**
 * Number(v) for a value of another type than the column's, NaN when it has none (a Symbol, a
 * throwing valueOf): rows are written a chunk at a time, and a throw would leave a chunk half written.
 */
function numberOf(v: unknown): number {
  try {
    return Number(v);
  } catch {
    return NaN;
  }
}

/** String(v) for a text column's value of another type; null (stored as NULL) when it has none. */
function stringOf(v: unknown): string | null {
  try {
    return String(v);
  } catch {
    return null;
  }
}

abstract class HotColumn {
  abstract readonly kind: ColumnKind;
  nulls: Uint8Array | null = null;
  constructor(public capacity: number, protected readonly lease: ArrayLease) {}
  abstract push(v: unknown, row: number): void;
  abstract grow(capacity: number): void;
  /** Rows [0, rows) as a scan reads them; called once per snapshot per column read. */
  abstract view(rows: number): DecodedColumn;
  abstract bytes(): number;
  setNull(row: number): void {
    if (!this.nulls) this.nulls = this.lease.alloc(Uint8Array, this.capacity);
    this.nulls[row] = 1;
  }
  protected growNulls(capacity: number): void {
    if (this.nulls) this.nulls = this.lease.grow(Uint8Array, this.nulls, capacity);
  }
  protected nullsView(rows: number): Uint8Array | null {
    return this.nulls?.subarray(0, rows) ?? null;
  }
}

/**
 * Integer and float columns keep no running min/max: the zone map's range is computed from the
 * stored values when asked (seal, snapshot, stats), over the rows not scanned before — rows are
 * append-only, so each value is looked at once. Two compares and stores per value per row at
 * append cost more than one tight pass at the end, and the range is the stored values' (an int4
 * column given 3.5 stores 3, and 3 is its minimum).
 */
abstract class NumericColumn extends HotColumn {
  abstract values: Int32Array | Float64Array;
  min = Infinity;
  max = -Infinity;
  /** Rows [0, scanned) are in min/max. */
  protected scanned = 0;
  /** min/max over rows [0, rows), NULL rows and NaN left out. */
  abstract range(rows: number): void;
}

class I32Column extends NumericColumn {
  readonly kind = 'i32';
  values = this.lease.alloc(Int32Array, this.capacity);
  push(v: unknown, row: number): void {
    this.values[row] = typeof v === 'number' ? v : typeof v === 'bigint' ? bigintToNumber(v) : numberOf(v);
  }
  range(rows: number): void {
    const v = this.values;
    const nulls = this.nulls;
    // int32 accumulators and the loop-invariant nulls test outside the loop: ~1.5–2 vs ~3.5 ns
    // per value (CPU time, 8 × 64Ki values, load ~8.5). min > max after it: no value seen.
    let min = 0x7fff_ffff;
    let max = -0x8000_0000;
    if (nulls === null) {
      for (let i = this.scanned; i < rows; i++) {
        const n = v[i]! | 0;
        if (n < min) min = n;
        if (n > max) max = n;
      }
    } else {
      for (let i = this.scanned; i < rows; i++) {
        if (nulls[i] === 1) continue;
        const n = v[i]! | 0;
        if (n < min) min = n;
        if (n > max) max = n;
      }
    }
    if (min <= max) {
      if (min < this.min) this.min = min;
      if (max > this.max) this.max = max;
    }
    if (rows > this.scanned) this.scanned = rows;
  }
  grow(c: number): void {
    this.values = this.lease.grow(Int32Array, this.values, c);
    this.growNulls(c);
    this.capacity = c;
  }
  view(rows: number): DecodedColumn {
    return { kind: 'i32', values: this.values.subarray(0, rows), nulls: this.nullsView(rows) };
  }
  bytes(): number { return this.values.byteLength + (this.nulls?.byteLength ?? 0); }
}

class F64Column extends NumericColumn {
  values = this.lease.alloc(Float64Array, this.capacity);
  constructor(capacity: number, lease: ArrayLease, readonly kind: 'f64' | 'time') { super(capacity, lease); }
  push(v: unknown, row: number): void {
    if (this.kind === 'time') this.values[row] = typeof v === 'bigint' || typeof v === 'number' ? timeUs(v) : Math.floor(numberOf(v) / 1000);
    else this.values[row] = typeof v === 'number' ? v : typeof v === 'bigint' ? bigintToNumber(v) : numberOf(v);
  }
  range(rows: number): void {
    const v = this.values;
    const nulls = this.nulls;
    let min = this.min;
    let max = this.max;
    for (let i = this.scanned; i < rows; i++) {
      if (nulls !== null && nulls[i] === 1) continue;
      const n = v[i]!;
      if (n < min) min = n;
      if (n > max) max = n;
    }
    this.min = min;
    this.max = max;
    if (rows > this.scanned) this.scanned = rows;
  }
  grow(c: number): void {
    this.values = this.lease.grow(Float64Array, this.values, c);
    this.growNulls(c);
    this.capacity = c;
  }
  view(rows: number): DecodedColumn {
    return { kind: this.kind, values: this.values.subarray(0, rows), nulls: this.nullsView(rows) };
  }
  bytes(): number { return this.values.byteLength + (this.nulls?.byteLength ?? 0); }
}

class BoolColumn extends HotColumn {
  readonly kind = 'bool';
  values = this.lease.alloc(Uint8Array, this.capacity);
  push(v: unknown, row: number): void { this.values[row] = v ? 1 : 0; }
  grow(c: number): void {
    this.values = this.lease.grow(Uint8Array, this.values, c);
    this.growNulls(c);
    this.capacity = c;
  }
  view(rows: number): DecodedColumn {
    return { kind: 'bool', values: this.values.subarray(0, rows), nulls: this.nullsView(rows) };
  }
  bytes(): number { return this.values.byteLength + (this.nulls?.byteLength ?? 0); }
}

/**
 * Strings, encoded to UTF-8 per chunk of rows (text-entries.ts): interned into a batch dictionary
 * hashed over the bytes, or — `plain`, for columns that were mostly distinct in the previous
 * batch, where the dictionary costs more than it saves — kept per row (zstd still finds their
 * repetition when the batch seals).
 */
class TextColumn extends HotColumn {
  readonly kind = 'text';
  readonly text: TextBuilder;
  private cached: { rows: number; col: DecodedColumn } | null = null;

  constructor(capacity: number, lease: ArrayLease, readonly plain: boolean) {
    super(capacity, lease);
    this.text = new TextBuilder(plain, capacity, undefined, lease);
  }

  push(v: unknown, row: number): void {
    const t = typeof v === 'string' || v instanceof Utf8Text ? v : stringOf(v);
    if (t === null) this.setNull(row);
    else this.text.push(t);
  }

  override setNull(row: number): void {
    super.setNull(row);
    this.text.pushNull();
  }

  grow(c: number): void {
    this.text.grow(c);
    this.growNulls(c);
    this.capacity = c;
  }

  /** Rows [0, rows) as sealing encodes them. The arrays are append-only: safe to keep. */
  rowsUpTo(rows: number): TextRows {
    if (this.text.rows < rows) this.text.flush();
    const e = this.text.entries;
    return {
      rows,
      entries: e.view(this.plain ? rows : e.count),
      idx: this.plain ? null : this.text.idx.subarray(0, rows),
      nulls: this.nullsView(rows),
    };
  }

  view(rows: number): DecodedColumn {
    return this.viewOf(this.rowsUpTo(rows));
  }

  /** Decoded as the sealed batch will be. */
  viewOf(t: TextRows): DecodedColumn {
    if (this.cached?.rows === t.rows) return this.cached.col;
    const col: DecodedColumn = { kind: 'text', dict: entryStrings(t.entries), idx: t.idx ? narrow(t.idx, t.entries.count) : null, nulls: t.nulls };
    this.cached = { rows: t.rows, col };
    return col;
  }

  bytes(): number {
    return this.text.bytes() + (this.nulls?.byteLength ?? 0);
  }
}

/** A text column's rows: the entries (plain: one per row) and, with a dictionary, each row's id. */
export interface TextRows {
  rows: number;
  entries: TextEntries;
  idx: Uint32Array | null;
  nulls: Uint8Array | null;
}

/** Dictionary ids in the narrowest array for the dictionary's size (the decoded form's). */
function narrow(idx: Uint32Array, count: number): Indices {
  if (count > 0x10000) return idx;
  const out = indicesFor(count, idx.length);
  out.set(idx);
  return out;
}

class UpidColumn extends HotColumn {
  readonly kind = 'upid';
  idx = this.lease.alloc(Uint32Array, this.capacity);
  readonly upids: Upid[] = [];
  readonly keys = new Set<string>();
  private readonly ids = new Map<string, number>();
  // Rows of one connection share one Upid object: lookups by identity skip building the key.
  private readonly byObject = new Map<unknown, number>();
  // The last row's Upid and id: runs of one connection's rows skip the Map.
  private lastObject: unknown = undefined;
  private lastId = 0;
  push(v: unknown, row: number): void {
    if (v === this.lastObject) {
      this.idx[row] = this.lastId;
      return;
    }
    let id = this.byObject.get(v);
    if (id === undefined) {
      const u = v as Upid;
      let key: string;
      try {
        key = upidKey(u);
      } catch {
        return this.setNull(row); // no UPID in it (a Symbol field): NULL, the chunk goes on
      }
      id = this.ids.get(key);
      if (id === undefined) {
        id = this.upids.length;
        this.upids.push({ asid: u.asid >>> 0, pid: u.pid >>> 0, startTicks: u.startTicks });
        this.ids.set(key, id);
        this.keys.add(key);
      }
      if (this.byObject.size < 4096) this.byObject.set(v, id);
    }
    this.lastObject = v;
    this.lastId = id;
    this.idx[row] = id;
  }
  grow(c: number): void {
    this.idx = this.lease.grow(Uint32Array, this.idx, c);
    this.growNulls(c);
    this.capacity = c;
  }
  view(rows: number): DecodedColumn {
    return { kind: 'upid', upids: this.upids, idx: this.idx.subarray(0, rows), nulls: this.nullsView(rows) };
  }
  bytes(): number { return this.idx.byteLength + (this.nulls?.byteLength ?? 0) + this.upids.length * 200; }
}

function columnFor(kind: ColumnKind, capacity: number, lease: ArrayLease, plain: boolean): HotColumn {
  switch (kind) {
    case 'i32': return new I32Column(capacity, lease);
    case 'f64': return new F64Column(capacity, lease, 'f64');
    case 'time': return new F64Column(capacity, lease, 'time');
    case 'bool': return new BoolColumn(capacity, lease);
    case 'text': return new TextColumn(capacity, lease, plain);
    case 'upid': return new UpidColumn(capacity, lease);
  }
}

/**
 * Writes pending rows [0, n) into the columns at rows [at, at + n). times[k]: row k's time
 * column, already converted (NaN for NULL); vals: scratch for runs of Utf8Text values.
 */
type ChunkWriter = (rows: readonly object[], n: number, cols: HotColumn[], at: number, times: Float64Array, vals: unknown[]) => void;
const writers = new Map<string, { write: ChunkWriter; time: (row: object) => unknown }>();

/**
 * A chunk writer specialised to the table's fields: static property reads, and the columns' type
 * dispatch and arrays hoisted out of the loops — one pass over the chunk's rows, then a loop per
 * text column that has Utf8Text values — instead of 22 calls per row through every column (and
 * ×1.10 over a loop per column: each row's fields are read together). Numbers and booleans are
 * stored in place (a call only for NULL and other types, bigints converted inline). The time
 * column's values come in already converted (`times`): the table store needs them first for the
 * late-row check. Field names come from schema.ts and are checked to be plain identifiers.
 */
function chunkWriter(defs: readonly ColumnDef[]): { write: ChunkWriter; time: (row: object) => unknown } {
  const fields = defs.map((d) => d.field);
  const kinds = defs.map((d) => kindOf(d.type));
  const ti = timeColumnIndex(defs);
  const key = `${fields.map((f, i) => `${f}:${kinds[i]}`).join(',')}/${ti}`;
  let w = writers.get(key);
  if (!w) {
    for (const f of fields) if (!/^[A-Za-z_$][A-Za-z0-9_$]*$/.test(f)) throw new Error(`column field ${JSON.stringify(f)} is not an identifier`);
    const isNull = `v === null || v === undefined`;
    // Numbers, booleans, time and UPID: one pass over the rows (each row's fields read together).
    const decls: string[] = [];
    const perRow: string[] = [];
    const perColumn: string[] = [];
    fields.forEach((f, i) => {
      const c = `c${i}`;
      const a = `a${i}`;
      decls.push(`const ${c} = cols[${i}];`);
      if (i === ti) {
        decls.push(`const ${a} = ${c}.values;`);
        perRow.push(`v = times[k]; if (v !== v) ${c}.setNull(at + k); else ${a}[at + k] = v;`);
        return;
      }
      switch (kinds[i]) {
        case 'i32':
        case 'f64':
          decls.push(`const ${a} = ${c}.values;`);
          perRow.push(`v = r.${f}; if (typeof v === 'number') ${a}[at + k] = v; else if (typeof v === 'bigint') ${a}[at + k] = toNumber(v); ` +
            `else if (${isNull}) ${c}.setNull(at + k); else ${c}.push(v, at + k);`);
          return;
        case 'bool':
          decls.push(`const ${a} = ${c}.values;`);
          perRow.push(`v = r.${f}; if (${isNull}) ${c}.setNull(at + k); else ${a}[at + k] = v ? 1 : 0;`);
          return;
        case 'text':
          // Strings and NULLs in the pass over the rows, up to the column's first Utf8Text (s${i}):
          // from there the column is read in a loop of its own, where a run of Utf8Text values goes
          // in with one call (interned from where their bytes are), gathered in vals: only those
          // are stored in an array.
          decls.push(`const t${i} = ${c}.text; let s${i} = n;`);
          perRow.push(`if (k < s${i}) { v = r.${f}; if (typeof v === 'string') t${i}.push(v); else if (${isNull}) ${c}.setNull(at + k); ` +
            `else if (v instanceof Utf8Text) s${i} = k; else ${c}.push(v, at + k); }`);
          perColumn.push(`t = t${i}; for (k = s${i}; k < n; k++) { v = rows[k].${f}; ` +
            `if (typeof v === 'string') t.push(v); ` +
            `else if (v instanceof Utf8Text) { j = 0; vals[j++] = v; while (k + j < n && (v = rows[k + j].${f}) instanceof Utf8Text) vals[j++] = v; ` +
            `t.pushUtf8Values(vals, 0, j); for (m = 0; m < j; m++) vals[m] = undefined; k += j - 1; } ` +
            `else if (${isNull}) ${c}.setNull(at + k); else ${c}.push(v, at + k); }`);
          return;
        default:
          perRow.push(`v = r.${f}; if (${isNull}) ${c}.setNull(at + k); else ${c}.push(v, at + k);`);
      }
    });
    const code = `${decls.join('\n')}\nlet r, t, k, j, m, v;\nfor (k = 0; k < n; k++) {\nr = rows[k];\n${perRow.join('\n')}\n}\n${perColumn.join('\n')}`;
    const make = new Function('toNumber', 'Utf8Text', `return function writeChunk(rows, n, cols, at, times, vals) {\n${code}\n};`);
    w = {
      write: make(bigintToNumber, Utf8Text) as ChunkWriter,
      time: ti < 0 ? () => undefined : new Function('row', `return row.${fields[ti]};`) as (row: object) => unknown,
    };
    writers.set(key, w);
  }
  return w;
}

/** Rows appended are kept by reference and written to the columns this many at a time. */
export const pendingRows = 64;

export class HotBatch {
  rows = 0;
  readonly createdAt = Date.now();
  readonly columns: HotColumn[];
  private capacity: number;
  private readonly write: ChunkWriter;
  private readonly readTime: (row: object) => unknown;
  // Rows appended but not yet in the columns (written at pendingRows, or before any read), and
  // their converted times. Slots past `pending` are undefined: the rows die with their chunk.
  private readonly pendingRow: object[] = new Array<object>(pendingRows).fill(undefined as unknown as object);
  private readonly pendingTime = new Float64Array(pendingRows);
  private pending = 0;
  private readonly vals: unknown[] = new Array<unknown>(pendingRows).fill(undefined);
  /** The batch's typed arrays: recycled (array-pool.ts) unless a snapshot has seen them. */
  private readonly lease = new ArrayLease();
  // bytes() runs every 64 rows. Integer, float and bool columns change size only when the lease
  // allocates (growth, a first NULL), so their sum is kept until then; text and UPID columns
  // (dictionaries, pending strings) are summed each time.
  private fixedBytes = 0;
  private sizedAt = -1;
  private readonly variable: HotColumn[];
  private readonly fixed: HotColumn[];

  /**
   * plainText[i]: keep text column i as plain strings instead of a dictionary. rowsHint: rows the
   * previous batch of the table reached — the arrays start at that size (a power of two, at most
   * maxRows) instead of doubling up from 64 rows and copying at each step.
   */
  constructor(readonly defs: readonly ColumnDef[], private readonly maxRows: number, plainText: readonly boolean[] = [], rowsHint = 0) {
    const w = chunkWriter(defs);
    this.write = w.write;
    this.readTime = w.time;
    this.capacity = Math.max(initialCapacity, Math.min(rowsHint <= 1 ? 1 : 2 ** Math.ceil(Math.log2(rowsHint)), maxRows));
    this.columns = defs.map((d, i) => columnFor(kindOf(d.type), this.capacity, this.lease, plainText[i] ?? false));
    this.variable = this.columns.filter((c) => c.kind === 'text' || c.kind === 'upid');
    this.fixed = this.columns.filter((c) => c.kind !== 'text' && c.kind !== 'upid');
  }

  /** The row's time column in µs (NaN when NULL or the table has none), as append stores it. */
  timeOf(row: object): number {
    const v = this.readTime(row);
    return v === null || v === undefined ? NaN : timeUs(v);
  }

  /**
   * Appends one row (`rows` counts it at once; the columns get it at the next flush); `t` is
   * timeOf(row) when the caller already has it. True when the arrays had to grow (the caller
   * re-checks the budget). The row object is kept by reference until then: it must not change.
   */
  append(row: object, t: number = this.timeOf(row)): boolean {
    // Growth stays per row (the arrays always have room for the pending rows too).
    const grew = this.rows === this.capacity;
    if (grew) this.grow();
    const k = this.pending;
    this.pendingRow[k] = row;
    this.pendingTime[k] = t;
    this.rows++;
    this.pending = k + 1;
    if (k + 1 === pendingRows) this.flush();
    return grew;
  }

  /** Writes the pending rows into the columns. Every read of the columns does this first. */
  flush(): void {
    const n = this.pending;
    if (n === 0) return;
    this.pending = 0;
    const p = this.pendingRow;
    this.write(p, n, this.columns, this.rows - n, this.pendingTime, this.vals);
    for (let k = 0; k < n; k++) p[k] = undefined as unknown as object;
  }

  private grow(): void {
    this.capacity = Math.min(this.capacity * 2, Math.max(this.maxRows, this.capacity + 1));
    for (const c of this.columns) c.grow(this.capacity);
  }

  /** Estimated heap bytes held (typed arrays at capacity, dictionary strings, UTF-8 buffers). */
  bytes(): number {
    this.flush();
    if (this.sizedAt !== this.lease.changes) {
      let f = 0;
      for (const c of this.fixed) f += c.bytes();
      this.fixedBytes = f;
      this.sizedAt = this.lease.changes;
    }
    let b = this.fixedBytes;
    for (const c of this.variable) b += c.bytes();
    return b;
  }

  zone(): ZoneMap {
    this.flush();
    let timeMin = Infinity;
    let timeMax = -Infinity;
    let upids: ReadonlySet<string> = new Set();
    const min: number[] = [];
    const max: number[] = [];
    for (const c of this.columns) {
      if (c instanceof NumericColumn) {
        c.range(this.rows);
        min.push(c.min === Infinity ? NaN : c.min);
        max.push(c.max === -Infinity ? NaN : c.max);
        if (c instanceof F64Column && c.kind === 'time' && timeMin === Infinity) {
          timeMin = c.min;
          timeMax = c.max;
        }
      } else {
        min.push(NaN);
        max.push(NaN);
        if (c instanceof UpidColumn && upids.size === 0) upids = new Set(c.keys);
      }
    }
    return { timeMin, timeMax, upids, min, max };
  }

  /**
   * After the seal (which copied what it keeps): the arrays go back to the pool unless a snapshot
   * has seen them. The batch must not be used afterwards.
   */
  release(): void {
    this.lease.releaseAll();
  }

  /** Text column i's rows as UTF-8 bytes (what sealing compresses), and whether it is plain. */
  textRows(i: number, rows: number): TextRows {
    this.flush();
    const c = this.columns[i];
    if (!(c instanceof TextColumn)) throw new Error(`column ${i} is not text`);
    return c.rowsUpTo(rows);
  }

  /**
   * A consistent read-only view of the rows appended so far. Each column's arrays are captured
   * now (later growth replaces them, later appends write past `rows`); text is decoded only when
   * a scan reads the column.
   */
  snapshot(): ScanBatch {
    this.flush();
    this.lease.shared = true; // the views below may outlive this batch
    const rows = this.rows;
    const views = this.columns.map((c): (() => DecodedColumn) => {
      if (c instanceof TextColumn) {
        const t = c.rowsUpTo(rows);
        return () => c.viewOf(t);
      }
      const v = c.view(rows);
      return () => v;
    });
    const cache: (DecodedColumn | undefined)[] = new Array(views.length);
    return { rows, zone: this.zone(), column: (i) => (cache[i] ??= views[i]!()) };
  }
}
