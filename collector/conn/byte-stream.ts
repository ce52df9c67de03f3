// One direction of a connection: captured bytes ordered by stream position, with known gaps
// (bytes moved but not copied) kept as markers, a small reorder window for events that arrive
// out of order (different CPUs), and event time markers so a parser can ask "when did byte X
// arrive". Data is concatenated lazily, only when a parser asks for contiguous bytes.
import type { SocketEvent } from '../events.ts';
import type { StreamReader } from '../protocol.ts';
import type { CollectorStats } from '../stats.ts';

interface Segment {
  pos: number;
  len: number;
  /** null: a gap of `len` bytes. */
  data: Buffer | null;
}

const EMPTY = Buffer.alloc(0);

export class ByteStream implements StreamReader {
  head = 0;
  /** Position just past the last known byte (data or gap). */
  end = 0;
  started = false;
  /** Set by the tracker when the connection closed and held events were flushed. */
  ended = false;
  /** Captured bytes currently held (segments + reorder window). */
  buffered = 0;

  private segs: Segment[] = [];
  private first = 0;
  private markPos: number[] = [];
  private markTime: bigint[] = [];
  private markFirst = 0;
  /** Events ahead of `end`, sorted by position, waiting for the bytes before them. */
  private held: SocketEvent[] = [];
  private heldSince = 0n;

  constructor(
    private readonly stats: CollectorStats,
    private readonly reorderWindow: number,
  ) {}

  /** Starts the stream at a position (the first event seen, or the one protocol inference chose). */
  startAt(pos: number): void {
    this.started = true;
    this.head = this.end = pos;
  }

  push(ev: SocketEvent): void {
    if (ev.size <= 0) return;
    const pos = Number(ev.pos);
    if (!this.started) this.startAt(pos);
    if (pos > this.end) {
      this.hold(ev, pos);
      if (this.held.length > this.reorderWindow) this.releaseHeld(1);
      return;
    }
    this.append(ev, pos);
    if (this.held.length > 0) this.drainHeld();
  }

  /** Events held back waiting for earlier bytes. */
  heldCount(): number {
    return this.held.length;
  }

  /** Gives up waiting for missing bytes: held events older than `beforeNs` go in, gaps declared. */
  releaseHeldOlderThan(beforeNs: bigint): void {
    if (this.held.length > 0 && this.heldSince < beforeNs) this.releaseHeld(this.held.length);
  }

  flushHeld(): void {
    if (this.held.length > 0) this.releaseHeld(this.held.length);
  }

  /** Drops every buffered byte (buffer cap exceeded); returns how many captured bytes went. */
  /** Forgets everything (held events too) and starts over at `pos`: a new position space. */
  restart(pos: number): number {
    const dropped = this.dropAll();
    this.ended = false;
    this.startAt(pos);
    return dropped;
  }

  dropAll(): number {
    this.flushHeld();
    const dropped = this.buffered;
    this.consume(this.end - this.head);
    return dropped;
  }

  // --- StreamReader ---

  available(): number {
    return this.end - this.head;
  }

  headGap(): number {
    const s = this.segs[this.first];
    return s !== undefined && s.data === null ? s.len : 0;
  }

  contiguous(): Buffer {
    const s = this.segs[this.first];
    if (s === undefined || s.data === null) return EMPTY;
    const next = this.segs[this.first + 1];
    if (next !== undefined && next.data !== null) this.mergeRun();
    return (this.segs[this.first] as Segment).data as Buffer;
  }

  firstChunk(): Buffer {
    const s = this.segs[this.first];
    return s === undefined || s.data === null ? EMPTY : s.data;
  }

  gapFollows(): boolean {
    const s = this.segs[this.first];
    if (s === undefined) return false;
    if (s.data === null) return true;
    this.contiguous();
    return this.segs.length > this.first + 1;
  }

  consume(n: number): void {
    if (n > this.end - this.head) n = this.end - this.head;
    if (n <= 0) return;
    this.head += n;
    while (n > 0) {
      const s = this.segs[this.first] as Segment;
      if (n >= s.len) {
        n -= s.len;
        if (s.data !== null) this.buffered -= s.len;
        this.first++;
      } else {
        s.pos += n;
        s.len -= n;
        if (s.data !== null) {
          s.data = s.data.subarray(n);
          this.buffered -= n;
        }
        n = 0;
      }
    }
    if (this.first > 32 && this.first * 2 > this.segs.length) {
      this.segs = this.segs.slice(this.first);
      this.first = 0;
    }
    this.pruneMarks();
  }

