// FROZEN pre-rework copy of the HTTP parser (oracle for the differential test and the parse bench's
// baseline while the rework is measured). Not used by the collector.
// HTTP/1.x start line + header block parser over a Buffer. Byte-level and strict about token
// characters so garbage fails fast (cheap resync) instead of waiting for a CRLF that never comes.
// Returns the head length, NEED_MORE, or INVALID; never throws.

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
  /** -1 when absent. */
  contentLength: number;
  /** Transfer-Encoding present; `chunked` when its last coding is chunked. */
  hasTransferEncoding: boolean;
  chunked: boolean;
}

export function newHead(): HttpHead {
  return {
    major: 0, minor: 0, method: '', target: '', status: 0, reason: '',
    names: [], values: [],
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

// Buffer's native slice decoders, without toString's argument juggling (hot path).
type Slicer = { latin1Slice(s: number, e: number): string; utf8Slice(s: number, e: number): string };
const latin1 = (b: Buffer, s: number, e: number): string => (b as unknown as Slicer).latin1Slice(s, e);
const utf8 = (b: Buffer, s: number, e: number): string => (b as unknown as Slicer).utf8Slice(s, e);

export function headerValue(h: HttpHead, name: string): string | undefined {
  const i = h.names.indexOf(name);
  return i < 0 ? undefined : h.values[i];
}

/** Adds a header value; a repeated name is joined with `sep` (redacted stays redacted). */
export function addHeaderValue(h: HttpHead, name: string, value: string, sep: string): void {
  const i = h.names.indexOf(name);
  if (i < 0) {
    h.names.push(name);
    h.values.push(value);
  } else if (h.values[i] !== REDACTED) {
    h.values[i] = value === REDACTED ? value : h.values[i] + sep + value;
  }
}

const NEEDS_ESCAPE = /["\\\u0000-\u001f\ud800-\udfff]/;

/** Headers as a JSON object text. */
export function headersJson(h: HttpHead): string {
  const { names, values } = h;
  if (names.length === 0) return '{}';
  let out = '{';
  for (let i = 0; i < names.length; i++) {
    if (i > 0) out += ',';
    // Names are RFC 9110 tokens: never need escaping.
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

/** Parses a request head (request line + headers) at buf[0]. */
export function parseRequestHead(buf: Buffer, lim: HeadLimits, out: HttpHead): number {
  const n = buf.length;
  let i = 0;
  while (i < n && i < 16 && buf[i]! >= 65 && buf[i]! <= 90) i++;
  if (i === n) return i < 16 ? NEED_MORE : INVALID;
  if (buf[i] !== SP || i === 0) return INVALID;
  const method = latin1(buf, 0, i);
  if (!METHODS.has(method)) return INVALID;
  const ts = ++i;
  const maxTarget = lim.maxHeadBytes;
  while (i < n) {
    const c = buf[i]!;
    if (c === SP) break;
    if (c < 0x21 || c === 0x7f) return INVALID;
    if (i - ts > maxTarget) return INVALID;
    i++;
  }
  if (i === n) return n > lim.maxHeadBytes ? INVALID : NEED_MORE;
  if (i === ts) return INVALID;
  out.method = method;
  out.target = utf8(buf, ts, i);
  i = parseVersion(buf, i + 1, out);
  if (i < 0) return i;
  i = endOfLine(buf, i);
  if (i < 0) return i;
  return parseHeaderLines(buf, i, lim, out);
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
  let rs = i;
  if (buf[i] === SP) {
    rs = ++i;
    while (i < n && buf[i] !== CR && buf[i] !== LF) {
      const c = buf[i]!;
      if ((c < 0x20 && c !== HT) || c === 0x7f) return INVALID;
      if (i > lim.maxHeadBytes) return INVALID;
      i++;
    }
    if (i === n) return NEED_MORE;
    out.reason = utf8(buf, rs, i);
  }
  i = endOfLine(buf, i);
  if (i < 0) return i;
  return parseHeaderLines(buf, i, lim, out);
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
  const n = buf.length;
  let count = 0;
  let lastName = '';
  for (;;) {
    if (i >= n) return n > lim.maxHeadBytes ? INVALID : NEED_MORE;
    if (i > lim.maxHeadBytes) return INVALID;
    let c = buf[i]!;
    if (c === CR || c === LF) return endOfLine(buf, i);
    if (++count > lim.maxHeaders) return INVALID;
    let name: string;
    const folded = c === SP || c === HT;
    if (folded) {
      // Obsolete line folding: continues the previous value.
      if (lastName === '') return INVALID;
      name = lastName;
    } else {
      const ns = i;
      let upper = false;
      while (i < n) {
        const t = buf[i]!;
        if (TCHAR[t] !== 1) break;
        if (t >= 65 && t <= 90) upper = true;
        i++;
      }
      if (i === n) return n > lim.maxHeadBytes ? INVALID : NEED_MORE;
      if (buf[i] !== COLON || i === ns || i - ns > 256) return INVALID;
      name = latin1(buf, ns, i);
      if (upper) name = name.toLowerCase();
      i++;
    }
    while (i < n && (buf[i] === SP || buf[i] === HT)) i++;
    const vs = i;
    while (i < n) {
      c = buf[i]!;
      if (c === LF || c === CR) break;
      if ((c < 0x20 && c !== HT) || c === 0x7f) return INVALID;
      i++;
    }
    if (i === n) return n > lim.maxHeadBytes ? INVALID : NEED_MORE;
    let ve = i;
    while (ve > vs && (buf[ve - 1] === SP || buf[ve - 1] === HT)) ve--;
    const value = utf8(buf, vs, ve);
    i = endOfLine(buf, i);
    if (i < 0) return i;
    if (folded) {
      addHeaderValue(out, name, value, ' ');
    } else if (!addHeader(out, name, value, lim.redact)) {
      return INVALID;
    }
    lastName = name;
  }
}

function addHeader(out: HttpHead, name: string, value: string, redact: ReadonlySet<string>): boolean {
  if (name === 'content-length') {
    const len = parseDecimal(value);
    if (len < 0) return false;
    if (out.contentLength >= 0 && out.contentLength !== len) return false;
    out.contentLength = len;
  } else if (name === 'transfer-encoding') {
    out.hasTransferEncoding = true;
    const v = value.toLowerCase();
    const last = v.slice(v.lastIndexOf(',') + 1).trim();
    out.chunked = last === 'chunked';
  }
  addHeaderValue(out, name, redact.has(name) ? REDACTED : value, ', ');
  return true;
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
