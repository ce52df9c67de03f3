// One table scan of one query: the snapshot's batches left after pruning and, per column, how it
// is handed to DuckDB. String columns the query reads become ENUMs over a query-wide dictionary
// merged from the batches' dictionaries, so their rows cross as fixed-width ids. `nativePlan()`
// decodes the columns the query reads into the buffers the native scan (native/src/duck/scan.cc)
// reads on DuckDB's threads.
import type { ColumnDef } from '../schema.ts';
import type { DecodedColumn, ScanBatch } from '../store/decoded.ts';
import type { EncodedColumn, SealedBatch } from '../store/sealed-batch.ts';
import type { TableStore } from '../store/table-store.ts';
import type { Upid } from '../upid.ts';
import type { NativeScanColumn, NativeScanPlan, NativeScanType } from '../../native/duck.ts';
import type { CodeLease } from './text-codes.ts';

/** Above this many dictionary entries (summed over batches) a string column goes as VARCHAR. */
export const defaultMaxEnumEntries = 1 << 20;

/** An ENUM only when the query-wide dictionary has at most one entry per this many rows. */
const enumRowsPerEntry = 64;

/** Rows per DuckDB thread a scan asks for (small scans stay on one thread, in store order). */
export const defaultRowsPerThread = 1 << 17;

/**
 * An AND-ed bound of the WHERE on an integer or time column (analyze.ts's rangeBounds: inclusive,
 * conservative; time in µs). The native scan emits only rows inside every bound (NULL there
 * fails, as the comparison does); DuckDB still applies the WHERE, so a superset is enough.
 */
export interface RangeBound {
  column: number;
  lo: number;
  hi: number;
}

/** Every non-NULL value of the batch's column lies inside the bound (by its zone map). */
export function zoneInside(b: ScanBatch, bound: RangeBound, isTime: boolean): boolean {
  const min = isTime ? b.zone.timeMin : b.zone.min[bound.column]!;
  const max = isTime ? b.zone.timeMax : b.zone.max[bound.column]!;
  return min >= bound.lo && max <= bound.hi; // NaN (unknown): false
}

export interface ColumnOutput {
  type: NativeScanType;
  /** ENUM columns: the query-wide dictionary. */
  members?: string[];
  /** ENUM columns: per batch, batch dictionary id → query-wide id. */
  remaps?: Uint32Array[];
  /** ENUM columns are cast back to VARCHAR in the table's view. */
  cast: boolean;
}

function baseType(c: ColumnDef): NativeScanType {
  switch (c.type) {
    case 'int2': return 'smallint';
    case 'int4': return 'integer';
    case 'int8': return 'bigint';
    case 'float4': return 'float';
    case 'float8': return 'double';
    case 'timestamptz': return 'timestamptz';
    case 'timestamp': return 'timestamp';
    case 'bool': return 'boolean';
    case 'uuid': return 'uuid';
    default: return 'varchar';
  }
}

/** Words of a UPID as DuckDB's UUID hugeint, little-endian (upper half with its top bit flipped). */
export function uuidWords(u: Upid): [number, number, number, number] {
  const ticks = u.startTicks & 0xffff_ffff_ffff_ffffn;
  return [Number(ticks & 0xffff_ffffn), Number(ticks >> 32n), u.pid >>> 0, ((u.asid >>> 0) ^ 0x8000_0000) >>> 0];
}

/**
 * The sealed batch behind each batch of a snapshot, so the native scan can decode on DuckDB's
 * threads. A snapshot lists the sealed batches in order, then the hot one; taken in the same tick
 * as the snapshot (no appends in between), else nothing is mapped and JS decodes.
 */
export function sealedBatchesOf(table: TableStore | undefined, batches: readonly ScanBatch[]): Map<ScanBatch, SealedBatch> {
  const out = new Map<ScanBatch, SealedBatch>();
  const sealed = table?.sealedBatches() ?? [];
  if (batches.length < sealed.length || sealed.some((s, i) => s.rows !== batches[i]!.rows)) return out;
  sealed.forEach((s, i) => out.set(batches[i]!, s));
  return out;
}

function upidWords(upids: readonly Upid[]): Uint32Array {
  const out = new Uint32Array(upids.length * 4);
  upids.forEach((u, k) => out.set(uuidWords(u), k * 4));
  return out;
}

