// Text as UTF-8 bytes. A hot text column encodes its rows' strings in chunks (one join, one native
// call per chunk) and either keeps the bytes per row (plain) or interns them into a dictionary
// hashed over the bytes in typed arrays. Keying a Map by the strings instead flattens every
// concatenated string, hashes it, and keeps each new one alive (promoted by the GC) until the
// batch seals; here no string outlives its chunk.
import { storeAddon, type StoreAddon } from '../../native/store.ts';
import type { Text, Utf8Text } from '../utf8-text.ts';
import { ArrayLease } from './array-pool.ts';

/** Strings back to back: entry k is utf8[ends[k-1], ends[k]), chars[k] UTF-16 units long. */
export interface TextEntries {
  count: number;
  utf8: Uint8Array;
  ends: Uint32Array;
  chars: Uint32Array;
  /** No entry holds a lone surrogate (then UTF-16 lengths index the decoded text). */
  wellFormed: boolean;
}

/** Per-entry lengths as the sealed format stores them: UTF-16 units when well-formed, else bytes. */
export function entryLengths(e: TextEntries): Uint32Array {
  if (e.wellFormed) return e.chars.subarray(0, e.count);
  const out = new Uint32Array(e.count);
  let s = 0;
  for (let k = 0; k < e.count; k++) {
    out[k] = e.ends[k]! - s;
    s = e.ends[k]!;
  }
  return out;
}

/** The strings of entries (what a scan reads): one decode, then slices, when well-formed. */
export function entryStrings(e: TextEntries): string[] {
  return splitUtf8(e.utf8, entryLengths(e), e.count, e.wellFormed);
}

/**
 * Entries packed back to back in `utf8`, entry k `lengths[k]` long: UTF-16 units when `utf16`
 * (one decode of the whole buffer, then slices), else UTF-8 bytes (one decode per entry).
 */
export function splitUtf8(utf8: Uint8Array, lengths: ArrayLike<number>, count: number, utf16: boolean): string[] {
  const buf = Buffer.isBuffer(utf8) ? utf8 : Buffer.from(utf8.buffer, utf8.byteOffset, utf8.byteLength);
  const out: string[] = new Array(count);
  const text = utf16 ? buf.toString('utf8') : '';
  let at = 0;
  for (let k = 0; k < count; k++) {
    const n = lengths[k]!;
    out[k] = utf16 ? text.slice(at, at + n) : buf.toString('utf8', at, at + n);
    at += n;
  }
  return out;
}

type Utf8Writer = { utf8Write(s: string, offset: number, length: number): number };
type WellFormed = { isWellFormed(): boolean }; // ES2024, in Node 20

/** The power of two ≥ n (pooled buffers are reused by exact size). */
function pow2(n: number): number {
  return n <= 1 ? 1 : 2 ** Math.ceil(Math.log2(n));
}

/**
 * dst[at, at + n) = src[s, s + n). A plain Uint8Array view for set(): a Buffer's subarray() goes
 * through its species constructor (FastBuffer), ~9% of the store's ingest CPU; a byte loop costs
 * ~3 ns per byte, the view + set ~60–90 ns whatever the length (microbenchmark, 30–250 B).
 */
function copyBytes(dst: Uint8Array, at: number, src: Uint8Array, s: number, n: number): void {
  if (n <= 8) for (let i = 0; i < n; i++) dst[at + i] = src[s + i]!;
  else dst.set(new Uint8Array(src.buffer, src.byteOffset + s, n), at);
}

/** Growable UTF-8 bytes with per-entry ends and UTF-16 lengths; append-only, so views stay valid. */
export class Utf8Entries implements TextEntries {
  count = 0;
  utf8: Buffer;
  used = 0;
  ends: Uint32Array;
  chars: Uint32Array;
  wellFormed = true;

  dv: DataView;
  /** The lease's array under `utf8` (what growth hands back). */
  private raw: Uint8Array;

  constructor(entries: number, bytes: number, private readonly lease: ArrayLease = new ArrayLease(false)) {
    this.raw = lease.alloc(Uint8Array, pow2(Math.max(64, bytes)));
    this.utf8 = Buffer.from(this.raw.buffer, 0, this.raw.length);
    this.dv = new DataView(this.raw.buffer);
    this.ends = lease.alloc(Uint32Array, pow2(Math.max(16, entries)));
    this.chars = lease.alloc(Uint32Array, pow2(Math.max(16, entries)));
  }

