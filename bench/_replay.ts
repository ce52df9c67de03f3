// Timing the collector (tracker + parsers + stitchers + row building) over pre-built event
// batches: what the parse benchmarks share.
import { ConnectionTracker } from '../collector/conn/tracker.ts';
import { newStats, type CollectorStats } from '../collector/stats.ts';
import type { SocketEvent } from '../collector/events.ts';
import type { Protocol } from '../collector/protocol.ts';
import { LegacyHttpProtocol } from '../collector/http/legacy/protocol.ts';
import { KafkaProtocol } from '../collector/kafka/protocol.ts';
import { MysqlProtocol } from '../collector/mysql/protocol.ts';
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

/** The collector's protocols with the frozen pre-rework HTTP parser (`--baseline`). */
export const legacyHttp = (stats: CollectorStats): Protocol[] => [
  new LegacyHttpProtocol(stats), new MysqlProtocol(stats), new KafkaProtocol(stats),
];

/**
 * Replays the batches through a fresh tracker `rounds` times and keeps the fastest run.
 * `protocols`: the tracker's protocol list (default: the collector's).
 */
export function timeReplay(
  batches: SocketEvent[][],
  rounds = 3,
  protocols?: (stats: CollectorStats) => Protocol[],
): ReplayTiming {
  const events = batches.reduce((n, b) => n + b.length, 0);
  let best = Infinity;
  let bestCpu = Infinity;
  let rows = 0;
  let last!: CollectorStats;
  for (let round = 0; round < rounds; round++) {
    const sink = new CountingSink();
    const stats = newStats();
    const tracker = new ConnectionTracker(sink, {}, stats, protocols?.(stats));
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
