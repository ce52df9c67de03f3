// One direction's HTTP/1.x message parser: head, then the body streamed as bytes arrive
// (Content-Length, chunked with trailers, or until close), so a large body never has to be
// buffered whole and gaps inside a body of known length are simply skipped.
import { ParseStatus, type ParseStatusValue, type StreamReader } from '../protocol.ts';
import { codingOf, decodeBody, type Coding } from './content-encoding.ts';
import type { Text } from '../../engine/utf8-text.ts';
import {
  INVALID, NEED_MORE, NO_STRINGS, addHeaderValue, asciiText, headerFacts, newHead, parseHeaderLines, parseRequestHead, parseResponseHead,
  toStrings, type HeadLimits, type HttpHead,
} from './head-parser.ts';

export interface HttpMessage extends HttpHead {
  /** Time of the event carrying the first byte. */
  startNs: bigint;
  /** Time of the event carrying the last byte. */
  endNs: bigint;
  /** The captured body: UTF-8 bytes in the parser's slab when ASCII, else a string. */
  body: Text;
  bodySize: number;
}

export interface HttpParserOptions extends HeadLimits {
  /** Body bytes kept per message (after decoding gzip/deflate). */
  bodyCap: number;
  /** gzip/deflate bodies: compressed bytes kept for decoding (0 turns decoding off). */
  maxCompressedCapture: number;
  /** Upper bound on one inflate's output (bounds memory against compression bombs). */
  maxDecodedBytes: number;
  /** A declared body length above this is treated as garbage. */
  maxBodyBytes: number;
}

/** One literal with every field: messages share one shape (fast property access downstream). */
function newMessage(): HttpMessage {
  return {
    major: 0, minor: 0, method: '', target: '', status: 0, reason: '',
    names: NO_STRINGS, values: NO_STRINGS, escape: false, json: null, ctype: -1, encoding: undefined,
    contentLength: -1, hasTransferEncoding: false, chunked: false,
    startNs: 0n, endNs: 0n, body: '', bodySize: 0,
  };
}

type Slicer = { utf8Slice(s: number, e: number): string };

const enum Phase { idle, length, chunkSize, chunkData, chunkCrlf, trailers, untilClose }

const MAX_CHUNK_LINE = 1024;

// Reads at an offset: the bytes at head are at[buf][atStart, atEnd) (module scratch: parsing is
// synchronous), so reading the rest of an event's payload makes no Buffer view of it.
let atStart = 0;
let atEnd = 0;

/** The bytes at head: the first piece when it holds `n` bytes, else all contiguous ones. */
function atLeast(stream: StreamReader, n: number): Buffer {
  const first = stream.piece();
  atStart = stream.pieceStart;
  atEnd = stream.pieceEnd;
  if (atEnd - atStart >= n) return first;
  const all = stream.contiguous();
  atStart = 0;
  atEnd = all.length;
  return all;
}

/** The bytes at head: the first piece when it holds a whole chunk-size line, else all contiguous ones. */
function lineAtHead(stream: StreamReader): Buffer {
  const first = stream.piece();
  atStart = stream.pieceStart;
  atEnd = stream.pieceEnd;
  const len = atEnd - atStart;
  const limit = atStart + (len < MAX_CHUNK_LINE ? len : MAX_CHUNK_LINE);
  for (let i = atStart; i < limit; i++) if (first[i] === 10) return first;
  if (len >= MAX_CHUNK_LINE) return first;
  const all = stream.contiguous();
  atStart = 0;
  atEnd = all.length;
  return all;
}

export class HttpMessageParser {
  private phase = Phase.idle;
  private msg: HttpMessage | null = null;
  private remaining = 0;
  /** Captured body pieces of a gzip/deflate body (copies), decoded at finish; reused across messages. */
  private parts: Buffer[] = [];
  /** Captured body bytes of an uncoded body that came in several pieces (bodyCap bytes, made once). */
  private scratch: Buffer | null = null;
  private captured = 0;
  /** The whole captured body when it came in one piece: taken straight from the stream. */
  private bodyText: Text | null = null;
  /** The framing broke on a gap (bytes not captured), not on bad bytes: see salvage(). */
  private brokenByGap = false;
  /** Content coding of the current message's body (decoded at finish). */
  private coding: Coding = null;
  /** The last completed message; taken by the caller after ParseStatus.frame. */
  done: HttpMessage | null = null;

