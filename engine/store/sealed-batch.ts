// Sealing: a hot batch becomes an immutable, compressed batch. Per column: compact integer widths
// (offsets from the batch minimum, or deltas for time), per-batch dictionaries for strings, then
// zstd per buffer. Decoding is per column, so a query decompresses only the columns it reads.
import { decompress } from 'zstd-napi';
import zstd from 'zstd-napi/binding.js';
import { storeAddon, type StoreAddon } from '../../native/store.ts';
import type { Upid } from '../upid.ts';
import type { DecodedColumn, Indices, ScanBatch, ZoneMap } from './decoded.ts';
import type { HotBatch, TextRows } from './hot-batch.ts';
import { entryLengths, splitUtf8 } from './text-entries.ts';

/** Integers packed at 1, 2 or 4 bytes each (offsets from a base). */
export type Packed = { width: 1 | 2 | 4; data: Uint8Array };

/** One sealed column's buffers in the frozen layout (the native scan decodes them too). */
export type EncodedColumn =
  | { kind: 'i32'; base: number; ints: Packed; nulls: Uint8Array | null }
  | { kind: 'f64' | 'time'; mode: 'offset' | 'delta' | 'raw'; base: number; ints: Packed | null; raw: Uint8Array | null; nulls: Uint8Array | null }
  | { kind: 'bool'; data: Uint8Array; nulls: Uint8Array | null }
  /** dictLengths in UTF-16 units when `chars` (the usual case: one decode, then slices), else UTF-8 bytes. */
  | { kind: 'text'; dictSize: number; dictUtf8: Uint8Array; dictLengths: Packed; chars: boolean; idx: Packed | null; nulls: Uint8Array | null }
  | { kind: 'upid'; upids: readonly Upid[]; idx: Packed; nulls: Uint8Array | null };

export interface CompressionOptions {
  /** zstd level; 1 is fastest. */
  level: number;
  /** false: seal with the JS loops and zstd-napi even when the native sealer is built (tests compare both). */
  native?: boolean;
}

/** Native sealing (packing, deltas, zstd in one call; native/src/store/seal.cc) when built: same buffers as the JS loops. */
type Sealer = Pick<StoreAddon, 'packZstd' | 'deltaZstd' | 'integralF64' | 'maxU32' | 'zstd'>;
const nativeSealer: Sealer | null = storeAddon && typeof storeAddon.packZstd === 'function' ? storeAddon : null;

function sealerFor(o: CompressionOptions): Sealer | null {
  return o.native === false ? null : nativeSealer;
}

// Sealing allocates only what the sealed batch keeps: values are packed into one scratch area and
// compressed into another, then copied out at their exact size. (Every ArrayBuffer allocated
// counts towards V8's external-memory trigger for full GCs, whose cost grows with the heap.)
const cctx = new zstd.CCtx();
let zScratch = Buffer.allocUnsafeSlow(1 << 16);
let packScratch = new ArrayBuffer(1 << 18);

function scratchFor(bytes: number): ArrayBuffer {
  if (bytes > packScratch.byteLength) packScratch = new ArrayBuffer(Math.max(bytes, packScratch.byteLength * 2));
  return packScratch;
}

/** zstd-compressed copy of `bytes`, exactly sized (the budget counts what is held). */
function z(bytes: Uint8Array, o: CompressionOptions): Uint8Array {
  const n0 = sealerFor(o);
  if (n0) return n0.zstd(bytes, o.level);
  const bound = zstd.compressBound(bytes.byteLength);
  if (bound > zScratch.length) zScratch = Buffer.allocUnsafeSlow(Math.max(bound, zScratch.length * 2));
  // The parameters seal.cc sets (see Compress there): both paths write the same bytes.
  cctx.reset(zstd.ResetDirective.sessionAndParameters);
  cctx.setParameter(zstd.CParameter.compressionLevel, o.level);
  if (o.level === 1) {
    cctx.setParameter(zstd.CParameter.hashLog, 12);
    cctx.setParameter(zstd.CParameter.minMatch, 7);
  }
  const n = cctx.compress2(zScratch, bytes);
  const out = new Uint8Array(n);
  out.set(zScratch.subarray(0, n));
  return out;
}

