// One direction of a connection: captured bytes ordered by stream position, with known gaps
// (bytes moved but not copied) kept as markers, a small reorder window for events that arrive
// out of order (different CPUs), and event time markers so a parser can ask "when did byte X
// arrive". Data is concatenated lazily, only when a parser asks for contiguous bytes; consuming
// part of a piece moves an offset into it (a Buffer view is made only if a parser asks for one).
import type { SocketEvent } from '../events.ts';
import type { StreamReader } from '../protocol.ts';
import type { CollectorStats } from '../stats.ts';

interface Segment {
  pos: number;
  len: number;
  /** null: a gap of `len` bytes. Else the bytes are data[off, off + len). */
  data: Buffer | null;
  off: number;
}

const EMPTY = Buffer.alloc(0);
const NO_HELD: SocketEvent[] = [];

export class ByteStream implements StreamReader {
  head = 0;
  /** Position just past the last known byte (data or gap). */
  end = 0;
  started = false;
  /** Set by the tracker when the connection closed and held events were flushed. */
  ended = false;
  /** Captured bytes currently held (segments + reorder window). */
  buffered = 0;
  /** Parse driver state: scanning for the next frame start after a failure or a gap. */
  resyncing = false;
  /** Set by piece(): where its bytes are in the buffer it returned. */
  pieceStart = 0;
  pieceEnd = 0;

  private segs: Segment[] = [];
  private first = 0;
  /** Event time marks, flat: position, time, position, time… (one array: one allocation). */
  private marks: (number | bigint)[] = [];
  /** Index in `marks` of the first live mark's position. */
  private markFirst = 0;
  /** Events ahead of `end`, sorted by position, waiting for the bytes before them (NO_HELD,
   *  shared, until the first: most streams never hold one). */
  private held: SocketEvent[] = NO_HELD;
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
    return view(this.segs[this.first] as Segment);
  }

  firstChunk(): Buffer {
    const s = this.segs[this.first];
    return s === undefined || s.data === null ? EMPTY : view(s);
  }

  piece(): Buffer {
    const s = this.segs[this.first];
    if (s === undefined || s.data === null) {
      this.pieceStart = this.pieceEnd = 0;
      return EMPTY;
    }
    this.pieceStart = s.off;
    this.pieceEnd = s.off + s.len;
    return s.data;
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
          s.off += n;
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
    const marks = this.marks;
    // Mark indexes (k: position at 2k, time at 2k + 1).
    let lo = this.markFirst >> 1;
    let hi = (marks.length >> 1) - 1;
    if (hi < lo) return 0n;
    // Last mark with position <= p.
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if ((marks[2 * mid] as number) <= p) lo = mid;
      else hi = mid - 1;
    }
    return marks[2 * lo + 1] as bigint;
  }

  // --- internals ---

  private hold(ev: SocketEvent, pos: number): void {
    let held = this.held;
    if (held === NO_HELD) this.held = held = [];
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
      this.addData(payload, from, plen - from);
    }
    if (this.end < evEnd) {
      this.stats.gapBytes += evEnd - this.end;
      this.addGap(evEnd - this.end, ev.timeNs);
    }
  }

  private addData(buf: Buffer, off: number, len: number): void {
    this.segs.push({ pos: this.end, len, data: buf, off });
    this.end += len;
    this.buffered += len;
  }

  private addGap(len: number, timeNs: bigint): void {
    const last = this.segs[this.segs.length - 1];
    if (last !== undefined && this.segs.length > this.first && last.data === null) {
      last.len += len;
    } else {
      this.mark(this.end, timeNs);
      this.segs.push({ pos: this.end, len, data: null, off: 0 });
    }
    this.end += len;
  }

  private mark(pos: number, timeNs: bigint): void {
    const marks = this.marks;
    const n = marks.length;
    if (n > this.markFirst && marks[n - 2] === pos) {
      marks[n - 1] = timeNs;
      return;
    }
    marks.push(pos, timeNs);
  }

  private pruneMarks(): void {
    const marks = this.marks;
    while (this.markFirst + 2 < marks.length && (marks[this.markFirst + 2] as number) <= this.head) this.markFirst += 2;
    if (this.markFirst > 128 && this.markFirst * 2 > marks.length) {
      this.marks = marks.slice(this.markFirst);
      this.markFirst = 0;
    }
  }

  /** Concatenates the run of data segments at head into one. */
  private mergeRun(): void {
    const segs = this.segs;
    let j = this.first;
    let total = 0;
    while (j < segs.length && (segs[j] as Segment).data !== null) total += (segs[j++] as Segment).len;
    const out = Buffer.allocUnsafe(total);
    let at = 0;
    for (let k = this.first; k < j; k++) {
      const s = segs[k] as Segment;
      (s.data as Buffer).copy(out, at, s.off, s.off + s.len);
      at += s.len;
    }
    const head = segs[this.first] as Segment;
    segs.splice(this.first, j - this.first, { pos: head.pos, len: total, data: out, off: 0 });
  }
}

/** A segment's bytes as a Buffer of their own; the view replaces data/off so it is made once. */
function view(s: Segment): Buffer {
  const data = s.data as Buffer;
  if (s.off === 0 && data.length === s.len) return data;
  const b = data.subarray(s.off, s.off + s.len);
  s.data = b;
  s.off = 0;
  return b;
}
