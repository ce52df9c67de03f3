// `npm run bench -- tls-node-overhead [--seconds 3] [--rounds 5] [--connections 8]
//                                     [--variants tls,notls,tls-nobio]`
// What TLS capture costs a node https service: a node https server (tiny responses) under a
// node keep-alive client (`--connections` requests in flight) on 127.0.0.1, rounds alternating
// "off" and "on" (the collector with its TLS uprobes: SSL_read/SSL_write(_ex) + return,
// BIO_write, SSL_free on the node binary, so both processes pay them). Reports the median of
// per-round ratios (on / preceding off), CPU µs per request of server and client (less
// sensitive to a busy machine than throughput; uprobe traps are charged to the traced
// process), rows per request (2 = both sides of each), and per-program BPF cost. Needs root.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Collector } from '../collector/collector.ts';
import { EbpfSource } from '../collector/sources/ebpf.ts';
import { hasStaticOpenssl } from '../collector/tls/attach.ts';
import type { RowSink } from '../engine/schema.ts';
import { probe } from '../native/index.ts';
import { addProgStats, enableBpfStats, median, missing, opt, optStr, progCost } from './_nginx.ts';
import { selfSignedCert } from '../test/helpers/tls.ts';

const log = (s: string) => process.stderr.write(`[tls-node-overhead] ${s}\n`);

const SERVER = `
const https = require('https'); const fs = require('fs');
const srv = https.createServer({ key: fs.readFileSync(process.argv[1]), cert: fs.readFileSync(process.argv[2]) },
  (req, res) => res.end('hello from a node https server'));
srv.keepAliveTimeout = 600000;
srv.listen(0, '127.0.0.1', () => process.stdout.write(srv.address().port + '\\n'));
`;

// `conns` keep-alive loops for `seconds`; prints completed requests.
const CLIENT = `
const https = require('https');
const [port, seconds, conns] = process.argv.slice(1).map(Number);
const agent = new https.Agent({ keepAlive: true, maxSockets: conns });
const end = Date.now() + seconds * 1000;
let done = 0;
const loop = () => new Promise((resolve) => {
  const one = () => {
    if (Date.now() >= end) return resolve();
    https.get({ host: '127.0.0.1', port, path: '/', agent, rejectUnauthorized: false }, (res) => {
      res.resume();
      res.on('end', () => { done++; one(); });
    }).on('error', resolve);
  };
  one();
});
Promise.all(Array.from({ length: conns }, loop)).then(() => {
  const u = process.cpuUsage();
  console.log(done + ' ' + (u.user + u.system));
  agent.destroy();
});
`;

/** utime + stime of a process in µs (/proc/PID/stat fields 14, 15; USER_HZ 100). */
function cpuUs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) * 10_000;
}

interface Load {
  rps: number;
  /** CPU per request, µs (a machine shared with other work slows throughput, much less this). */
  serverUs: number;
  clientUs: number;
}