  /** Room for `bytes` more bytes and `entries` more entries. Growth copies: views keep theirs. */
  reserve(bytes: number, entries = 1): void {
    if (this.used + bytes > this.utf8.length) {
      this.raw = this.lease.grow(Uint8Array, this.raw, pow2(Math.max(this.utf8.length * 2, this.used + bytes)));
      this.utf8 = Buffer.from(this.raw.buffer, 0, this.raw.length);
      this.dv = new DataView(this.raw.buffer);
    }
    if (this.count + entries > this.ends.length) {
      const c = pow2(Math.max(this.ends.length * 2, this.count + entries));
      this.ends = this.lease.grow(Uint32Array, this.ends, c);
      this.chars = this.lease.grow(Uint32Array, this.chars, c);
    }
  }

  /** Appends src[s, e) as one entry of `chars` UTF-16 units (after reserve(e - s)). */
  pushBytes(src: Uint8Array, s: number, e: number, chars: number): void {
    const n = e - s;
    const dst = this.utf8;
    const at = this.used;
    copyBytes(dst, at, src, s, n);
    this.used = at + n;
    this.ends[this.count] = this.used;
    this.chars[this.count++] = chars;
  }

  /** A view of the first `count` entries (stays valid while more are appended). */
  view(count = this.count): TextEntries {
    return {
      count,
      utf8: this.utf8.subarray(0, count > 0 ? this.ends[count - 1]! : 0),
      ends: this.ends.subarray(0, count),
      chars: this.chars.subarray(0, count),
      wellFormed: this.wellFormed,
    };
  }

  bytes(): number {
    return this.utf8.length + this.ends.byteLength + this.chars.byteLength;
  }
}

/** Rows whose strings are joined and encoded with one call. */
export const chunkRows = 256;
const chunkChars = 1 << 14;

/** Where a chunk's strings are encoded before they are kept or interned (one per process). */
class Scratch {
  buf = Buffer.allocUnsafeSlow(chunkChars * 3);
  dv = new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.byteLength);
  ends = new Uint32Array(chunkRows);
  chars = new Uint32Array(chunkRows);
  /** A chunk's entry ids, before they go to their rows. */
  idx = new Uint32Array(chunkRows);
  /** pushUtf8Values: pseudo-rows that are the bytes between two values, and each value's row. */
  nulls = new Uint8Array(chunkRows);
  at = new Uint32Array(chunkRows);
  state = new Uint32Array(2);
  reserve(bytes: number): void {
    if (bytes <= this.buf.length) return;
    this.buf = Buffer.allocUnsafeSlow(Math.max(bytes, this.buf.length * 2));
    this.dv = new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.byteLength);
  }
}
const scratch = new Scratch();

/**
 * Encodes strings into `out` at `at` (room for 3 bytes per UTF-16 unit must be there): their
 * joined text with one call when it is ASCII, else each string on its own — so a lone surrogate
 * becomes U+FFFD within its own row (joined, it could pair with its neighbour's) and each row's
 * byte length is known. ends[endsAt + k] receives string k's end; false when a string is not
 * well-formed.
 */
function encodeStrings(p: readonly string[], n: number, out: Buffer, at: number, ends: Uint32Array, endsAt: number): boolean {
  // Slots of p past n are '' and join to nothing.
  const text = n === 1 ? p[0]! : p.join('');
  const w = out as unknown as Utf8Writer;
  const written = w.utf8Write(text, at, text.length * 3);
  let wellFormed = true;
  if (written === text.length) {
    for (let k = 0; k < n; k++) ends[endsAt + k] = at += p[k]!.length;
  } else {
    for (let k = 0; k < n; k++) {
      const s = p[k]!;
      const b = w.utf8Write(s, at, s.length * 3);
      if (b !== s.length && wellFormed && !(s as unknown as WellFormed).isWellFormed()) wellFormed = false;
      ends[endsAt + k] = at += b;
    }
  }
  return wellFormed;
}

const NO_BYTES = new Uint8Array(0);

