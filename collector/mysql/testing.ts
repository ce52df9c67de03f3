// Builders for MySQL wire bytes, shared by the unit tests, the fuzzer and the bench.
import type { RowSink, RowTypes, TableName } from '../../engine/schema.ts';
import { textRow, type Stringified } from '../../engine/utf8-text.ts';

export function packet(seq: number, payload: Buffer | string): Buffer {
  const p = typeof payload === 'string' ? Buffer.from(payload, 'utf8') : payload;
  const h = Buffer.alloc(4);
  h.writeUIntLE(p.length, 0, 3);
  h[3] = seq & 0xff;
  return Buffer.concat([h, p]);
}

/** A payload split into 0xFFFFFF-byte physical packets (plus the final shorter one). */
export function packets(seq: number, payload: Buffer): Buffer {
  const out: Buffer[] = [];
  let off = 0;
  for (;;) {
    const n = Math.min(0xffffff, payload.length - off);
    out.push(packet(seq++, payload.subarray(off, off + n)));
    off += n;
    if (n < 0xffffff) break;
  }
  return Buffer.concat(out);
}

export function command(cmd: number, body: Buffer | string = ''): Buffer {
  return packet(0, Buffer.concat([Buffer.from([cmd]), typeof body === 'string' ? Buffer.from(body) : body]));
}

export function ok(seq: number, affected = 0, lastId = 0, status = 2, eofHeader = false): Buffer {
  return packet(seq, Buffer.from([eofHeader ? 0xfe : 0x00, affected, lastId, status & 0xff, status >> 8, 0, 0]));
}

export function err(seq: number, code: number, state: string, msg: string): Buffer {
  const b = Buffer.alloc(3);
  b[0] = 0xff;
  b.writeUInt16LE(code, 1);
  return packet(seq, Buffer.concat([b, Buffer.from('#' + state + msg)]));
}

export function eof(seq: number, status = 2): Buffer {
  return packet(seq, Buffer.from([0xfe, 0, 0, status & 0xff, status >> 8]));
}

function lenencStr(s: string): Buffer {
  const b = Buffer.from(s);
  return Buffer.concat([Buffer.from([b.length]), b]);
}

export function columnDef(seq: number, name: string): Buffer {
  return packet(seq, Buffer.concat([
    lenencStr('def'), lenencStr('db'), lenencStr('t'), lenencStr('t'), lenencStr(name), lenencStr(name),
    Buffer.from([0x0c, 0x21, 0, 0xff, 0, 0, 0, 0xfd, 0, 0, 0, 0, 0]),
  ]));
}

/** A text-protocol result set; classic (EOF) framing unless deprecateEof. */
export function resultSet(names: string[], rows: string[][], deprecateEof = false, firstSeq = 1): Buffer {
  let seq = firstSeq;
  const out: Buffer[] = [packet(seq++, Buffer.from([names.length]))];
  for (const n of names) out.push(columnDef(seq++, n));
  if (!deprecateEof) out.push(eof(seq++));
  for (const r of rows) out.push(packet(seq++, Buffer.concat(r.map(lenencStr))));
  out.push(deprecateEof ? ok(seq++, 0, 0, 2, true) : eof(seq++));
  return Buffer.concat(out);
}

/** COM_STMT_PREPARE_OK with definitions. */
export function prepareOk(stmtId: number, params: number, columns: number, deprecateEof = false): Buffer {
  const b = Buffer.alloc(12);
  b.writeUInt32LE(stmtId, 1);
  b.writeUInt16LE(columns, 5);
  b.writeUInt16LE(params, 7);
  let seq = 1;
  const out = [packet(seq++, b)];
  for (let i = 0; i < params; i++) out.push(columnDef(seq++, '?'));
  if (params > 0 && !deprecateEof) out.push(eof(seq++));
  for (let i = 0; i < columns; i++) out.push(columnDef(seq++, `c${i}`));
  if (columns > 0 && !deprecateEof) out.push(eof(seq++));
  return Buffer.concat(out);
}

/** A typed parameter for COM_STMT_EXECUTE: [type, unsigned, value bytes] (null: NULL). */
export type Param = [number, boolean, Buffer] | null;

export function execute(stmtId: number, params: Param[], sendTypes = true): Buffer {
  const head = Buffer.alloc(10);
  head[0] = 0x17;
  head.writeUInt32LE(stmtId, 1);
  head.writeUInt32LE(1, 6);
  if (params.length === 0) return packet(0, head);
  const bitmap = Buffer.alloc((params.length + 7) >> 3);
  params.forEach((p, i) => { if (p === null) bitmap[i >> 3]! |= 1 << (i & 7); });
  const types = Buffer.alloc(params.length * 2);
  params.forEach((p, i) => { types[2 * i] = p === null ? 6 : p[0]; types[2 * i + 1] = p !== null && p[1] ? 0x80 : 0; });
  const values = params.filter((p): p is [number, boolean, Buffer] => p !== null).map((p) => p[2]);
  return packet(0, Buffer.concat([head, bitmap, Buffer.from([sendTypes ? 1 : 0]), sendTypes ? types : Buffer.alloc(0), ...values]));
}

export function handshakeGreeting(): Buffer {
  const b = Buffer.concat([Buffer.from([0x0a]), Buffer.from('11.8.3-MariaDB\0'), Buffer.alloc(40, 1)]);
  return packet(0, b);
}

export function handshakeResponse(caps: number, ssl = false): Buffer {
  const b = Buffer.alloc(ssl ? 32 : 40);
  b.writeUInt32LE(caps, 0);
  return packet(1, b);
}

/** Sink keeping the rows of every table (tests of any protocol), text as strings (textRow). */
export class TableSink implements RowSink {
  private readonly byTable = new Map<TableName, unknown[]>();
  rowsOf<T extends TableName>(table: T): Stringified<RowTypes[T]>[] {
    let list = this.byTable.get(table);
    if (list === undefined) this.byTable.set(table, (list = []));
    return list as Stringified<RowTypes[T]>[];
  }
  append<T extends TableName>(table: T, row: RowTypes[T]): void {
    this.rowsOf(table).push(textRow(row));
  }
}
