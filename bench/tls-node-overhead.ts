// `npm run bench -- tls-node-overhead [--seconds 3] [--rounds 5] [--connections 8]`
// What TLS capture costs a node https service: a node https server (tiny responses) under a
// node keep-alive client (`--connections` requests in flight) on 127.0.0.1, rounds alternating
// "off" and "on" (the collector with its TLS uprobes: SSL_read/SSL_write(_ex) + return,
// BIO_write, SSL_free on the node binary, so both processes pay them). Reports the median of
// per-round ratios (on / preceding off), rows per request (2 = both sides of each), and
// per-program BPF cost. Needs root.
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Collector } from '../collector/collector.ts';
import { EbpfSource } from '../collector/sources/ebpf.ts';
import { hasStaticOpenssl } from '../collector/tls/attach.ts';
import type { RowSink } from '../engine/schema.ts';
import { probe } from '../native/index.ts';
import { addProgStats, enableBpfStats, median, missing, opt, progCost } from './_nginx.ts';

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
Promise.all(Array.from({ length: conns }, loop)).then(() => { console.log(done); agent.destroy(); });
`;

function load(port: number, seconds: number, conns: number): Promise<number> {
  const c = spawn(process.execPath, ['-e', CLIENT, String(port), String(seconds), String(conns)], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  c.stdout!.on('data', (d: Buffer) => (out += d));
  return new Promise((resolve) => c.on('close', () => resolve(Number(out.trim()) / seconds)));
}

export default async function tlsNodeOverhead(args: string[]): Promise<object> {
  const seconds = opt(args, '--seconds', 3);
  const rounds = opt(args, '--rounds', 5);
  const conns = opt(args, '--connections', 8);
  const skip = probe() ?? missing(['openssl']) ?? (hasStaticOpenssl(process.execPath) ? null : `${process.execPath} links OpenSSL dynamically`);
  if (skip) return { skipped: skip };
  const dir = mkdtempSync(join(tmpdir(), 'wiretap-tls-bench-'));
  const key = join(dir, 'key.pem');
  const cert = join(dir, 'cert.pem');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=localhost'], { stdio: 'ignore' });
  const server = spawn(process.execPath, ['-e', SERVER, key, cert], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<number>((r) => server.stdout!.once('data', (d: Buffer) => r(Number(String(d).trim()))));
  const restore = enableBpfStats();
  const off: number[] = [];
  const ratios: number[] = [];
  const onRps: number[] = [];
  const rowsPerReq: number[] = [];
  const cost: Record<string, { runs: number; ns: number }> = {};
  try {
    await load(port, 1, conns);
    for (let r = 0; r < rounds; r++) {
      const base = await load(port, seconds, conns);
      off.push(base);
      let rows = 0;
      const source = new EbpfSource({});
      // Only this server's rows (the collector sees every process on the machine).
      const sink: RowSink = {
        append: (t, row) => {
          const r = row as { localPort?: number; remotePort?: number };
          if (t === 'http_events' && (r.localPort === port || r.remotePort === port)) rows++;
        },
      };
      const collector = new Collector(source, sink);
      await collector.start();
      const rps = await load(port, seconds, conns);
      addProgStats(cost, source.native?.progStats() ?? []);
      await collector.stop();
      onRps.push(rps);
      ratios.push(Number((rps / base).toFixed(3)));
      rowsPerReq.push(Number((rows / (rps * seconds)).toFixed(2)));
      log(`round ${r + 1}: off ${base.toFixed(0)} req/s, on ${rps.toFixed(0)} req/s (×${ratios.at(-1)}), ${rows} rows`);
    }
  } finally {
    restore();
    server.kill();
    rmSync(dir, { recursive: true, force: true });
  }
  return {
    seconds, rounds, connections: conns,
    server: 'node https server, 30-byte body; node https keep-alive client on 127.0.0.1 (both traced)',
    off: { rpsMedian: median(off), rps: off.map(Math.round) },
    on: { rpsMedian: median(onRps), rps: onRps.map(Math.round), ratioMedianOfRounds: median(ratios), ratios, rowsPerRequest: rowsPerReq },
    bpfCost: progCost(cost),
  };
}