function unz(bytes: Uint8Array): Buffer {
  return decompress(bytes);
}

function widthFor(range: number): 1 | 2 | 4 {
  return range < 0x100 ? 1 : range < 0x10000 ? 2 : 4;
}

type PackLoop = (out: Uint8Array | Uint16Array | Uint32Array, values: ArrayLike<number>, rows: number, base: number) => void;
const packLoops = new Map<string, PackLoop>();

/**
 * The packing loop for one pair of array types. One shared loop saw every input type (Int32,
 * Float64, Uint32 arrays) and output width, so its element accesses went megamorphic (~5% of
 * ingest CPU); each pair gets its own copy, with its own type feedback.
 */
function packLoop(out: object, values: object): PackLoop {
  const key = `${out.constructor.name}/${values.constructor.name}`;
  let f = packLoops.get(key);
  if (!f) {
    f = new Function('out', 'values', 'rows', 'base', 'for (let i = 0; i < rows; i++) out[i] = values[i] - base;') as PackLoop;
    packLoops.set(key, f);
  }
  return f;
}

/** values[i] - base at `width` bytes each, compressed; NULL rows pack as 0 (the base). */
function pack(
  values: Int32Array | Uint32Array | Float64Array, rows: number, base: number, width: 1 | 2 | 4, nulls: Uint8Array | null, o: CompressionOptions,
): Packed {
  const n = sealerFor(o);
  if (n) return { width, data: n.packZstd(values, rows, base, width, nulls, o.level) };
  const buf = scratchFor(rows * width);
  const out = width === 1 ? new Uint8Array(buf, 0, rows) : width === 2 ? new Uint16Array(buf, 0, rows) : new Uint32Array(buf, 0, rows);
  packLoop(out, values)(out, values, rows, base);
  if (nulls) for (let i = 0; i < rows; i++) if (nulls[i]) out[i] = 0;
  return { width, data: z(new Uint8Array(buf, 0, rows * width), o) };
}

function maxOf(values: Uint32Array, rows: number, o: CompressionOptions): number {
  const n = sealerFor(o);
  if (n) return n.maxU32(values, rows);
  let max = 0;
  for (let i = 0; i < rows; i++) if (values[i]! > max) max = values[i]!;
  return max;
}

function unpack(p: Packed, rows: number): Indices {
  const b = unz(p.data);
  // Copy into an aligned, exactly sized array (decompress output may be unaligned).
  const aligned = new Uint8Array(rows * p.width);
  aligned.set(b.subarray(0, rows * p.width));
  return p.width === 1 ? aligned : p.width === 2 ? new Uint16Array(aligned.buffer) : new Uint32Array(aligned.buffer);
}

function byteLen(p: Packed | null): number {
  return p ? p.data.byteLength : 0;
}

/** NULL slots hold whatever was there; fill them with the minimum so they pack like the rest. */
function fillNulls<T extends Int32Array | Float64Array>(values: T, nulls: Uint8Array | null, fill: number): T {
  if (!nulls || Number.isNaN(fill)) return values;
  const out = values.slice() as T;
  for (let i = 0; i < nulls.length; i++) if (nulls[i]) out[i] = fill;
  return out;
}

function encodeColumn(col: DecodedColumn, rows: number, zoneMin: number, zoneMax: number, o: CompressionOptions): EncodedColumn {
  const nulls = col.nulls ? z(col.nulls, o) : null;
  switch (col.kind) {
    case 'i32': {
      const base = Number.isNaN(zoneMin) ? 0 : zoneMin;
      const range = Number.isNaN(zoneMax) ? 0 : zoneMax - base;
      return { kind: 'i32', base, ints: pack(col.values, rows, base, widthFor(range), col.nulls, o), nulls };
    }
    case 'f64':
    case 'time':
      return encodeFloat(col.kind, col.values, col.nulls, rows, zoneMin, zoneMax, nulls, o);
    case 'bool':
      return { kind: 'bool', data: z(col.values, o), nulls };
    case 'text':
      throw new Error('text columns seal from their UTF-8 entries (encodeText)');
    case 'upid': {
      // NULL rows hold id 0, so they count towards `used` like any row.
      const idx = col.idx instanceof Uint32Array ? col.idx : Uint32Array.from(col.idx);
      const used = rows > 0 ? maxOf(idx, rows, o) + 1 : 0;
      return { kind: 'upid', upids: col.upids.slice(0, used), idx: pack(idx, rows, 0, widthFor(Math.max(0, used - 1)), null, o), nulls };
    }
  }
}

