// One direction's HTTP/1.x message parser: head, then the body streamed as bytes arrive
// (Content-Length, chunked with trailers, or until close), so a large body never has to be
// buffered whole and gaps inside a body of known length are simply skipped.
import { ParseStatus, type ParseStatusValue, type StreamReader } from '../protocol.ts';
import { codingOf, decodeBody, type Coding } from './content-encoding.ts';
import {
  INVALID, NEED_MORE, addHeaderValue, headerValue, newHead, parseHeaderLines, parseRequestHead, parseResponseHead,
  type HeadLimits, type HttpHead,
} from './head-parser.ts';

export interface HttpMessage extends HttpHead {
  /** Time of the event carrying the first byte. */
  startNs: bigint;
  /** Time of the event carrying the last byte. */
  endNs: bigint;
  body: string;
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
    names: [], values: [], escape: false,
    contentLength: -1, hasTransferEncoding: false, chunked: false,
    startNs: 0n, endNs: 0n, body: '', bodySize: 0,
  };
}

const enum Phase { idle, length, chunkSize, chunkData, chunkCrlf, trailers, untilClose }

const MAX_CHUNK_LINE = 1024;

/** The bytes at head: the first piece when it holds `n` bytes, else all contiguous ones. */
function atLeast(stream: StreamReader, n: number): Buffer {
  const first = stream.firstChunk();
  return first.length >= n ? first : stream.contiguous();
}

/** The bytes at head: the first piece when it holds a whole chunk-size line, else all contiguous ones. */
function lineAtHead(stream: StreamReader): Buffer {
  const first = stream.firstChunk();
  const limit = first.length < MAX_CHUNK_LINE ? first.length : MAX_CHUNK_LINE;
  for (let i = 0; i < limit; i++) if (first[i] === 10) return first;
  return first.length >= MAX_CHUNK_LINE ? first : stream.contiguous();
}

export class HttpMessageParser {
  private phase = Phase.idle;
  private msg: HttpMessage | null = null;
  private remaining = 0;
  /** Captured body pieces (copies), decoded at finish; reused across messages. */
  private parts: Buffer[] = [];
  private captured = 0;
  /** The whole captured body when it came in one piece: decoded straight from the stream. */
  private bodyText: string | null = null;
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
          let n = 0;
          if (buf.length >= 1 && buf[0] === 10) n = 1;
          else if (buf.length >= 2 && buf[0] === 13 && buf[1] === 10) n = 2;
          else if (buf.length >= 2 || (buf.length === 1 && buf[0] !== 13)) return ParseStatus.invalid;
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
          for (let k = 0; k < trailers.names.length; k++) {
            addHeaderValue(msg, trailers.names[k]!, trailers.values[k]!, ', ');
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
    this.coding = this.opts.maxCompressedCapture > 0 ? codingOf(headerValue(msg, 'content-encoding')) : null;

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
        const buf = stream.firstChunk();
        k = untilClose ? buf.length : Math.min(buf.length, this.remaining);
        this.capture(buf, k, this.phase === Phase.length && k === this.remaining);
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

  /** Keeps the first bytes of a body piece (up to the cap); `last`: no more body follows. */
  private capture(buf: Buffer, k: number, last: boolean): void {
    const room = (this.coding === null ? this.opts.bodyCap : this.opts.maxCompressedCapture) - this.captured;
    if (room <= 0) return;
    const take = k < room ? k : room;
    this.captured += take;
    if (this.coding === null && this.parts.length === 0 && (last || take === room)) {
      // The whole capture is this piece: decode it now, no copy.
      this.bodyText = (buf as unknown as { utf8Slice(s: number, e: number): string }).utf8Slice(0, take);
      return;
    }
    // Copy: a slice would pin the (possibly large) merged stream buffer.
    this.parts.push(Buffer.from(buf.subarray(0, take)));
  }

  private chunkSize(stream: StreamReader): ParseStatusValue {
    if (stream.headGap() > 0) return this.gapInFraming();
    const buf = lineAtHead(stream);
    const limit = Math.min(buf.length, MAX_CHUNK_LINE);
    let i = 0;
    let size = 0;
    while (i < limit) {
      const c = buf[i]!;
      const d = c >= 48 && c <= 57 ? c - 48 : c >= 97 && c <= 102 ? c - 87 : c >= 65 && c <= 70 ? c - 55 : -1;
      if (d < 0) break;
      size = size * 16 + d;
      if (size > this.opts.maxBodyBytes) return ParseStatus.invalid;
      i++;
    }
    if (i === limit) return limit >= MAX_CHUNK_LINE ? ParseStatus.invalid : this.starved(stream);
    if (i === 0) return ParseStatus.invalid;
    const c = buf[i]!;
    if (c !== 59 && c !== 13 && c !== 10 && c !== 32 && c !== 9) return ParseStatus.invalid;
    // Chunk extensions (";name=value") are skipped up to the line end.
    const lf = buf.indexOf(10, i);
    if (lf < 0 || lf >= MAX_CHUNK_LINE) {
      return buf.length >= MAX_CHUNK_LINE ? ParseStatus.invalid : this.starved(stream);
    }
    for (let k = i; k < lf - 1; k++) if (buf[k] === 13 || buf[k] === 0) return ParseStatus.invalid;
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
    else if (this.coding !== null && parts.length > 0) {
      const raw = parts.length === 1 ? (parts[0] as Buffer) : Buffer.concat(parts, this.captured);
      const o = this.opts;
      const decoded = decodeBody(this.coding, raw, o.bodyCap, o.maxDecodedBytes);
      msg.body = (decoded ?? raw.subarray(0, o.bodyCap)).toString('utf8');
    } else if (parts.length === 1) msg.body = (parts[0] as Buffer).toString('utf8');
    else if (parts.length > 1) msg.body = Buffer.concat(parts, this.captured).toString('utf8');
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
