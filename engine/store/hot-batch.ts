// The hot batch of a table: rows appended into growable typed arrays and per-batch dictionaries.
// Append-only, so a snapshot is just (arrays, row count) — later appends and growth never touch
// what a snapshot already holds, and readers never block the writer.
import type { ColumnDef } from '../schema.ts';
import type { Upid } from '../upid.ts';
import { kindOf, type ColumnKind } from './column-kind.ts';
import { upidKey, type DecodedColumn, type ScanBatch, type ZoneMap } from './decoded.ts';

const initialCapacity = 256;

abstract class HotColumn {
  nulls: Uint8Array | null = null;
  constructor(public capacity: number) {}
  abstract push(v: unknown, row: number): void;
  abstract grow(capacity: number): void;
  abstract view(rows: number): DecodedColumn;
  abstract bytes(): number;
  setNull(row: number): void {
    if (!this.nulls) this.nulls = new Uint8Array(this.capacity);
    this.nulls[row] = 1;
  }
  protected growNulls(capacity: number): void {
    if (this.nulls) this.nulls = copyInto(new Uint8Array(capacity), this.nulls);
  }
}

function copyInto<T extends { set(a: T): void }>(dst: T, src: T): T {
  dst.set(src);
  return dst;
}

class I32Column extends HotColumn {
  values = new Int32Array(this.capacity);
  min = Infinity;
  max = -Infinity;
  push(v: unknown, row: number): void {
    const n = typeof v === 'number' ? v : Number(v);
    this.values[row] = n;
    if (n < this.min) this.min = n;
    if (n > this.max) this.max = n;
  }
  grow(c: number): void {
    this.values = copyInto(new Int32Array(c), this.values);
    this.growNulls(c);
    this.capacity = c;
  }
  view(rows: number): DecodedColumn {
    return { kind: 'i32', values: this.values.subarray(0, rows), nulls: this.nulls?.subarray(0, rows) ?? null };
  }
  bytes(): number { return this.values.byteLength + (this.nulls?.byteLength ?? 0); }
}

class F64Column extends HotColumn {
  values = new Float64Array(this.capacity);
  min = Infinity;
  max = -Infinity;
  constructor(capacity: number, readonly kind: 'f64' | 'time') { super(capacity); }
  push(v: unknown, row: number): void {
    // time: bigint ns → µs (exact: the division is done in bigint).
    const n = this.kind === 'time'
      ? (typeof v === 'bigint' ? Number(v / 1000n) : Math.floor(Number(v) / 1000))
      : Number(v);
    this.values[row] = n;
    if (n < this.min) this.min = n;
    if (n > this.max) this.max = n;
  }
  grow(c: number): void {
    this.values = copyInto(new Float64Array(c), this.values);
    this.growNulls(c);
    this.capacity = c;
  }
  view(rows: number): DecodedColumn {
    return { kind: this.kind, values: this.values.subarray(0, rows), nulls: this.nulls?.subarray(0, rows) ?? null };
  }
  bytes(): number { return this.values.byteLength + (this.nulls?.byteLength ?? 0); }
}

class BoolColumn extends HotColumn {
  values = new Uint8Array(this.capacity);
  push(v: unknown, row: number): void { this.values[row] = v ? 1 : 0; }
  grow(c: number): void {
    this.values = copyInto(new Uint8Array(c), this.values);
    this.growNulls(c);
    this.capacity = c;
  }
  view(rows: number): DecodedColumn {
    return { kind: 'bool', values: this.values.subarray(0, rows), nulls: this.nulls?.subarray(0, rows) ?? null };
  }
  bytes(): number { return this.values.byteLength + (this.nulls?.byteLength ?? 0); }
}

/** Rough heap cost of one dictionary entry beyond its characters (Map entry, string header). */
const dictEntryOverhead = 48;

/**
 * Strings: a per-batch dictionary (hashing each value once), or — for columns whose values are
 * mostly distinct, where hashing costs more than it saves — plain, in row order (zstd still
 * finds the repetition when the batch seals).
 */
class TextColumn extends HotColumn {
  idx: Uint32Array;
  readonly dict: string[] = [];
  private readonly ids = new Map<string, number>();
  dictChars = 0;
  constructor(capacity: number, readonly plain: boolean) {
    super(capacity);
    this.idx = new Uint32Array(plain ? 0 : capacity);
  }
  push(v: unknown, row: number): void {
    const s = typeof v === 'string' ? v : String(v);
    if (this.plain) {
      // Row i is dict[i]; a NULL row left a hole, so fill up to this row first.
      while (this.dict.length < row) this.dict.push('');
      this.dict.push(s);
      this.dictChars += s.length;
      return;
    }
    let id = this.ids.get(s);
    if (id === undefined) {
      id = this.dict.length;
      this.dict.push(s);
      this.ids.set(s, id);
      this.dictChars += s.length;
    }
    this.idx[row] = id;
  }
  grow(c: number): void {
    if (!this.plain) this.idx = copyInto(new Uint32Array(c), this.idx);
    this.growNulls(c);
    this.capacity = c;
  }
  override setNull(row: number): void {
    super.setNull(row);
    if (this.plain) {
      while (this.dict.length < row) this.dict.push('');
      this.dict.push('');
    }
  }
  view(rows: number): DecodedColumn {
    return { kind: 'text', dict: this.dict, idx: this.plain ? null : this.idx.subarray(0, rows), nulls: this.nulls?.subarray(0, rows) ?? null };
  }
  bytes(): number {
    return this.idx.byteLength + (this.nulls?.byteLength ?? 0) + this.dictChars * 2 + this.dict.length * dictEntryOverhead;
  }
}

