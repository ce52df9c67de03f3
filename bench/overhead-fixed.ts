// `npm run bench -- overhead-fixed [--rate 5000] [--seconds 10] [--rounds 5] [--nice 0] [--bpf-stats]
//                                  [--client-rt 10] [--client-spin 0] [--server-rt 0] [--settle 0]
//                                  [--on-warmup 0] [--start-in-load 0] [--start-nice 19]
//                                  [--nice-threads all|js]
//                                  [--baseline PATH/wiretap_native.node]`
// Latency cost of capture at a fixed load: the C open-loop rate client (bench/ratecli: GET /seq/N
// at --rate req/s over 16 keep-alive connections, latency from each request's intended send time,
// log-linear histogram) against a private nginx (1 worker) on 127.0.0.1, rounds alternating
// without and with the full capture pipeline (eBPF source → collector → HTTP rows). Reports
// p50/p99 medians and ratios (of medians, and the median of per-round ratios), the client's own
// scheduling jitter per phase (how late its timer loop saw requests fall due: a p99 change
// smaller than that jitter is not measurable), the nginx worker's CPU per request and time spent
// runnable but waiting for a CPU (/proc/PID/schedstat: in-kernel capture cost vs competition for
// the cores), the slowest request's time into the run, and the collector's CPU (this process: JS
// thread, poller thread) in cores, over the whole on-phase (load/verify and detach included) and
// during the load alone. Before bench/ratecli the rate client was a node script whose own jitter was
// milliseconds (p99 of the off phase moved 6.3 → 8.4 ms between runs). --client-rt: the
// client's SCHED_FIFO priority (default 10; 0: an ordinary nice-0 process): on a busy machine
// its wake-ups then do not queue behind other runnable work. --client-spin US: the client wakes
// US µs early and spins to each intended time (its ~40 µs timer wake-up lateness → < 1 µs at
// p90 here, for ~+30 µs CPU per request). --server-rt N: the nginx worker
// under SCHED_FIFO too — a diagnostic for a loaded machine: what is left of the p99 change is
// the in-kernel cost in nginx's own syscalls, not the collector (or anyone) competing with it
// for CPU. --settle S: S seconds between the collector's start and the load (counted in the
// on-phase CPU). --on-warmup S: S seconds of the same load after the collector's start, reported
// apart (`onWarmup`), before the measured load: steady state without the collector's first
// second of traffic (JIT, first allocations), where the worst on-phase stalls were seen.
// --start-in-load S (with --on-warmup > S): the warm-up load begins S seconds before the
// collector's start, so `onWarmup` includes the start itself (program load and verify, TLS
// scan) as a service running during a deploy sees it. --start-nice N: the EbpfSource's
// startNice (the JS thread's nice during that start; 0: at the thread's own, as before).
// --nice-threads: --nice on every thread of this process (all, as `wiretap start --nice`
// does) or on the JS thread alone (js: V8's compiler/GC workers stay at 0, as before).
// --baseline: each round
// also runs the same pipeline on another addon build ("base", e.g. the previous commit's), for
// A/B. Targets (issue 3): p99 added ≤ 5%, collector CPU ≤ 0.25 core.
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { setPriority } from 'node:os';
import { niceAllThreads } from '../collector/priority.ts';
import { Collector } from '../collector/collector.ts';
import { EbpfSource } from '../collector/sources/ebpf.ts';
import type { RowSink } from '../engine/schema.ts';
import { probe, type openTracer } from '../native/index.ts';
import { addProgStats, enableBpfStats, median, missing, opt, optStr, progCost, rateClient, schedStat, sleep, startNginx, type RateResult } from './_nginx.ts';

const log = (s: string) => process.stderr.write(`[overhead-fixed] ${s}\n`);
const show = (b: RateResult & { nginxCpuUsPerReq: number; nginxWaitMs: number }) =>
  `nginx ${b.nginxCpuUsPerReq.toFixed(1)} µs/req, waited ${b.nginxWaitMs.toFixed(0)} ms; ${b.ok}/${b.count} ok, p50 ${b.p50Ms.toFixed(3)} ms, p99 ${b.p99Ms.toFixed(3)} ms, max ${b.maxMs.toFixed(1)} ms at ${b.maxAtS.toFixed(1)} s; client late p99 ${b.schedLateUs.p99.toFixed(0)} µs, max ${(b.schedLateUs.max / 1000).toFixed(1)} ms at ${b.schedLateUs.maxAtS.toFixed(1)} s, cpu ${b.cpuMs.toFixed(0)} ms`;