/** A text column from the hot batch's UTF-8 entries: the bytes are compressed as they are. */
function encodeText(t: TextRows, o: CompressionOptions): EncodedColumn {
  const e = t.entries;
  const lengths = entryLengths(e);
  const maxLen = maxOf(lengths, e.count, o);
  return {
    kind: 'text',
    dictSize: e.count,
    dictUtf8: z(e.utf8, o),
    dictLengths: pack(lengths, e.count, 0, widthFor(maxLen), null, o),
    chars: e.wellFormed,
    idx: t.idx ? pack(t.idx, t.rows, 0, widthFor(Math.max(0, e.count - 1)), null, o) : null,
    nulls: t.nulls ? z(t.nulls, o) : null,
  };
}

function encodeFloat(
  kind: 'f64' | 'time', values: Float64Array, rowNulls: Uint8Array | null, rows: number, min: number, max: number,
  nulls: Uint8Array | null, o: CompressionOptions,
): EncodedColumn {
  // NULL rows' slots hold anything: they pack as `min` (offsets) or repeat the previous value (deltas).
  const integral = !Number.isNaN(min) && isIntegral(values, rowNulls, rows, o);
  if (integral && kind === 'time') {
    // Times arrive nearly sorted: zigzag deltas are small and compress far better than offsets.
    const deltas = zigzagDeltas(values, rowNulls, rows, min, o);
    if (deltas) return { kind, mode: 'delta', base: min, ints: deltas, raw: null, nulls };
  }
  if (integral && max - min <= 0xffff_ffff) {
    return { kind, mode: 'offset', base: min, ints: pack(values, rows, min, widthFor(max - min), rowNulls, o), raw: null, nulls };
  }
  const filled = fillNulls(values, rowNulls, min);
  return { kind, mode: 'raw', base: 0, ints: null, raw: z(new Uint8Array(filled.buffer, filled.byteOffset, rows * 8), o), nulls };
}

/** Every non-NULL value is an integer. */
function isIntegral(values: Float64Array, nulls: Uint8Array | null, rows: number, o: CompressionOptions): boolean {
  const n = sealerFor(o);
  if (n) return n.integralF64(values, rows, nulls);
  for (let i = 0; i < rows; i++) if (!Number.isInteger(values[i]!) && !(nulls && nulls[i])) return false;
  return true;
}

const deltaWidth = new Uint8Array(1);

/**
 * Zigzag deltas of integral values from `first` (a NULL row repeats the previous value: delta 0),
 * packed at the fewest bytes that hold the largest
 * (times at 10k rows/s: 2 bytes, where 4 compressed ~6x slower and larger); null when one does not
 * fit 32 bits.
 */
function zigzagDeltas(values: Float64Array, nulls: Uint8Array | null, rows: number, first: number, o: CompressionOptions): Packed | null {
  const n = sealerFor(o);
  if (n) {
    const data = n.deltaZstd(values, rows, first, nulls, o.level, deltaWidth);
    return data && { width: deltaWidth[0] as 1 | 2 | 4, data };
  }
  const deltas = new Uint32Array(rows);
  let prev = first;
  let max = 0;
  for (let i = 0; i < rows; i++) {
    const v = nulls && nulls[i] ? prev : values[i]!;
    const d = v - prev;
    const zz = d >= 0 ? d * 2 : -d * 2 - 1;
    if (zz > 0xffff_ffff) return null;
    deltas[i] = zz;
    if (zz > max) max = zz;
    prev = v;
  }
  return pack(deltas, rows, 0, widthFor(max), null, o);
}

