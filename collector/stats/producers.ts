// Runs the stats tables' producers on their timers next to a Collector: process_stats every
// second, conn_stats and wiretap_stats every `intervalMs`. conn_stats and process_stats need
// the eBPF source (kernel connection table, socket events); wiretap_stats works with any
// source. stop() takes a final sample so the last interval is not lost.
import type { RowSink } from '../../engine/schema.ts';
import type { Collector } from '../collector.ts';
import { EbpfSource } from '../sources/ebpf.ts';
import { ConnStatsProducer } from './conn-stats.ts';
import { ProcessStatsProducer } from './process-stats.ts';
import { WiretapStatsProducer, type CaptureCounters } from './wiretap-stats.ts';

export interface StatsProducerOptions {
  /** conn_stats and wiretap_stats interval (default 10 s). */
  intervalMs: number;
  /** process_stats interval (default 1 s). */
  processIntervalMs: number;
  asid: number;
  now: () => bigint;
}

const wallNs = () => BigInt(Date.now()) * 1_000_000n;

export class StatsProducers {
  readonly conn: ConnStatsProducer;
  readonly proc: ProcessStatsProducer;
  readonly wiretap: WiretapStatsProducer;
  private readonly o: StatsProducerOptions;
  private readonly ebpf: EbpfSource | undefined;
  private timers: NodeJS.Timeout[] = [];
  private startNs = 0n;

  constructor(
    private readonly collector: Collector,
    sink: RowSink,
    options: Partial<StatsProducerOptions> = {},
  ) {
    this.o = { intervalMs: 10_000, processIntervalMs: 1000, asid: 0, now: wallNs, ...options };
    this.conn = new ConnStatsProducer(sink, this.o.asid);
    this.proc = new ProcessStatsProducer(sink, this.o.asid);
    this.wiretap = new WiretapStatsProducer(sink);
    const src = collector.source;
    this.ebpf = src instanceof EbpfSource ? src : undefined;
    // Taps are registered before the source starts delivering.
    // Per event (the collector's eBPF path reuses one event object: no batch arrays). The
    // clock is read again once events are 100 ms past the last read (lastSeenMs need only be
    // about right; a BigInt compare costs less than Date.now() per event).
    let now = 0;
    let refreshAt = -1n;
    this.ebpf?.tapEach((e) => {
      if (e.timeNs > refreshAt || e.timeNs < refreshAt - 1_000_000_000n) { // (or the clock stepped back)
        now = Date.now();
        refreshAt = e.timeNs + 100_000_000n;
      }
      this.conn.observeEvent(e);
      this.proc.observeEvent(e, now);
    });
    this.ebpf?.onProcessEvents((evs) => this.proc.observeProcesses(evs));
  }

  start(): void {
    this.startNs = this.o.now();
    const every = (ms: number, f: () => void) => {
      const t = setInterval(f, ms);
      t.unref();
      this.timers.push(t);
    };
    every(this.o.intervalMs, () => this.sampleInterval());
    if (this.ebpf) every(this.o.processIntervalMs, () => this.proc.sample(this.o.now()));
  }

  /** conn_stats + wiretap_stats now (also what the timer runs). */
  sampleInterval(): void {
    const now = this.o.now();
    const table = this.ebpf?.native?.connections();
    if (table) this.conn.sample(table, now);
    this.wiretap.sample(this.counters(), this.collector.stats(), now, this.startNs);
  }

  /** Call before the collector stops: the final interval (the kernel table is gone after). */
  stop(): void {
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
    this.sampleInterval();
  }

  private counters(): CaptureCounters {
    const n = this.ebpf?.nativeStats();
    if (!n) {
      const s = this.collector.source.stats();
      return { kernelEvents: s.events, kernelBytes: s.bytes, kernelDrops: s.drops };
    }
    return { ...n, disabledConnections: this.ebpf!.disabledConnections };
  }
}
