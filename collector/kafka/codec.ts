// Kafka primitive types: a bounds-checked reader and a writer (used by the test broker), both
// aware of the compact encodings of flexible versions. The reader never throws: past the end of
// the bytes (a frame kept only in part, or garbage) it sets `truncated` and reads zero values, so
// a summary of what was readable still comes out.

type Utf8Slicer = { utf8Slice(start: number, end: number): string };

// Short strings repeat from frame to frame (topic names, client, group and member ids): a small
// direct-mapped cache of their bytes answers them without a Buffer → string call (~100 ns, more
// than comparing a few bytes). A hit compares every byte, so the string is always the decode.
const MAX_CACHED = 32;
const SLOTS = 64;
const slotLen = new Int32Array(SLOTS).fill(-1);
const slotBytes = new Uint8Array(SLOTS * MAX_CACHED);
const slotText: string[] = new Array<string>(SLOTS).fill('');

function cachedString(b: Buffer, at: number, n: number): string {
  if (n === 0) return '';
  const slot = (n * 31 + b[at]! * 7 + b[at + n - 1]!) & (SLOTS - 1);
  const off = slot * MAX_CACHED;
  if (slotLen[slot] === n) {
    let k = 0;
    while (k < n && slotBytes[off + k] === b[at + k]) k++;
    if (k === n) return slotText[slot]!;
  }
  // Buffer's native decoder without toString's argument checks.
  const s = (b as unknown as Utf8Slicer).utf8Slice(at, at + n);
  for (let k = 0; k < n; k++) slotBytes[off + k] = b[at + k]!;
  slotLen[slot] = n;
  slotText[slot] = s;
  return s;
}

export class KafkaReader {
  truncated = false;

  /** Reads b[i, end): a frame inside a larger buffer is read in place (no view per frame). */
  constructor(
    readonly b: Buffer,
    public i = 0,
    readonly end = b.length,
  ) {}

  /** Whether n more bytes are there; if not, the reader is marked truncated and moves to the end. */
  private need(n: number): void {
    if (n < 0 || this.i + n > this.end) {
      this.truncated = true;
      this.i = this.end;
      throw TRUNCATED;
    }
  }
  remaining(): number {
    return this.end - this.i;
  }
  int8(): number {
    this.need(1);
    return this.b.readInt8(this.i++);
  }
  int16(): number {
    this.need(2);
    const v = this.b.readInt16BE(this.i);
    this.i += 2;
    return v;
  }
  int32(): number {
    this.need(4);
    const v = this.b.readInt32BE(this.i);
    this.i += 4;
    return v;
  }
  /** As a number (offsets and timestamps fit in 2^53). */
  int64(): number {
    this.need(8);
    const v = this.b.readInt32BE(this.i) * 4294967296 + this.b.readUInt32BE(this.i + 4);
    this.i += 8;
    return v;
  }
  float64(): number {
    this.need(8);
    const v = this.b.readDoubleBE(this.i);
    this.i += 8;
    return v;
  }
  uvarint(): number {
    let v = 0;
    let mul = 1;
    for (let k = 0; k < 5; k++) {
      this.need(1);
      const c = this.b[this.i++]!;
      v += (c & 0x7f) * mul;
      if ((c & 0x80) === 0) return v;
      mul *= 128;
    }
    this.need(-1);
    return 0;
  }
  varint(): number {
    const u = this.uvarint();
    return u % 2 === 0 ? u / 2 : -(u + 1) / 2;
  }
  uuid(): string {
    this.need(16);
    const h = this.b.toString('hex', this.i, this.i + 16);
    this.i += 16;
    return h;
  }
  bool(): boolean {
    return this.int8() !== 0;
  }
  /** Length of a string/bytes/array: -1 for null. */
  length(compact: boolean, wide: boolean): number {
    if (compact) return this.uvarint() - 1;
    return wide ? this.int32() : this.int16();
  }
  string(compact: boolean): string | null {
    const n = this.length(compact, false);
    if (n < 0) return null;
    this.need(n);
    const s = n <= MAX_CACHED ? cachedString(this.b, this.i, n) : (this.b as unknown as Utf8Slicer).utf8Slice(this.i, this.i + n);
    this.i += n;
    return s;
  }
  /** Bytes (a record set may be cut short: its available part is returned, marked truncated). */
  bytes(compact: boolean): Buffer | null {
    const n = this.length(compact, true);
    if (n < 0) return null;
    if (this.i + n > this.end) {
      const v = this.b.subarray(this.i, this.end);
      this.truncated = true;
      this.i = this.end;
      return v;
    }
    const v = this.b.subarray(this.i, this.i + n);
    this.i += n;
    return v;
  }
  /** An array count, checked against the bytes left (every element takes at least one byte). */
  count(compact: boolean): number {
    const n = this.length(compact, true);
    if (n > this.remaining()) this.need(n);
    return n;
  }
  taggedFields(): void {
    const n = this.uvarint();
    for (let k = 0; k < n; k++) {
      this.uvarint(); // tag
      const size = this.uvarint();
      this.need(size);
      this.i += size;
    }
  }
}