export default async function overheadFixed(args: string[]): Promise<object> {
  const rate = opt(args, '--rate', 5000);
  const seconds = opt(args, '--seconds', 10);
  const rounds = opt(args, '--rounds', 5);
  const nice = opt(args, '--nice', 0);
  const baseline = optStr(args, '--baseline', '');
  const client = { rtPrio: opt(args, '--client-rt', 10), spinUs: opt(args, '--client-spin', 0) };
  const serverRt = opt(args, '--server-rt', 0);
  const settle = opt(args, '--settle', 0);
  const onWarmup = opt(args, '--on-warmup', 0);
  const startInLoad = opt(args, '--start-in-load', 0);
  const startNice = opt(args, '--start-nice', 19);
  const niceThreads = optStr(args, '--nice-threads', 'all');
  if (niceThreads !== 'all' && niceThreads !== 'js') throw new Error('--nice-threads: all or js');
  if (startInLoad > 0 && onWarmup <= startInLoad) throw new Error('--start-in-load S needs --on-warmup > S');
  const renice = (n: number) => (niceThreads === 'all' ? niceAllThreads(n) : setPriority(n));
  const warm: RateResult[] = [];
  type Opener = typeof openTracer;
  const Base = baseline ? (createRequire(import.meta.url)(baseline) as { Tracer: new (...a: Parameters<Opener>) => ReturnType<Opener> }).Tracer : undefined;
  const openBase: Opener | undefined = Base && ((o, cb) => new Base(o, cb));
  const skip = probe() ?? missing(['nginx']);
  if (skip) return { skipped: skip };
  const nginx = await startNginx();
  if (serverRt) {
    const chrt = spawnSync('chrt', ['-f', '-p', String(serverRt), String(nginx.pid)], { encoding: 'utf8' });
    if (chrt.status !== 0) {
      await nginx.stop();
      throw new Error(`--server-rt ${serverRt}: chrt failed: ${chrt.stderr || chrt.error?.message}`);
    }
  }
  // Off by default: the counters cost every program run two clock reads (~45 ns per run here),
  // which would count as capture overhead.
  const bpfStats = args.includes('--bpf-stats');
  const restore = bpfStats ? enableBpfStats() : () => {};
  // One load run, with what the nginx worker spent meanwhile: CPU per request (in-kernel capture
  // cost lands here) and time waiting for a CPU (competition with the collector and the rest).
  type Load = RateResult & { nginxCpuUsPerReq: number; nginxWaitMs: number };
  const load = async (): Promise<Load> => {
    const s0 = schedStat(nginx.pid);
    const b = await rateClient(nginx.url, rate, seconds, client);
    const s1 = schedStat(nginx.pid);
    return { ...b, nginxCpuUsPerReq: Number(((s1.cpuNs - s0.cpuNs) / 1000 / b.count).toFixed(2)), nginxWaitMs: Number(((s1.waitNs - s0.waitNs) / 1e6).toFixed(1)) };
  };
  const off: Load[] = [];
  type On = Load & { cpuCores: number; loadCpuCores: number; rows: number; answered: number; drops: number };
  const on: On[] = [];
  const base: On[] = [];
  const cost: Record<string, { runs: number; ns: number }> = {};
  // The full pipeline on this tree's addon, or on the baseline build.
  const onPhase = async (r: number, open: Opener | undefined): Promise<On> => {
    let rows = 0;
    const sink: RowSink = { append: () => void rows++ };
    renice(nice);
    const source = new EbpfSource({ open, startNice });
    const collector = new Collector(source, sink);
    // The warm-up load already running when the collector starts (--start-in-load).
    const early = startInLoad > 0 ? rateClient(nginx.url, rate, onWarmup, client) : undefined;
    if (early) await sleep(startInLoad * 1000);
    const cpu0 = process.cpuUsage();
    const t0 = process.hrtime.bigint();
    await collector.start();
    if (settle > 0) await sleep(settle * 1000);
    let warmOk = 0; // the warm-up's requests make rows too
    if (onWarmup > 0) {
      const w = await (early ?? rateClient(nginx.url, rate, onWarmup, client));
      warmOk = w.ok;
      if (!open) warm.push(w);
      log(`round ${r + 1} warm-up: p99 ${w.p99Ms.toFixed(3)} ms, max ${w.maxMs.toFixed(1)} ms at ${w.maxAtS.toFixed(1)} s`);
    }
    const cpuL0 = process.cpuUsage();
    const tL0 = process.hrtime.bigint();
    const b = await load();
    const cpuL = process.cpuUsage(cpuL0);
    const loadCpuCores = (cpuL.user + cpuL.system) / (Number(process.hrtime.bigint() - tL0) / 1000);
    if (!open) addProgStats(cost, source.native?.progStats() ?? []);
    await collector.stop();
    renice(0);
    const cpu = process.cpuUsage(cpu0);
    const cpuCores = (cpu.user + cpu.system) / (Number(process.hrtime.bigint() - t0) / 1000);
    log(`round ${r + 1} ${open ? 'base' : 'on:  '}: ${show(b)}, ${rows} rows, cpu ${cpuCores.toFixed(3)} cores (load ${loadCpuCores.toFixed(3)})`);
    return { ...b, cpuCores, loadCpuCores, rows, answered: warmOk + b.ok, drops: source.stats().drops };
  };
  try {
    log(`nginx on ${nginx.url}; warm-up`);
    await rateClient(nginx.url, rate, 1, client);
    for (let r = 0; r < rounds; r++) {
      const a = await load();
      off.push(a);
      log(`round ${r + 1} off: ${show(a)}`);
      // Alternate which build runs first after the off round.
      if (openBase && r % 2 === 1) base.push(await onPhase(r, openBase));
      on.push(await onPhase(r, undefined));
      if (openBase && r % 2 === 0) base.push(await onPhase(r, openBase));
    }
  } finally {
    restore();
    await nginx.stop();
  }
  const m = (xs: RateResult[], k: 'p50Ms' | 'p99Ms') => median(xs.map((x) => x[k]));
  const ratio = (k: 'p50Ms' | 'p99Ms') => Number(median(on.map((x, i) => x[k] / off[i][k])).toFixed(3));
  // The client's own jitter in a phase: medians over rounds of its lateness percentiles, µs.
  const late = (xs: RateResult[]) => ({ p50: median(xs.map((x) => x.schedLateUs.p50)), p99: median(xs.map((x) => x.schedLateUs.p99)), max: Math.max(...xs.map((x) => x.schedLateUs.max)) });
  const failed = [...off, ...on, ...base].reduce((a, x) => a + x.failed, 0);
  const nginxOf = (xs: Load[]) => ({ cpuUsPerReqMedian: median(xs.map((x) => x.nginxCpuUsPerReq)), waitMsMedian: median(xs.map((x) => x.nginxWaitMs)) });
  return {
    rate, seconds, rounds, nice, niceThreads, startNice, startInLoad, bpfStats, clientRtPrio: client.rtPrio, clientSpinUs: client.spinUs, serverRtPrio: serverRt, settle, onWarmup,
    server: 'nginx (1 worker), 40-byte body; C open-loop client (bench/ratecli), 16 keep-alive connections, latency from the intended send time',
    off: { p50MsMedian: m(off, 'p50Ms'), p99MsMedian: m(off, 'p99Ms'), clientLateUs: late(off), nginx: nginxOf(off) },
    on: {
      p50MsMedian: m(on, 'p50Ms'), p99MsMedian: m(on, 'p99Ms'), collectorCpuCoresMedian: median(on.map((x) => x.cpuCores)),
      collectorCpuCoresDuringLoadMedian: Number(median(on.map((x) => x.loadCpuCores)).toFixed(3)),
      clientLateUs: late(on), nginx: nginxOf(on),
    },
    ...(openBase ? {
      baseline,
      base: {
        p50MsMedian: m(base, 'p50Ms'), p99MsMedian: m(base, 'p99Ms'), collectorCpuCoresMedian: median(base.map((x) => x.cpuCores)),
        collectorCpuCoresDuringLoadMedian: Number(median(base.map((x) => x.loadCpuCores)).toFixed(3)),
        p99RatioOfMedians: Number((m(base, 'p99Ms') / m(off, 'p99Ms')).toFixed(3)),
        p50RatioOfMedians: Number((m(base, 'p50Ms') / m(off, 'p50Ms')).toFixed(3)),
      },
    } : {}),
    ...(warm.length ? { onWarmup: { p99MsMedian: m(warm, 'p99Ms'), maxMsMedian: median(warm.map((x) => x.maxMs)), p99Ms: warm.map((x) => x.p99Ms), maxMs: warm.map((x) => x.maxMs) } } : {}),
    // The client's own p99 lateness as a share of the off phase's p99: a p99 change smaller
    // than this is within the client's own jitter.
    clientLateP99ShareOfOffP99: Number((late(off).p99 / 1000 / m(off, 'p99Ms')).toFixed(3)),
    p99RatioOfMedians: Number((m(on, 'p99Ms') / m(off, 'p99Ms')).toFixed(3)),
    p99RatioMedianOfRounds: ratio('p99Ms'),
    p50RatioOfMedians: Number((m(on, 'p50Ms') / m(off, 'p50Ms')).toFixed(3)),
    p50RatioMedianOfRounds: ratio('p50Ms'),
    perRound: off.map((x, i) => ({
      offP99Ms: x.p99Ms, onP99Ms: on[i].p99Ms, offP50Ms: x.p50Ms, onP50Ms: on[i].p50Ms,
      offClientLateP99Us: x.schedLateUs.p99, onClientLateP99Us: on[i].schedLateUs.p99,
      offMaxMsAtS: [x.maxMs, x.maxAtS], onMaxMsAtS: [on[i].maxMs, on[i].maxAtS],
      offNginxWaitMs: x.nginxWaitMs, onNginxWaitMs: on[i].nginxWaitMs,
      offClientCpuMs: x.cpuMs, onClientCpuMs: on[i].cpuMs, offFailed: x.failed, onFailed: on[i].failed,
    })),
    failedRequests: failed,
    rowsPerRequest: Number((on.reduce((a, x) => a + x.rows, 0) / on.reduce((a, x) => a + x.answered, 0)).toFixed(3)),
    drops: on.reduce((a, x) => a + x.drops, 0),
    ...(bpfStats ? { bpfCost: progCost(cost) } : {}),
  };
}