/** Fewest Utf8Text values in a row that are interned from their slabs with a call of their own. */
const slabRunMin = 8;

/** Strings up to this long are looked up by value before being encoded (dictionary columns). */
const shortChars = 16;
/** Most short strings remembered per batch column (each may retain the string it was sliced from). */
const shortMax = 256;
/** Budget bytes counted per remembered short string (the key, the Map slot, a retained parent). */
const shortEntryBytes = 256;

/**
 * A dictionary builder's pending rows given as UTF-8 bytes (Utf8Text), gathered here per chunk
 * and interned like encoded strings (one per builder: rows of several columns interleave).
 */
class BytesChunk {
  buf = Buffer.allocUnsafe(chunkChars * 3);
  dv = new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.byteLength);
  used = 0;
  ends = new Uint32Array(chunkRows);
  chars = new Uint32Array(chunkRows);
  reserve(bytes: number): void {
    if (this.used + bytes <= this.buf.length) return;
    const buf = Buffer.allocUnsafe(Math.max(this.used + bytes, this.buf.length * 2));
    this.buf.copy(buf, 0, 0, this.used);
    this.buf = buf;
    this.dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  }
}

/**
 * A text column's rows, fed one string or Utf8Text per row (push; NULL rows pushNull), encoded
 * per chunk. Plain: the rows themselves are the entries. Dictionary: each row's bytes are
 * interned (entries in first-seen order, NULL rows id 0 without an entry) and `idx` holds the
 * row's entry. Utf8Text rows are never made strings: plain ones are copied straight into the
 * entries, dictionary ones gathered in a bytes chunk and interned from there. A chunk holds
 * strings or bytes, never both (a row of the other kind flushes it first).
 */
export class TextBuilder {
  readonly entries: Utf8Entries;
  // A fixed array reused for every chunk: emptying it with `length = 0` freed its backing store,
  // and regrowing it allocated ~16 B per row per column (young garbage while the rows are live).
  // Slots past `pendingRows` hold '' (they join to nothing).
  private readonly pending: string[] = new Array<string>(chunkRows).fill('');
  private pendingRows = 0;
  private pendingChars = 0;
  /** Rows before the first pending one: all have their entry (plain) or id (dictionary). */
  rows = 0;
  /** Rows pushed. */
  private pushed = 0;
  // Dictionary mode: the row of each pending slot (short strings already interned, and NULL rows,
  // never wait in a chunk), and the short strings seen with their entry ids. Low-cardinality
  // columns (method, reason, addresses, empty bodies) then cost one Map lookup per row instead
  // of a join, an encode and a hash of their bytes. Entries and ids are the same either way: a
  // string is remembered only once it has an entry.
  private readonly pendingRow = new Uint32Array(chunkRows);
  private readonly short = new Map<string, number>();
  // Dictionary mode: open addressing over entry ids + 1, with each entry's hash.
  idx: Uint32Array;
  private table: Int32Array;
  private hashes: Uint32Array;

  /**
   * addon: the native interner (null: intern in JS); one builder never mixes the two hashes.
   * lease: where the arrays come from and go back to (the hot batch's; by default none recycled).
   */
  constructor(
    readonly plain: boolean, capacity: number,
    private readonly addon: StoreAddon | null = storeAddon, private readonly lease = new ArrayLease(false),
  ) {
    this.entries = new Utf8Entries(plain ? capacity : 16, plain ? capacity * 16 : 1024, lease);
    this.idx = lease.alloc(Uint32Array, plain ? 0 : capacity);
    this.table = lease.alloc(Int32Array, plain ? 0 : 64);
    this.hashes = lease.alloc(Uint32Array, plain ? 0 : 32);
  }

  // Dictionary mode, Utf8Text rows: the pending chunk's bytes (pendingBytes: the chunk holds bytes).
  private bytesChunk: BytesChunk | null = null;
  private pendingBytes = false;

