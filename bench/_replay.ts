// Timing the collector (tracker + parsers + stitchers + row building) over pre-built event
// batches: what the parse benchmarks share.
import { ConnectionTracker } from '../collector/conn/tracker.ts';
import type { CollectorStats } from '../collector/stats.ts';
import type { SocketEvent } from '../collector/events.ts';
import type { RowSink } from '../engine/schema.ts';
import { eachRecord, HEADER_SIZE, Off, RecordDecoder } from '../collector/sources/ebpf-decode.ts';

/** Events as the eBPF source receives them: one buffer of ring records (bpf/README.md layout). */
export interface RingBatch {
  buf: Buffer;
  events: number;
  clockOffsetNs: bigint;
}

/**
 * Encodes socket events as ring records (the inverse of decodeRecord for what the tracker
 * reads): timestamps relative to `clockOffsetNs`, IPv4 addresses only.
 */
export function encodeBatch(events: readonly SocketEvent[], clockOffsetNs: bigint): RingBatch {
  const size = events.reduce((n, e) => n + 4 + HEADER_SIZE + e.payload.length, 0);
  const buf = Buffer.alloc(size);
  let at = 0;
  for (const e of events) {
    const o = at + 4;
    buf.writeUInt32LE(HEADER_SIZE + e.payload.length, at);
    buf[o + Off.kind] = e.kind;
    buf[o + Off.direction] = e.direction;
    buf[o + Off.role] = e.role;
    buf[o + Off.family] = e.family;
    buf.writeUInt32LE(e.fd, o + Off.fd);
    buf.writeUInt32LE(e.tgid, o + Off.tgid);
    buf.writeBigUInt64LE(e.startTicks, o + Off.startTicks);
    buf.writeBigUInt64LE(e.connGen, o + Off.gen);
    buf.writeBigUInt64LE(e.timeNs - clockOffsetNs, o + Off.tsEnter);
    buf.writeBigUInt64LE(e.timeNs - clockOffsetNs, o + Off.tsExit);
    buf.writeBigUInt64LE(e.kind === 3 ? BigInt(e.bytesSent ?? 0) : e.pos, o + Off.pos);
    buf.writeUInt32LE(e.size, o + Off.size);
    buf.writeUInt32LE(e.payload.length, o + Off.captured);
    buf.writeUInt16LE(e.localPort, o + Off.lport);
    buf.writeUInt16LE(e.remotePort, o + Off.rport);
    buf[o + Off.flags] = e.encrypted === true ? 2 : 0;
    for (const [addr, off] of [[e.localAddr, Off.laddr], [e.remoteAddr, Off.raddr]] as const) {
      if (e.family !== 4) throw new Error(`encodeBatch: IPv4 only (${addr})`);
      addr.split('.').forEach((b, k) => (buf[o + off + k] = Number(b)));
    }
    e.payload.copy(buf, o + HEADER_SIZE);
    at = o + HEADER_SIZE + e.payload.length;
  }
  return { buf, events: events.length, clockOffsetNs };
}

/** Counts rows and drops them: the benchmarks measure parsing, not storage. */
export class CountingSink implements RowSink {
  rows = 0;
  append(): void {
    this.rows++;
  }
}

export interface ReplayTiming {
  /** Fastest of the rounds, seconds. */
  seconds: number;
  /**
   * Least process CPU time (user + system) of the rounds, seconds: on a shared, oversubscribed
   * machine wall time includes waiting for a core; this does not (GC helper threads count).
   */
  cpuSeconds: number;
  events: number;
  /** Rows and tracker stats of the last round. */
  rows: number;
  stats: CollectorStats;
}

/**
 * Replays the batches through a fresh tracker `rounds` times and keeps the fastest run. Batches
 * given as ring buffer records (`RingBatch`, from encodeBatch) are decoded first, in the timed
 * loop (eachRecord + handleEvent, as the eBPF source feeds the Collector): the whole user-space
 * path of an eBPF event.
 */
export function timeReplay(batches: SocketEvent[][] | RingBatch[], rounds = 3): ReplayTiming {
  const ring = batches.length > 0 && !Array.isArray(batches[0]);
  const events = ring ? (batches as RingBatch[]).reduce((n, b) => n + b.events, 0) : (batches as SocketEvent[][]).reduce((n, b) => n + b.length, 0);
  let best = Infinity;
  let bestCpu = Infinity;
  let rows = 0;
  let last!: CollectorStats;
  for (let round = 0; round < rounds; round++) {
    const sink = new CountingSink();
    const tracker = new ConnectionTracker(sink);
    const c0 = process.cpuUsage();
    const t0 = process.hrtime.bigint();
    if (ring) {
      // As the eBPF source's startEach feeds the Collector: one reused event object.
      const dec = new RecordDecoder();
      const onEvent = (ev: SocketEvent, pos: number): void => tracker.handleEvent(ev, pos);
      for (const b of batches as RingBatch[]) {
        eachRecord(b.buf, b.clockOffsetNs, dec, onEvent);
        tracker.endBatch();
      }
    }
    else for (const b of batches as SocketEvent[][]) tracker.handleBatch(b);
    tracker.flushAll();
    best = Math.min(best, Number(process.hrtime.bigint() - t0) / 1e9);
    const c = process.cpuUsage(c0);
    bestCpu = Math.min(bestCpu, (c.user + c.system) / 1e6);
    rows = sink.rows;
    last = tracker.stats;
  }
  return { seconds: best, cpuSeconds: bestCpu, events, rows, stats: last };
}
