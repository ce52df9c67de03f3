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

/**
 * Encodes rows (all of one result) into one Arrow IPC stream message: the schema message
 * apache-arrow writes for these columns (cached), a record batch written directly, the end marker.
 * apache-arrow's whole path (builders, Table, tableToIPC) cost ~1 ms for a one-row answer and ~5 ms
 * for 48 groups, on the agent's one JS thread.
 */
export function encodeChunk(columns: ResultColumn[], rows: Value[][]): Uint8Array {
  const schema = schemaMessage(columns);
  const batch = recordBatchMessage(columns, rows);
  const out = new Uint8Array(schema.byteLength + batch.byteLength + 8);
  out.set(schema, 0);
  out.set(batch, schema.byteLength);
  new DataView(out.buffer, out.byteOffset + schema.byteLength + batch.byteLength, 8).setInt32(0, -1, true); // end of stream: -1, 0
  return out;
}

/** The schema message of a column list, as apache-arrow writes it (cached by the list). */
const schemaMessages = new Map<string, Uint8Array>();

function schemaMessage(columns: ResultColumn[]): Uint8Array {
  const key = JSON.stringify(columns.map((c) => [c.name, c.type]));
  let m = schemaMessages.get(key);
  if (!m) {
    const whole = encodeWithArrowJs(columns, []);
    const first = message(new DataView(whole.buffer, whole.byteOffset, whole.byteLength), 0);
    if (!first || first.type !== messageSchema) throw new Error('apache-arrow wrote no schema message first');
    m = whole.slice(0, first.next);
    if (schemaMessages.size >= 256) schemaMessages.clear();
    schemaMessages.set(key, m);
  }
  return m;
}

const pad8 = (n: number) => (n + 7) & ~7;

/**
 * One record batch message (continuation, length, flatbuffer Message{version V5, header
 * RecordBatch{length, nodes, buffers}, bodyLength}, body) for the layout decodeDirect reads:
 * per column a validity bitmap (empty without nulls), then the values (bit-packed bools, int32,
 * int64/float64) or int32 offsets + bytes; every buffer starts 8-aligned in the body.
 */
