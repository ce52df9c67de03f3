// HTTP/1.x as a `Protocol`: inference from a payload's first bytes, frame boundaries for resync,
// and per-connection parser+stitcher state.
import type { MessageType, Protocol, ProtocolConnection } from '../protocol.ts';
import type { CollectorStats } from '../stats.ts';
import { METHODS } from './head-parser.ts';
import { HttpConnection } from './http-connection.ts';
import type { HttpParserOptions } from './message-parser.ts';
import { defaultHttpOptions, type HttpOptions } from './options.ts';

const MARKERS: Buffer[] = [...METHODS].map((m) => Buffer.from(m + ' '));
const RESPONSE_MARKER = Buffer.from('HTTP/1.');
/** First bytes of request markers, for a cheap pre-check while scanning. */
const FIRST = new Uint8Array(256);
for (const m of MARKERS) FIRST[m[0]!] = 1;

function matchesAt(buf: Buffer, i: number, marker: Buffer): boolean {
  if (i + marker.length > buf.length) return false;
  for (let k = 0; k < marker.length; k++) if (buf[i + k] !== marker[k]) return false;
  return true;
}

function requestMarkerAt(buf: Buffer, i: number): boolean {
  if (FIRST[buf[i]!] !== 1) return false;
  for (const m of MARKERS) if (matchesAt(buf, i, m)) return true;
  return false;
}

/** True when all of buf is a proper prefix of marker. */
function prefixOf(buf: Buffer, marker: Buffer): boolean {
  if (buf.length >= marker.length) return false;
  for (let k = 0; k < buf.length; k++) if (buf[k] !== marker[k]) return false;
  return true;
}

export function inferHttp(head: Buffer): MessageType | 'needMore' | null {
  if (head.length < RESPONSE_MARKER.length) {
    if (prefixOf(head, RESPONSE_MARKER) || MARKERS.some((m) => prefixOf(head, m))) return 'needMore';
    if (!requestMarkerAt(head, 0)) return null;
  }
  if (matchesAt(head, 0, RESPONSE_MARKER)) return 'response';
  if (requestMarkerAt(head, 0)) {
    // "GET " must be followed by a target, not more spaces or control bytes. (A loop: the space
    // is within the first 8 bytes, and Buffer.indexOf's argument handling costs more.)
    let sp = 0;
    while (head[sp] !== 32) sp++;
    const next = head[sp + 1];
    return next === undefined || (next > 32 && next < 127) ? 'request' : null;
  }
  return null;
}

export function findHttpBoundary(type: MessageType, buf: Buffer, from: number): number {
  if (type === 'response') return buf.indexOf(RESPONSE_MARKER, from);
  for (let i = from; i < buf.length; i++) if (requestMarkerAt(buf, i)) return i;
  return -1;
}

export class HttpProtocol implements Protocol {
  readonly name = 'http';
  readonly maxMarkerLength = Math.max(RESPONSE_MARKER.length, ...MARKERS.map((m) => m.length));
  readonly options: HttpOptions;
  private readonly parserOptions: HttpParserOptions;

  constructor(
    private readonly stats: CollectorStats,
    options: Partial<HttpOptions> = {},
  ) {
    this.options = { ...defaultHttpOptions, ...options };
    const o = this.options;
    this.parserOptions = {
      bodyCap: o.bodyCap,
      maxHeadBytes: o.maxHeadBytes,
      maxHeaders: o.maxHeaders,
      maxBodyBytes: o.maxBodyBytes,
      maxCompressedCapture: o.maxCompressedCapture,
      maxDecodedBytes: o.maxDecodedBytes,
      redact: new Set(o.redactHeaders.map((h) => h.toLowerCase())),
    };
  }

  infer(head: Buffer): MessageType | 'needMore' | null {
    return inferHttp(head);
  }

  findFrameBoundary(type: MessageType, buf: Buffer, from: number): number {
    return findHttpBoundary(type, buf, from);
  }

  newConnection(): ProtocolConnection {
    return new HttpConnection(this.parserOptions, this.options.maxPendingRequests, this.stats);
  }
}
