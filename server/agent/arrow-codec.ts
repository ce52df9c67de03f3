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

/** Decodes one message produced by encodeChunk. */
export function decodeChunk(bytes: Uint8Array): DecodedChunk {
  const table = tableFromIPC(bytes);
  const columns = table.schema.fields.map((f) => ({ name: f.name, type: (f.metadata.get('wiretap.type') ?? 'text') as ColumnType }));
  const rows: Value[][] = new Array(table.numRows);
  for (let r = 0; r < table.numRows; r++) rows[r] = new Array(columns.length);
  columns.forEach((c, i) => {
    const col = table.getChildAt(i)!;
    for (let r = 0; r < table.numRows; r++) rows[r]![i] = fromArrow(col.get(r), c.type);
  });
  return { columns, rows };
}
