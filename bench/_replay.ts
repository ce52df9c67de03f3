// Timing the collector (tracker + parsers + stitchers + row building) over pre-built event
// batches: what the parse benchmarks share.
import { ConnectionTracker } from '../collector/conn/tracker.ts';
import type { CollectorStats } from '../collector/stats.ts';
import type { SocketEvent } from '../collector/events.ts';
import type { RowSink } from '../engine/schema.ts';

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

/** Replays the batches through a fresh tracker `rounds` times and keeps the fastest run. */
export function timeReplay(batches: SocketEvent[][], rounds = 3): ReplayTiming {
  const events = batches.reduce((n, b) => n + b.length, 0);
  let best = Infinity;
  let bestCpu = Infinity;
  let rows = 0;
  let last!: CollectorStats;
  for (let round = 0; round < rounds; round++) {
    const sink = new CountingSink();
    const tracker = new ConnectionTracker(sink);
    const c0 = process.cpuUsage();
    const t0 = process.hrtime.bigint();
    for (const b of batches) tracker.handleBatch(b);
    tracker.flushAll();
    best = Math.min(best, Number(process.hrtime.bigint() - t0) / 1e9);
    const c = process.cpuUsage(c0);
    bestCpu = Math.min(bestCpu, (c.user + c.system) / 1e6);
    rows = sink.rows;
    last = tracker.stats;
  }
  return { seconds: best, cpuSeconds: bestCpu, events, rows, stats: last };
}
