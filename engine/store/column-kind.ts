// How each schema column type is held in memory by the store: one place mapping ColumnType to a
// physical representation, so the store stays generic over whatever tables schema.ts registers.
import type { ColumnDef, ColumnType } from '../schema.ts';

/**
 * i32: Int32Array (int2/int4). f64: Float64Array (int8, floats; int8 exact to 2^53).
 * time: Float64Array of microseconds since the epoch (exact to year 2255; the wire is µs).
 * bool: Uint8Array. text: per-batch string dictionary + indices. upid: per-batch UPID
 * dictionary + indices (the batch's UPID set falls out of it for zone maps).
 */
export type ColumnKind = 'i32' | 'f64' | 'time' | 'bool' | 'text' | 'upid';

export function kindOf(type: ColumnType): ColumnKind {
  switch (type) {
    case 'int2':
    case 'int4': return 'i32';
    case 'int8':
    case 'float4':
    case 'float8': return 'f64';
    case 'timestamptz':
    case 'timestamp': return 'time';
    case 'bool': return 'bool';
    case 'text':
    case 'json': return 'text';
    case 'uuid': return 'upid';
    default: throw new Error(`the table store has no representation for column type ${type}`);
  }
}

/** The column whose range the zone maps and the time-based pruning use: the first time column. */
export function timeColumnIndex(cols: readonly ColumnDef[]): number {
  return cols.findIndex((c) => kindOf(c.type) === 'time');
}

export function upidColumnIndex(cols: readonly ColumnDef[]): number {
  return cols.findIndex((c) => kindOf(c.type) === 'upid');
}