class UpidColumn extends HotColumn {
  idx = new Uint32Array(this.capacity);
  readonly upids: Upid[] = [];
  readonly keys = new Set<string>();
  private readonly ids = new Map<string, number>();
  // Rows of one connection share one Upid object: lookups by identity skip building the key.
  private readonly byObject = new Map<unknown, number>();
  push(v: unknown, row: number): void {
    let id = this.byObject.get(v);
    if (id === undefined) {
      const u = v as Upid;
      const key = upidKey(u);
      id = this.ids.get(key);
      if (id === undefined) {
        id = this.upids.length;
        this.upids.push({ asid: u.asid >>> 0, pid: u.pid >>> 0, startTicks: u.startTicks });
        this.ids.set(key, id);
        this.keys.add(key);
      }
      if (this.byObject.size < 4096) this.byObject.set(v, id);
    }
    this.idx[row] = id;
  }
  grow(c: number): void {
    this.idx = copyInto(new Uint32Array(c), this.idx);
    this.growNulls(c);
    this.capacity = c;
  }
  view(rows: number): DecodedColumn {
    return { kind: 'upid', upids: this.upids, idx: this.idx.subarray(0, rows), nulls: this.nulls?.subarray(0, rows) ?? null };
  }
  bytes(): number { return this.idx.byteLength + (this.nulls?.byteLength ?? 0) + this.upids.length * 200; }
}

function columnFor(kind: ColumnKind, capacity: number, plain: boolean): HotColumn {
  switch (kind) {
    case 'i32': return new I32Column(capacity);
    case 'f64': return new F64Column(capacity, 'f64');
    case 'time': return new F64Column(capacity, 'time');
    case 'bool': return new BoolColumn(capacity);
    case 'text': return new TextColumn(capacity, plain);
    case 'upid': return new UpidColumn(capacity);
  }
}

const writers = new Map<string, (row: object, cols: HotColumn[], at: number) => void>();

/**
 * A row writer specialised to the table's fields: static property reads and one call site per
 * column, instead of a keyed read and a shared polymorphic call per value (about 3× faster).
 * Field names come from schema.ts and are checked to be plain identifiers.
 */
function rowWriter(fields: readonly string[]): (row: object, cols: HotColumn[], at: number) => void {
  const key = fields.join(',');
  let w = writers.get(key);
  if (!w) {
    const body = fields.map((f, i) => {
      if (!/^[A-Za-z_$][A-Za-z0-9_$]*$/.test(f)) throw new Error(`column field ${JSON.stringify(f)} is not an identifier`);
      return `v = row.${f}; if (v === null || v === undefined) cols[${i}].setNull(at); else cols[${i}].push(v, at);`;
    });
    w = new Function('row', 'cols', 'at', `let v;\n${body.join('\n')}`) as (row: object, cols: HotColumn[], at: number) => void;
    writers.set(key, w);
  }
  return w;
}

export class HotBatch {
  rows = 0;
  readonly createdAt = Date.now();
  private readonly fields: string[];
  readonly columns: HotColumn[];
  private capacity = initialCapacity;

  /** plainText[i]: keep text column i as plain strings instead of a dictionary. */
  constructor(readonly defs: readonly ColumnDef[], private readonly maxRows: number, plainText: readonly boolean[] = []) {
    this.fields = defs.map((d) => d.field);
    this.write = rowWriter(this.fields);
    this.columns = defs.map((d, i) => columnFor(kindOf(d.type), initialCapacity, plainText[i] ?? false));
  }

  /** Appends one row; true when the arrays had to grow (the caller re-checks the budget). */
  append(row: object): boolean {
    const grew = this.rows === this.capacity;
    if (grew) this.grow();
    this.write(row, this.columns, this.rows);
    this.rows++;
    return grew;
  }

  private readonly write: (row: object, cols: HotColumn[], at: number) => void;

  private grow(): void {
    this.capacity = Math.min(this.capacity * 2, Math.max(this.maxRows, this.capacity + 1));
    for (const c of this.columns) c.grow(this.capacity);
  }

  /** Estimated heap bytes held (typed arrays at capacity, dictionary strings). */
  bytes(): number {
    let b = 0;
    for (const c of this.columns) b += c.bytes();
    return b;
  }

  zone(): ZoneMap {
    let timeMin = Infinity;
    let timeMax = -Infinity;
    let upids: ReadonlySet<string> = new Set();
    const min: number[] = [];
    const max: number[] = [];
    for (const c of this.columns) {
      if (c instanceof I32Column || c instanceof F64Column) {
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

  /** A consistent read-only view of the rows appended so far. */
  snapshot(): ScanBatch {
    const rows = this.rows;
    const views = this.columns.map((c) => c.view(rows));
    return { rows, zone: this.zone(), column: (i) => views[i]! };
  }
}
