// MySQL packet framing for one direction: 3-byte little-endian length + sequence id, payloads of
// 0xFFFFFF continued by the next packet (multi-packet payloads, ≥ 16 MiB). A logical payload is
// streamed: only its first `keep` bytes are kept, the rest (and gaps inside it) are skipped, so a
// 16 MiB row never has to be buffered.
import { ParseStatus, type ParseStatusValue, type StreamReader } from '../protocol.ts';

export const MAX_PACKET = 0xffffff;

export interface MysqlPacket {
  /** Sequence id of the first physical packet, and of the last one. */
  seq: number;
  lastSeq: number;
  /** Total payload length over all physical packets. */
  length: number;
  /** The payload's first bytes (up to the keep limit); valid until the next read. */
  data: Buffer;
  startNs: bigint;
  endNs: bigint;
}

const EMPTY = Buffer.alloc(0);

export class PacketReader {
  /** Payload bytes of the current physical packet still to consume (streaming mode). */
  private remaining = 0;
  private streaming = false;
  /** The physical packet being read had length 0xFFFFFF: another one continues the payload. */
  private continues = false;
  private parts: Buffer[] = [];
  private kept = 0;
  private keep = 0;
  readonly packet: MysqlPacket = { seq: 0, lastSeq: 0, length: 0, data: EMPTY, startNs: 0n, endNs: 0n };

  /** Inside a payload: a gap at head belongs to it (skipped). */
  midPacket(): boolean {
    return this.streaming;
  }

  reset(): void {
    this.streaming = false;
    this.continues = false;
    this.remaining = 0;
    this.parts = [];
    this.kept = 0;
  }

  /**
   * Reads one logical packet, keeping its first `keep` bytes in `packet.data`. Returns frame when
   * complete, needMore (possibly after consuming part of it), or invalid (gap where a header
   * belongs, or a header that cannot start a packet).
   */
  read(stream: StreamReader, keep: number): ParseStatusValue {
    const p = this.packet;
    if (!this.streaming) {
      if (stream.headGap() > 0) return ParseStatus.invalid;
      const buf = stream.contiguous();
      if (buf.length < 4) return stream.gapFollows() || stream.ended ? ParseStatus.invalid : ParseStatus.needMore;
      const len = buf[0]! | (buf[1]! << 8) | (buf[2]! << 16);
      const seq = buf[3]!;
      if (len < MAX_PACKET && buf.length >= 4 + len) {
        // Fast path: the whole packet is contiguous.
        p.seq = p.lastSeq = seq;
        p.length = len;
        p.data = buf.subarray(4, 4 + (len < keep ? len : keep));
        p.startNs = stream.timeAt(0);
        p.endNs = stream.timeAt(3 + len);
        stream.consume(4 + len);
        return ParseStatus.frame;
      }
      p.seq = p.lastSeq = seq;
      p.length = 0;
      p.startNs = stream.timeAt(0);
      p.endNs = stream.timeAt(3);
      this.keep = keep;
      this.beginPhysical(len, stream);
    }
    for (;;) {
      while (this.remaining > 0) {
        const avail = stream.available();
        if (avail === 0) return ParseStatus.needMore;
        const gap = stream.headGap();
        let k: number;
        if (gap > 0) {
          k = gap < this.remaining ? gap : this.remaining;
        } else {
          const buf = stream.contiguous();
          k = buf.length < this.remaining ? buf.length : this.remaining;
          const room = this.keep - this.kept;
          if (room > 0) {
            // Copy: a slice would pin the stream's merged buffer.
            const take = k < room ? k : room;
            this.parts.push(Buffer.from(buf.subarray(0, take)));
            this.kept += take;
          }
        }
        p.endNs = stream.timeAt(k - 1);
        stream.consume(k);
        this.remaining -= k;
      }
      if (!this.continues) break;
      // Next physical packet of the same payload: its header must be captured.
      if (stream.headGap() > 0) return ParseStatus.invalid;
      const buf = stream.contiguous();
      if (buf.length < 4) return stream.gapFollows() || stream.ended ? ParseStatus.invalid : ParseStatus.needMore;
      const len = buf[0]! | (buf[1]! << 8) | (buf[2]! << 16);
      if (buf[3] !== ((p.lastSeq + 1) & 0xff)) return ParseStatus.invalid;
      p.lastSeq = buf[3]!;
      this.beginPhysical(len, stream);
    }
    p.data = this.parts.length === 1 ? this.parts[0]! : this.parts.length === 0 ? EMPTY : Buffer.concat(this.parts);
    this.parts = [];
    this.kept = 0;
    this.streaming = false;
    return ParseStatus.frame;
  }

  private beginPhysical(len: number, stream: StreamReader): void {
    stream.consume(4);
    this.packet.length += len;
    this.remaining = len;
    this.continues = len === MAX_PACKET;
    this.streaming = true;
  }
}