  constructor(
    readonly isRequest: boolean,
    private readonly opts: HttpParserOptions,
  ) {}

  midFrame(): boolean {
    return this.phase !== Phase.idle;
  }

  reset(): void {
    this.phase = Phase.idle;
    this.msg = null;
    if (this.parts.length !== 0) this.parts.length = 0;
    this.captured = 0;
    this.bodyText = null;
  }

  /**
   * Parses at most one message. A response parser gets the method of the request it answers:
   * responses to HEAD, and successful ones to CONNECT (a tunnel follows), have no body.
   */
  parse(stream: StreamReader, requestMethod: string): ParseStatusValue {
    for (;;) {
      switch (this.phase) {
        case Phase.idle: {
          const r = this.parseHead(stream, requestMethod);
          if (r !== ParseStatus.frame || this.phase === Phase.idle) return r;
          break;
        }
        case Phase.length:
        case Phase.chunkData:
        case Phase.untilClose: {
          if (!this.body(stream)) return ParseStatus.needMore;
          if (this.phase !== Phase.chunkData) return this.finish();
          this.phase = Phase.chunkCrlf;
          break;
        }
        case Phase.chunkSize: {
          const r = this.chunkSize(stream);
          if (r !== ParseStatus.frame) return r;
          break;
        }
        case Phase.chunkCrlf: {
          if (stream.headGap() > 0) return this.gapInFraming();
          const buf = atLeast(stream, 2);
          const len = atEnd - atStart;
          const b0 = buf[atStart];
          let n = 0;
          if (len >= 1 && b0 === 10) n = 1;
          else if (len >= 2 && b0 === 13 && buf[atStart + 1] === 10) n = 2;
          else if (len >= 2 || (len === 1 && b0 !== 13)) return ParseStatus.invalid;
          else return this.starved(stream);
          this.msg!.endNs = stream.timeAt(n - 1);
          stream.consume(n);
          this.phase = Phase.chunkSize;
          break;
        }
        case Phase.trailers: {
          if (stream.headGap() > 0) return this.gapInFraming();
          // Parsed into a scratch head: a partial block is re-parsed when more bytes arrive.
          let trailers = newHead();
          let n = parseHeaderLines(stream.firstChunk(), 0, this.opts, trailers);
          if (n === NEED_MORE && stream.firstChunk().length < stream.available()) {
            trailers = newHead();
            n = parseHeaderLines(stream.contiguous(), 0, this.opts, trailers);
          }
          if (n === INVALID) return ParseStatus.invalid;
          if (n === NEED_MORE) return this.starved(stream);
          const msg = this.msg!;
          if (trailers.names.length > 0) {
            toStrings(msg);
            for (let k = 0; k < trailers.names.length; k++) {
              addHeaderValue(msg, trailers.names[k]!, trailers.values[k]!, ', ');
            }
            headerFacts(msg);
          }
          if (trailers.escape) msg.escape = true;
          this.msg!.endNs = stream.timeAt(n - 1);
          stream.consume(n);
          return this.finish();
        }
      }
    }
  }

  /**
   * The framing broke on a gap inside a body (bytes lost where a chunk size belongs): the message
   * whose head was parsed completes with the body seen so far instead of being lost (bad bytes
   * still drop it). Returns whether a message was completed (then in `done`).
   */
  salvage(): boolean {
    const byGap = this.brokenByGap;
    this.brokenByGap = false;
    if (!byGap || this.msg === null || this.phase === Phase.idle) {
      this.reset();
      return false;
    }
    this.finish();
    return true;
  }

  private gapInFraming(): ParseStatusValue {
    this.brokenByGap = true;
    return ParseStatus.invalid;
  }

  /** The stream ended: a body delimited by close is complete; anything else partial is lost. */
  endOfStream(): boolean {
    if (this.phase === Phase.untilClose && this.msg !== null) {
      this.finish();
      return true;
    }
    this.reset();
    return false;
  }

