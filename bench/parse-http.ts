// `npm run bench -- parse-http [--pairs 200000] [--only keepalive|short|pipelined|split3|demo]`
// HTTP request/response pairs per second through the collector (tracker + parser + stitcher +
// row building) on one core, from pre-built event streams:
//  - keepalive: one server connection, one event per message (typical small API calls);
//  - short: the same pairs, a new connection per pair (open, request, response, close; the fd
//    reused with a new generation, as the kernel does): isolates per-connection costs;
//  - pipelined: 32 requests per event, 32 responses per event;
//  - split: every message delivered in 3 events (exercises lazy concatenation);
//  - demo: the demo source's mixed traffic (both sides, chunked, bigger bodies).
import os from 'node:os';
import type { SocketEvent } from '../collector/events.ts';
import { DemoSource } from '../collector/sources/demo.ts';
import { ConnScript, endpoint } from '../collector/synth/conn-script.ts';
import { timeReplay } from './_replay.ts';

const REQ = (i: number) =>
  `GET /api/users/${i}?verbose=1 HTTP/1.1\r\nHost: users:8081\r\nUser-Agent: bench/1.0\r\nAccept: application/json\r\nX-Request-Id: ${i.toString(16)}\r\n\r\n`;
const RESP = (i: number) => {
  const body = `{"id":${i},"name":"user-${i}","email":"user${i}@example.com","tier":"pro"}`;
  return `HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nDate: Sat, 21 Nov 2026 20:00:00 GMT\r\nContent-Length: ${body.length}\r\n\r\n${body}`;
};

function keepalive(pairs: number, splits: number): SocketEvent[][] {
  const c = new ConnScript(endpoint());
  const batches: SocketEvent[][] = [[c.open(1n)]];
  let batch: SocketEvent[] = [];
  let t = 2n;
  for (let i = 0; i < pairs; i++) {
    for (const [dir, msg] of [[1, REQ(i)], [0, RESP(i)]] as const) {
      const b = Buffer.from(msg);
      const step = Math.ceil(b.length / splits);
      for (let off = 0; off < b.length; off += step) batch.push(c.data(dir, b.subarray(off, off + step), t++));
    }
    if (batch.length >= 512) batches.push(batch), (batch = []);
  }
  batches.push(batch);
  return batches;
}

function short(pairs: number): SocketEvent[][] {
  const batches: SocketEvent[][] = [];
  let batch: SocketEvent[] = [];
  let t = 1n;
  for (let i = 0; i < pairs; i++) {
    const c = new ConnScript(endpoint({ connGen: BigInt(i + 1), remotePort: 40000 + (i % 20000) }));
    batch.push(c.open(t++), c.recv(REQ(i), t++), c.send(RESP(i), t++), c.close(t++));
    if (batch.length >= 1024) batches.push(batch), (batch = []);
  }
  batches.push(batch);
  return batches;
}

function pipelined(pairs: number, depth: number): SocketEvent[][] {
  const c = new ConnScript(endpoint());
  const batches: SocketEvent[][] = [[c.open(1n)]];
  let t = 2n;
  for (let i = 0; i < pairs; i += depth) {
    const reqs: string[] = [];
    const resps: string[] = [];
    for (let k = i; k < i + depth; k++) reqs.push(REQ(k)), resps.push(RESP(k));
    batches.push([c.recv(Buffer.from(reqs.join('')), t++), c.send(Buffer.from(resps.join('')), t++)]);
  }
  return batches;
}

function demo(requests: number): SocketEvent[][] {
  const src = new DemoSource({ rate: 10_000, seed: 5, clock: () => 1_700_000_000_000_000_000n });
  const batches: SocketEvent[][] = [];
  for (let n = 0; n < requests; n += 1000) batches.push(src.produce(100));
  batches.push(src.closeAll());
  return batches;
}

function run(name: string, batches: SocketEvent[][]): object {
  const { seconds: wall, cpuSeconds: cpu, events, rows: pairs, stats } = timeReplay(batches);
  if (stats.parseFailures !== 0 || stats.errors !== 0) throw new Error(`${name}: parse failures`);
  process.stderr.write(`${name}: ${Math.round(pairs / wall)} pairs/s, ${Math.round(pairs / cpu)} per CPU-second\n`);
  return {
    name, pairs, seconds: +wall.toFixed(3), pairsPerSec: Math.round(pairs / wall), pairsPerCpuSec: Math.round(pairs / cpu),
    eventsPerSec: Math.round(events / wall),
  };
}

export default async function (args: string[]): Promise<object> {
  const i = args.indexOf('--pairs');
  const pairs = i >= 0 ? Number(args[i + 1]) : 200_000;
  const j = args.indexOf('--only');
  if (j >= 0) {
    const only = args[j + 1];
    const make: Record<string, () => SocketEvent[][]> = {
      keepalive: () => keepalive(pairs, 1), short: () => short(pairs), pipelined: () => pipelined(pairs, 32),
      split3: () => keepalive(pairs / 2, 3), demo: () => demo(pairs / 4),
    };
    if (only === undefined || make[only] === undefined) throw new Error(`--only: one of ${Object.keys(make).join(', ')}`);
    return { node: process.version, loadavg: os.loadavg(), results: [run(only, make[only]())] };
  }
  return {
    node: process.version,
    loadavg: os.loadavg(),
    results: [
      run('keepalive', keepalive(pairs, 1)),
      run('short', short(pairs)),
      run('pipelined', pipelined(pairs, 32)),
      run('split3', keepalive(pairs / 2, 3)),
      run('demo', demo(pairs / 4)),
    ],
  };
}