async function load(port: number, serverPid: number, seconds: number, conns: number): Promise<Load> {
  const s0 = cpuUs(serverPid);
  const c = spawn(process.execPath, ['-e', CLIENT, String(port), String(seconds), String(conns)], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  c.stdout!.on('data', (d: Buffer) => (out += d));
  await new Promise((resolve) => c.on('close', resolve));
  const [done, clientUs] = out.trim().split(' ').map(Number);
  return { rps: done! / seconds, serverUs: (cpuUs(serverPid) - s0) / done!, clientUs: clientUs! / done! };
}

export default async function tlsNodeOverhead(args: string[]): Promise<object> {
  const seconds = opt(args, '--seconds', 3);
  const rounds = opt(args, '--rounds', 5);
  const conns = opt(args, '--connections', 8);
  // tls: the collector with its TLS uprobes; notls: the same without them (syscalls only,
  // the ciphertext counted and skipped) — the difference is what the uprobes cost;
  // tls-nobio: SSL_* probes on node without BIO_write (nothing binds, so nothing ships) —
  // tls minus this is what the BIO_write probe and shipping cost the traced processes.
  const variants = optStr(args, '--variants', 'tls,notls').split(',');
  const skip = probe() ?? missing(['openssl']) ?? (hasStaticOpenssl(process.execPath) ? null : `${process.execPath} links OpenSSL dynamically`);
  if (skip) return { skipped: skip };
  const dir = mkdtempSync(join(tmpdir(), 'wiretap-tls-bench-'));
  const { key, cert } = selfSignedCert(dir);
  const server = spawn(process.execPath, ['-e', SERVER, key, cert], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<number>((r) => server.stdout!.once('data', (d: Buffer) => r(Number(String(d).trim()))));
  const restore = enableBpfStats();
  const off: Load[] = [];
  const on: Record<string, (Load & { ratio: number; rowsPerReq: number })[]> = {};
  const cost: Record<string, Record<string, { runs: number; ns: number }>> = {};
  try {
    await load(port, server.pid!, 1, conns);
    for (let r = 0; r < rounds; r++) {
      const base = await load(port, server.pid!, seconds, conns);
      off.push(base);
      log(`round ${r + 1} off: ${base.rps.toFixed(0)} req/s, ${base.serverUs.toFixed(0)}+${base.clientUs.toFixed(0)} µs/req`);
      for (const v of variants) {
        let rows = 0;
        const source = new EbpfSource({ tls: v === 'tls' });
        // Only this server's rows (the collector sees every process on the machine).
        const sink: RowSink = {
          append: (t, row) => {
            const x = row as { localPort?: number; remotePort?: number };
            if (t === 'http_events' && (x.localPort === port || x.remotePort === port)) rows++;
          },
        };
        const collector = new Collector(source, sink);
        await collector.start();
        if (v === 'tls-nobio') source.native!.attachTls(`/proc/${server.pid}/exe`, false);
        const res = await load(port, server.pid!, seconds, conns);
        addProgStats((cost[v] ??= {}), source.native?.progStats() ?? []);
        await collector.stop();
        const round = { ...res, ratio: Number((res.rps / base.rps).toFixed(3)), rowsPerReq: Number((rows / (res.rps * seconds)).toFixed(2)) };
        (on[v] ??= []).push(round);
        log(`round ${r + 1} ${v}: ${res.rps.toFixed(0)} req/s (×${round.ratio}), ${res.serverUs.toFixed(0)}+${res.clientUs.toFixed(0)} µs/req, ${rows} rows`);
      }
    }
  } finally {
    restore();
    server.kill();
    rmSync(dir, { recursive: true, force: true });
  }
  const sum = (xs: Load[]) => ({
    rpsMedian: Math.round(median(xs.map((x) => x.rps))),
    rps: xs.map((x) => Math.round(x.rps)),
    serverCpuUsPerReqMedian: Number(median(xs.map((x) => x.serverUs)).toFixed(1)),
    clientCpuUsPerReqMedian: Number(median(xs.map((x) => x.clientUs)).toFixed(1)),
  });
  const o = sum(off);
  const result: Record<string, unknown> = {
    seconds, rounds, connections: conns,
    server: 'node https server, 30-byte body; node https keep-alive client on 127.0.0.1 (both traced)',
    off: o,
  };
  for (const v of variants) {
    const xs = on[v]!;
    const n = sum(xs);
    result[v] = {
      ...n,
      ratioMedianOfRounds: median(xs.map((x) => x.ratio)),
      ratios: xs.map((x) => x.ratio),
      rowsPerRequest: xs.map((x) => x.rowsPerReq),
      cpuPerRequestRatio: {
        server: Number((n.serverCpuUsPerReqMedian / o.serverCpuUsPerReqMedian).toFixed(3)),
        client: Number((n.clientCpuUsPerReqMedian / o.clientCpuUsPerReqMedian).toFixed(3)),
      },
      bpfCost: progCost(cost[v] ?? {}),
    };
  }
  return result;
}
