// `npm run bench -- parse [--pairs 200000] [--only http|http-keepalive|mysql|kafka] [--rounds 3]`
// Request/response pairs per second on one core through the collector (tracker + parser +
// stitcher + row building), from recorded streams: the captures in test/fixtures/pcap (real
// curl/node, mariadb CLI/mysql2 ↔ mariadbd, kcat/kafkajs ↔ test broker traffic), replayed as
// many times as needed with fresh connection identities. Targets (issue 4): HTTP ≥ 200k/s,
// MySQL ≥ 100k/s, Kafka ≥ 100k/s.
//   http            one curl per request: a new connection per pair (plus a 100 KB body)
//   http-keepalive  node's keep-alive agent: 150 calls per connection, as services talk
// --rounds N (3): best of N.
// --decode: the events as eBPF ring records, decoded in the timed loop (decodeBatch + tracker:
//   the collector's whole user-space path per event).
// pairsPerCpuSec divides by process CPU time instead of wall time (steadier on a busy machine).
import os from 'node:os';
import { ConnectionTracker } from '../collector/conn/tracker.ts';
import type { SocketEvent } from '../collector/events.ts';
import { FIXTURES } from '../collector/fuzz/corpus.ts';
import { PcapSource } from '../collector/sources/pcap.ts';
import { CountingSink, encodeBatch, timeReplay, type RingBatch } from './_replay.ts';

/** The recording's events, without connections that carried no data (the recorder's probes). */
async function recorded(name: string): Promise<SocketEvent[]> {
  const events: SocketEvent[] = [];
  await new PcapSource(`${FIXTURES}${name}.pcapng`).start((b) => events.push(...b));
  const withData = new Set(events.filter((e) => e.size > 0).map((e) => e.fd));
  return events.filter((e) => withData.has(e.fd));
}

/** Pairs the recorded events yield once (a dry run). */
function pairsOf(events: SocketEvent[]): number {
  const sink = new CountingSink();
  const t = new ConnectionTracker(sink);
  t.handleBatch(events);
  t.flushAll();
  return sink.rows;
}

/** Enough copies of the recording for `pairs` pairs; each copy's connections get new fds. */
function replicate(events: SocketEvent[], copies: number): SocketEvent[][] {
  const span = events.reduce((m, e) => Math.max(m, e.fd), 0) + 1;
  const batches: SocketEvent[][] = [];
  let batch: SocketEvent[] = [];
  for (let k = 0; k < copies; k++) {
    for (const e of events) {
      batch.push({ ...e, fd: e.fd + k * span, connGen: e.connGen + BigInt(k * span) });
      if (batch.length === 1024) batches.push(batch), (batch = []);
    }
  }
  if (batch.length > 0) batches.push(batch);
  return batches;
}

function run(name: string, batches: SocketEvent[][] | RingBatch[], expected: number, rounds: number): object {
  const best = { wall: Infinity, cpu: Infinity };
  let events = 0;
  for (let round = 0; round < rounds; round++) events = keepBest(best, name, timeReplay(batches, 1), expected);
  const pairsPerSec = Math.round(expected / best.wall);
  const pairsPerCpuSec = Math.round(expected / best.cpu);
  process.stderr.write(`${name}: ${pairsPerSec} pairs/s wall, ${pairsPerCpuSec} per CPU-second (${expected} pairs, ${events} events)\n`);
  return {
    name, pairs: expected, events, seconds: +best.wall.toFixed(3), cpuSeconds: +best.cpu.toFixed(3),
    pairsPerSec, pairsPerCpuSec, eventsPerSec: Math.round(events / best.wall),
  };
}

/** Checks a round's rows and keeps its times if best; returns the events replayed. */
function keepBest(best: { wall: number; cpu: number }, name: string, t: ReturnType<typeof timeReplay>, expected: number): number {
  if (t.rows !== expected || t.stats.errors !== 0) throw new Error(`${name}: ${t.rows} rows, expected ${expected}`);
  best.wall = Math.min(best.wall, t.seconds);
  best.cpu = Math.min(best.cpu, t.cpuSeconds);
  return t.events;
}

export default async function (args: string[]): Promise<object> {
  const i = args.indexOf('--pairs');
  const target = i >= 0 ? Number(args[i + 1]) : 200_000;
  const j = args.indexOf('--only');
  const only = j >= 0 ? args[j + 1] : undefined;
  const k = args.indexOf('--rounds');
  const rounds = k >= 0 ? Number(args[k + 1]) : 3;
  const decode = args.includes('--decode');
  const results = [];
  for (const name of ['http', 'http-keepalive', 'mysql', 'kafka']) {
    if (only !== undefined && only !== name) continue;
    const events = await recorded(name);
    const once = pairsOf(events);
    const copies = Math.max(1, Math.ceil(target / once));
    let batches: SocketEvent[][] | RingBatch[] = replicate(events, copies);
    if (decode) {
      const offset = events[0]!.timeNs - 1_000_000_000n;
      batches = batches.map((b) => encodeBatch(b, offset));
    }
    results.push(run(name, batches, once * copies, rounds));
  }
  return { node: process.version, loadavg: os.loadavg(), decode, targets: { http: 200_000, mysql: 100_000, kafka: 100_000 }, results };
}
