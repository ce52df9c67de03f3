// The decoded form of one column of one batch: what scans read, whether the batch is the hot
// builder (read in place) or a sealed batch (decompressed for one query).
import type { Upid } from '../upid.ts';

export type Indices = Uint8Array | Uint16Array | Uint32Array;

/** `nulls[i] === 1` marks row i NULL; null when the column has no NULLs in this batch. */
export type DecodedColumn =
  | { kind: 'i32'; values: Int32Array; nulls: Uint8Array | null }
  | { kind: 'f64' | 'time'; values: Float64Array; nulls: Uint8Array | null }
  | { kind: 'bool'; values: Uint8Array; nulls: Uint8Array | null }
  /** idx null: plain strings, row i is dict[i] (columns too distinct for a dictionary). */
  | { kind: 'text'; dict: readonly string[]; idx: Indices | null; nulls: Uint8Array | null }
  | { kind: 'upid'; upids: readonly Upid[]; idx: Indices; nulls: Uint8Array | null };

/** Per-batch summary used to skip batches that cannot match. Times in µs since the epoch. */
export interface ZoneMap {
  timeMin: number;
  timeMax: number;
  /** upidKey() of every UPID in the batch. */
  upids: ReadonlySet<string>;
  /** Per column: min/max of i32/f64 columns (NaN for other kinds or all-NULL). */
  min: readonly number[];
  max: readonly number[];
}

/** A batch as a scan sees it: fixed row count, its zone map, columns decoded on demand. */
export interface ScanBatch {
  readonly rows: number;
  readonly zone: ZoneMap;
  column(index: number): DecodedColumn;
}

export function upidKey(u: Upid): string {
  return `${u.asid >>> 0}:${u.pid >>> 0}:${u.startTicks}`;
}

export function indicesFor(dictSize: number, rows: number): Indices {
  if (dictSize <= 0x100) return new Uint8Array(rows);
  if (dictSize <= 0x10000) return new Uint16Array(rows);
  return new Uint32Array(rows);
}

/** Row i of a decoded column as one value (null for NULL; bool as boolean, upid as its Upid). */
export function decodedValue(c: DecodedColumn, i: number): unknown {
  if (c.nulls?.[i]) return null;
  switch (c.kind) {
    case 'text': return c.dict[c.idx ? c.idx[i]! : i];
    case 'upid': return c.upids[c.idx[i]!];
    case 'bool': return c.values[i] === 1;
    default: return c.values[i];
  }
}