function recordBatchMessage(columns: ResultColumn[], rows: Value[][]): Uint8Array {
  const n = rows.length;
  // values per column in wire form, and the body's buffers (offset, length) as they will be laid out
  const texts: Array<Buffer[] | null> = [];
  const buffers: Array<[number, number]> = [];
  const nulls: number[] = [];
  let body = 0;
  const add = (len: number) => { buffers.push([body, len]); body += pad8(len); };
  for (let ci = 0; ci < columns.length; ci++) {
    const t = columns[ci]!.type;
    let nullCount = 0;
    for (let i = 0; i < n; i++) if (rows[i]![ci] === null || rows[i]![ci] === undefined) nullCount++;
    nulls.push(nullCount);
    add(nullCount ? (n + 7) >> 3 : 0);
    const width = widthOf(t);
    if (width >= 0) {
      texts.push(null);
      add(width ? width * n : (n + 7) >> 3);
      continue;
    }
    const bytes = rows.map((r) => {
      const v = r[ci];
      if (v === null || v === undefined) return null;
      if (t === 'bytea') return Buffer.from((v as Uint8Array).buffer, (v as Uint8Array).byteOffset, (v as Uint8Array).byteLength);
      return Buffer.from(String(toArrow(v as Value, t)), 'utf8');
    });
    texts.push(bytes as Buffer[]);
    add(4 * (n + 1));
    add(bytes.reduce((a, b) => a + (b?.byteLength ?? 0), 0));
  }
  // the flatbuffer, laid out by hand (offsets from its start; see the reader's Fb)
  const nodesAt = 68;
  const buffersAt = nodesAt + 4 + 16 * columns.length + 4; // its elements 8-aligned
  const metaLen = buffersAt + 4 + 16 * buffers.length;
  const out = new Uint8Array(8 + metaLen + body);
  const v = new DataView(out.buffer);
  v.setInt32(0, -1, true);
  v.setInt32(4, metaLen, true);
  const m = 8; // flatbuffer start
  v.setUint32(m, 16, true); // root: the Message table
  // Message vtable at 4: size 12, table 20 bytes; version @16, header_type @18, header @4, bodyLength @8
  [12, 20, 16, 18, 4, 8].forEach((x, i) => v.setUint16(m + 4 + 2 * i, x, true));
  v.setInt32(m + 16, 12, true); // table at 16 → vtable at 4
  v.setUint32(m + 20, 48 - 20, true); // header → RecordBatch table at 48
  v.setBigInt64(m + 24, BigInt(body), true);
  v.setInt16(m + 32, 4, true); // MetadataVersion V5
  v.setUint8(m + 34, messageRecordBatch);
  // RecordBatch vtable at 36: size 10, table 20 bytes; length @8, nodes @4, buffers @16
  [10, 20, 8, 4, 16].forEach((x, i) => v.setUint16(m + 36 + 2 * i, x, true));
  v.setInt32(m + 48, 12, true); // table at 48 → vtable at 36
  v.setUint32(m + 52, nodesAt - 52, true);
  v.setBigInt64(m + 56, BigInt(n), true);
  v.setUint32(m + 64, buffersAt - 64, true);
  v.setUint32(m + nodesAt, columns.length, true);
  nulls.forEach((nc, i) => { v.setBigInt64(m + nodesAt + 4 + 16 * i, BigInt(n), true); v.setBigInt64(m + nodesAt + 12 + 16 * i, BigInt(nc), true); });
  v.setUint32(m + buffersAt, buffers.length, true);
  buffers.forEach(([o, l], i) => { v.setBigInt64(m + buffersAt + 4 + 16 * i, BigInt(o), true); v.setBigInt64(m + buffersAt + 12 + 16 * i, BigInt(l), true); });
  // the body
  const b = 8 + metaLen;
  let bi = 0;
  for (let ci = 0; ci < columns.length; ci++) {
    const t = columns[ci]!.type;
    const validity = b + buffers[bi++]![0];
    if (nulls[ci]) for (let i = 0; i < n; i++) if (rows[i]![ci] !== null && rows[i]![ci] !== undefined) out[validity + (i >> 3)]! |= 1 << (i & 7);
    const text = texts[ci];
    if (text) {
      const offsets = b + buffers[bi++]![0];
      let at = b + buffers[bi++]![0];
      let off = 0;
      for (let i = 0; i < n; i++) {
        v.setInt32(offsets + 4 * i, off, true);
        const x = text[i];
        if (x) { out.set(x, at); at += x.byteLength; off += x.byteLength; }
      }
      v.setInt32(offsets + 4 * n, off, true);
      continue;
    }
    const data = b + buffers[bi++]![0];
    const width = widthOf(t);
    const float = t === 'float4' || t === 'float8';
    for (let i = 0; i < n; i++) {
      const x = rows[i]![ci];
      if (x === null || x === undefined) continue;
      if (width === 0) { if (x) out[data + (i >> 3)]! |= 1 << (i & 7); }
      else if (width === 4) v.setInt32(data + 4 * i, x as number, true);
      else if (float) v.setFloat64(data + 8 * i, Number(x), true);
      else v.setBigInt64(data + 8 * i, BigInt(x as bigint | number), true);
    }
  }
  return out;
}

