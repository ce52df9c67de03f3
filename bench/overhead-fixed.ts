// `npm run bench -- overhead-fixed [--rate 5000] [--seconds 10] [--rounds 5] [--nice 0] [--bpf-stats]`
// Latency cost of capture at a fixed load: a rate-limited keep-alive client (GET /seq/N at
// --rate req/s over 16 connections) against a private nginx (1 worker) on 127.0.0.1, rounds
// alternating without and with the full capture pipeline (eBPF source → collector → HTTP
// rows). Reports p50/p99 medians and ratios, and the collector's CPU (this process: JS thread,
// poller thread) in cores. Targets (issue 3): p99 added ≤ 5%, collector CPU ≤ 0.25 core.
import { setPriority } from 'node:os';
import { Collector } from '../collector/collector.ts';
import { EbpfSource } from '../collector/sources/ebpf.ts';
import type { RowSink } from '../engine/schema.ts';
import { probe } from '../native/index.ts';
import { addProgStats, enableBpfStats, median, missing, opt, progCost, rateClient, startNginx, type RateResult } from './_nginx.ts';

const log = (s: string) => process.stderr.write(`[overhead-fixed] ${s}\n`);

export default async function overheadFixed(args: string[]): Promise<object> {
  const rate = opt(args, '--rate', 5000);
  const seconds = opt(args, '--seconds', 10);
  const rounds = opt(args, '--rounds', 5);
  const nice = opt(args, '--nice', 0);
  const skip = probe() ?? missing(['nginx']);
  if (skip) return { skipped: skip };
  const nginx = await startNginx();
  // Off by default: the counters cost every program run two clock reads (~45 ns per run here),
  // which would count as capture overhead.
  const bpfStats = args.includes('--bpf-stats');
  const restore = bpfStats ? enableBpfStats() : () => {};
  const off: RateResult[] = [];
  const on: (RateResult & { cpuCores: number; rows: number; drops: number })[] = [];
  const cost: Record<string, { runs: number; ns: number }> = {};
  try {
    log(`nginx on ${nginx.url}; warm-up`);
    await rateClient(nginx.url, rate, 1);
    for (let r = 0; r < rounds; r++) {
      const a = await rateClient(nginx.url, rate, seconds);
      off.push(a);
      log(`round ${r + 1} off: ${a.ok}/${a.sent} ok, p50 ${a.p50Ms.toFixed(3)} ms, p99 ${a.p99Ms.toFixed(3)} ms`);
      let rows = 0;
      const sink: RowSink = { append: () => void rows++ };
      setPriority(nice);
      const source = new EbpfSource({});
      const collector = new Collector(source, sink);
      const cpu0 = process.cpuUsage();
      const t0 = process.hrtime.bigint();
      await collector.start();
      const b = await rateClient(nginx.url, rate, seconds);
      addProgStats(cost, source.native?.progStats() ?? []);
      await collector.stop();
      setPriority(0);
      const cpu = process.cpuUsage(cpu0);
      const cpuCores = (cpu.user + cpu.system) / (Number(process.hrtime.bigint() - t0) / 1000);
      on.push({ ...b, cpuCores, rows, drops: source.stats().drops });
      log(`round ${r + 1} on:  ${b.ok}/${b.sent} ok, p50 ${b.p50Ms.toFixed(3)} ms, p99 ${b.p99Ms.toFixed(3)} ms, ${rows} rows, cpu ${cpuCores.toFixed(3)} cores`);
    }
  } finally {
    restore();
    await nginx.stop();
  }
  const m = (xs: RateResult[], k: 'p50Ms' | 'p99Ms') => median(xs.map((x) => x[k]));
  const p99Ratios = on.map((x, i) => x.p99Ms / off[i].p99Ms);
  return {
    rate, seconds, rounds, nice, bpfStats,
    server: 'nginx (1 worker), 40-byte body; node keep-alive client, 16 connections, fixed schedule',
    off: { p50MsMedian: m(off, 'p50Ms'), p99MsMedian: m(off, 'p99Ms') },
    on: { p50MsMedian: m(on, 'p50Ms'), p99MsMedian: m(on, 'p99Ms'), collectorCpuCoresMedian: median(on.map((x) => x.cpuCores)) },
    p99RatioOfMedians: Number((m(on, 'p99Ms') / m(off, 'p99Ms')).toFixed(3)),
    p99RatioMedianOfRounds: Number(median(p99Ratios).toFixed(3)),
    p50RatioOfMedians: Number((m(on, 'p50Ms') / m(off, 'p50Ms')).toFixed(3)),
    rowsPerRequest: Number((on.reduce((a, x) => a + x.rows, 0) / on.reduce((a, x) => a + x.ok, 0)).toFixed(3)),
    drops: on.reduce((a, x) => a + x.drops, 0),
    ...(bpfStats ? { bpfCost: progCost(cost) } : {}),
  };
}
