// `npm run bench -- capture-overhead [--seconds 5] [--rounds 3] [--connections 16] [--raw]`
// wrk against a private nginx on 127.0.0.1, alternating rounds without and with the eBPF
// tracer attached (the real source: decode included). Reports medians of requests/s and p99
// latency and their ratios (with / without). Needs root, nginx and wrk.
import { EbpfSource } from '../collector/sources/ebpf.ts';
import { openTracer, probe, type NativeTracer } from '../native/index.ts';
import { median, missing, opt, startNginx, wrk, type LoadResult, type Nginx } from './_nginx.ts';

const log = (s: string) => process.stderr.write(`[capture-overhead] ${s}\n`);

export default async function captureOverhead(args: string[]): Promise<object> {
  const seconds = opt(args, '--seconds', 5);
  const rounds = opt(args, '--rounds', 3);
  const connections = opt(args, '--connections', 16);
  // --raw: native tracer only, batches counted but not decoded (separates kernel from JS cost).
  const raw = args.includes('--raw');
  const reason = probe();
  if (reason) return { skipped: reason };
  const absent = missing(['nginx', 'wrk']);
  if (absent) return { skipped: absent };

  let nginx: Nginx | undefined;
  let source: EbpfSource | undefined;
  let tracer: NativeTracer | undefined;
  try {
    nginx = await startNginx();
    const url = nginx.url;
    log(`nginx on ${url}; warm-up`);
    await wrk(url, 1, connections);

    const off: LoadResult[] = [];
    const on: (LoadResult & { events: number; drops: number })[] = [];
    for (let r = 0; r < rounds; r++) {
      const a = await wrk(url, seconds, connections);
      off.push(a);
      log(`round ${r + 1} without tracer: ${a.rps.toFixed(0)} req/s, p99 ${a.p99Ms} ms`);

      let events = 0;
      let drops = 0;
      let b: LoadResult;
      if (raw) {
        tracer = openTracer({}, (_buf, n) => (events += n));
        b = await wrk(url, seconds, connections);
        await tracer.stop();
        drops = tracer.stats().kernelDrops + tracer.stats().userDrops;
        tracer = undefined;
      } else {
        source = new EbpfSource({});
        await source.start((evs) => (events += evs.length));
        b = await wrk(url, seconds, connections);
        await source.stop();
        drops = source.stats().drops;
        source = undefined;
      }
      on.push({ ...b, events, drops });
      log(`round ${r + 1} with tracer:    ${b.rps.toFixed(0)} req/s, p99 ${b.p99Ms} ms, ${events} events`);
    }
    const m = (xs: LoadResult[], k: 'rps' | 'p99Ms' | 'p50Ms') => median(xs.map((x) => x[k]));
    return {
      seconds,
      rounds,
      connections,
      server: 'nginx (1 worker), return 200 with a 40-byte body',
      tracer: raw ? 'native only (no decode)' : 'EbpfSource (decode included)',
      without: { rpsMedian: m(off, 'rps'), p50MsMedian: m(off, 'p50Ms'), p99MsMedian: m(off, 'p99Ms'), rounds: off },
      with: { rpsMedian: m(on, 'rps'), p50MsMedian: m(on, 'p50Ms'), p99MsMedian: m(on, 'p99Ms'), rounds: on },
      rpsRatio: Number((m(on, 'rps') / m(off, 'rps')).toFixed(3)),
      p99Ratio: Number((m(on, 'p99Ms') / m(off, 'p99Ms')).toFixed(3)),
      eventsPerRequest: Number((on.reduce((a, x) => a + x.events, 0) / on.reduce((a, x) => a + x.requests, 0)).toFixed(2)),
    };
  } finally {
    await source?.stop();
    await tracer?.stop();
    await nginx?.stop();
  }
}
