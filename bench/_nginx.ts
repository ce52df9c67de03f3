// Shared by the overhead benchmarks: a private nginx (1 worker, tiny responses) on loopback,
// wrk/hey runners, medians, and the kernel's per-program BPF cost switch.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { enableRunTimeStats, type ProgStat } from '../native/index.ts';
import { freePort } from '../test/helpers/net.ts';
export { freePort };

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
export const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

export function opt(args: string[], name: string, def: number): number {
  const i = args.indexOf(name);
  return i >= 0 && i + 1 < args.length ? Number(args[i + 1]) : def;
}

export function optStr(args: string[], name: string, def: string): string {
  const i = args.indexOf(name);
  return i >= 0 && i + 1 < args.length ? args[i + 1] : def;
}

export function missing(bins: string[]): string | null {
  for (const bin of bins) if (spawnSync('sh', ['-c', `command -v ${bin}`]).status !== 0) return `${bin} not installed`;
  return null;
}

export interface Nginx {
  url: string;
  pid: number;
  stop(): Promise<void>;
}

/** nginx with one worker answering every path with a 40-byte body (plus /seq echo). */
export async function startNginx(): Promise<Nginx> {
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
  const nginx: ChildProcess = spawn('nginx', ['-p', prefix, '-c', join(prefix, 'nginx.conf')], {
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const url = `http://127.0.0.1:${port}/`;
  const stop = async () => {
    nginx.kill('SIGQUIT');
    for (let i = 0; i < 20 && nginx.exitCode === null && nginx.signalCode === null; i++) await sleep(50);
    if (nginx.exitCode === null && nginx.signalCode === null) nginx.kill('SIGKILL');
    rmSync(prefix, { recursive: true, force: true });
  };
  for (let i = 0; ; i++) {
    if (spawnSync('curl', ['-sf', '-o', '/dev/null', url]).status === 0) break;
    if (i > 50 || nginx.exitCode !== null) {
      await stop();
      throw new Error('nginx did not start');
    }
    await sleep(100);
  }
  // The worker (the process serving requests) is the master's only child.
  const workerPid = Number(readFileSync(`/proc/${nginx.pid}/task/${nginx.pid}/children`, 'utf8').trim().split(/\s+/)[0]);
  return { url, pid: workerPid || nginx.pid!, stop };
}

function toMs(v: string, unit: string): number {
  const n = Number(v);
  return unit === 'us' ? n / 1000 : unit === 's' ? n * 1000 : n;
}

export interface LoadResult {
  rps: number;
  p50Ms: number;
  p99Ms: number;
  requests: number;
  /** CPU time wrk used (user + system, 10 ms ticks). */
  clientCpuMs: number;
}

/** CPU time a running process has used so far, ns (/proc/PID/schedstat: on-CPU time). */
export function cpuNs(pid: number): number {
  return Number(readFileSync(`/proc/${pid}/schedstat`, 'utf8').split(' ')[0]);
}

/** wrk, asynchronously (the tracer's poller needs this event loop). */
export function wrk(url: string, seconds: number, connections: number, cpu?: number): Promise<LoadResult> {
  return new Promise((resolve, reject) => {
    // Always at nice 0, whatever the (possibly reniced) caller thread runs at. The shell
    // stays to print its children's CPU ticks (/proc/self/stat fields 16-17) after wrk.
    // cpu: wrk pinned to that CPU (taskset).
    const pin = cpu === undefined ? '' : `taskset -c ${cpu} `;
    const w = spawn('sh', ['-c', `renice -n 0 -p $$ >/dev/null; ${pin}wrk "$@" && echo "wrk-cpu $(cat /proc/$$/stat)"`, 'wrk', '-t1', `-c${connections}`, `-d${seconds}s`, '--latency', url], {
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
      const stat = /^wrk-cpu .*\) (.*)$/m.exec(out)?.[1].split(' '); // stat[0] is field 3
      if (code !== 0 || !rps || !p99 || !p50 || !reqs || !stat) return reject(new Error(`wrk failed (${code}): ${out}`));
      const ticks = Number(stat[16 - 3]) + Number(stat[17 - 3]);
      resolve({ rps: Number(rps[1]), p99Ms: toMs(p99[1], p99[2]), p50Ms: toMs(p50[1], p50[2]), requests: Number(reqs[1]), clientCpuMs: ticks * 10 });
    });
  });
}

/** Per-program BPF run-time counters on (refcounted, see native enableRunTimeStats); returns
 *  the function that turns them off again. */
export function enableBpfStats(): () => void {
  return enableRunTimeStats();
}

/** Sums per-program counters over rounds: name → { runs, ns }. */
export function addProgStats(acc: Record<string, { runs: number; ns: number }>, ps: ProgStat[]): void {
  for (const p of ps) {
    const a = (acc[p.name] ??= { runs: 0, ns: 0 });
    a.runs += p.runCnt;
    a.ns += p.runTimeNs;
  }
}

export function progCost(acc: Record<string, { runs: number; ns: number }>): Record<string, { runs: number; nsPerRun: number; totalMs: number }> {
  const out: Record<string, { runs: number; nsPerRun: number; totalMs: number }> = {};
  for (const [k, v] of Object.entries(acc))
    if (v.runs > 0) out[k] = { runs: v.runs, nsPerRun: Math.round(v.ns / v.runs), totalMs: Math.round(v.ns / 1e6) };
  return out;
}

/** A rate-limited keep-alive HTTP/1.1 client over raw sockets (wrk2 is not packaged; node's
 *  http client costs too much CPU at 5k req/s here): GET /seq/N for N = 0.. on a fixed
 *  schedule, one request in flight per connection; latency counts from the scheduled time
 *  (queueing included, no coordinated omission). */
const RATE_CLIENT = `
const net = require('net');
const [port, rate, seconds, conns] = process.argv.slice(1).map(Number);
const total = Math.round(rate * seconds);
const lat = new Float64Array(total);
let sent = 0, ok = 0, failed = 0, closed = 0;
const start = performance.now();
const waiting = []; // scheduled but not yet sent: [id, scheduledAt]
const free = [];
function send(c, id, at) {
  c.busy = at;
  c.write('GET /seq/' + id + ' HTTP/1.1\\r\\nHost: b\\r\\n\\r\\n');
}
function finish() {
  if (ok + failed < total) return;
  const l = Array.from(lat.subarray(0, ok)).sort((a, b) => a - b);
  const q = (p) => l[Math.min(l.length - 1, Math.floor(l.length * p))] ?? 0;
  process.stdout.write(JSON.stringify({ sent, ok, failed, seconds: (performance.now() - start) / 1000,
    p50Ms: q(0.5), p99Ms: q(0.99), p999Ms: q(0.999) }) + '\\n');
  for (const c of all) c.destroy();
}
const all = [];
for (let i = 0; i < conns; i++) {
  const c = net.connect(port, '127.0.0.1');
  c.setNoDelay(true);
  c.buf = '';
  c.on('connect', () => { free.push(c); pump(); });
  c.on('data', (d) => {
    c.buf += d.toString('latin1');
    for (;;) {
      const h = c.buf.indexOf('\\r\\n\\r\\n');
      if (h < 0) return;
      const m = /content-length: *(\\d+)/i.exec(c.buf.slice(0, h));
      const end = h + 4 + (m ? Number(m[1]) : 0);
      if (c.buf.length < end) return;
      const okStatus = c.buf.startsWith('HTTP/1.1 200');
      c.buf = c.buf.slice(end);
      if (okStatus) lat[ok++] = performance.now() - c.busy; else failed++;
      c.busy = 0;
      const w = waiting.shift();
      if (w) send(c, w[0], w[1]); else free.push(c);
      finish();
    }
  });
  c.on('error', () => {});
  all.push(c);
}
function pump() {
  const now = performance.now();
  const due = Math.min(total, Math.floor(((now - start) / 1000) * rate));
  while (sent < due) {
    const id = sent++;
    const at = start + (id * 1000) / rate;
    const c = free.pop();
    if (c) send(c, id, at); else waiting.push([id, at]);
  }
  if (sent < total) setTimeout(pump, 1);
}
pump();
`;

export interface RateResult {
  sent: number;
  ok: number;
  failed: number;
  seconds: number;
  p50Ms: number;
  p99Ms: number;
  p999Ms: number;
  pid: number;
}

export function rateClient(url: string, rate: number, seconds: number, conns = 16): Promise<RateResult> {
  const port = new URL(url).port;
  return new Promise((resolve, reject) => {
    const c = spawn('sh', ['-c', 'renice -n 0 -p $$ >/dev/null; exec "$0" "$@"', process.execPath, '-e', RATE_CLIENT, port, String(rate), String(seconds), String(conns)], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    c.stdout!.on('data', (d: Buffer) => (out += d));
    c.on('error', reject);
    c.on('exit', (code) => {
      try {
        resolve({ ...JSON.parse(out), pid: c.pid! });
      } catch {
        reject(new Error(`rate client failed (${code}): ${out}`));
      }
    });
  });
}
