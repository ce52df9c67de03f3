// One direction of a connection: captured bytes ordered by stream position, with known gaps
// (bytes moved but not copied) kept as markers, a small reorder window for events that arrive
// out of order (different CPUs), and event time markers so a parser can ask "when did byte X
// arrive". Data is concatenated lazily, only when a parser asks for contiguous bytes; consuming
// part of a piece moves an offset into it (a Buffer view is made only if a parser asks for one).
// Segment objects and the mark array are reused: live segments are segs[first, nSegs), marks
// [markFirst, nMarks); when the stream runs empty both start over at index 0, so the common
// "one event = one whole message" stream allocates nothing per event (and a stream reset for a
// new connection keeps them, see reset()).
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

  /** Live segments are [first, nSegs); objects past nSegs are spare (data null). */
  private segs: Segment[] = [];
  private first = 0;
  private nSegs = 0;
  /** Event time marks, flat: position, time, position, time… (one array: one allocation). */
  private marks: (number | bigint)[] = [];
  /** Index in `marks` of the first live mark's position; marks end at nMarks. */
  private markFirst = 0;
  private nMarks = 0;
  /** Events ahead of `end`, sorted by position, waiting for the bytes before them (NO_HELD,
   *  shared, until the first: most streams never hold one). */
  private held: SocketEvent[] = NO_HELD;
  private heldSince = 0n;

  constructor(
    private readonly stats: CollectorStats,
    private readonly reorderWindow: number,
  ) {}

  /**
   * Back to a new stream's state for another connection (the tracker pools released
   * connections). Keeps the segment objects and the mark array unless they grew large.
   */
  reset(): void {
    this.dropAll();
    this.head = this.end = this.buffered = this.pieceStart = this.pieceEnd = 0;
    this.started = this.ended = this.resyncing = false;
    this.first = this.nSegs = this.markFirst = this.nMarks = 0;
    if (this.segs.length > 64) this.segs = [];
    if (this.marks.length > 256) this.marks = [];
    this.held = NO_HELD;
    this.heldSince = 0n;
  }

  /** Starts the stream at a position (the first event seen, or the one protocol inference chose). */
  startAt(pos: number): void {
    this.started = true;
    this.head = this.end = pos;
  }

  /** `pos`: ev.pos as a number (a source that decodes it as one passes it, no BigInt made).
   *  `ev` is not kept (copied if held for reordering): sources may reuse the object. */
  push(ev: SocketEvent, pos: number = Number(ev.pos)): void {
    if (ev.size <= 0) return;
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
    if (this.first === this.nSegs) return 0;
    const s = this.segs[this.first] as Segment;
    return s.data === null ? s.len : 0;
  }

  contiguous(): Buffer {
    if (this.first === this.nSegs) return EMPTY;
    const s = this.segs[this.first] as Segment;
    if (s.data === null) return EMPTY;
    if (this.first + 1 < this.nSegs && (this.segs[this.first + 1] as Segment).data !== null) this.mergeRun();
    return view(this.segs[this.first] as Segment);
  }

  firstChunk(): Buffer {
    if (this.first === this.nSegs) return EMPTY;
    const s = this.segs[this.first] as Segment;
    return s.data === null ? EMPTY : view(s);
  }

  piece(): Buffer {
    const s = this.first === this.nSegs ? undefined : (this.segs[this.first] as Segment);
    if (s === undefined || s.data === null) {
      this.pieceStart = this.pieceEnd = 0;
      return EMPTY;
    }
    this.pieceStart = s.off;
    this.pieceEnd = s.off + s.len;
    return s.data;
  }

  gapFollows(): boolean {
    if (this.first === this.nSegs) return false;
    if ((this.segs[this.first] as Segment).data === null) return true;
    this.contiguous();
    return this.nSegs > this.first + 1;
  }

  consume(n: number): void {
    if (n > this.end - this.head) n = this.end - this.head;
    if (n <= 0) return;
    this.head += n;
    const segs = this.segs;
    while (n > 0) {
      const s = segs[this.first] as Segment;
      if (n >= s.len) {
        n -= s.len;
        if (s.data !== null) {
          this.buffered -= s.len;
          s.data = null; // a spare segment keeps no batch buffer alive
        }
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
    if (this.first === this.nSegs) {
      // Empty: segments start over at index 0; only the last mark is kept (timeAt(0) of an
      // empty stream is the time of the last event, as before).
      this.first = this.nSegs = 0;
      const m = this.nMarks;
      if (m > 2) {
        const marks = this.marks;
        marks[0] = marks[m - 2] as number;
        marks[1] = marks[m - 1] as bigint;
        this.nMarks = 2;
      }
      this.markFirst = 0;
      return;
    }
    if (this.first > 32 && this.first * 2 > this.nSegs) {
      // Live segments to the front, the consumed ones after them as spares.
      const live = this.nSegs - this.first;
      for (let i = 0; i < live; i++) {
        const t = segs[i] as Segment;
        segs[i] = segs[this.first + i] as Segment;
        segs[this.first + i] = t;
      }
      this.first = 0;
      this.nSegs = live;
    }
    this.pruneMarks();
  }

  timeAt(offset: number): bigint {
    const p = this.head + offset;
    const marks = this.marks;
    // Mark indexes (k: position at 2k, time at 2k + 1).
    let lo = this.markFirst >> 1;
    let hi = (this.nMarks >> 1) - 1;
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
    // A copy: the source may reuse `ev` (and leave its pos unset) once push returns.
    held.splice(i, 0, { ...ev, pos: BigInt(pos) });
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
    this.addSegment(len, buf, off);
    this.end += len;
    this.buffered += len;
  }

  private addGap(len: number, timeNs: bigint): void {
    const last = this.nSegs > this.first ? (this.segs[this.nSegs - 1] as Segment) : undefined;
    if (last !== undefined && last.data === null) {
      last.len += len;
    } else {
      this.mark(this.end, timeNs);
      this.addSegment(len, null, 0);
    }
    this.end += len;
  }

  /** A segment at `end`: a spare object when there is one. */
  private addSegment(len: number, data: Buffer | null, off: number): void {
    const segs = this.segs;
    const n = this.nSegs++;
    if (n < segs.length) {
      const s = segs[n] as Segment;
      s.pos = this.end;
      s.len = len;
      s.data = data;
      s.off = off;
    } else {
      segs.push({ pos: this.end, len, data, off });
    }
  }

  private mark(pos: number, timeNs: bigint): void {
    const marks = this.marks;
    const n = this.nMarks;
    if (n > this.markFirst && marks[n - 2] === pos) {
      marks[n - 1] = timeNs;
      return;
    }
    marks[n] = pos;
    marks[n + 1] = timeNs;
    this.nMarks = n + 2;
  }

  private pruneMarks(): void {
    const marks = this.marks;
    const n = this.nMarks;
    while (this.markFirst + 2 < n && (marks[this.markFirst + 2] as number) <= this.head) this.markFirst += 2;
    if (this.markFirst > 128 && this.markFirst * 2 > n) {
      const from = this.markFirst;
      for (let i = from; i < n; i++) marks[i - from] = marks[i] as number | bigint;
      this.nMarks = n - from;
      this.markFirst = 0;
    }
  }

  /** Concatenates the run of data segments at head into one. */
  private mergeRun(): void {
    const segs = this.segs;
    let j = this.first;
    let total = 0;
    while (j < this.nSegs && (segs[j] as Segment).data !== null) total += (segs[j++] as Segment).len;
    const out = Buffer.allocUnsafe(total);
    let at = 0;
    for (let k = this.first; k < j; k++) {
      const s = segs[k] as Segment;
      (s.data as Buffer).copy(out, at, s.off, s.off + s.len);
      at += s.len;
    }
    const head = segs[this.first] as Segment;
    head.len = total;
    head.data = out;
    head.off = 0;
    // The merged segments [first + 1, j) become spares after the live ones.
    const from = this.first + 1;
    const n = this.nSegs;
    for (let k = from; k < j; k++) (segs[k] as Segment).data = null;
    for (let k = j; k < n; k++) {
      const t = segs[k - j + from] as Segment;
      segs[k - j + from] = segs[k] as Segment;
      segs[k] = t;
    }
    this.nSegs = n - (j - from);
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