/** What the native scan decodes itself (all but ENUM text, whose dictionary JS merges). */
export function nativeEncoded(e: EncodedColumn): NativeScanColumn {
  const nulls = e.nulls;
  switch (e.kind) {
    case 'i32': return { nulls: null, encoded: { kind: 'i32', base: e.base, ints: e.ints.data, width: e.ints.width, nulls } };
    case 'f64':
    case 'time': return {
      nulls: null,
      encoded: { kind: 'f64', mode: e.mode, base: e.base, ints: e.ints?.data ?? null, width: e.ints?.width ?? 4, raw: e.raw, nulls },
    };
    case 'bool': return { nulls: null, encoded: { kind: 'bool', data: e.data, nulls } };
    case 'upid': return { nulls: null, encoded: { kind: 'upid', idx: e.idx.data, idxWidth: e.idx.width, upids: upidWords(e.upids), nulls } };
    case 'text': return {
      nulls: null,
      encoded: {
        kind: 'text', dictSize: e.dictSize, dictUtf8: e.dictUtf8, lengths: e.dictLengths.data, lengthsWidth: e.dictLengths.width,
        chars: e.chars, idx: e.idx?.data ?? null, idxWidth: e.idx?.width ?? 1, nulls,
      },
    };
  }
}

/** A dictionary (or plain strings in row order) as UTF-8 with entry offsets. */
export function utf8Entries(dict: readonly string[]): { utf8: Uint8Array; offsets: Uint32Array } {
  let chars = 0;
  for (const s of dict) chars += s.length;
  const utf8 = Buffer.allocUnsafe(chars * 3);
  const offsets = new Uint32Array(dict.length + 1);
  let at = 0;
  for (let i = 0; i < dict.length; i++) {
    at += utf8.write(dict[i]!, at);
    offsets[i + 1] = at;
  }
  return { utf8: utf8.subarray(0, at), offsets };
}

/** The hidden column of a text column's table-wide codes (text-codes.ts, group-codes.ts). */
export function codeColumnName(column: string): string {
  return `__wiretap_code_${column}`;
}

export class ScanPlan {
  readonly outputs: ColumnOutput[];
  readonly rows: number;
  /** Batch columns the last nativePlan() sent as constants (tests and benchmarks). */
  constantsSent = 0;

  constructor(
    readonly table: string,
    readonly defs: readonly ColumnDef[],
    readonly batches: readonly ScanBatch[],
    /** Columns the statement may read; the others are declared but never produced. */
    readonly needed: ReadonlySet<string>,
    private readonly maxEnumEntries = defaultMaxEnumEntries,
    /** Sealed batches behind `batches` (sealedBatchesOf): their columns are decoded natively. */
    private readonly sealed: ReadonlyMap<ScanBatch, SealedBatch> = new Map(),
    /** Bounds the native scan prefilters rows with (integer and time columns only). */
    readonly ranges: readonly RangeBound[] = [],
    /**
     * Integer/time columns whose values the statement compares with constants and reads nowhere
     * else, with the interval whose every value satisfies those comparisons (analyze.ts Bound
     * slo/shi): a batch whose zone map lies inside it and that has no NULLs there sends its
     * minimum as a constant instead of the column (nothing decoded, DuckDB's filter still runs).
     */
    readonly constants: ReadonlyMap<number, { lo: number; hi: number }> = new Map(),
    /**
     * Text columns also emitted as codes (column index → its TextCodes lease): one more output
     * column each, `codeColumnName(name)` (UBIGINT), after the table's columns.
     */
    readonly codes: ReadonlyMap<number, CodeLease> = new Map(),
  ) {
    const rangeTypes = ['int2', 'int4', 'int8', 'timestamptz', 'timestamp'];
    for (const r of ranges) {
      const t = defs[r.column]?.type;
      if (!t || !rangeTypes.includes(t)) throw new Error(`ScanPlan: no range prefilter on column ${r.column}`);
    }
    for (const c of constants.keys()) {
      const t = defs[c]?.type;
      if (!t || !rangeTypes.includes(t)) throw new Error(`ScanPlan: no constant for column ${c}`);
    }
    this.rows = batches.reduce((s, b) => s + b.rows, 0);
    this.outputs = defs.map((d, i) => this.outputFor(d, i));
  }