/** Thrown by the reader at the end of its bytes; decoders catch it and keep what they read. */
export const TRUNCATED = new RangeError('truncated');

export class KafkaWriter {
  private buf = Buffer.alloc(256);
  private n = 0;

  private ensure(k: number): void {
    if (this.n + k <= this.buf.length) return;
    const next = Buffer.alloc(Math.max(this.buf.length * 2, this.n + k));
    this.buf.copy(next, 0, 0, this.n);
    this.buf = next;
  }
  int8(v: number): this {
    this.ensure(1);
    this.buf.writeInt8(v, this.n++);
    return this;
  }
  int16(v: number): this {
    this.ensure(2);
    this.buf.writeInt16BE(v, this.n);
    this.n += 2;
    return this;
  }
  int32(v: number): this {
    this.ensure(4);
    this.buf.writeInt32BE(v, this.n);
    this.n += 4;
    return this;
  }
  int64(v: number | bigint): this {
    this.ensure(8);
    this.buf.writeBigInt64BE(BigInt(v), this.n);
    this.n += 8;
    return this;
  }
  float64(v: number): this {
    this.ensure(8);
    this.buf.writeDoubleBE(v, this.n);
    this.n += 8;
    return this;
  }
  uvarint(v: number): this {
    do {
      let c = v % 128;
      v = Math.floor(v / 128);
      if (v > 0) c |= 0x80;
      this.ensure(1);
      this.buf[this.n++] = c;
    } while (v > 0);
    return this;
  }
  varint(v: number): this {
    return this.uvarint(v >= 0 ? v * 2 : -v * 2 - 1);
  }
  uuid(hex: string): this {
    return this.raw(Buffer.from(hex.padStart(32, '0'), 'hex'));
  }
  bool(v: boolean): this {
    return this.int8(v ? 1 : 0);
  }
  length(n: number, compact: boolean, wide: boolean): this {
    if (compact) return this.uvarint(n + 1);
    return wide ? this.int32(n) : this.int16(n);
  }
  string(s: string | null, compact: boolean): this {
    if (s === null) return this.length(-1, compact, false);
    const b = Buffer.from(s);
    return this.length(b.length, compact, false).raw(b);
  }
  bytes(b: Buffer | null, compact: boolean): this {
    if (b === null) return this.length(-1, compact, true);
    return this.length(b.length, compact, true).raw(b);
  }
  raw(b: Buffer): this {
    this.ensure(b.length);
    b.copy(this.buf, this.n);
    this.n += b.length;
    return this;
  }
  taggedFields(): this {
    return this.uvarint(0);
  }
  get size(): number {
    return this.n;
  }
  finish(): Buffer {
    return this.buf.subarray(0, this.n);
  }
}