  timeAt(offset: number): bigint {
    const p = this.head + offset;
    let lo = this.markFirst;
    let hi = this.markPos.length - 1;
    if (hi < lo) return 0n;
    // Last mark with position <= p.
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if ((this.markPos[mid] as number) <= p) lo = mid;
      else hi = mid - 1;
    }
    return this.markTime[lo] as bigint;
  }

  // --- internals ---

  private hold(ev: SocketEvent, pos: number): void {
    const held = this.held;
    if (held.length === 0) this.heldSince = ev.timeNs;
    let i = held.length;
    while (i > 0 && Number((held[i - 1] as SocketEvent).pos) > pos) i--;
    held.splice(i, 0, ev);
    this.buffered += ev.payload.length;
  }

  /** Declares the bytes before the first `count` held events lost and appends those events. */
  private releaseHeld(count: number): void {
    while (count-- > 0 && this.held.length > 0) {
      const ev = this.held.shift() as SocketEvent;
      this.buffered -= ev.payload.length;
      const pos = Number(ev.pos);
      if (pos > this.end) {
        this.stats.gapBytes += pos - this.end;
        this.addGap(pos - this.end, ev.timeNs);
      }
      this.append(ev, pos);
    }
    this.drainHeld();
  }

  private drainHeld(): void {
    const held = this.held;
    while (held.length > 0 && Number((held[0] as SocketEvent).pos) <= this.end) {
      const ev = held.shift() as SocketEvent;
      this.buffered -= ev.payload.length;
      this.append(ev, Number(ev.pos));
    }
    if (held.length > 0) this.heldSince = (held[0] as SocketEvent).timeNs;
  }

  /** Appends the part of an event at or after `end` (pos <= end). */
  private append(ev: SocketEvent, pos: number): void {
    const evEnd = pos + ev.size;
    if (evEnd <= this.end) {
      this.stats.staleEvents++;
      return;
    }
    const payload = ev.payload;
    const plen = payload.length < ev.size ? payload.length : ev.size;
    this.mark(this.end, ev.timeNs);
    const dataEnd = pos + plen;
    if (this.end < dataEnd) {
      const from = this.end - pos;
      this.addData(from === 0 && plen === payload.length ? payload : payload.subarray(from, plen));
    }
    if (this.end < evEnd) {
      this.stats.gapBytes += evEnd - this.end;
      this.addGap(evEnd - this.end, ev.timeNs);
    }
  }

  private addData(buf: Buffer): void {
    this.segs.push({ pos: this.end, len: buf.length, data: buf });
    this.end += buf.length;
    this.buffered += buf.length;
  }

  private addGap(len: number, timeNs: bigint): void {
    const last = this.segs[this.segs.length - 1];
    if (last !== undefined && this.segs.length > this.first && last.data === null) {
      last.len += len;
    } else {
      this.mark(this.end, timeNs);
      this.segs.push({ pos: this.end, len, data: null });
    }
    this.end += len;
  }

  private mark(pos: number, timeNs: bigint): void {
    const n = this.markPos.length;
    if (n > this.markFirst && this.markPos[n - 1] === pos) {
      this.markTime[n - 1] = timeNs;
      return;
    }
    this.markPos.push(pos);
    this.markTime.push(timeNs);
  }

  private pruneMarks(): void {
    const mp = this.markPos;
    while (this.markFirst + 1 < mp.length && (mp[this.markFirst + 1] as number) <= this.head) this.markFirst++;
    if (this.markFirst > 64 && this.markFirst * 2 > mp.length) {
      this.markPos = mp.slice(this.markFirst);
      this.markTime = this.markTime.slice(this.markFirst);
      this.markFirst = 0;
    }
  }

  /** Concatenates the run of data segments at head into one. */
  private mergeRun(): void {
    const segs = this.segs;
    let j = this.first;
    let total = 0;
    const parts: Buffer[] = [];
    while (j < segs.length && (segs[j] as Segment).data !== null) {
      const s = segs[j] as Segment;
      parts.push(s.data as Buffer);
      total += s.len;
      j++;
    }
    const head = segs[this.first] as Segment;
    segs.splice(this.first, j - this.first, { pos: head.pos, len: total, data: Buffer.concat(parts, total) });
  }
}
