// `npm run bench -- capture-overhead [--seconds 5] [--rounds 3] [--connections 16] [--raw]`
// wrk against a private nginx on 127.0.0.1, alternating rounds without and with the eBPF
// tracer attached (the real source: decode included). Reports medians of requests/s and p99
// latency and their ratios (with / without). Needs root, nginx and wrk.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EbpfSource } from '../collector/sources/ebpf.ts';
import { openTracer, probe, type NativeTracer } from '../native/index.ts';

function opt(args: string[], name: string, def: number): number {
  const i = args.indexOf(name);
  return i >= 0 && i + 1 < args.length ? Number(args[i + 1]) : def;
}

const log = (s: string) => process.stderr.write(`[capture-overhead] ${s}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

function toMs(v: string, unit: string): number {
  const n = Number(v);
  return unit === 'us' ? n / 1000 : unit === 's' ? n * 1000 : n;
}

interface WrkResult {
  rps: number;
  p99Ms: number;
  p50Ms: number;
  requests: number;
}

/** Runs wrk asynchronously (the tracer's poller needs this event loop to keep running). */
function wrk(url: string, seconds: number, connections: number): Promise<WrkResult> {
  return new Promise((resolve, reject) => {
    const w = spawn('wrk', ['-t1', `-c${connections}`, `-d${seconds}s`, '--latency', url], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    w.stdout!.on('data', (d: Buffer) => (out += d));
    w.on('error', reject);
    w.on('exit', (code) => {
      const rps = /Requests\/sec:\s+([\d.]+)/.exec(out);
      const p99 = /^\s+99%\s+([\d.]+)(us|ms|s)\s*$/m.exec(out);
      const p50 = /^\s+50%\s+([\d.]+)(us|ms|s)\s*$/m.exec(out);
      const reqs = /(\d+) requests in/.exec(out);
      if (code !== 0 || !rps || !p99 || !p50 || !reqs) return reject(new Error(`wrk failed (${code}): ${out}`));
      resolve({ rps: Number(rps[1]), p99Ms: toMs(p99[1], p99[2]), p50Ms: toMs(p50[1], p50[2]), requests: Number(reqs[1]) });
    });
  });
}

export default async function captureOverhead(args: string[]): Promise<object> {
  const seconds = opt(args, '--seconds', 5);
  const rounds = opt(args, '--rounds', 3);
  const connections = opt(args, '--connections', 16);
  // --raw: native tracer only, batches counted but not decoded (separates kernel from JS cost).
  const raw = args.includes('--raw');
  const reason = probe();
  if (reason) return { skipped: reason };
  for (const bin of ['nginx', 'wrk'])
    if (spawnSync('sh', ['-c', `command -v ${bin}`]).status !== 0) return { skipped: `${bin} not installed` };

  const prefix = mkdtempSync(join(tmpdir(), 'wiretap-nginx-'));
  const port = await freePort();
  writeFileSync(
    join(prefix, 'nginx.conf'),
    `daemon off;
user root;
worker_processes 1;
pid ${prefix}/nginx.pid;
error_log ${prefix}/error.log warn;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path ${prefix}/body;
  proxy_temp_path ${prefix}/proxy;
  fastcgi_temp_path ${prefix}/fastcgi;
  uwsgi_temp_path ${prefix}/uwsgi;
  scgi_temp_path ${prefix}/scgi;
  keepalive_requests 1000000;
  server {
    listen 127.0.0.1:${port};
    location / { default_type text/plain; return 200 "hello from nginx, a small response body\\n"; }
  }
}
`,
  );
  let nginx: ChildProcess | undefined;
  let source: EbpfSource | undefined;
  let tracer: NativeTracer | undefined;
  try {
    nginx = spawn('nginx', ['-p', prefix, '-c', join(prefix, 'nginx.conf')], { stdio: ['ignore', 'ignore', 'inherit'] });
    const url = `http://127.0.0.1:${port}/`;
    for (let i = 0; ; i++) {
      if (spawnSync('curl', ['-sf', '-o', '/dev/null', url]).status === 0) break;
      if (i > 50 || nginx.exitCode !== null) throw new Error('nginx did not start');
      await sleep(100);
    }
    log(`nginx on ${url}; warm-up`);
    await wrk(url, 1, connections);

    const off: WrkResult[] = [];
    const on: (WrkResult & { events: number; drops: number })[] = [];
    for (let r = 0; r < rounds; r++) {
      const a = await wrk(url, seconds, connections);
      off.push(a);
      log(`round ${r + 1} without tracer: ${a.rps.toFixed(0)} req/s, p99 ${a.p99Ms} ms`);

      let events = 0;
      let drops = 0;
      let b: WrkResult;
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
    const m = (xs: WrkResult[], k: 'rps' | 'p99Ms' | 'p50Ms') => median(xs.map((x) => x[k]));
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
    nginx?.kill('SIGQUIT');
    await sleep(200);
    if (nginx && nginx.exitCode === null) nginx.kill('SIGKILL');
    rmSync(prefix, { recursive: true, force: true });
  }
}
