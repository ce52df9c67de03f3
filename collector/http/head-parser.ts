// HTTP/1.x start line + header block parser over a Buffer. Byte-level and strict about token
// characters so garbage fails fast (cheap resync) instead of waiting for a CRLF that never comes.
// Returns the head length, NEED_MORE, or INVALID; never throws.
//
// Two passes, for speed: the byte scan validates and only records where each field is; strings
// are made once the head is complete, from one latin1 decode of the head sliced in JS (a
// Buffer→string call costs ~10x a string slice). Fields with bytes >= 0x80 are decoded as UTF-8
// on their own. Common header names come from a table instead of being sliced and lower-cased.
//
// Header JSON as bytes: when every field is plain (ASCII, no JSON escape, no obs-fold, no
// repeated name), the head's headers JSON is written straight from the scanned positions into a
// slab (`json`, a Utf8Text the store copies without a string); otherwise the fields become
// strings (`names`/`values`) and headersJson() makes the same text. Both give identical bytes.
import { Utf8Slab, Utf8Text } from '../../engine/utf8-text.ts';
import { contentTypeOf } from './content-type.ts';

export const NEED_MORE = -1;
export const INVALID = -2;

export const METHODS: ReadonlySet<string> = new Set([
  'GET', 'POST', 'PUT', 'DELETE', 'HEAD', 'OPTIONS', 'PATCH', 'CONNECT', 'TRACE',
]);

export interface HttpHead {
  major: number;
  minor: number;
  /** Requests. */
  method: string;
  target: string;
  /** Responses. */
  status: number;
  reason: string;
  /**
   * Header names (lower-cased, each once) and values (repeated headers joined with ", ",
   * redacted ones replaced). Parallel arrays: cheaper than a dictionary object per message.
   */
  names: string[];
  values: string[];
  /** Some value may need JSON escaping (has '"', '\' or a tab): headersJson takes the slow path. */
  escape: boolean;
  /** The headers JSON as bytes (then names/values are empty), or null: use names/values. */
  json: Utf8Text | null;
  /** contentTypeOf(Content-Type), -1 when absent. */
  ctype: number;
  /** Content-Encoding's value, undefined when absent. */
  encoding: string | undefined;
  /** -1 when absent. */
  contentLength: number;
  /** Transfer-Encoding present; `chunked` when its last coding is chunked. */
  hasTransferEncoding: boolean;
  chunked: boolean;
}

/**
 * names/values of a head without string fields: shared and frozen (most heads take the bytes
 * path and never need their own); the two functions that add fields give the head its arrays.
 */
export const NO_STRINGS: string[] = Object.freeze([]) as unknown as string[];

/** Gives h its own names/values before a field is added. */
function ownArrays(h: HttpHead): void {
  if (h.names === NO_STRINGS) {
    h.names = [];
    h.values = [];
  }
}

export function newHead(): HttpHead {
  return {
    major: 0, minor: 0, method: '', target: '', status: 0, reason: '',
    names: NO_STRINGS, values: NO_STRINGS, escape: false, json: null, ctype: -1, encoding: undefined,
    contentLength: -1, hasTransferEncoding: false, chunked: false,
  };
}

export interface HeadLimits {
  maxHeadBytes: number;
  maxHeaders: number;
  redact: ReadonlySet<string>;
}

const CR = 13, LF = 10, SP = 32, HT = 9, COLON = 58;

export const REDACTED = '<redacted>';

// Buffer's native slice decoders, without toString's argument juggling.
type Slicer = { latin1Slice(s: number, e: number): string; utf8Slice(s: number, e: number): string };
const latin1 = (b: Buffer, s: number, e: number): string => (b as unknown as Slicer).latin1Slice(s, e);
const utf8 = (b: Buffer, s: number, e: number): string => (b as unknown as Slicer).utf8Slice(s, e);

export function headerValue(h: HttpHead, name: string): string | undefined {
  if (h.json !== null) toStrings(h);
  const i = h.names.indexOf(name);
  return i < 0 ? undefined : h.values[i];
}

/**
 * Turns a head whose headers are JSON bytes into names/values (before adding trailers to it).
 * The bytes path only writes plain fields: no '"' inside a name or value, so splitting is exact.
 */
export function toStrings(h: HttpHead): void {
  const json = h.json;
  if (json === null) return;
  h.json = null;
  ownArrays(h);
  const parts = json.toString().split('"');
  // '{' name ':' value ',' name ':' value '}'
  for (let k = 1; k + 2 < parts.length; k += 4) {
    h.names.push(parts[k]!);
    h.values.push(parts[k + 2]!);
  }
}

/** Sets ctype and encoding from names/values (the strings path; again after trailers). */
export function headerFacts(h: HttpHead): void {
  const ct = headerValue(h, 'content-type');
  h.ctype = ct === undefined ? -1 : contentTypeOf(ct);
  h.encoding = headerValue(h, 'content-encoding');
}

