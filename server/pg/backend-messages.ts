// Encoding of backend (server → client) messages into one growing buffer, so a whole result
// chunk goes to the socket in a single write instead of one write per row.

export const TransactionStatus = { idle: 'I', inBlock: 'T', failed: 'E' } as const;
export type TransactionStatusValue = (typeof TransactionStatus)[keyof typeof TransactionStatus];

export interface FieldDescription {
  name: string;
  tableOid: number;
  columnAttr: number;
  typeOid: number;
  typeLen: number;
  typeMod: number;
  /** 0 text, 1 binary. */
  format: number;
}

/** ErrorResponse / NoticeResponse fields (PostgreSQL field codes in comments). */
export interface ErrorFields {
  severity: 'ERROR' | 'FATAL' | 'PANIC' | 'WARNING' | 'NOTICE' | 'DEBUG' | 'INFO' | 'LOG';
  code: string; // C
  message: string; // M
  detail?: string; // D
  hint?: string; // H
  position?: number; // P
}

export class BackendWriter {
  private buf: Buffer;
  private pos = 0;
  private msgStart = -1;

  constructor(initialSize = 16 * 1024) {
    this.buf = Buffer.allocUnsafe(initialSize);
  }

  /** Bytes encoded and not yet taken. */
  get size(): number {
    return this.pos;
  }

  /** Returns the encoded bytes (a copy, so the writer can reuse its buffer) and resets. */
  take(): Buffer {
    const out = Buffer.from(this.buf.subarray(0, this.pos));
    this.pos = 0;
    // don't keep a huge buffer alive after one big chunk
    if (this.buf.length > 4 * 1024 * 1024) this.buf = Buffer.allocUnsafe(16 * 1024);
    return out;
  }

  // ---- primitives -------------------------------------------------------------------------

  private ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const next = Buffer.allocUnsafe(size);
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }

  private begin(type: string): void {
    this.ensure(5);
    this.buf[this.pos] = type.charCodeAt(0);
    this.msgStart = this.pos + 1;
    this.pos += 5;
  }

  private end(): void {
    this.buf.writeInt32BE(this.pos - this.msgStart, this.msgStart);
    this.msgStart = -1;
  }

  private int16(v: number): void {
    this.ensure(2);
    this.buf.writeInt16BE(v, this.pos);
    this.pos += 2;
  }

  private int32(v: number): void {
    this.ensure(4);
    this.buf.writeInt32BE(v, this.pos);
    this.pos += 4;
  }

  private byte(ch: string): void {
    this.ensure(1);
    this.buf[this.pos++] = ch.charCodeAt(0);
  }

  /** A string as bytes with no terminator; returns the byte count. */
  private utf8(s: string): number {
    this.ensure(s.length * 3);
    const n = this.buf.write(s, this.pos, 'utf8');
    this.pos += n;
    return n;
  }

  private cstring(s: string): void {
    // NUL would truncate the string on the client side: drop it like PG's encoders never emit it
    this.utf8(s.includes('\0') ? s.replaceAll('\0', '') : s);
    this.ensure(1);
    this.buf[this.pos++] = 0;
  }

  // ---- messages ---------------------------------------------------------------------------

  /** A single byte with no framing: the answer to SSLRequest / GSSENCRequest. */
  rawByte(ch: string): this {
    this.byte(ch);
    return this;
  }

  authentication(code: number, extra?: Buffer): this {
    this.begin('R');
    this.int32(code);
    if (extra) {
      this.ensure(extra.length);
      extra.copy(this.buf, this.pos);
      this.pos += extra.length;
    }
    this.end();
    return this;
  }

  parameterStatus(name: string, value: string): this {
    this.begin('S');
    this.cstring(name);
    this.cstring(value);
    this.end();
    return this;
  }

  backendKeyData(processId: number, secretKey: number): this {
    this.begin('K');
    this.int32(processId);
    this.int32(secretKey);
    this.end();
    return this;
  }

  negotiateProtocolVersion(newestMinor: number, unsupportedOptions: string[]): this {
    this.begin('v');
    this.int32(newestMinor);
    this.int32(unsupportedOptions.length);
    for (const o of unsupportedOptions) this.cstring(o);
    this.end();
    return this;
  }

  readyForQuery(status: TransactionStatusValue): this {
    this.begin('Z');
    this.byte(status);
    this.end();
    return this;
  }

  rowDescription(fields: FieldDescription[]): this {
    this.begin('T');
    this.int16(fields.length);
    for (const f of fields) {
      this.cstring(f.name);
      this.int32(f.tableOid);
      this.int16(f.columnAttr);
      this.int32(f.typeOid);
      this.int16(f.typeLen);
      this.int32(f.typeMod);
      this.int16(f.format);
    }
    this.end();
    return this;
  }

  /** One row; null entries are SQL NULL, strings are sent as UTF-8 text. */
  dataRow(values: ReadonlyArray<string | Buffer | null>): this {
    this.begin('D');
    this.int16(values.length);
    for (const v of values) {
      if (v === null) {
        this.int32(-1);
      } else if (typeof v === 'string') {
        this.ensure(4);
        const lenAt = this.pos;
        this.pos += 4;
        const n = this.utf8(v);
        this.buf.writeInt32BE(n, lenAt);
      } else {
        this.int32(v.length);
        this.ensure(v.length);
        v.copy(this.buf, this.pos);
        this.pos += v.length;
      }
    }
    this.end();
    return this;
  }

  commandComplete(tag: string): this {
    this.begin('C');
    this.cstring(tag);
    this.end();
    return this;
  }

  emptyQueryResponse(): this {
    this.begin('I');
    this.end();
    return this;
  }

  /** ErrorResponse ('E') or, for severities below ERROR, NoticeResponse ('N'). */
  error(f: ErrorFields): this {
    const isError = f.severity === 'ERROR' || f.severity === 'FATAL' || f.severity === 'PANIC';
    this.begin(isError ? 'E' : 'N');
    this.byte('S');
    this.cstring(f.severity);
    this.byte('V');
    this.cstring(f.severity);
    this.byte('C');
    this.cstring(f.code);
    this.byte('M');
    this.cstring(f.message);
    if (f.detail !== undefined) {
      this.byte('D');
      this.cstring(f.detail);
    }
    if (f.hint !== undefined) {
      this.byte('H');
      this.cstring(f.hint);
    }
    if (f.position !== undefined) {
      this.byte('P');
      this.cstring(String(f.position));
    }
    this.ensure(1);
    this.buf[this.pos++] = 0;
    this.end();
    return this;
  }

  parseComplete(): this {
    this.begin('1');
    this.end();
    return this;
  }

  bindComplete(): this {
    this.begin('2');
    this.end();
    return this;
  }

  closeComplete(): this {
    this.begin('3');
    this.end();
    return this;
  }

  noData(): this {
    this.begin('n');
    this.end();
    return this;
  }

  parameterDescription(typeOids: number[]): this {
    this.begin('t');
    this.int16(typeOids.length);
    for (const oid of typeOids) this.int32(oid);
    this.end();
    return this;
  }

  portalSuspended(): this {
    this.begin('s');
    this.end();
    return this;
  }
}
