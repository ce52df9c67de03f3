// wiretap_stats producer: per interval, what capture delivered, lost and left out, as deltas
// of the kernel, loader and collector counters (so a query can sum any time range).
import { hostname } from 'node:os';
import type { RowSink } from '../../engine/schema.ts';
import type { WiretapStatsRow } from '../../engine/tables/wiretap-stats.ts';
import type { CollectorStats } from '../stats.ts';

/** Cumulative counters as the sources expose them (missing ones count as 0). */
export interface CaptureCounters {
  kernelEvents?: number;
  kernelBytes?: number;
  socketBytes?: number;
  kernelDrops?: number;
  userDrops?: number;
  kernelTruncated?: number;
  kernelSkipped?: number;
  kernelSkippedBytes?: number;
  disabledConnections?: number;
  kernelTlsNoFd?: number;
  kernelMmsgLost?: number;
}

type Counted = Omit<WiretapStatsRow, 'timeNs' | 'node' | 'intervalNs' | 'parseFailuresByProtocol'>;

function totals(k: CaptureCounters, c: CollectorStats): Counted {
  return {
    events: k.kernelEvents ?? 0,
    eventBytes: k.kernelBytes ?? 0,
    socketBytes: k.socketBytes ?? 0,
    ringbufDrops: k.kernelDrops ?? 0,
    userDrops: k.userDrops ?? 0,
    truncated: k.kernelTruncated ?? 0,
    unshippedCalls: k.kernelSkipped ?? 0,
    unshippedBytes: k.kernelSkippedBytes ?? 0,
    disabledConnections: k.disabledConnections ?? 0,
    gapBytes: c.gapBytes,
    parseFailures: c.parseFailures,
    records: c.records,
    expiredRequests: c.expiredRequests,
    tlsUnmappedCalls: k.kernelTlsNoFd ?? 0,
    mmsgLost: k.kernelMmsgLost ?? 0,
  };
}

export class WiretapStatsProducer {
  private last: Counted | null = null;
  private lastByProtocol: Record<string, number> = {};
  private lastNs: bigint | null = null;

  constructor(
    private readonly sink: RowSink,
    private readonly node = hostname(),
  ) {}

  /** Appends the row for the interval since the previous sample (the first sample counts from start). */
  sample(kernel: CaptureCounters, collector: CollectorStats, timeNs: bigint, startNs: bigint): WiretapStatsRow {
    const now = totals(kernel, collector);
    const prev = this.last;
    const delta = { ...now };
    if (prev) for (const k of Object.keys(delta) as (keyof Counted)[]) delta[k] = Math.max(0, now[k] - prev[k]);
    const by: Record<string, number> = {};
    for (const [k, v] of Object.entries(collector.parseFailuresByProtocol ?? {})) {
      const d = v - (this.lastByProtocol[k] ?? 0);
      if (d > 0) by[k] = d;
    }
    this.lastByProtocol = { ...(collector.parseFailuresByProtocol ?? {}) };
    const row: WiretapStatsRow = {
      timeNs, node: this.node, intervalNs: Number(timeNs - (this.lastNs ?? startNs)), ...delta,
      parseFailuresByProtocol: JSON.stringify(by),
    };
    this.last = now;
    this.lastNs = timeNs;
    this.sink.append('wiretap_stats', row);
    return row;
  }
}