  /** Adds the next row. */
  push(s: Text): void {
    if (typeof s !== 'string') return this.pushUtf8(s);
    if (!this.plain) {
      // A known short string (an empty body among byte ones) resolves without touching the
      // pending chunk, so it does not break a chunk of bytes rows.
      if (s.length <= shortChars) {
        const id = this.short.get(s);
        if (id !== undefined) return this.resolved(this.pushed++, id);
      }
      if (this.pendingBytes) this.flush();
      this.pendingRow[this.pendingRows] = this.pushed++;
    } else if (s.length === 0 && this.pendingRows === 0) {
      // An empty row needs no encoding: kept at once (no chunk of one between bytes rows).
      this.entries.reserve(0);
      this.entries.pushBytes(NO_BYTES, 0, 0, 0);
      this.rows = ++this.pushed;
      return;
    } else {
      this.pushed++;
    }
    this.pending[this.pendingRows++] = s;
    this.pendingChars += s.length;
    if (this.pendingRows === chunkRows || this.pendingChars >= chunkChars) this.flush();
  }

  /** Adds the next row from its UTF-8 bytes. */
  pushUtf8(t: Utf8Text): void {
    const n = t.end - t.start;
    if (this.plain) {
      if (this.pendingRows > 0) this.flush();
      const e = this.entries;
      e.reserve(n);
      e.pushBytes(t.bytes, t.start, t.end, t.chars);
      this.rows = ++this.pushed;
      return;
    }
    if (this.pendingRows > 0 && !this.pendingBytes) this.flush();
    const c = (this.bytesChunk ??= new BytesChunk());
    c.reserve(n);
    const k = this.pendingRows++;
    const dst = c.buf;
    const src = t.bytes;
    const at = c.used;
    copyBytes(dst, at, src, t.start, n);
    c.used = at + n;
    c.ends[k] = c.used;
    c.chars[k] = t.chars;
    this.pendingRow[k] = this.pushed++;
    this.pendingBytes = true;
    this.pendingChars += n;
    if (this.pendingRows === chunkRows || c.used >= chunkChars) this.flush();
  }

  /**
   * Adds vals[k0, k1) as the next rows: all Utf8Text. Dictionary columns with the addon intern
   * them straight from the buffers they live in (collector slabs), one native call per run of
   * values in one buffer at increasing offsets: the bytes between two values go in as a NULL row
   * (intern skips those), so no value is copied before it is hashed, and only new entries are
   * copied at all. Otherwise one pushUtf8 each.
   */
  pushUtf8Values(vals: readonly unknown[], k0: number, k1: number): void {
    const addon = this.addon;
    if (this.plain) return this.pushUtf8Plain(vals, k0, k1);
    // A few values between strings (bodies among empty ones) are gathered into the bytes chunk
    // instead: an N-API call costs ~0.8 µs, and one per 1–2 values made 0.19 calls per row.
    if (addon === null || k1 - k0 < slabRunMin) {
      for (let k = k0; k < k1; k++) this.pushUtf8(vals[k] as Utf8Text);
      return;
    }
    // Rows already pending (strings, or bytes pushed one by one) get their entries first: entries
    // stay in first-seen order whatever mix of strings and bytes the rows came as.
    if (this.pendingRows > 0) this.flush();
    const ends = scratch.ends;
    const chars = scratch.chars;
    const nulls = scratch.nulls;
    const at = scratch.at;
    for (let k = k0; k < k1;) {
      const first = vals[k] as Utf8Text;
      const src = first.bytes;
      const base = first.start;
      let end = base;
      let p = 0;
      let j = k;
      // At most 2 pseudo-rows per value: runs of up to chunkRows / 2 values.
      for (; j < k1 && j - k < chunkRows >> 1; j++) {
        const t = vals[j] as Utf8Text;
        if (t.bytes !== src || t.start < end) break;
        if (t.start > end) {
          ends[p] = t.start - base;
          chars[p] = 0;
          nulls[p++] = 1;
        }
        at[j - k] = p;
        ends[p] = (end = t.end) - base;
        chars[p] = t.chars;
        nulls[p++] = 0;
      }
      this.internNative(addon, p, new Uint8Array(src.buffer, src.byteOffset + base, end - base), ends, chars, nulls);
      const ids = scratch.idx;
      const idx = this.idx;
      for (let i = 0; i < j - k; i++) idx[this.pushed++] = ids[at[i]!]!;
      k = j;
    }
    if (this.pendingRows === 0) this.rows = this.pushed;
  }

