// Query results ↔ Arrow IPC: what an agent streams to a broker. One message = one IPC stream
// (schema + one record batch), so every message decodes on its own; the wire ColumnType of each
// column rides in the field metadata so the broker gets back exactly the engine's Values.
import {
  Binary, Bool, Field, Float64, Int32, Int64, Schema, Struct, Table, Utf8, makeBuilder, makeData, makeVector,
  tableFromIPC, tableToIPC, RecordBatch, type DataType, type Vector,
} from 'apache-arrow';
import type { ResultColumn, Value } from '../../engine/query.ts';
import type { ColumnType } from '../../engine/schema.ts';

function arrowType(t: ColumnType): DataType {
  switch (t) {
    case 'bool': return new Bool();
    case 'int2': case 'int4': case 'date': return new Int32();
    case 'int8': case 'timestamptz': case 'timestamp': case 'time': return new Int64();
    case 'float4': case 'float8': return new Float64();
    case 'bytea': return new Binary();
    default: return new Utf8(); // text, json, uuid, numeric (decimal text), interval (m,d,us)
  }
}

function toArrow(v: Value, t: ColumnType): unknown {
  if (v === null) return null;
  if (t === 'interval') {
    const i = v as { months: number; days: number; micros: bigint };
    return `${i.months},${i.days},${i.micros}`;
  }
  if (t === 'int8' || t === 'timestamptz' || t === 'timestamp' || t === 'time') return BigInt(v as bigint | number);
  return v;
}

function fromArrow(v: unknown, t: ColumnType): Value {
  if (v === null || v === undefined) return null;
  if (t === 'interval') {
    const [m, d, us] = String(v).split(',');
    return { months: Number(m), days: Number(d), micros: BigInt(us!) };
  }
  if (t === 'int8' || t === 'timestamptz' || t === 'timestamp' || t === 'time') return BigInt(v as bigint);
  return v as Value;
}

/** Encodes rows (all of one result) into one Arrow IPC stream message. */
export function encodeChunk(columns: ResultColumn[], rows: Value[][]): Uint8Array {
  const fields = columns.map((c) => new Field(c.name, arrowType(c.type), true, new Map([['wiretap.type', c.type]])));
  const vectors = columns.map((c, i) => {
    const values = rows.map((r) => toArrow(r[i]!, c.type));
    return makeVectorOf(arrowType(c.type), values);
  });
  const schema = new Schema(fields);
  const data = makeData({ type: new Struct(fields), length: rows.length, nullCount: 0, children: vectors.map((v) => v.data[0]!) });
  return tableToIPC(new Table(schema, [new RecordBatch(schema, data)]), 'stream');
}

function makeVectorOf(type: DataType, values: unknown[]): Vector {
  // vectorFromArray infers from values; building through a builder keeps the declared type.
  return makeVector(buildData(type, values));
}

function buildData(type: DataType, values: unknown[]) {
  const b = makeBuilder({ type, nullValues: [null, undefined] });
  for (const v of values) b.append(v as never);
  return b.finish().flush();
}

export interface DecodedChunk { columns: ResultColumn[]; rows: Value[][] }

const utf8 = new TextDecoder();

/**
 * One column's values into rows[·][ci], straight from the record batch's buffers (apache-arrow's
 * per-value get() goes through a visitor per call; the broker decodes every node's messages on
 * one thread, so this is part of each query's overhead — bench arrow-decode).
 */
function decodeColumn(vec: Vector, t: ColumnType, rows: Value[][], ci: number): void {
  let r = 0;
  for (const d of vec.data) {
    const n = d.length;
    const nulls = d.nullCount > 0;
    const values = d.values as ArrayLike<unknown> & { subarray?: (a: number, b: number) => Uint8Array };
    switch (t) {
      case 'bool':
        for (let i = 0; i < n; i++) {
          const bit = d.offset + i;
          rows[r + i]![ci] = nulls && !d.getValid(i) ? null : ((values as Uint8Array)[bit >> 3]! & (1 << (bit & 7))) !== 0;
        }
        break;
      case 'int2': case 'int4': case 'date': case 'float4': case 'float8':
      case 'int8': case 'timestamptz': case 'timestamp': case 'time': // Int32 / Float64 numbers, Int64 bigints
        for (let i = 0; i < n; i++) rows[r + i]![ci] = nulls && !d.getValid(i) ? null : (values[i] as Value);
        break;
      case 'bytea':
      case 'interval':
      default: { // variable width: Binary (bytea) or Utf8 (text, json, uuid, numeric, interval)
        const offsets = d.valueOffsets as Int32Array;
        const bytes = values as Uint8Array;
        for (let i = 0; i < n; i++) {
          if (nulls && !d.getValid(i)) { rows[r + i]![ci] = null; continue; }
          const slice = bytes.subarray(offsets[i]!, offsets[i + 1]!);
          rows[r + i]![ci] = t === 'bytea' ? slice.slice() : t === 'interval' ? fromArrow(utf8.decode(slice), t) : utf8.decode(slice);
        }
      }
    }
    r += n;
  }
}

/** Decodes one message produced by encodeChunk. */
export function decodeChunk(bytes: Uint8Array): DecodedChunk {
  const table = tableFromIPC(bytes);
  const columns = table.schema.fields.map((f) => ({ name: f.name, type: (f.metadata.get('wiretap.type') ?? 'text') as ColumnType }));
  const rows: Value[][] = new Array(table.numRows);
  for (let r = 0; r < table.numRows; r++) rows[r] = new Array(columns.length);
  columns.forEach((c, i) => decodeColumn(table.getChildAt(i)!, c.type, rows, i));
  return { columns, rows };
}