  private outputFor(d: ColumnDef, i: number): ColumnOutput {
    const type = baseType(d);
    const plain = { type, cast: false };
    if (type !== 'varchar' || !this.needed.has(d.name)) return plain;
    let entries = 0;
    for (const b of this.batches) {
      // Sealed batches know their dictionary size without decoding it.
      const sealed = this.sealed.get(b);
      const e = sealed && sealed.encoded(i);
      if (e?.kind === 'text') entries += e.dictSize;
      else {
        const c = b.column(i);
        if (c.kind === 'text') entries += c.dict.length;
      }
      if (entries > this.maxEnumEntries) return plain;
    }
    // Merging dictionaries is JS work per entry, and DuckDB groups and compares the column as
    // VARCHAR either way (the view casts it back): only a small dictionary is worth it. Otherwise
    // sealed batches go compressed to the native decoder as VARCHAR (measured: Q2 at 1M rows,
    // req_path ~25k entries per batch, 1.1 s of plan building as ENUM).
    if (entries > this.rows / enumRowsPerEntry) return plain;
    const ids = new Map<string, number>();
    const members: string[] = [];
    const remaps = this.batches.map((b) => {
      const c = b.column(i);
      if (c.kind !== 'text') throw new Error(`column ${d.name} is not text`);
      const remap = new Uint32Array(c.dict.length);
      for (let k = 0; k < c.dict.length; k++) {
        const s = c.dict[k]!;
        let id = ids.get(s);
        if (id === undefined) {
          id = members.length;
          members.push(s);
          ids.set(s, id);
        }
        remap[k] = id;
      }
      return remap;
    });
    if (members.length === 0) return plain;
    return { type: 'enum', members, remaps, cast: true };
  }

  /**
   * What the native scan reads, for the needed columns (the others null): sealed columns as
   * their compressed buffers (decoded by the DuckDB thread that scans the batch), ENUM text and
   * the hot batch decoded here. The typed arrays are pinned by the native plan until DuckDB and
   * the registry both let go of it.
   */
  nativePlan(rowsPerThread = defaultRowsPerThread): NativeScanPlan {
    const codes = [...this.codes];
    const columns: NativeScanPlan['columns'] = this.defs.map((d, i) => ({ name: d.name, type: this.outputs[i]!.type, members: this.outputs[i]!.members }));
    for (const [i, lease] of codes) columns.push({ name: codeColumnName(this.defs[i]!.name), type: 'code', dict: lease.dict });
    const time = (i: number) => ['timestamptz', 'timestamp'].includes(this.defs[i]!.type);
    this.constantsSent = 0;
    const batches = this.batches.map((b, bi) => ({
      rows: b.rows,
      inside: this.ranges.map((r) => zoneInside(b, r, time(r.column))),
      columns: [
        ...this.defs.map((d, i) => (this.needed.has(d.name) && b.rows > 0 ? this.nativeColumn(b, i, bi) : null)),
        ...codes.map(([i, lease]) => (b.rows > 0 ? this.codeColumn(b, i, lease.remaps[bi]!) : null)),
      ],
    }));
    return { columns, batches, ranges: this.ranges.map((r) => ({ ...r })), maxThreads: Math.max(1, Math.floor(this.rows / Math.max(1, rowsPerThread))) };
  }

  /** Column i's ids (compressed when sealed: the native scan decodes the ids alone) and their codes. */
  private codeColumn(b: ScanBatch, i: number, remap: Uint32Array): NativeScanColumn {
    const e = this.sealed.get(b)?.encoded(i);
    if (e?.kind === 'text') return { ...nativeEncoded(e), remap };
    const c = b.column(i);
    if (c.kind !== 'text') throw new Error(`ScanPlan: column ${this.defs[i]!.name} is not text`);
    return { idx: c.idx, nulls: c.nulls, remap };
  }

  /** The value every row of column i may be sent as (see `constants`), or undefined. */
  private constantFor(b: ScanBatch, i: number): number | undefined {
    const c = this.constants.get(i);
    if (!c) return undefined;
    const min = b.zone.min[i]!;
    const max = b.zone.max[i]!;
    if (!(min >= c.lo && max <= c.hi) || !Number.isSafeInteger(min)) return undefined; // NaN: all NULL or unknown
    const sealed = this.sealed.get(b);
    const e = sealed && sealed.encoded(i);
    const nulls = sealed ? (e ? e.nulls : true) : b.column(i).nulls; // unknown layout: assume NULLs
    return nulls ? undefined : min;
  }

  private nativeColumn(b: ScanBatch, i: number, batch: number): NativeScanColumn {
    const constant = this.constantFor(b, i);
    if (constant !== undefined) {
      this.constantsSent++;
      return { nulls: null, constant };
    }
    const o = this.outputs[i]!;
    const sealed = this.sealed.get(b);
    const e = sealed && o.type !== 'enum' ? sealed.encoded(i) : undefined;
    if (e) return nativeEncoded(e);
    const c: DecodedColumn = b.column(i);
    switch (c.kind) {
      case 'i32':
      case 'f64':
      case 'time':
      case 'bool':
        return { values: c.values, nulls: c.nulls };
      case 'upid':
        return { idx: c.idx, upids: upidWords(c.upids), nulls: c.nulls };
      case 'text':
        if (o.type === 'enum') return { idx: c.idx, remap: o.remaps![batch]!, nulls: c.nulls };
        return { idx: c.idx, nulls: c.nulls, ...utf8Entries(c.dict) };
    }
  }
}
