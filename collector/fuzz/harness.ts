// Parser fuzzing: mutated recorded streams and random bytes through the connection tracker with
// one protocol. Checks what the issue asks of every parser: no exception escapes (the tracker
// counts any in stats.errors), no infinite loop (every batch returns; the slowest is reported),
// bounded memory per connection (buffered bytes and pending requests checked after every batch),
// and failures resynchronise or disable the connection, counted.
import { ConnectionTracker } from '../conn/tracker.ts';
import type { SocketEvent } from '../events.ts';
import type { Protocol } from '../protocol.ts';
import { newStats, type CollectorStats } from '../stats.ts';
import { ConnScript, endpoint } from '../synth/conn-script.ts';
import { Rng } from '../synth/rng.ts';
import type { RowSink } from '../../engine/schema.ts';
import type { RecordedConnection } from './corpus.ts';

export interface FuzzOptions {
  inputs: number;
  seed: number;
  /** Tracker buffer cap per stream (kept small so overflow paths run). */
  maxBufferedBytes: number;
  /** Inputs (windows of recorded events) per fuzzed connection. */
  inputsPerConnection: number;
}

export interface FuzzResult {
  inputs: number;
  events: number;
  rows: number;
  seconds: number;
  /** Slowest single batch, ms: an infinite loop would never return, a pathological one shows here. */
  slowestBatchMs: number;
  maxBufferedSeen: number;
  maxPendingSeen: number;
  stats: CollectorStats;
  heapUsedMiB: number;
}

class CountingSink implements RowSink {
  rows = 0;
  append(): void {
    this.rows++;
  }
}

const BOUNDARY = [0x00, 0x01, 0x7f, 0x80, 0xfe, 0xff];

function mutateBytes(rng: Rng, src: Buffer, others: Buffer[]): Buffer {
  const b = Buffer.from(src);
  if (b.length === 0) return rng.bytes(rng.int(64));
  switch (rng.int(8)) {
    case 0: // flip a few bytes
      for (let i = 0; i < 1 + rng.int(4); i++) b[rng.int(b.length)] = rng.int(256);
      return b;
    case 1: // boundary values into a length-like spot
      for (let i = 0; i < 1 + rng.int(3); i++) b[rng.int(Math.min(b.length, 32))] = rng.pick(BOUNDARY);
      return b;
    case 2: // truncate
      return b.subarray(0, rng.int(b.length));
    case 3: // insert random bytes
      return Buffer.concat([b.subarray(0, rng.int(b.length)), rng.bytes(1 + rng.int(40)), b.subarray(rng.int(b.length))]);
    case 4: // duplicate a tail
      return Buffer.concat([b, b.subarray(rng.int(b.length))]);
    case 5: // splice with another recorded payload
      return Buffer.concat([b.subarray(0, rng.int(b.length)), rng.pick(others).subarray(rng.int(8))]);
    case 6: // a big-endian / little-endian length field set to something large
      if (b.length >= 4) b.writeUInt32BE(rng.pick([0x7fffffff, 0xffffffff, 0x00ffffff, rng.int(1 << 24)]), rng.int(b.length - 3));
      return b;
    default:
      return b;
  }
}

/** Endless mutated windows of the recorded connections. */
export function runFuzz(protocol: (stats: CollectorStats) => Protocol, corpus: RecordedConnection[], o: FuzzOptions): FuzzResult {
  const rng = new Rng(o.seed);
  const stats = newStats();
  const sink = new CountingSink();
  const tracker = new ConnectionTracker(sink, { maxBufferedBytes: o.maxBufferedBytes, reorderWindow: 4 }, stats, [protocol(stats)]);
  const allPayloads = corpus.flatMap((c) => c.map((x) => x.payload));
  const conns = (tracker as unknown as { conns: Map<number, { streams: { buffered: number }[]; pc: { pendingRequests(): number } | null }> }).conns;
  let inputs = 0;
  let events = 0;
  let slowest = 0;
  let maxBuffered = 0;
  let maxPending = 0;
  let t = 1_700_000_000_000_000_000n;
  const started = process.hrtime.bigint();
  for (let n = 0; inputs < o.inputs; n++) {
    const c = new ConnScript(endpoint({ fd: n % 64, connGen: BigInt(n), role: rng.pick([0, 1, 2] as const) }));
    const batch: SocketEvent[] = [];
    const rec = rng.pick(corpus);
    const openSeen = rng.int(3) > 0;
    if (openSeen) batch.push(c.open(t));
    // Windows of consecutive recorded chunks; from the start when the open was seen.
    let at = openSeen ? 0 : rng.int(rec.length);
    for (let k = 0; k < o.inputsPerConnection && inputs < o.inputs; k++, inputs++) {
      const len = 1 + rng.int(6);
      for (let j = 0; j < len; j++, at++) {
        t += 1000n;
        const chunk = rec[at % rec.length]!;
        const r = rng.int(20);
        let payload = chunk.payload;
        if (r === 0) payload = rng.bytes(rng.int(300));
        else if (r < 6) payload = mutateBytes(rng, payload, allPayloads);
        if (rng.int(30) === 0) {
          c.lose(chunk.direction, 1 + rng.int(payload.length + 1)); // a lost event: a gap
          continue;
        }
        // Sometimes split, sometimes captured only in part (a gap after the cap).
        const pieces = rng.int(8) === 0 ? 2 + rng.int(3) : 1;
        const step = Math.max(1, Math.ceil(payload.length / pieces));
        for (let off = 0; off < Math.max(payload.length, 1); off += step) {
          const part = payload.subarray(off, off + step);
          const cap = rng.int(25) === 0 ? rng.int(part.length + 1) : Infinity;
          batch.push(c.data(chunk.direction, part, t, cap));
        }
      }
    }
    // Neighbouring events swapped now and then, as if from different CPUs.
    for (let i = 1; i < batch.length; i++) if (rng.int(16) === 0) [batch[i - 1], batch[i]] = [batch[i]!, batch[i - 1]!];
    if (rng.int(4) > 0) batch.push(c.close(t));
    events += batch.length;
    const b0 = process.hrtime.bigint();
    tracker.handleBatch(batch);
    const ms = Number(process.hrtime.bigint() - b0) / 1e6;
    if (ms > slowest) slowest = ms;
    for (const conn of conns.values()) {
      const buffered = Math.max(conn.streams[0]!.buffered, conn.streams[1]!.buffered);
      if (buffered > maxBuffered) maxBuffered = buffered;
      const pending = conn.pc?.pendingRequests() ?? 0;
      if (pending > maxPending) maxPending = pending;
    }
    if (n % 256 === 0) tracker.tick(t + 60_000_000_000n);
  }
  tracker.flushAll();
  return {
    inputs, events, rows: sink.rows, seconds: Number(process.hrtime.bigint() - started) / 1e9,
    slowestBatchMs: +slowest.toFixed(2), maxBufferedSeen: maxBuffered, maxPendingSeen: maxPending, stats,
    heapUsedMiB: Math.round(process.memoryUsage().heapUsed / 1048576),
  };
}
