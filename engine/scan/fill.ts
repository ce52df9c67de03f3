// Writing decoded batch columns into DuckDB output vectors. Fixed-width data goes in with one
// copy per vector (copy_data_to_vector); only VARCHAR falls back to one call per value.
import duckdb from '@duckdb/node-bindings';
import type { DecodedColumn } from '../store/decoded.ts';
import type { Upid } from '../upid.ts';

export const chunkRows = 2048;

/** How a column is written: decided once per query at bind. */
export type OutputMode =
  | 'int16' | 'int32' | 'int64' | 'float32' | 'float64' | 'bool' | 'uuid' | 'varchar'
  | { enumSize: number };

const scratch = new ArrayBuffer(chunkRows * 16);
const u8 = new Uint8Array(scratch);
const u16 = new Uint16Array(scratch);
const u32 = new Uint32Array(scratch);
const i16 = new Int16Array(scratch);
const f32 = new Float32Array(scratch);
const validity = new Uint8Array(chunkRows / 8);
const two32 = 4294967296;

/** DuckDB's ENUM storage width for a dictionary of this size. */
export function enumWidth(size: number): 1 | 2 | 4 {
  return size <= 0xff ? 1 : size <= 0xffff ? 2 : 4;
}

/** hugeint words of a UPID as a DuckDB UUID (upper half with its top bit flipped). */
export function uuidWords(u: Upid): [number, number, number, number] {
  const ticks = u.startTicks & 0xffff_ffff_ffff_ffffn;
  return [Number(ticks & 0xffff_ffffn), Number(ticks >> 32n), u.pid >>> 0, ((u.asid >>> 0) ^ 0x8000_0000) >>> 0];
}

function writeValidity(vec: duckdb.Vector, nulls: Uint8Array | null, from: number, n: number): void {
  if (!nulls) return;
  let any = false;
  for (let i = 0; i < n; i++) if (nulls[from + i]) { any = true; break; }
  if (!any) return;
  duckdb.vector_ensure_validity_writable(vec);
  validity.fill(0);
  for (let i = 0; i < n; i++) if (!nulls[from + i]) validity[i >> 3]! |= 1 << (i & 7);
  duckdb.copy_data_to_vector_validity(vec, 0, validity.buffer, 0, Math.ceil(n / 8));
}

/**
 * Writes rows [from, from + n) of a decoded column into an output vector. `remap` maps this
 * batch's dictionary ids to the query-wide ENUM ids (enum mode only).
 */
export function fillVector(vec: duckdb.Vector, col: DecodedColumn, mode: OutputMode, from: number, n: number, remap?: Uint32Array): void {
  writeValidity(vec, col.nulls, from, n);
  if (typeof mode === 'object') {
    const idx = (col as { idx: Uint32Array | null }).idx;
    const w = enumWidth(mode.enumSize);
    const out = w === 1 ? u8 : w === 2 ? u16 : u32;
    if (idx) for (let i = 0; i < n; i++) out[i] = remap![idx[from + i]!]!;
    else for (let i = 0; i < n; i++) out[i] = remap![from + i]!;
    duckdb.copy_data_to_vector(vec, 0, scratch, 0, n * w);
    return;
  }
  switch (mode) {
    case 'int32': {
      const v = (col as { values: Int32Array }).values;
      duckdb.copy_data_to_vector(vec, 0, v.buffer as ArrayBuffer, v.byteOffset + from * 4, n * 4);
      return;
    }
    case 'int16': {
      const v = (col as { values: Int32Array }).values;
      for (let i = 0; i < n; i++) i16[i] = v[from + i]!;
      duckdb.copy_data_to_vector(vec, 0, scratch, 0, n * 2);
      return;
    }
    case 'float64': {
      const v = (col as { values: Float64Array }).values;
      duckdb.copy_data_to_vector(vec, 0, v.buffer as ArrayBuffer, v.byteOffset + from * 8, n * 8);
      return;
    }
    case 'float32': {
      const v = (col as { values: Float64Array }).values;
      for (let i = 0; i < n; i++) f32[i] = v[from + i]!;
      duckdb.copy_data_to_vector(vec, 0, scratch, 0, n * 4);
      return;
    }
    case 'int64': {
      // Exact for |v| < 2^53: split into two's-complement 32-bit halves without BigInt.
      const v = (col as { values: Float64Array }).values;
      for (let i = 0; i < n; i++) {
        const x = v[from + i]!;
        const hi = Math.floor(x / two32);
        u32[2 * i] = x - hi * two32;
        u32[2 * i + 1] = hi >>> 0;
      }
      duckdb.copy_data_to_vector(vec, 0, scratch, 0, n * 8);
      return;
    }
    case 'bool': {
      const v = (col as { values: Uint8Array }).values;
      duckdb.copy_data_to_vector(vec, 0, v.buffer as ArrayBuffer, v.byteOffset + from, n);
      return;
    }
    case 'uuid': {
      const c = col as { upids: readonly Upid[]; idx: Uint32Array };
      const words = c.upids.map(uuidWords);
      for (let i = 0; i < n; i++) {
        const w = words[c.idx[from + i]!]!;
        u32[4 * i] = w[0];
        u32[4 * i + 1] = w[1];
        u32[4 * i + 2] = w[2];
        u32[4 * i + 3] = w[3];
      }
      duckdb.copy_data_to_vector(vec, 0, scratch, 0, n * 16);
      return;
    }
    case 'varchar': {
      const c = col as { dict: readonly string[]; idx: Uint32Array | null; nulls: Uint8Array | null };
      for (let i = 0; i < n; i++) {
        if (c.nulls?.[from + i]) continue;
        duckdb.vector_assign_string_element(vec, i, c.dict[c.idx ? c.idx[from + i]! : from + i]!);
      }
      return;
    }
  }
}