/** Adds a header value; a repeated name is joined with `sep` (redacted stays redacted). */
export function addHeaderValue(h: HttpHead, name: string, value: string, sep: string): void {
  ownArrays(h);
  const i = h.names.indexOf(name);
  if (i < 0) {
    h.names.push(name);
    h.values.push(value);
  } else if (h.values[i] !== REDACTED) {
    h.values[i] = value === REDACTED ? value : h.values[i] + sep + value;
  }
}

const NEEDS_ESCAPE = /["\\\u0000-\u001f\ud800-\udfff]/;

/** Headers as a JSON object: the bytes the parser wrote, else text made from names/values. */
export function headersText(h: HttpHead): string | Utf8Text {
  return h.json ?? headersJson(h);
}

/** Headers as a JSON object text. */
export function headersJson(h: HttpHead): string {
  if (h.json !== null) return h.json.toString();
  const { names, values } = h;
  if (names.length === 0) return '{}';
  // Names are RFC 9110 tokens and values never hold control bytes other than tab (the scan
  // rejects them) nor lone surrogates (UTF-8 decoding replaces them): only '"', '\' and tab
  // need escapes, and the scan flags heads that have any.
  if (!h.escape) {
    let out = '{"' + names[0] + '":"' + values[0] + '"';
    for (let i = 1; i < names.length; i++) out += ',"' + names[i] + '":"' + values[i] + '"';
    return out + '}';
  }
  let out = '{';
  for (let i = 0; i < names.length; i++) {
    if (i > 0) out += ',';
    const v = values[i]!;
    out += '"' + names[i] + '":' + (NEEDS_ESCAPE.test(v) ? JSON.stringify(v) : '"' + v + '"');
  }
  return out + '}';
}

// RFC 9110 tchar.
const TCHAR = new Uint8Array(256);
for (const c of "!#$%&'*+-.^_`|~") TCHAR[c.charCodeAt(0)] = 1;
for (let c = 48; c <= 57; c++) TCHAR[c] = 1;
for (let c = 65; c <= 90; c++) TCHAR[c] = 1;
for (let c = 97; c <= 122; c++) TCHAR[c] = 1;

// Value bytes: 1 ok, 2 ok but needs a JSON escape, 3 ok but not ASCII, 0 invalid (CR/LF end it).
const VCHAR = new Uint8Array(256);
for (let c = 0x20; c < 0x7f; c++) VCHAR[c] = 1;
for (let c = 0x80; c < 0x100; c++) VCHAR[c] = 3;
VCHAR[HT] = 2;
VCHAR[0x22] = 2;
VCHAR[0x5c] = 2;

// --- Field positions found by the scan (module scratch: parsing is synchronous). ---

const F_UPPER = 1; // name has upper-case letters
const F_NONASCII = 2; // value has bytes >= 0x80
const F_FOLDED = 4; // obs-fold continuation of the previous header
const F_ESCAPE = 8; // value needs a JSON escape

let fieldPos = new Int32Array(4 * 64); // name start, name end, value start, value end
let fieldFlags = new Uint8Array(64);
/** Hash of each field's lower-cased name (nameHash). */
let fieldHash = new Int32Array(64);
/** The interned name when it is a common one, else ''. */
const fieldName: string[] = [];
let fieldCount = 0;

function growFields(): void {
  const pos = new Int32Array(fieldPos.length * 2);
  pos.set(fieldPos);
  fieldPos = pos;
  const flags = new Uint8Array(fieldFlags.length * 2);
  flags.set(fieldFlags);
  fieldFlags = flags;
  const hashes = new Int32Array(fieldHash.length * 2);
  hashes.set(fieldHash);
  fieldHash = hashes;
}

// --- Interned header names: the common ones need neither a slice nor toLowerCase. ---

const COMMON_NAMES = [
  'host', 'user-agent', 'accept', 'accept-encoding', 'accept-language', 'accept-ranges', 'connection',
  'keep-alive', 'content-type', 'content-length', 'content-encoding', 'transfer-encoding', 'date',
  'server', 'cache-control', 'pragma', 'expires', 'etag', 'last-modified', 'if-none-match',
  'if-modified-since', 'vary', 'location', 'referer', 'origin', 'authorization', 'cookie', 'set-cookie',
  'proxy-authorization', 'x-api-key', 'x-request-id', 'x-forwarded-for', 'x-forwarded-proto',
  'x-real-ip', 'traceparent', 'tracestate', 'upgrade', 'expect', 'te', 'trailer', 'via', 'age',
  'access-control-allow-origin', 'strict-transport-security', 'x-content-type-options',
  'x-frame-options', 'content-security-policy', 'x-powered-by', 'content-disposition', 'range',
  'content-range', 'x-correlation-id', 'grpc-status', 'grpc-message', 'grpc-timeout',
];
// tchar bytes lower-cased; 0 for bytes that are not tchar.
const LOWER_TCHAR = new Uint8Array(256);
for (let c = 0; c < 256; c++) if (TCHAR[c] === 1) LOWER_TCHAR[c] = c >= 65 && c <= 90 ? c + 32 : c;

/** Hash step for one lower-cased name byte (the scan's byte loop). */
const nameHash = (h: number, c: number): number => (Math.imul(h, 31) + c) | 0;
/** Hash step for 4 lower-cased name bytes, all letters or '-' (the scan's word loop). */
function wordHash(h: number, w: number): number {
  h = Math.imul(h ^ w, 0x9e3779b1);
  return h ^ (h >>> 15);
}
const ALL_HIGH = 0x80808080 | 0;
/**
 * Bit 7 of each byte of x (4 name bytes, little-endian, all < 0x80) set iff the byte is an ASCII
 * letter or '-'. y = x | 0x20202020 (letters lower-cased, '-' unchanged): y + 0x1f has bit 7 iff
 * y >= 'a', y + 5 iff y > 'z' (no carries between bytes below 0x80); z = x ^ '-' is zero exactly
 * where x is '-', and (z & 0x7f) + 0x7f has bit 7 iff z is not zero.
 */
function letterBits(x: number, y: number): number {
  const z = x ^ 0x2d2d2d2d;
  return (((y + 0x1f1f1f1f) & ~(y + 0x05050505)) | ~(((z & 0x7f7f7f7f) + 0x7f7f7f7f) | z)) & 0x80808080;
}
/**
 * The hash of lower-cased name bytes b[s, e) exactly as the scan takes it: 4 bytes at a time
 * (wordHash) while all are letters or '-', then byte by byte (nameHash).
 */
function hashLowerName(b: Uint8Array, s: number, e: number): number {
  let h = 0;
  let i = s;
  for (; i + 4 <= e && i - s < 256; i += 4) {
    const x = (b[i]! | (b[i + 1]! << 8) | (b[i + 2]! << 16) | (b[i + 3]! << 24)) >>> 0;
    if ((x & 0x80808080) !== 0) break;
    const y = x | 0x20202020;
    if (letterBits(x, y) !== ALL_HIGH) break;
    h = wordHash(h, y);
  }
  for (; i < e; i++) h = nameHash(h, b[i]!);
  return h;
}

// Common names by hash of their lower-case bytes: open addressing, linear probing.
const SLOTS = 512;
const slotName: string[] = new Array<string>(SLOTS).fill('');
/** Where each slot's name bytes are in NAME_BYTES (one array: monomorphic element access). */
const slotOffset = new Int32Array(SLOTS);
const NAME_BYTES = new Uint8Array(COMMON_NAMES.reduce((n, s) => n + s.length, 0));
{
  let off = 0;
  for (const name of COMMON_NAMES) {
    const h = hashLowerName(Buffer.from(name, 'latin1'), 0, name.length);
    let slot = h & (SLOTS - 1);
    while (slotName[slot] !== '') slot = (slot + 1) & (SLOTS - 1);
    slotName[slot] = name;
    slotOffset[slot] = off;
    for (let k = 0; k < name.length; k++) NAME_BYTES[off++] = name.charCodeAt(k);
  }
}

const NAME_DV = new DataView(NAME_BYTES.buffer);
const slotLength = new Int32Array(SLOTS);
for (let slot = 0; slot < SLOTS; slot++) slotLength[slot] = slotName[slot]!.length;
const slotOf = (name: string): number => slotName.indexOf(name);
const SLOT_CONTENT_LENGTH = slotOf('content-length');
const SLOT_TRANSFER_ENCODING = slotOf('transfer-encoding');
const SLOT_CONTENT_TYPE = slotOf('content-type');
const SLOT_CONTENT_ENCODING = slotOf('content-encoding');

/**
 * The slot of the common name equal to the lower-cased name the scan wrote at o[at, at + len)
 * (odv: a DataView over o) whose hash is h, or -1. Compares 4 bytes at a time.
 */
function commonSlot(o: Uint8Array, odv: DataView, at: number, len: number, h: number): number {
  for (let slot = h & (SLOTS - 1); ; slot = (slot + 1) & (SLOTS - 1)) {
    const l = slotLength[slot]!;
    if (l === 0) return -1;
    if (l !== len) continue;
    const off = slotOffset[slot]!;
    let j = 0;
    while (j + 4 <= len && odv.getUint32(at + j, true) === NAME_DV.getUint32(off + j, true)) j += 4;
    if (j + 4 <= len) continue;
    while (j < len && o[at + j] === NAME_BYTES[off + j]) j++;
    if (j === len) return slot;
  }
}


// --- Start lines ---

const METHOD_LIST = [...METHODS];
const METHOD_BYTES = METHOD_LIST.map((m) => Buffer.from(m));

function methodAt(buf: Buffer, len: number): string | undefined {
  for (let k = 0; k < METHOD_BYTES.length; k++) {
    const m = METHOD_BYTES[k]!;
    if (m.length !== len) continue;
    let j = 0;
    while (j < len && buf[j] === m[j]) j++;
    if (j === len) return METHOD_LIST[k];
  }
  return undefined;
}

/** Parses a request head (request line + headers) at buf[0]. */
export function parseRequestHead(buf: Buffer, lim: HeadLimits, out: HttpHead): number {
  const n = buf.length;
  let i = 0;
  while (i < n && i < 16 && buf[i]! >= 65 && buf[i]! <= 90) i++;
  if (i === n) return i < 16 ? NEED_MORE : INVALID;
  if (buf[i] !== SP || i === 0) return INVALID;
  const method = methodAt(buf, i);
  if (method === undefined) return INVALID;
  const ts = ++i;
  const maxTarget = lim.maxHeadBytes;
  let high = 0;
  const sdv = dataViewOf(buf);
  const base = buf.byteOffset;
  // 4 bytes at a time while all are 0x21-0x7e (b - 0x21 borrows iff b < 0x21, b + 1 has bit 7
  // iff b >= 0x7f); the byte loop takes the rest (space, bytes >= 0x80, bad bytes).
  for (; i + 4 <= n && i + 3 - ts <= maxTarget; i += 4) {
    const x = sdv.getUint32(base + i, true);
    if (((((x - 0x21212121) & ~x) | (x + 0x01010101) | x) & 0x80808080) !== 0) break;
  }
  while (i < n) {
    const c = buf[i]!;
    if (c === SP) break;
    if (c < 0x21 || c === 0x7f) return INVALID;
    if (i - ts > maxTarget) return INVALID;
    high |= c;
    i++;
  }
  if (i === n) return n > lim.maxHeadBytes ? INVALID : NEED_MORE;
  if (i === ts) return INVALID;
  const te = i;
  i = parseVersion(buf, i + 1, out);
  if (i < 0) return i;
  i = endOfLine(buf, i);
  if (i < 0) return i;
  const end = scanHeaderLines(buf, sdv, i, lim, out, true);
  if (end < 0) return end;
  out.method = method;
  if (writeJson(buf, lim.redact, out)) {
    out.target = high >= 0x80 ? utf8(buf, ts, te) : latin1(buf, ts, te);
    return end;
  }
  const text = latin1(buf, 0, end);
  out.target = high >= 0x80 ? utf8(buf, ts, te) : text.slice(ts, te);
  return materialize(buf, text, 0, lim.redact, out) ? end : INVALID;
}

/** Parses a response head (status line + headers) at buf[0]. */
export function parseResponseHead(buf: Buffer, lim: HeadLimits, out: HttpHead): number {
  const n = buf.length;
  let i = parseVersion(buf, 0, out);
  if (i < 0) return i;
  if (i + 4 > n) return statusPrefixOk(buf, i) ? NEED_MORE : INVALID;
  if (buf[i] !== SP) return INVALID;
  let status = 0;
  for (let k = 1; k <= 3; k++) {
    const d = buf[i + k]! - 48;
    if (d < 0 || d > 9) return INVALID;
    status = status * 10 + d;
  }
  if (status < 100) return INVALID;
  out.status = status;
  i += 4;
  if (i === n) return NEED_MORE;
  let rs = -1;
  let re = -1;
  let high = 0;
  if (buf[i] === SP) {
    rs = ++i;
    while (i < n && buf[i] !== CR && buf[i] !== LF) {
      const c = buf[i]!;
      if ((c < 0x20 && c !== HT) || c === 0x7f) return INVALID;
      if (i > lim.maxHeadBytes) return INVALID;
      high |= c;
      i++;
    }
    if (i === n) return NEED_MORE;
    re = i;
  }
  i = endOfLine(buf, i);
  if (i < 0) return i;
  const end = scanHeaderLines(buf, dataViewOf(buf), i, lim, out, true);
  if (end < 0) return end;
  if (writeJson(buf, lim.redact, out)) {
    if (rs >= 0) out.reason = high >= 0x80 ? utf8(buf, rs, re) : reasonOf(buf, rs, re);
    return end;
  }
  const text = latin1(buf, 0, end);
  if (rs >= 0) out.reason = high >= 0x80 ? utf8(buf, rs, re) : text.slice(rs, re);
  return materialize(buf, text, 0, lim.redact, out) ? end : INVALID;
}

/** True if buf[from..] could still become " NNN" once more bytes arrive. */
function statusPrefixOk(buf: Buffer, from: number): boolean {
  for (let k = from; k < buf.length; k++) {
    const c = buf[k]!;
    if (k === from ? c !== SP : c < 48 || c > 57) return false;
  }
  return true;
}

const HTTP_SLASH = Buffer.from('HTTP/');

/** "HTTP/d.d" at buf[i]; returns the index after it. */
function parseVersion(buf: Buffer, i: number, out: HttpHead): number {
  const n = buf.length;
  for (let k = 0; k < 5; k++) {
    if (i + k >= n) return NEED_MORE;
    if (buf[i + k] !== HTTP_SLASH[k]) return INVALID;
  }
  if (i + 8 > n) {
    // Validate what is there so far.
    if (i + 5 < n && (buf[i + 5]! < 48 || buf[i + 5]! > 57)) return INVALID;
    if (i + 6 < n && buf[i + 6] !== 46) return INVALID;
    return NEED_MORE;
  }
  const major = buf[i + 5]! - 48;
  const minor = buf[i + 7]! - 48;
  if (major !== 1 || buf[i + 6] !== 46 || minor < 0 || minor > 9) return INVALID;
  out.major = major;
  out.minor = minor;
  return i + 8;
}

/** Expects CRLF or LF at buf[i]; returns the index after it. */
function endOfLine(buf: Buffer, i: number): number {
  if (i >= buf.length) return NEED_MORE;
  if (buf[i] === LF) return i + 1;
  if (buf[i] !== CR) return INVALID;
  if (i + 1 >= buf.length) return NEED_MORE;
  return buf[i + 1] === LF ? i + 2 : INVALID;
}

/**
 * Header lines from buf[i] through the empty line. Used for heads and for chunked trailers.
 * Returns the index after the empty line.
 */
export function parseHeaderLines(buf: Buffer, i: number, lim: HeadLimits, out: HttpHead): number {
  const end = scanHeaderLines(buf, dataViewOf(buf), i, lim, out, false);
  if (end < 0) return end;
  return materialize(buf, latin1(buf, i, end), i, lim.redact, out) ? end : INVALID;
}

/**
 * The byte scan of header lines (sdv: dataViewOf(buf)): validates, records field positions (fieldPos/fieldFlags), and
 * reads Content-Length / Transfer-Encoding into `out` so a bad length fails as soon as it is seen.
 * With `json` (heads), it also writes the headers JSON into the slab as it goes (one pass over
 * the bytes; see writeJson for what it then checks), until a field the bytes path cannot write.
 */
function scanHeaderLines(buf: Buffer, sdv: DataView, i: number, lim: HeadLimits, out: HttpHead, json: boolean): number {
  const n = buf.length;
  const maxHead = lim.maxHeadBytes;
  const base = buf.byteOffset;
  let count = 0;
  fieldCount = 0;
  ctField = -1;
  ceField = -1;
  // JSON output: the slab while writing, else the junk buffer (rewound at every field). Typed
  // array stores past the end are dropped; 4-byte stores are bounded by `olen`.
  let writing = json && jsonBytes;
  let o: Uint8Array = junk;
  let odv: DataView = junkDv;
  let at = 0;
  let olen = 0;
  let rh: Int32Array = EMPTY_HASHES;
  if (writing) {
    slab.reserve(jsonRoom);
    o = slab.buf;
    odv = slab.dv;
    at = slab.used + 1; // after '{'
    rh = redactHashesOf(lim.redact);
  }
  olen = o.length;
  jsonWritten = -1;
  for (;;) {
    if (i >= n) return n > maxHead ? INVALID : NEED_MORE;
    if (i > maxHead) return INVALID;
    let c = buf[i]!;
    if (c === CR || c === LF) {
      if (writing) jsonWritten = at;
      return endOfLine(buf, i);
    }
    if (++count > lim.maxHeaders) return INVALID;
    let flags = 0;
    let h = 0;
    let ns = i;
    let ne = i;
    if (writing && at + 512 > olen) {
      // Not enough room left for a name (the common-name check reads it back from o).
      writing = false;
      o = junk;
      odv = junkDv;
      olen = o.length;
    }
    if (!writing) at = 0;
    if (fieldCount > 0) o[at++] = 0x2c; // ,
    o[at++] = QUOTE;
    const nat = at;
    if (c === SP || c === HT) {
      // Obsolete line folding: continues the previous value.
      if (fieldCount === 0) return INVALID;
      flags = F_FOLDED;
    } else {
      // 4 bytes at a time while all are letters or '-', then byte by byte; the hash is taken the
      // same way as hashLowerName's. (Room: a field starts with 512 bytes left in the slab, the
      // junk buffer holds 1 KB, and names stop at 256 bytes.)
      for (; i + 4 <= n && i - ns < 256; i += 4, at += 4) {
        const x = sdv.getUint32(base + i, true);
        if ((x & 0x80808080) !== 0) break;
        const y = x | 0x20202020;
        if (letterBits(x, y) !== ALL_HIGH) break;
        if (y !== x) flags = F_UPPER;
        h = wordHash(h, y);
        odv.setUint32(at, y, true);
      }
      while (i < n) {
        const t = buf[i]!;
        const l = LOWER_TCHAR[t]!;
        if (l === 0) break;
        if (l !== t) flags = F_UPPER;
        h = nameHash(h, l);
        o[at++] = l;
        i++;
      }
      if (i === n) return n > maxHead ? INVALID : NEED_MORE;
      if (buf[i] !== COLON || i === ns || i - ns > 256) return INVALID;
      ne = i;
      i++;
    }
    o[at++] = QUOTE;
    o[at++] = COLON;
    o[at++] = QUOTE;
    while (i < n && (buf[i] === SP || buf[i] === HT)) i++;
    const vs = i;
    const vat = at;
    let kinds = 0;
    // Four bytes at a time while all are plain (0x20-0x7e, not '"' or '\\'): per byte, b - 0x20
    // borrows iff b < 0x20, b + 1 has bit 7 iff b > 0x7e, and a zero byte of x ^ '"' (or '\\')
    // is one that equals it. The byte loop below takes over at the first word with another byte.
    for (; i + 4 <= n && at + 4 <= olen; i += 4, at += 4) {
      const x = sdv.getUint32(base + i, true);
      const q = x ^ 0x22222222;
      const b = x ^ 0x5c5c5c5c;
      if (((((x - 0x20202020) & ~x) | ((x + 0x01010101) | x) | ((q - 0x01010101) & ~q) | ((b - 0x01010101) & ~b)) & 0x80808080) !== 0) break;
      odv.setUint32(at, x, true);
    }
    while (i < n) {
      c = buf[i]!;
      const k = VCHAR[c]!;
      if (k === 0) {
        if (c === LF || c === CR) break;
        return INVALID;
      }
      kinds |= k;
      o[at++] = c;
      i++;
    }
    if (i === n) return n > maxHead ? INVALID : NEED_MORE;
    let ve = i;
    while (ve > vs && (buf[ve - 1] === SP || buf[ve - 1] === HT)) ve--;
    at -= i - ve;
    // kinds: bit 1 from VCHAR 3 (>= 0x80) and 2 (escape); tab is both trimmed-away and kept inside.
    if ((kinds & 2) !== 0) {
      for (let j = vs; j < ve; j++) {
        const v = buf[j]!;
        if (v >= 0x80) flags |= F_NONASCII;
        else if (v === 0x22 || v === 0x5c || v === HT) flags |= F_ESCAPE;
      }
    }
    i = endOfLine(buf, i);
    if (i < 0) return i;
    let common = '';
    let slot = -1;
    if ((flags & F_FOLDED) === 0) {
      slot = commonSlot(o, odv, nat, ne - ns, h);
      if (slot >= 0) common = slotName[slot]!;
      if (slot === SLOT_CONTENT_LENGTH) {
        const len = (flags & F_NONASCII) === 0 ? digitsValue(buf, vs, ve) : parseDecimal(utf8(buf, vs, ve));
        if (len < 0) return INVALID;
        if (out.contentLength >= 0 && out.contentLength !== len) return INVALID;
        out.contentLength = len;
      } else if (slot === SLOT_CONTENT_TYPE) {
        ctField = fieldCount;
      } else if (slot === SLOT_CONTENT_ENCODING) {
        ceField = fieldCount;
      } else if (slot === SLOT_TRANSFER_ENCODING) {
        out.hasTransferEncoding = true;
        const v = utf8(buf, vs, ve).toLowerCase();
        out.chunked = v.slice(v.lastIndexOf(',') + 1).trim() === 'chunked';
      }
    }
    if (writing) {
      if ((flags & (F_NONASCII | F_FOLDED | F_ESCAPE)) !== 0) {
        writing = false;
      } else if (slot >= 0) {
        if (slotRedacted[slot] === 1) {
          at = vat;
          for (let k = 0; k < REDACTED_BYTES.length; k++) o[at++] = REDACTED_BYTES[k]!;
        }
      } else {
        // An uncommon name whose hash is a redacted name's: the strings path decides.
        for (let k = 0; k < rh.length; k++) if (rh[k] === h) writing = false;
      }
      o[at++] = QUOTE;
      if (at + 16 > olen) writing = false; // did not fit: writeJson writes it with exact room
      if (!writing) {
        o = junk;
        odv = junkDv;
        olen = o.length;
      }
    }
    if (fieldCount === fieldFlags.length) growFields();
    const p = fieldCount * 4;
    fieldPos[p] = ns;
    fieldPos[p + 1] = ne;
    fieldPos[p + 2] = vs;
    fieldPos[p + 3] = ve;
    fieldName[fieldCount] = common;
    fieldHash[fieldCount] = h;
    fieldFlags[fieldCount++] = flags;
  }
}

/**
 * Makes the strings of the fields the scan recorded: `text` is the latin1 decode of buf from
 * `base`. Returns false when a header makes the head invalid.
 */
function materialize(buf: Buffer, text: string, base: number, redact: ReadonlySet<string>, out: HttpHead): boolean {
  let lastName = '';
  for (let f = 0; f < fieldCount; f++) {
    const p = f * 4;
    const flags = fieldFlags[f]!;
    const vs = fieldPos[p + 2]!;
    const ve = fieldPos[p + 3]!;
    const value = (flags & F_NONASCII) !== 0 ? utf8(buf, vs, ve) : text.slice(vs - base, ve - base);
    if ((flags & F_ESCAPE) !== 0) out.escape = true;
    if ((flags & F_FOLDED) !== 0) {
      addHeaderValue(out, lastName, value, ' ');
      continue;
    }
    let name = fieldName[f]!;
    if (name === '') {
      name = text.slice(fieldPos[p]! - base, fieldPos[p + 1]! - base);
      if ((flags & F_UPPER) !== 0) name = name.toLowerCase();
    }
    addHeaderValue(out, name, redact.has(name) ? REDACTED : value, ', ');
    lastName = name;
  }
  headerFacts(out);
  return true;
}

// --- Header JSON as bytes ---

let jsonBytes = true;
/** Turns the bytes path off (tests and A/B benchmarks compare it with the strings path). */
export function useJsonBytes(on: boolean): void {
  jsonBytes = on;
}

const slab = new Utf8Slab();
const REDACTED_BYTES = Buffer.from(REDACTED);
const QUOTE = 0x22;

// Hashes of the redacted names (as the scan hashes names), for the names that are not common.
let redactSet: ReadonlySet<string> | null = null;
let redactHashes = new Int32Array(0);
/** Per common-name slot: 1 when redacted (for the set redactHashes was made for). */
const slotRedacted = new Uint8Array(SLOTS);
function redactHashesOf(redact: ReadonlySet<string>): Int32Array {
  if (redact === redactSet) return redactHashes;
  for (let slot = 0; slot < SLOTS; slot++) slotRedacted[slot] = redact.has(slotName[slot]!) ? 1 : 0;
  const hs: number[] = [];
  for (const name of redact) {
    const b = Buffer.from(name);
    hs.push(hashLowerName(b, 0, b.length));
  }
  redactSet = redact;
  redactHashes = Int32Array.from(hs);
  return redactHashes;
}

/**
 * The bytes path: writes the recorded fields' headers JSON into the slab as `out.json` (same
 * bytes as headersJson would make), with ctype and encoding. False, writing nothing, when a field
 * needs the strings path: non-ASCII or escaped value, obs-fold, a repeated name, or an uncommon
 * name whose hash is a redacted name's.
 */
function writeJson(buf: Buffer, redact: ReadonlySet<string>, out: HttpHead): boolean {
  if (!jsonBytes) return false;
  const n = fieldCount;
  if (n === 0) {
    out.json = EMPTY_JSON;
    return true;
  }
  const rh = redactHashesOf(redact);
  for (let f = 0; f < n; f++) {
    if ((fieldFlags[f]! & (F_NONASCII | F_FOLDED | F_ESCAPE)) !== 0) return false;
    const h = fieldHash[f]!;
    const len = fieldPos[f * 4 + 1]! - fieldPos[f * 4]!;
    for (let g = 0; g < f; g++) {
      // Same hash and length: maybe the same name (repeats are joined on the strings path).
      if (fieldHash[g] === h && fieldPos[g * 4 + 1]! - fieldPos[g * 4]! === len) return false;
    }
    if (fieldName[f] === '') for (let k = 0; k < rh.length; k++) if (rh[k] === h) return false;
  }
  // No repeats: at most one of each.
  if (ctField >= 0) {
    const p = ctField * 4;
    out.ctype = slotRedacted[SLOT_CONTENT_TYPE] === 1 ? contentTypeOf(REDACTED) : contentTypeOfBytes(buf, fieldPos[p + 2]!, fieldPos[p + 3]!);
  }
  if (ceField >= 0) {
    const p = ceField * 4;
    out.encoding = slotRedacted[SLOT_CONTENT_ENCODING] === 1 ? REDACTED : latin1(buf, fieldPos[p + 2]!, fieldPos[p + 3]!);
  }
  if (jsonWritten >= 0) {
    // The scan wrote every field: close the object.
    const o = slab.buf;
    const start = slab.used;
    o[start] = 0x7b; // {
    o[jsonWritten] = 0x7d; // }
    out.json = slab.take(jsonWritten + 1, jsonWritten + 1 - start);
    return true;
  }
  let room = 2;
  for (let f = 0; f < n; f++) {
    const p = f * 4;
    room += fieldPos[p + 1]! - fieldPos[p]! + fieldPos[p + 3]! - fieldPos[p + 2]! + 6 + REDACTED_BYTES.length;
  }
  slab.reserve(room);
  const o = slab.buf;
  const odv = slab.dv;
  const sdv = dataViewOf(buf);
  const base = buf.byteOffset;
  let at = slab.used;
  o[at++] = 0x7b; // {
  for (let f = 0; f < n; f++) {
    const p = f * 4;
    if (f > 0) o[at++] = 0x2c; // ,
    o[at++] = QUOTE;
    const name = fieldName[f]!;
    // Four bytes at a time, lower-cased: names are tchar (ASCII), so per byte b + 0x3f has bit 7
    // iff b >= 'A' and b + 0x25 iff b > 'Z', without carries into the next byte.
    let j = fieldPos[p]!;
    const ne = fieldPos[p + 1]!;
    for (; j + 4 <= ne; j += 4, at += 4) {
      const x = sdv.getUint32(base + j, true);
      odv.setUint32(at, x | ((((x + 0x3f3f3f3f) ^ (x + 0x25252525)) & 0x80808080) >>> 2), true);
    }
    for (; j < ne; j++) o[at++] = LOWER_TCHAR[buf[j]!]!;
    o[at++] = QUOTE;
    o[at++] = COLON;
    o[at++] = QUOTE;
    let vs = fieldPos[p + 2]!;
    let ve = fieldPos[p + 3]!;
    let src: Uint8Array = buf;
    if (name !== '' && redact.has(name)) {
      src = REDACTED_BYTES;
      vs = 0;
      ve = REDACTED_BYTES.length;
    }
    if (ve - vs > 96) {
      (src as Buffer).copy(o, at, vs, ve);
      at += ve - vs;
    } else if (src === buf) {
      let j = vs;
      for (; j + 4 <= ve; j += 4, at += 4) odv.setUint32(at, sdv.getUint32(base + j, true), true);
      for (; j < ve; j++) o[at++] = buf[j]!;
    } else {
      for (let j = vs; j < ve; j++) o[at++] = src[j]!;
    }
    o[at++] = QUOTE;
  }
  o[at++] = 0x7d; // }
  out.json = slab.take(at, at - slab.used);
  return true;
}

const EMPTY_JSON = new Utf8Text(Buffer.from('{}'), 0, 2, 2);

/**
 * buf[s, e) copied into the slab as a Utf8Text when it is all ASCII (checked 4 bytes at a time
 * while copying), else null: the caller decodes it (UTF-8 needs U+FFFD for bad sequences).
 */
export function asciiText(buf: Buffer, s: number, e: number): Utf8Text | null {
  const n = e - s;
  slab.reserve(n);
  const o = slab.buf;
  const odv = slab.dv;
  const sdv = dataViewOf(buf);
  const base = buf.byteOffset;
  let at = slab.used;
  let j = s;
  for (; j + 4 <= e; j += 4, at += 4) {
    const x = sdv.getUint32(base + j, true);
    if ((x & 0x80808080) !== 0) return null;
    odv.setUint32(at, x, true);
  }
  for (; j < e; j++) {
    const c = buf[j]!;
    if (c >= 0x80) return null;
    o[at++] = c;
  }
  return slab.take(at, n);
}

// A DataView over the ArrayBuffer under the head's bytes (the same few recur: kept).
let dvBuffer: ArrayBufferLike | null = null;
let dvOfBuffer: DataView = new DataView(new ArrayBuffer(0));

/** The fields holding Content-Type and Content-Encoding (the last of each), or -1. */
let ctField = -1;
let ceField = -1;
/** Where the scan's JSON ends (its closing '}' goes there) when it wrote every field, else -1. */
let jsonWritten = -1;
/** Slab room the scan asks for before writing a head's JSON (it writes on to the slab's end; a head that does not fit: writeJson). */
const jsonRoom = 2048;
/** Where the scan writes when not writing JSON. */
const junk = Buffer.alloc(1024);
const junkDv = new DataView(junk.buffer, junk.byteOffset, junk.length);
const EMPTY_HASHES = new Int32Array(0);
function dataViewOf(buf: Buffer): DataView {
  if (buf.buffer !== dvBuffer) {
    dvBuffer = buf.buffer;
    dvOfBuffer = new DataView(buf.buffer);
  }
  return dvOfBuffer;
}

// Content-Type values repeat: the last one's bytes and type, compared before decoding.
let lastCt = new Uint8Array(64);
let lastCtLen = -1;
let lastCtType = 0;
function contentTypeOfBytes(buf: Buffer, s: number, e: number): number {
  const n = e - s;
  if (n === lastCtLen) {
    let j = 0;
    while (j < n && buf[s + j] === lastCt[j]) j++;
    if (j === n) return lastCtType;
  }
  const type = contentTypeOf(latin1(buf, s, e));
  if (n > lastCt.length) lastCt = new Uint8Array(n);
  for (let j = 0; j < n; j++) lastCt[j] = buf[s + j]!;
  lastCtLen = n;
  lastCtType = type;
  return type;
}

// Reason phrases repeat too ("OK"): the last one's bytes and string.
let lastReason = new Uint8Array(64);
let lastReasonLen = -1;
let lastReasonText = '';
function reasonOf(buf: Buffer, s: number, e: number): string {
  const n = e - s;
  if (n === lastReasonLen) {
    let j = 0;
    while (j < n && buf[s + j] === lastReason[j]) j++;
    if (j === n) return lastReasonText;
  }
  const text = latin1(buf, s, e);
  if (n > lastReason.length) lastReason = new Uint8Array(n);
  for (let j = 0; j < n; j++) lastReason[j] = buf[s + j]!;
  lastReasonLen = n;
  lastReasonText = text;
  return text;
}

/** buf[s..e) as a decimal number when it is 1-15 plain digits, else parseDecimal's answer. */
function digitsValue(buf: Buffer, s: number, e: number): number {
  if (e - s === 0 || e - s > 15) return parseDecimal(latin1(buf, s, e));
  let v = 0;
  for (let k = s; k < e; k++) {
    const d = buf[k]! - 48;
    if (d < 0 || d > 9) return parseDecimal(latin1(buf, s, e));
    v = v * 10 + d;
  }
  return v;
}

/** Non-negative decimal up to 2^53; -1 if not a plain number (comma lists of equal values ok). */
function parseDecimal(s: string): number {
  const comma = s.indexOf(',');
  if (comma >= 0) {
    const a = parseDecimal(s.slice(0, comma));
    const b = parseDecimal(s.slice(comma + 1).trim());
    return a === b ? a : -1;
  }
  if (s.length === 0 || s.length > 15) return -1;
  let v = 0;
  for (let k = 0; k < s.length; k++) {
    const d = s.charCodeAt(k) - 48;
    if (d < 0 || d > 9) return -1;
    v = v * 10 + d;
  }
  return v;
}