  /**
   * Plain: vals[k0, k1) (all Utf8Text) as entries. A run of values in one buffer at increasing
   * offsets is copied with one set() of its whole span, then each value moved down into place
   * (copyWithin: no view object per value, ~50 vs ~85 ns a value).
   */
  private pushUtf8Plain(vals: readonly unknown[], k0: number, k1: number): void {
    if (this.pendingRows > 0) this.flush();
    const e = this.entries;
    for (let k = k0; k < k1;) {
      const first = vals[k] as Utf8Text;
      const src = first.bytes;
      const base = first.start;
      let end = base;
      let j = k;
      for (; j < k1; j++) {
        const t = vals[j] as Utf8Text;
        if (t.bytes !== src || t.start < end) break;
        end = t.end;
      }
      e.reserve(end - base, j - k);
      const dst = e.utf8;
      const at = e.used;
      copyBytes(dst, at, src, base, end - base);
      const ends = e.ends;
      const chars = e.chars;
      let w = at;
      let c = e.count;
      for (let i = k; i < j; i++) {
        const t = vals[i] as Utf8Text;
        const from = at + t.start - base;
        const n = t.end - t.start;
        if (from !== w && n > 0) dst.copyWithin(w, from, from + n);
        w += n;
        ends[c] = w;
        chars[c++] = t.chars;
      }
      e.count = c;
      e.used = w;
      k = j;
    }
    this.rows = this.pushed += k1 - k0;
  }

  /** Adds a NULL row: '' when plain, else id 0 without an entry (the column's nulls mark it). */
  pushNull(): void {
    if (this.plain) this.push('');
    else this.resolved(this.pushed++, 0);
  }

  private resolved(row: number, id: number): void {
    this.idx[row] = id;
    if (this.pendingRows === 0) this.rows = row + 1;
  }

  grow(capacity: number): void {
    if (this.plain) return;
    this.idx = this.lease.grow(Uint32Array, this.idx, capacity);
  }

  /** Encodes the pending rows. */
  flush(): void {
    const p = this.pending;
    const n = this.pendingRows;
    if (n === 0) return;
    const room = this.pendingChars * 3;
    const e = this.entries;
    if (this.pendingBytes) {
      this.flushBytes(n);
    } else if (this.plain) {
      e.reserve(room, n);
      const ok = encodeStrings(p, n, e.utf8, e.used, e.ends, e.count);
      for (let k = 0; k < n; k++) e.chars[e.count + k] = p[k]!.length;
      e.count += n;
      e.used = n > 0 ? e.ends[e.count - 1]! : e.used;
      if (!ok) e.wellFormed = false;
    } else {
      scratch.reserve(room);
      const ends = scratch.ends;
      if (!encodeStrings(p, n, scratch.buf, 0, ends, 0)) e.wellFormed = false;
      const ids = scratch.idx;
      if (this.addon) {
        const chars = scratch.chars;
        for (let k = 0; k < n; k++) chars[k] = p[k]!.length;
        this.internNative(this.addon, n, scratch.buf, ends, chars);
      } else {
        let s = 0;
        for (let k = 0; k < n; k++) {
          const end = ends[k]!;
          ids[k] = this.intern(scratch.buf, scratch.dv, s, end, p[k]!.length);
          s = end;
        }
      }
      const short = this.short;
      for (let k = 0; k < n; k++) {
        const id = ids[k]!;
        this.idx[this.pendingRow[k]!] = id;
        const str = p[k]!;
        if (str.length <= shortChars && short.size < shortMax) short.set(str, id);
      }
    }
    this.flushed(n);
  }

  /** Interns the n pending Utf8Text rows of the bytes chunk. */
  private flushBytes(n: number): void {
    const c = this.bytesChunk!;
    const ids = scratch.idx;
    if (this.addon) this.internNative(this.addon, n, c.buf, c.ends, c.chars);
    else {
      let s = 0;
      for (let k = 0; k < n; k++) {
        const end = c.ends[k]!;
        ids[k] = this.intern(c.buf, c.dv, s, end, c.chars[k]!);
        s = end;
      }
    }
    for (let k = 0; k < n; k++) this.idx[this.pendingRow[k]!] = ids[k]!;
    c.used = 0;
    this.pendingBytes = false;
  }