/** apache-arrow's writer (builders, Table, tableToIPC): the reference for the direct writer. */
export function encodeWithArrowJs(columns: ResultColumn[], rows: Value[][]): Uint8Array {
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

/**
 * Decodes one message produced by encodeChunk: the direct reader below, or apache-arrow's for a
 * message it does not expect (another writer, compression, dictionaries).
 */
export function decodeChunk(bytes: Uint8Array): DecodedChunk {
  const direct = decodeDirect(bytes);
  if (direct) return direct;
  try {
    return decodeWithArrowJs(bytes);
  } catch (err) {
    throw new Error(`malformed Arrow message from the node: ${(err as Error).message}`);
  }
}

/** apache-arrow's reader (tableFromIPC: ~0.5–1 ms per message, mostly parsing its schema). */
export function decodeWithArrowJs(bytes: Uint8Array): DecodedChunk {
  const table = tableFromIPC(bytes);
  const columns = table.schema.fields.map((f) => ({ name: f.name, type: (f.metadata.get('wiretap.type') ?? 'text') as ColumnType }));
  const rows: Value[][] = new Array(table.numRows);
  for (let r = 0; r < table.numRows; r++) rows[r] = new Array(columns.length);
  columns.forEach((c, i) => decodeColumn(table.getChildAt(i)!, c.type, rows, i));
  return { columns, rows };
}

// ---- The direct reader: the IPC stream encodeChunk writes (Schema message, one RecordBatch
// message, end marker), read straight from the flatbuffers and the body. The schema is the same in
// every node's answer to a statement, so its columns are cached by its bytes; the record batch is
// a few dozen flatbuffer reads. Values come from DataViews over the body (no copy, any alignment).

/** Minimal flatbuffer access: tables, their vtables, strings, vectors (bounds-checked). */
class Fb {
  constructor(readonly v: DataView) {}
  u32(p: number): number { return this.v.getUint32(p, true); }
  /** Position of field `id`'s slot in the table at t, or 0 when absent. */
  field(t: number, id: number): number {
    const vt = t - this.v.getInt32(t, true);
    const o = 4 + 2 * id;
    if (o >= this.v.getUint16(vt, true)) return 0;
    const off = this.v.getUint16(vt + o, true);
    return off ? t + off : 0;
  }
  /** Target of the offset field `id` (table, string, vector), or 0. */
  ref(t: number, id: number): number {
    const p = this.field(t, id);
    return p ? p + this.u32(p) : 0;
  }
  u8(t: number, id: number): number { const p = this.field(t, id); return p ? this.v.getUint8(p) : 0; }
  i64(t: number, id: number): number { const p = this.field(t, id); return p ? Number(this.v.getBigInt64(p, true)) : 0; }
  str(at: number): string {
    return utf8.decode(new Uint8Array(this.v.buffer, this.v.byteOffset + at + 4, this.u32(at)));
  }
  /** Element i of the vector of tables at vec. */
  table(vec: number, i: number): number {
    const p = vec + 4 + 4 * i;
    return p + this.u32(p);
  }
}

const messageSchema = 1;
const messageRecordBatch = 3;
const wireTypes = new Set<string>(['bool', 'int2', 'int4', 'int8', 'float4', 'float8', 'numeric', 'text', 'json', 'uuid', 'bytea', 'date', 'time', 'timestamp', 'timestamptz', 'interval']);

/** One IPC message at `at`: its flatbuffer (as a root table position) and body. */
function message(v: DataView, at: number): { fb: Fb; root: number; header: number; type: number; body: number; bodyLength: number; next: number } | null {
  if (at + 8 > v.byteLength) return null;
  let len = v.getInt32(at, true);
  let start = at + 4;
  if (len === -1) { len = v.getInt32(at + 4, true); start = at + 8; } // continuation marker (format ≥ 0.15)
  if (len <= 0 || start + len > v.byteLength) return null;
  const fb = new Fb(new DataView(v.buffer, v.byteOffset + start, len));
  const root = fb.u32(0);
  const type = fb.u8(root, 1);
  const header = fb.ref(root, 2);
  const bodyLength = fb.i64(root, 3);
  const body = start + len;
  if (body + bodyLength > v.byteLength) return null;
  return { fb, root, header, type, body, bodyLength, next: body + bodyLength };
}

/** Columns of a schema message by its bytes (nodes answering one statement send the same schema). */
const schemaCache = new Map<string, ResultColumn[] | null>();

function schemaColumns(bytes: Uint8Array, m: NonNullable<ReturnType<typeof message>>, start: number, end: number): ResultColumn[] | null {
  const key = Buffer.from(bytes.buffer, bytes.byteOffset + start, end - start).toString('latin1');
  const hit = schemaCache.get(key);
  if (hit !== undefined) return hit;
  const { fb, header } = m;
  const fields = fb.ref(header, 1);
  let columns: ResultColumn[] | null = [];
  for (let i = 0, n = fields ? fb.u32(fields) : 0; i < n; i++) {
    const f = fb.table(fields, i);
    const name = fb.ref(f, 0);
    const meta = fb.ref(f, 6);
    let type: string | null = null;
    for (let k = 0, nk = meta ? fb.u32(meta) : 0; k < nk; k++) {
      const kv = fb.table(meta, k);
      if (fb.str(fb.ref(kv, 0)) === 'wiretap.type') type = fb.str(fb.ref(kv, 1));
    }
    if (!name || !type || !wireTypes.has(type) || fb.ref(f, 4) || fb.ref(f, 5) && fb.u32(fb.ref(f, 5)) > 0) { columns = null; break; }
    columns.push({ name: fb.str(name), type: type as ColumnType });
  }
  if (schemaCache.size >= 256) schemaCache.clear();
  schemaCache.set(key, columns);
  return columns;
}

/** Bytes per value of a wire type's Arrow vector: 0 = bit-packed Bool, -1 = variable width (offsets + data). */
function widthOf(t: ColumnType): number {
  switch (t) {
    case 'bool': return 0;
    case 'int2': case 'int4': case 'date': return 4;
    case 'int8': case 'timestamptz': case 'timestamp': case 'time': case 'float4': case 'float8': return 8;
    default: return -1;
  }
}

/** Buffer i of a record batch, as a position in the message (bounds-checked against the body). */
function bufferAt(fb: Fb, buffers: number, i: number, body: number, bodyLength: number): { at: number; len: number } {
  const p = buffers + 4 + 16 * i;
  const offset = Number(fb.v.getBigInt64(p, true));
  const len = Number(fb.v.getBigInt64(p + 8, true));
  if (offset < 0 || len < 0 || offset + len > bodyLength) throw new Error('Arrow buffer outside the message body');
  return { at: body + offset, len };
}

/**
 * The message decoded directly; null when its schema is not one encodeChunk writes (apache-arrow
 * reads it then). A message with our schema that is cut short or inconsistent throws.
 */
export function decodeDirect(bytes: Uint8Array): DecodedChunk | null {
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let columns: ResultColumn[] | null;
  let s: ReturnType<typeof message>;
  try {
    s = message(v, 0);
    if (!s || s.type !== messageSchema || !s.header) return null;
    columns = schemaColumns(bytes, s, 0, s.next);
  } catch {
    return null;
  }
  if (!columns) return null;
  try {
    const b = message(v, s.next);
    if (!b || b.type !== messageRecordBatch || !b.header) throw new Error('no record batch after the schema');
    const { fb, header } = b;
    if (fb.ref(header, 3)) throw new Error('compressed record batch'); // encodeChunk never compresses
    const length = fb.i64(header, 0);
    const nodes = fb.ref(header, 1);
    const buffers = fb.ref(header, 2);
    if (!nodes || !buffers || fb.u32(nodes) !== columns.length) throw new Error('record batch does not match its schema');
    const rows: Value[][] = new Array(length);
    for (let r = 0; r < length; r++) rows[r] = new Array(columns.length);
    const fv = fb.v;
    const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength); // toString('utf8'): ~2× TextDecoder on short strings
    let bi = 0; // next buffer: validity, then data (fixed width) or offsets + data (variable width)
    for (let ci = 0; ci < columns.length; ci++) {
      const t = columns[ci]!.type;
      const n = Number(fv.getBigInt64(nodes + 4 + 16 * ci, true));
      const nullCount = Number(fv.getBigInt64(nodes + 4 + 16 * ci + 8, true));
      if (n !== length) throw new Error('column length differs from the batch length');
      const validity = bufferAt(fb, buffers, bi++, b.body, b.bodyLength);
      const nulls = nullCount > 0 && validity.len > 0;
      const width = widthOf(t);
      if (width < 0) {
        const offsets = bufferAt(fb, buffers, bi++, b.body, b.bodyLength);
        const data = bufferAt(fb, buffers, bi++, b.body, b.bodyLength);
        if (n > 0 && offsets.len < 4 * (n + 1)) throw new Error('Arrow offsets buffer too short');
        for (let i = 0; i < n; i++) {
          if (nulls && (v.getUint8(validity.at + (i >> 3)) & (1 << (i & 7))) === 0) { rows[i]![ci] = null; continue; }
          const from = data.at + v.getInt32(offsets.at + 4 * i, true);
          const to = data.at + v.getInt32(offsets.at + 4 * i + 4, true);
          if (from < data.at || to < from || to > data.at + data.len) throw new Error('Arrow offset outside its data');
          if (t === 'bytea') { rows[i]![ci] = bytes.slice(from, to); continue; }
          const text = buf.toString('utf8', from, to);
          rows[i]![ci] = t === 'interval' ? fromArrow(text, t) : text;
        }
        continue;
      }
      const data = bufferAt(fb, buffers, bi++, b.body, b.bodyLength);
      if (data.len < (width ? width * n : (n + 7) >> 3)) throw new Error('Arrow data buffer too short');
      const float = width === 8 && (t === 'float4' || t === 'float8');
      for (let i = 0; i < n; i++) {
        if (nulls && (v.getUint8(validity.at + (i >> 3)) & (1 << (i & 7))) === 0) { rows[i]![ci] = null; continue; }
        const at = data.at + width * i;
        rows[i]![ci] = width === 0 ? (v.getUint8(data.at + (i >> 3)) & (1 << (i & 7))) !== 0
          : width === 4 ? v.getInt32(at, true) : float ? v.getFloat64(at, true) : v.getBigInt64(at, true);
      }
    }
    return { columns: columns.map((c) => ({ ...c })), rows };
  } catch (err) {
    if (err instanceof RangeError) throw new Error('malformed Arrow message from the node: cut short');
    throw new Error(`malformed Arrow message from the node: ${(err as Error).message}`);
  }
}
