// Kafka framing for one direction: a 4-byte big-endian size, then the message. A frame is
// streamed: its first `keep` bytes are kept for decoding, the rest (and gaps inside it, e.g. a
// large Produce cut by the capture cap) are skipped, so memory per connection stays bounded.
import { ParseStatus, type ParseStatusValue, type StreamReader } from '../protocol.ts';

/** Larger sizes are not believed (Kafka's default socket.request.max.bytes is 100 MiB). */
export const MAX_FRAME = 100 * 1024 * 1024;

export interface KafkaFrame {
  size: number;
  /** The frame's first bytes (after the size) are data[start, end); valid until the next read. */
  data: Buffer;
  start: number;
  end: number;
  /** True when data holds the whole frame. */
  complete: boolean;
  startNs: bigint;
  endNs: bigint;
}

const EMPTY = Buffer.alloc(0);

export class FrameReader {
  private remaining = 0;
  private streaming = false;
  private parts: Buffer[] = [];
  private kept = 0;
  /** Bytes of the frame that were gaps (not captured). */
  private missing = 0;
  readonly frame: KafkaFrame = { size: 0, data: EMPTY, start: 0, end: 0, complete: true, startNs: 0n, endNs: 0n };

  constructor(private readonly keep: number) {}

  midFrame(): boolean {
    return this.streaming;
  }

  reset(): void {
    this.streaming = false;
    this.remaining = 0;
    this.parts = [];
    this.kept = 0;
    this.missing = 0;
  }

  read(stream: StreamReader): ParseStatusValue {
    const f = this.frame;
    if (!this.streaming) {
      if (stream.headGap() > 0) return ParseStatus.invalid;
      const buf = stream.contiguous();
      if (buf.length < 4) return stream.gapFollows() || stream.ended ? ParseStatus.invalid : ParseStatus.needMore;
      const size = buf.readInt32BE(0);
      if (size < 4 || size > MAX_FRAME) return ParseStatus.invalid;
      f.size = size;
      f.startNs = stream.timeAt(0);
      if (buf.length >= 4 + size) {
        // Fast path: the whole frame is contiguous.
        f.data = buf;
        f.start = 4;
        f.end = 4 + size;
        f.complete = true;
        f.endNs = stream.timeAt(3 + size);
        stream.consume(4 + size);
        return ParseStatus.frame;
      }
      f.endNs = stream.timeAt(3);
      stream.consume(4);
      this.remaining = size;
      this.streaming = true;
    }
    while (this.remaining > 0) {
      if (stream.available() === 0) return ParseStatus.needMore;
      const gap = stream.headGap();
      let k: number;
      if (gap > 0) {
        k = gap < this.remaining ? gap : this.remaining;
        this.missing += k;
      } else {
        const buf = stream.contiguous();
        k = buf.length < this.remaining ? buf.length : this.remaining;
        // Only the prefix before the first gap is decodable.
        const room = this.missing === 0 ? this.keep - this.kept : 0;
        if (room > 0) {
          const take = k < room ? k : room;
          this.parts.push(Buffer.from(buf.subarray(0, take)));
          this.kept += take;
        }
      }
      f.endNs = stream.timeAt(k - 1);
      stream.consume(k);
      this.remaining -= k;
    }
    f.data = this.parts.length === 1 ? this.parts[0]! : Buffer.concat(this.parts);
    f.start = 0;
    f.end = f.data.length;
    f.complete = this.kept === f.size;
    this.reset();
    return ParseStatus.frame;
  }
}
