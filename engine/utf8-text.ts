// Text handed from the collector to the store as UTF-8 bytes instead of a JS string: the HTTP
// parser writes header JSON and bodies straight from the wire bytes, and the store copies or
// interns them without making (and re-encoding) a string. One definition, used by both sides.

/**
 * Well-formed UTF-8 text in bytes[start, end), `chars` UTF-16 units long when decoded. The bytes
 * are never written again once the value exists (slabs are not reused), so holding one is safe.
 */
export class Utf8Text {
  constructor(
    readonly bytes: Uint8Array,
    readonly start: number,
    readonly end: number,
    readonly chars: number,
  ) {}

  toString(): string {
    const b = this.bytes;
    const buf = Buffer.isBuffer(b) ? b : Buffer.from(b.buffer, b.byteOffset, b.byteLength);
    return buf.toString('utf8', this.start, this.end);
  }

  toJSON(): string {
    return this.toString();
  }
}

/** A text column's value as the collector hands it over. */
export type Text = string | Utf8Text;

/** The value as a string (for consumers that need one: tests, pcap import, the demo). */
export function textOf(v: Text): string {
  return typeof v === 'string' ? v : v.toString();
}

/** Row type with every Utf8Text field read as a string (what textRow() returns). */
export type Stringified<T> = { [K in keyof T]: T[K] extends Text ? Exclude<T[K], Utf8Text> : T[K] };

/** A copy of a row with its Utf8Text fields as strings (the row itself when it has none). */
export function textRow<T extends object>(row: T): Stringified<T> {
  let out: Record<string, unknown> | null = null;
  for (const k in row) {
    const v = (row as Record<string, unknown>)[k];
    if (v instanceof Utf8Text) {
      out ??= { ...(row as Record<string, unknown>) };
      out[k] = v.toString();
    }
  }
  return (out ?? row) as Stringified<T>;
}

/**
 * Slab size. A live value keeps its whole slab: a request waiting long for its response (a
 * long poll) pins up to this much, so slabs stay small.
 */
const slabBytes = 16 * 1024;

/**
 * Where writers put the bytes of new Utf8Text values: a fresh slab when the current one is full,
 * never reused (a value may live as long as its sink keeps it). `reserve(n)` then write at
 * `buf[used..]`, then `take(end, chars)`.
 */
export class Utf8Slab {
  buf: Buffer = Buffer.allocUnsafeSlow(slabBytes);
  /** Over `buf` (its own ArrayBuffer, offset 0): writers may store 4 bytes at a time. */
  dv = new DataView(this.buf.buffer);
  used = 0;

  /** Room for n more bytes in `buf` from `used` (a new slab when needed). */
  reserve(n: number): void {
    if (this.used + n <= this.buf.length) return;
    this.buf = Buffer.allocUnsafeSlow(Math.max(slabBytes, n));
    this.dv = new DataView(this.buf.buffer);
    this.used = 0;
  }

  /** The value written at buf[used, end) (after reserve), `chars` UTF-16 units long. */
  take(end: number, chars: number): Utf8Text {
    const t = new Utf8Text(this.buf, this.used, end, chars);
    this.used = end;
    return t;
  }
}