function decodeColumn(e: EncodedColumn, rows: number): DecodedColumn {
  const nulls = e.nulls ? new Uint8Array(unz(e.nulls)) : null;
  switch (e.kind) {
    case 'i32': {
      const packed = unpack(e.ints, rows);
      const values = new Int32Array(rows);
      for (let i = 0; i < rows; i++) values[i] = packed[i]! + e.base;
      return { kind: 'i32', values, nulls };
    }
    case 'f64':
    case 'time': {
      const values = new Float64Array(rows);
      if (e.mode === 'raw') {
        new Uint8Array(values.buffer).set(unz(e.raw!).subarray(0, rows * 8));
      } else if (e.mode === 'offset') {
        const packed = unpack(e.ints!, rows);
        for (let i = 0; i < rows; i++) values[i] = packed[i]! + e.base;
      } else {
        const deltas = unpack(e.ints!, rows);
        let prev = e.base;
        for (let i = 0; i < rows; i++) {
          const zz = deltas[i]!;
          prev += zz % 2 === 0 ? zz / 2 : -(zz + 1) / 2;
          values[i] = prev;
        }
      }
      return { kind: e.kind, values, nulls };
    }
    case 'bool':
      return { kind: 'bool', values: new Uint8Array(unz(e.data)), nulls };
    case 'text': {
      const dict = splitUtf8(unz(e.dictUtf8), unpack(e.dictLengths, e.dictSize), e.dictSize, e.chars);
      return { kind: 'text', dict, idx: e.idx ? unpack(e.idx, rows) : null, nulls };
    }
    case 'upid':
      return { kind: 'upid', upids: e.upids, idx: unpack(e.idx, rows), nulls };
  }
}

function encodedBytes(e: EncodedColumn): number {
  const n = e.nulls?.byteLength ?? 0;
  switch (e.kind) {
    case 'i32': return n + byteLen(e.ints);
    case 'f64':
    case 'time': return n + byteLen(e.ints) + (e.raw?.byteLength ?? 0);
    case 'bool': return n + e.data.byteLength;
    case 'text': return n + e.dictUtf8.byteLength + byteLen(e.dictLengths) + byteLen(e.idx);
    case 'upid': return n + byteLen(e.idx) + e.upids.length * 64;
  }
}

/** Fixed cost of one sealed batch's objects (zone map, column headers). */
const batchOverhead = 1024;

/** An immutable compressed batch. `bytes` is what the memory budget counts. */
export class SealedBatch {
  readonly bytes: number;
  private constructor(readonly rows: number, readonly zone: ZoneMap, private readonly cols: EncodedColumn[]) {
    this.bytes = batchOverhead + zone.upids.size * 64 + cols.reduce((s, c) => s + encodedBytes(c), 0);
  }

  static seal(hot: HotBatch, o: CompressionOptions): SealedBatch {
    const rows = hot.rows;
    const zone = hot.zone();
    const cols = hot.defs.map((_, i) => {
      if (hot.columns[i]!.kind !== 'text') return encodeColumn(hot.columns[i]!.view(rows), rows, zone.min[i]!, zone.max[i]!, o);
      return encodeText(hot.textRows(i, rows), o);
    });
    return new SealedBatch(rows, zone, cols);
  }

  /** Distinct values per row of a dictionary-coded text column; NaN for others. */
  distinctRatio(i: number): number {
    const c = this.cols[i]!;
    return c.kind === 'text' && c.idx ? c.dictSize / this.rows : NaN;
  }

  /** Column i's compressed buffers, as sealed (read-only: the native scan decodes them itself). */
  encoded(i: number): EncodedColumn | undefined {
    return this.cols[i];
  }

  /** Compressed bytes per column (for benchmarks and stats). */
  columnBytes(): number[] {
    return this.cols.map(encodedBytes);
  }

  /** A view for one scan: each column is decompressed at most once, when first read. */
  open(): ScanBatch {
    const cache: (DecodedColumn | undefined)[] = new Array(this.cols.length);
    return {
      rows: this.rows,
      zone: this.zone,
      column: (i) => (cache[i] ??= decodeColumn(this.cols[i]!, this.rows)),
    };
  }
}
