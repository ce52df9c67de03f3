// The collector pipeline: EventSource → ConnectionTracker (→ protocol parsers) → RowSink, with a
// periodic tick for timeouts. The only place in collector/ that owns a timer.
import type { RowSink } from '../engine/schema.ts';
import { ConnectionTracker, type TrackerOptions } from './conn/tracker.ts';
import type { EventSource, SocketEvent, SourceStats } from './events.ts';
import { newStats, type CollectorStats } from './stats.ts';

export interface CollectorOptions extends TrackerOptions {
  /** How often tick() runs while started (ms). */
  tickIntervalMs: number;
  /** Wall clock in ns since the epoch (injectable for tests). */
  now: () => bigint;
}

export interface CollectorStatsSnapshot extends CollectorStats {
  source: SourceStats;
}

const wallClockNs = (): bigint => BigInt(Date.now()) * 1_000_000n;

export class Collector {
  readonly tracker: ConnectionTracker;
  private readonly counters: CollectorStats = newStats();
  private readonly tickIntervalMs: number;
  private readonly now: () => bigint;
  private timer: NodeJS.Timeout | null = null;
  private running = false;
  private readonly onEvents = (events: SocketEvent[]): void => {
    if (this.running) this.tracker.handleBatch(events);
  };
  private readonly onEvent = (ev: SocketEvent, pos: number): void => {
    if (this.running) this.tracker.handleEvent(ev, pos);
  };
  private readonly onBatchEnd = (): void => {
    if (this.running) this.tracker.endBatch();
  };

  constructor(
    readonly source: EventSource,
    sink: RowSink,
    options: Partial<CollectorOptions> = {},
  ) {
    const { tickIntervalMs = 1000, now = wallClockNs, ...tracker } = options;
    this.tickIntervalMs = tickIntervalMs;
    this.now = now;
    // Sources that can stop a connection's payload at the source (eBPF) get told when its
    // parser gave up.
    const disable = (source as { disableConnection?: (tgid: number, fd: number, gen: bigint) => void }).disableConnection;
    if (disable && !tracker.onDisable) tracker.onDisable = (tgid, fd, gen) => disable.call(source, tgid, fd, gen);
    this.tracker = new ConnectionTracker(sink, tracker, this.counters);
  }

  async start(): Promise<void> {
    if (this.running) return;
    this.running = true;
    this.timer = setInterval(() => this.tick(), this.tickIntervalMs);
    this.timer.unref();
    try {
      // Event by event when the source can (no object per event), else batches of events.
      if (this.source.startEach) await this.source.startEach(this.onEvent, this.onBatchEnd);
      else await this.source.start(this.onEvents);
    } catch (err) {
      this.running = false;
      clearInterval(this.timer);
      this.timer = null;
      throw err;
    }
  }

  /** Stops the source, then flushes every connection so finished exchanges become rows. */
  async stop(): Promise<void> {
    if (!this.running) return;
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
    try {
      await this.source.stop();
    } finally {
      this.running = false;
      this.tracker.flushAll();
    }
  }

  tick(nowNs: bigint = this.now()): void {
    this.tracker.tick(nowNs);
  }

  stats(): CollectorStatsSnapshot {
    return { ...this.counters, openConnections: this.tracker.openConnections, source: this.source.stats() };
  }
}