  private flushed(n: number): void {
    this.rows = this.pushed;
    const p = this.pending;
    for (let k = 0; k < n; k++) p[k] = ''; // the rows' strings die with their rows
    this.pendingRows = 0;
    this.pendingChars = 0;
  }

  /** Interns the n rows in buf (ends, UTF-16 lengths) with the addon into scratch.idx (same as intern()). */
  private internNative(addon: StoreAddon, n: number, buf: Uint8Array, ends: Uint32Array, chars: Uint32Array, nulls: Uint8Array | null = null): void {
    const e = this.entries;
    e.reserve(ends[n - 1]!, n);
    const need = e.count + n;
    if (need > this.hashes.length) this.hashes = this.lease.grow(Uint32Array, this.hashes, pow2(Math.max(need, this.hashes.length * 2)));
    if (need * 2 > this.table.length) {
      let size = this.table.length * 2;
      while (need * 2 > size) size *= 2;
      this.rehash(size);
    }
    const st = scratch.state;
    st[0] = e.count;
    st[1] = e.used;
    addon.intern(buf, ends, chars, n, nulls, 0, scratch.idx, e.utf8, e.ends, e.chars, this.table, this.hashes, st);
    e.count = st[0]!;
    e.used = st[1]!;
  }

  /** The entry id of bytes b[s, e) (dv: a DataView over b), adding an entry when new. */
  private intern(b: Buffer, dv: DataView, s: number, e: number, chars: number): number {
    const h = hashBytes(dv, b, s, e);
    const entries = this.entries;
    const n = e - s;
    const mask = this.table.length - 1;
    let slot = h & mask;
    for (;;) {
      const k = this.table[slot]! - 1;
      if (k < 0) break;
      if (this.hashes[k] === h) {
        const fs = k === 0 ? 0 : entries.ends[k - 1]!;
        if (entries.ends[k]! - fs === n && sameBytes(dv, b, s, entries.dv, entries.utf8, fs, n)) return k;
      }
      slot = (slot + 1) & mask;
    }
    const id = entries.count;
    entries.reserve(n);
    entries.pushBytes(b, s, e, chars);
    if (id === this.hashes.length) this.hashes = this.lease.grow(Uint32Array, this.hashes, id * 2);
    this.hashes[id] = h;
    if ((id + 1) * 2 > this.table.length) {
      this.rehash(this.table.length * 2);
    } else {
      this.table[slot] = id + 1;
    }
    return id;
  }

  private rehash(size: number): void {
    const table = this.lease.alloc(Int32Array, size);
    const mask = size - 1;
    for (let k = 0; k < this.entries.count; k++) {
      let slot = this.hashes[k]! & mask;
      while (table[slot] !== 0) slot = (slot + 1) & mask;
      table[slot] = k + 1;
    }
    this.lease.release(this.table);
    this.table = table;
  }

  bytes(): number {
    return this.entries.bytes() + this.idx.byteLength + this.table.byteLength + this.hashes.byteLength + this.pendingChars * 2 +
      (this.bytesChunk?.buf.length ?? 0) +
      this.short.size * shortEntryBytes;
  }
}

/** 32-bit hash of bytes [s, e): 4 bytes per step (murmur3-style mixing). */
function hashBytes(dv: DataView, b: Uint8Array, s: number, e: number): number {
  let h = (e - s) ^ 0x9e3779b9;
  let i = s;
  for (; i + 4 <= e; i += 4) {
    h = Math.imul(h ^ dv.getUint32(i, true), 0x85ebca6b);
    h ^= h >>> 15;
  }
  for (; i < e; i++) h = Math.imul(h ^ b[i]!, 0xcc9e2d51);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/** a[x, x+n) equals b[y, y+n) (dva, dvb: DataViews over a and b). */
function sameBytes(dva: DataView, a: Uint8Array, x: number, dvb: DataView, b: Uint8Array, y: number, n: number): boolean {
  if (n >= 512) return Buffer.compare(a.subarray(x, x + n), b.subarray(y, y + n)) === 0;
  let i = 0;
  for (; i + 4 <= n; i += 4) if (dva.getUint32(x + i, true) !== dvb.getUint32(y + i, true)) return false;
  for (; i < n; i++) if (a[x + i] !== b[y + i]) return false;
  return true;
}