  private parseHead(stream: StreamReader, requestMethod: string): ParseStatusValue {
    // The first captured piece usually holds the whole head: concatenate only when it does not.
    let buf = stream.firstChunk();
    if (buf.length === 0) return ParseStatus.needMore;
    let msg = newMessage();
    let n = this.isRequest ? parseRequestHead(buf, this.opts, msg) : parseResponseHead(buf, this.opts, msg);
    if (n === NEED_MORE && buf.length < stream.available()) {
      const all = stream.contiguous();
      if (all.length > buf.length) {
        buf = all;
        msg = newMessage();
        n = this.isRequest ? parseRequestHead(buf, this.opts, msg) : parseResponseHead(buf, this.opts, msg);
      }
    }
    if (n === INVALID) return ParseStatus.invalid;
    if (n === NEED_MORE) return this.starved(stream);
    msg.startNs = stream.timeAt(0);
    msg.endNs = stream.timeAt(n - 1);
    stream.consume(n);
    this.msg = msg;
    if (this.parts.length !== 0) this.parts.length = 0;
    this.captured = 0;
    this.bodyText = null;
    this.coding = this.opts.maxCompressedCapture > 0 ? codingOf(msg.encoding) : null;

    if (this.isRequest) {
      if (msg.hasTransferEncoding) {
        if (!msg.chunked) return ParseStatus.invalid;
        this.phase = Phase.chunkSize;
      } else if (msg.contentLength > 0) {
        return this.expectLength(msg.contentLength);
      }
    } else {
      const s = msg.status;
      if (s < 200 || s === 204 || s === 304 || requestMethod === 'HEAD' || (requestMethod === 'CONNECT' && s < 300)) {
        // No body, whatever the headers say.
      } else if (msg.hasTransferEncoding) {
        this.phase = msg.chunked ? Phase.chunkSize : Phase.untilClose;
      } else if (msg.contentLength > 0) {
        return this.expectLength(msg.contentLength);
      } else if (msg.contentLength < 0) {
        this.phase = Phase.untilClose;
      }
    }
    if (this.phase === Phase.idle) this.finish();
    return ParseStatus.frame;
  }

  private expectLength(len: number): ParseStatusValue {
    if (len > this.opts.maxBodyBytes) return ParseStatus.invalid;
    this.msg!.bodySize = len;
    this.remaining = len;
    this.phase = Phase.length;
    return ParseStatus.frame;
  }

  /** Incomplete head or line: wait, unless more bytes can never complete it. */
  private starved(stream: StreamReader): ParseStatusValue {
    const buf = stream.contiguous();
    if (stream.gapFollows() || stream.ended || buf.length > this.opts.maxHeadBytes) return ParseStatus.invalid;
    return ParseStatus.needMore;
  }

  /** Consumes body bytes (skipping gaps); true when `remaining` reached 0 (or the stream ended). */
  private body(stream: StreamReader): boolean {
    const msg = this.msg!;
    const untilClose = this.phase === Phase.untilClose;
    for (;;) {
      if (!untilClose && this.remaining === 0) return true;
      const avail = stream.available();
      if (avail === 0) return untilClose && stream.ended;
      const gap = stream.headGap();
      let k: number;
      if (gap > 0) {
        k = untilClose ? gap : Math.min(gap, this.remaining);
      } else {
        // Piece by piece: body bytes are counted and capped, never concatenated.
        const buf = stream.piece();
        const start = stream.pieceStart;
        const len = stream.pieceEnd - start;
        k = untilClose ? len : Math.min(len, this.remaining);
        this.capture(buf, start, k, this.phase === Phase.length && k === this.remaining);
      }
      msg.endNs = stream.timeAt(k - 1);
      stream.consume(k);
      if (untilClose) {
        msg.bodySize += k;
        if (msg.bodySize > this.opts.maxBodyBytes) return true;
      } else {
        this.remaining -= k;
      }
    }
  }

