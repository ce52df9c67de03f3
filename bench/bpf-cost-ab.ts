// `npm run bench -- bpf-cost-ab --baseline PATH/wiretap_native.node [--seconds 3] [--rounds 6]
//                               [--connections 16] [--cpu]`
// Per-program BPF cost of two builds of the tracer, side by side: the baseline addon (e.g. the
// previous commit's build, copied aside) and this tree's, both attached at once (raw mode) to
// the same nginx + wrk load, so every traced syscall runs both programs under the same machine
// noise. Attach order alternates per round (the program that runs second finds warm caches).
// Reports ns/run per program and build (kernel BPF run-time counters) and the ratios.
// --cpu: instead, rounds of off / baseline alone / current alone (order rotating), and the CPU
// time nginx and wrk spent per request in each (what the programs cost the traced processes,
// trampolines and helpers included, which ns/run does not show); medians and ratios to off.
// The tracers deliver to an empty callback (no collector). Needs root, nginx and wrk.
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { openTracer, probe, type NativeTracer, type TracerOptions } from '../native/index.ts';
import { addProgStats, cpuNs, enableBpfStats, median, missing, opt, optStr, progCost, startNginx, wrk, type Nginx } from './_nginx.ts';

const log = (s: string) => process.stderr.write(`[bpf-cost-ab] ${s}\n`);

type Open = () => NativeTracer;

export default async function bpfCostAb(args: string[]): Promise<object> {
  const baseline = optStr(args, '--baseline', '');
  const seconds = opt(args, '--seconds', 3);
  const rounds = opt(args, '--rounds', 6);
  const connections = opt(args, '--connections', 16);
  if (!baseline || !existsSync(baseline)) return { skipped: `--baseline PATH to a wiretap_native.node build is required (got '${baseline}')` };
  const skip = probe() ?? missing(['nginx', 'wrk']);
  if (skip) return { skipped: skip };
  const opts: TracerOptions = { attach: 'raw' };
  const Base = (createRequire(import.meta.url)(baseline) as { Tracer: new (o: TracerOptions, cb: () => void) => NativeTracer }).Tracer;
  const builds: Record<'baseline' | 'current', Open> = {
    baseline: () => new Base(opts, () => {}),
    current: () => openTracer(opts, () => {}),
  };
  if (args.includes('--cpu')) return cpuAb(builds, seconds, rounds, connections, baseline);
  const cost: Record<string, Record<string, { runs: number; ns: number }>> = { baseline: {}, current: {} };
  const nginx = await startNginx();
  const restore = enableBpfStats();
  try {
    await wrk(nginx.url, 1, connections);
    for (let r = 0; r < rounds; r++) {
      const order = r % 2 === 0 ? (['baseline', 'current'] as const) : (['current', 'baseline'] as const);
      const open = order.map((b) => [b, builds[b]()] as const);
      // Only what ran during the load (the first build also ran while the second loaded).
      const before = open.map(([, t]) => t.progStats());
      const res = await wrk(nginx.url, seconds, connections);
      open.forEach(([b, t], i) => {
        const was = new Map(before[i]!.map((p) => [p.name, p]));
        addProgStats(cost[b]!, t.progStats().map((p) => ({
          name: p.name, runCnt: p.runCnt - (was.get(p.name)?.runCnt ?? 0), runTimeNs: p.runTimeNs - (was.get(p.name)?.runTimeNs ?? 0),
        })));
      });
      for (const [, t] of open) await t.stop();
      log(`round ${r + 1} (${order.join(' first, ')} second): ${res.rps.toFixed(0)} req/s`);
    }
  } finally {
    restore();
    await nginx.stop();
  }
  const base = progCost(cost.baseline!);
  const cur = progCost(cost.current!);
  const ratio: Record<string, number> = {};
  for (const p of Object.keys(cur)) {
    if (base[p] && base[p].nsPerRun > 0) ratio[p] = Number((cur[p]!.nsPerRun / base[p].nsPerRun).toFixed(3));
  }
  return { seconds, rounds, connections, baseline, load: 'nginx (1 worker) + wrk on 127.0.0.1, both builds attached', baselineCost: base, currentCost: cur, ratioCurrentToBaseline: ratio };
}

async function cpuAb(builds: Record<'baseline' | 'current', Open>, seconds: number, rounds: number, connections: number, baseline: string): Promise<object> {
  type Cpu = { server: number; client: number; rps: number };
  const res: Record<string, Cpu[]> = { off: [], baseline: [], current: [] };
  const nginx: Nginx = await startNginx();
  try {
    await wrk(nginx.url, 1, connections);
    const variants = ['off', 'baseline', 'current'] as const;
    for (let r = 0; r < rounds; r++) {
      const order = [...variants.slice(r % 3), ...variants.slice(0, r % 3)];
      for (const v of order) {
        const t = v === 'off' ? undefined : builds[v]();
        const c0 = cpuNs(nginx.pid);
        const w = await wrk(nginx.url, seconds, connections);
        const server = (cpuNs(nginx.pid) - c0) / 1000 / w.requests;
        await t?.stop();
        res[v]!.push({ server, client: (w.clientCpuMs * 1000) / w.requests, rps: w.rps });
        log(`round ${r + 1} ${v}: ${w.rps.toFixed(0)} req/s, cpu/req nginx ${server.toFixed(2)} µs wrk ${((w.clientCpuMs * 1000) / w.requests).toFixed(2)} µs`);
      }
    }
  } finally {
    await nginx.stop();
  }
  const m = (v: string, k: keyof Cpu) => Number(median(res[v]!.map((x) => x[k])).toFixed(2));
  const out: Record<string, unknown> = { mode: 'cpu', seconds, rounds, connections, baseline, load: 'nginx (1 worker) + wrk on 127.0.0.1, one build attached at a time, empty delivery callback' };
  for (const v of ['off', 'baseline', 'current']) out[v] = { serverUsPerReq: m(v, 'server'), clientUsPerReq: m(v, 'client'), rps: m(v, 'rps') };
  // Added CPU per request (traced − off), the number the kernel side is responsible for.
  const added = (v: string, k: 'server' | 'client') => m(v, k) - m('off', k);
  out.addedUsPerReq = {
    baseline: { server: Number(added('baseline', 'server').toFixed(2)), client: Number(added('baseline', 'client').toFixed(2)) },
    current: { server: Number(added('current', 'server').toFixed(2)), client: Number(added('current', 'client').toFixed(2)) },
  };
  out.ratioCurrentToBaselineAdded = {
    server: Number((added('current', 'server') / added('baseline', 'server')).toFixed(3)),
    client: Number((added('current', 'client') / added('baseline', 'client')).toFixed(3)),
  };
  return out;
}
