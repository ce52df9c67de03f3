// Shared by the overhead benchmarks: a private nginx (1 worker, tiny responses) on loopback,
// wrk and the C rate client (bench/ratecli), medians, and the kernel's per-program BPF cost switch.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
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
  return schedStat(pid).cpuNs;
}

/** /proc/PID/schedstat of a process's main thread: time on a CPU, and time runnable but
 *  waiting for one (run delay), ns so far. */
export function schedStat(pid: number): { cpuNs: number; waitNs: number } {
  const [cpu, wait] = readFileSync(`/proc/${pid}/schedstat`, 'utf8').split(' ');
  return { cpuNs: Number(cpu), waitNs: Number(wait) };
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

/** Where ratecli's source is; the binary is built beside it on first use (git-ignored). */
const RATECLI_SRC = fileURLToPath(new URL('./ratecli/ratecli.c', import.meta.url));
const RATECLI_BIN = RATECLI_SRC.slice(0, -2);

/** Builds bench/ratecli (cc -O2) unless the binary is newer than its source; returns its path.
 *  Built under a temporary name and renamed, so two benches starting at once cannot run a
 *  half-written binary. */
export function buildRateClient(): string {
  const src = statSync(RATECLI_SRC).mtimeMs;
  if (existsSync(RATECLI_BIN) && statSync(RATECLI_BIN).mtimeMs >= src) return RATECLI_BIN;
  const tmp = `${RATECLI_BIN}.${process.pid}.tmp`;
  const cc = spawnSync('cc', ['-O2', '-Wall', '-Wextra', '-std=gnu11', '-o', tmp, RATECLI_SRC, '-lm'], { encoding: 'utf8' });
  if (cc.status !== 0) throw new Error(`building ${RATECLI_SRC} failed: ${cc.stderr || cc.error?.message}`);
  renameSync(tmp, RATECLI_BIN);
  return RATECLI_BIN;
}

/** Percentiles of a lateness distribution, µs; maxAtS: seconds into the run of the worst one. */
export interface LateUs { p50: number; p90: number; p99: number; p999: number; max: number; maxAtS: number }

/** What ratecli prints (see bench/ratecli/ratecli.c) plus its pid. Latencies count from each
 *  request's intended send time (coordinated omission corrected). */
export interface RateResult {
  /** Requests scheduled: round(rate × seconds); count = ok + failed. */
  count: number;
  sent: number;
  ok: number;
  /** errors + timeouts. */
  failed: number;
  /** Non-2xx answers + connection failures. */
  errors: number;
  timeouts: number;
  seconds: number;
  achievedRate: number;
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  p999Ms: number;
  maxMs: number;
  /** Seconds into the run (intended send time) of the slowest request. */
  maxAtS: number;
  /** From the write to the answer (what a closed-loop client would report). */
  serviceP50Ms: number;
  serviceP99Ms: number;
  /** How late the client's loop saw requests fall due: its own scheduling jitter. */
  schedLateUs: LateUs;
  /** How late requests were written: jitter plus waiting for a free connection. */
  sendLateUs: LateUs;
  /** The client's CPU time over the run (user + system). */
  cpuMs: number;
  /** SCHED_FIFO priority the client ran at (0: none). */
  rtPrio: number;
  spinUs: number;
  pid: number;
}

export interface RateOptions {
  /** Keep-alive connections (one request in flight on each); default 16. */
  conns?: number;
  /** A request unanswered this long counts as a timeout; default 2000 ms. */
  timeoutMs?: number;
  /** Run the client under SCHED_FIFO at this priority (root): its wake-ups then do not wait for
   *  other runnable work. 0 (default): an ordinary process at nice 0. */
  rtPrio?: number;
  /** Wake this many µs early and spin to each intended time (CPU for timer precision). */
  spinUs?: number;
}

/** Open-loop rate client (bench/ratecli, C): GET /seq/N for N = 0.. at `rate` req/s over
 *  keep-alive connections. Runs at nice 0 whatever this thread's priority; its run time is
 *  bounded (last intended send + timeoutMs). */
export function rateClient(url: string, rate: number, seconds: number, o: RateOptions = {}): Promise<RateResult> {
  const u = new URL(url);
  const bin = buildRateClient();
  const args = ['-H', u.hostname.replace(/^\[|\]$/g, ''), '-p', u.port, '-r', String(rate), '-d', String(seconds), '-c', String(o.conns ?? 16), '-t', String(o.timeoutMs ?? 2000)];
  if (o.rtPrio) args.push('-R', String(o.rtPrio));
  if (o.spinUs) args.push('-S', String(o.spinUs));
  return new Promise((resolve, reject) => {
    const c = spawn('sh', ['-c', 'renice -n 0 -p $$ >/dev/null; exec "$0" "$@"', bin, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    c.stdout!.on('data', (d: Buffer) => (out += d));
    c.stderr!.on('data', (d: Buffer) => (err += d));
    c.on('error', reject);
    c.on('exit', (code) => {
      try {
        if (code !== 0) throw new Error();
        resolve({ ...(JSON.parse(out) as Omit<RateResult, 'pid'>), pid: c.pid! });
      } catch {
        reject(new Error(`rate client failed (exit ${code}): ${err.trim() || out}`));
      }
    });
  });
}
