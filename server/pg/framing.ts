// Incremental framing of frontend messages on a byte stream.
// TCP may split one message over many reads or coalesce several into one, so bytes are
// buffered here and whole messages handed out one at a time. The phase matters: the first
// packets (StartupMessage, SSLRequest, GSSENCRequest, CancelRequest) have no type byte; after
// startup every message is type(1) + length(4, includes itself) + body.

/** A whole frontend message. type is 0 for the untyped startup-phase packets. */
export interface Frame {
  type: number;
  /** Body after the length word. */
  body: Buffer;
}

/** The stream is not valid protocol; the connection must send a FATAL 08P01 and close. */
export class ProtocolViolation extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ProtocolViolation';
  }
}

export interface FramerLimits {
  /** Largest typed message (length word value) accepted. */
  maxMessageSize: number;
  /** Largest startup packet accepted (PostgreSQL uses 10000). */
  maxStartupSize: number;
}

export const defaultFramerLimits: FramerLimits = {
  maxMessageSize: 64 * 1024 * 1024,
  maxStartupSize: 10_000,
};

export class MessageFramer {
  private chunks: Buffer[] = [];
  private length = 0;
  private startupPhase = true;

  constructor(private readonly limits: FramerLimits = defaultFramerLimits) {}

  /** Bytes received but not yet handed out as frames. */
  get buffered(): number {
    return this.length;
  }

  push(chunk: Buffer): void {
    if (chunk.length === 0) return;
    this.chunks.push(chunk);
    this.length += chunk.length;
  }

  /** Switch to typed messages; called once the StartupMessage has been accepted. */
  endStartupPhase(): void {
    this.startupPhase = false;
  }

  /** The next whole message, or null if more bytes are needed. Throws ProtocolViolation. */
  next(): Frame | null {
    if (this.startupPhase) {
      if (this.length < 4) return null;
      const len = this.peek(4).readInt32BE(0);
      if (len < 8 || len > this.limits.maxStartupSize) {
        throw new ProtocolViolation(`invalid length of startup packet: ${len}`);
      }
      if (this.length < len) return null;
      return { type: 0, body: this.take(len).subarray(4) };
    }
    if (this.length < 5) return null;
    const head = this.peek(5);
    const type = head[0]!;
    const len = head.readInt32BE(1);
    if (len < 4) throw new ProtocolViolation(`invalid message length ${len} for message type 0x${type.toString(16)}`);
    if (len > this.limits.maxMessageSize) {
      throw new ProtocolViolation(`message of type 0x${type.toString(16)} too large: ${len} bytes (limit ${this.limits.maxMessageSize})`);
    }
    if (this.length < len + 1) return null;
    return { type, body: this.take(len + 1).subarray(5) };
  }

  /** First n bytes without consuming them (n <= length). */
  private peek(n: number): Buffer {
    const first = this.chunks[0]!;
    if (first.length >= n) return first;
    return this.join(n, false);
  }

  /** Consume and return the first n bytes (n <= length); no copy when one chunk holds them. */
  private take(n: number): Buffer {
    const first = this.chunks[0]!;
    if (first.length >= n) {
      const out = first.subarray(0, n);
      if (first.length === n) this.chunks.shift();
      else this.chunks[0] = first.subarray(n);
      this.length -= n;
      return out;
    }
    return this.join(n, true);
  }

  private join(n: number, consume: boolean): Buffer {
    const out = Buffer.allocUnsafe(n);
    let off = 0;
    let i = 0;
    while (off < n) {
      const c = this.chunks[i]!;
      const k = Math.min(c.length, n - off);
      c.copy(out, off, 0, k);
      off += k;
      if (consume && k < c.length) this.chunks[i] = c.subarray(k);
      else i++;
    }
    if (consume) {
      // chunks before index i were used up entirely
      this.chunks.splice(0, i);
      this.length -= n;
    }
    return out;
  }
}