  /** Keeps the first bytes of a body piece buf[start, start + k) (up to the cap); `last`: no more body follows. */
  private capture(buf: Buffer, start: number, k: number, last: boolean): void {
    const room = (this.coding === null ? this.opts.bodyCap : this.opts.maxCompressedCapture) - this.captured;
    if (room <= 0) return;
    const take = k < room ? k : room;
    // Copies, never views: a view would pin the (possibly large) stream buffer.
    if (this.coding === null) {
      if (this.captured === 0 && (last || take === room)) {
        // The whole capture is this piece: its bytes (or its decode) now, no scratch copy.
        this.bodyText = asciiText(buf, start, start + take) ?? (buf as unknown as Slicer).utf8Slice(start, start + take);
      } else {
        // Gathered in a bodyCap scratch of this parser, reused by its later messages.
        if (this.scratch === null) this.scratch = Buffer.allocUnsafe(this.opts.bodyCap);
        buf.copy(this.scratch, this.captured, start, start + take);
      }
    } else {
      const part = Buffer.allocUnsafe(take);
      buf.copy(part, 0, start, start + take);
      this.parts.push(part);
    }
    this.captured += take;
  }

  private chunkSize(stream: StreamReader): ParseStatusValue {
    if (stream.headGap() > 0) return this.gapInFraming();
    const buf = lineAtHead(stream);
    // Offsets below are relative to the line start at buf[b].
    const b = atStart;
    const len = atEnd - b;
    const limit = Math.min(len, MAX_CHUNK_LINE);
    let i = 0;
    let size = 0;
    while (i < limit) {
      const c = buf[b + i]!;
      const d = c >= 48 && c <= 57 ? c - 48 : c >= 97 && c <= 102 ? c - 87 : c >= 65 && c <= 70 ? c - 55 : -1;
      if (d < 0) break;
      size = size * 16 + d;
      if (size > this.opts.maxBodyBytes) return ParseStatus.invalid;
      i++;
    }
    if (i === limit) return limit >= MAX_CHUNK_LINE ? ParseStatus.invalid : this.starved(stream);
    if (i === 0) return ParseStatus.invalid;
    const c = buf[b + i]!;
    if (c !== 59 && c !== 13 && c !== 10 && c !== 32 && c !== 9) return ParseStatus.invalid;
    // Chunk extensions (";name=value") are skipped up to the line end.
    let lf = i;
    while (lf < limit && buf[b + lf] !== 10) lf++;
    if (lf === limit) {
      return len >= MAX_CHUNK_LINE ? ParseStatus.invalid : this.starved(stream);
    }
    for (let k = i; k < lf - 1; k++) if (buf[b + k] === 13 || buf[b + k] === 0) return ParseStatus.invalid;
    const msg = this.msg!;
    msg.endNs = stream.timeAt(lf);
    stream.consume(lf + 1);
    if (size === 0) {
      this.phase = Phase.trailers;
      return ParseStatus.frame;
    }
    msg.bodySize += size;
    if (msg.bodySize > this.opts.maxBodyBytes) return ParseStatus.invalid;
    this.remaining = size;
    this.phase = Phase.chunkData;
    return ParseStatus.frame;
  }

  private finish(): ParseStatusValue {
    const msg = this.msg!;
    const parts = this.parts;
    if (this.bodyText !== null) msg.body = this.bodyText;
    else if (this.coding !== null) {
      if (parts.length > 0) {
        const raw = parts.length === 1 ? (parts[0] as Buffer) : Buffer.concat(parts, this.captured);
        const o = this.opts;
        const decoded = decodeBody(this.coding, raw, o.bodyCap, o.maxDecodedBytes);
        msg.body = (decoded ?? raw.subarray(0, o.bodyCap)).toString('utf8');
      }
    } else if (this.captured > 0) {
      const scratch = this.scratch!;
      msg.body = asciiText(scratch, 0, this.captured) ?? (scratch as unknown as Slicer).utf8Slice(0, this.captured);
    }
    this.done = msg;
    this.msg = null;
    if (parts.length !== 0) parts.length = 0;
    this.captured = 0;
    this.bodyText = null;
    this.coding = null;
    this.phase = Phase.idle;
    return ParseStatus.frame;
  }
}
