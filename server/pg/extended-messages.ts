// Decoding of the extended-query frontend messages (Parse, Bind, Describe, Execute, Close).
import { ProtocolViolation } from './framing.ts';

/** Sequential reader over a message body; reading past the end is a protocol violation. */
class BodyReader {
  private i = 0;
  constructor(private readonly buf: Buffer, private readonly what: string) {}

  private need(n: number): void {
    if (n < 0 || this.i + n > this.buf.length) throw new ProtocolViolation(`invalid ${this.what} message: too short`);
  }
  int16(): number {
    this.need(2);
    const v = this.buf.readInt16BE(this.i);
    this.i += 2;
    return v;
  }
  int32(): number {
    this.need(4);
    const v = this.buf.readInt32BE(this.i);
    this.i += 4;
    return v;
  }
  byte(): string {
    this.need(1);
    return String.fromCharCode(this.buf[this.i++]!);
  }
  cstring(): string {
    const end = this.buf.indexOf(0, this.i);
    if (end === -1) throw new ProtocolViolation(`invalid ${this.what} message: unterminated string`);
    const s = this.buf.toString('utf8', this.i, end);
    this.i = end + 1;
    return s;
  }
  bytes(n: number): Buffer {
    this.need(n);
    const b = this.buf.subarray(this.i, this.i + n);
    this.i += n;
    return b;
  }
  /** A count field: non-negative and plausible for the bytes left. */
  count(perItemMinBytes: number): number {
    const n = this.int16();
    if (n < 0 || n * perItemMinBytes > this.buf.length - this.i) {
      throw new ProtocolViolation(`invalid ${this.what} message: bad count ${n}`);
    }
    return n;
  }
}

export interface ParseMessage {
  statement: string;
  query: string;
  paramTypes: number[];
}

export function decodeParse(body: Buffer): ParseMessage {
  const r = new BodyReader(body, 'Parse');
  const statement = r.cstring();
  const query = r.cstring();
  const n = r.count(4);
  const paramTypes: number[] = [];
  for (let k = 0; k < n; k++) paramTypes.push(r.int32());
  return { statement, query, paramTypes };
}

export interface BindMessage {
  portal: string;
  statement: string;
  paramFormats: number[];
  /** Parameter values as sent (null for SQL NULL). */
  params: Array<Buffer | null>;
  resultFormats: number[];
}

export function decodeBind(body: Buffer): BindMessage {
  const r = new BodyReader(body, 'Bind');
  const portal = r.cstring();
  const statement = r.cstring();
  const paramFormats: number[] = [];
  for (let k = 0, n = r.count(2); k < n; k++) paramFormats.push(r.int16());
  const params: Array<Buffer | null> = [];
  for (let k = 0, n = r.count(4); k < n; k++) {
    const len = r.int32();
    params.push(len === -1 ? null : r.bytes(len));
  }
  const resultFormats: number[] = [];
  for (let k = 0, n = r.count(2); k < n; k++) resultFormats.push(r.int16());
  return { portal, statement, paramFormats, params, resultFormats };
}

/** Describe and Close share a layout: 'S' (statement) or 'P' (portal), then a name. */
export interface TargetMessage {
  kind: 'S' | 'P';
  name: string;
}

export function decodeTarget(body: Buffer, what: string): TargetMessage {
  const r = new BodyReader(body, what);
  const kind = r.byte();
  if (kind !== 'S' && kind !== 'P') throw new ProtocolViolation(`invalid ${what} message subtype ${kind.charCodeAt(0)}`);
  return { kind, name: r.cstring() };
}

export interface ExecuteMessage {
  portal: string;
  /** 0 means no limit. */
  maxRows: number;
}

export function decodeExecute(body: Buffer): ExecuteMessage {
  const r = new BodyReader(body, 'Execute');
  return { portal: r.cstring(), maxRows: r.int32() };
}
