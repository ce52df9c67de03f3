// `npm run bench -- parse [--pairs 200000] [--only http|http-keepalive|mysql|kafka] [--rounds 3]`
// Request/response pairs per second on one core through the collector (tracker + parser +
// stitcher + row building), from recorded streams: the captures in test/fixtures/pcap (real
// curl/node, mariadb CLI/mysql2 ↔ mariadbd, kcat/kafkajs ↔ test broker traffic), replayed as
// many times as needed with fresh connection identities. Targets (issue 4): HTTP ≥ 200k/s,
// MySQL ≥ 100k/s, Kafka ≥ 100k/s.
//   http            one curl per request: a new connection per pair (plus a 100 KB body)
//   http-keepalive  node's keep-alive agent: 150 calls per connection, as services talk
// --rounds N (3): best of N.
// --baseline DIR: another checkout (e.g. `git worktree add /tmp/base <commit>`, node_modules
//   linked) replayed in the same process, rounds alternating (order swapped every round): medians,
//   bests and the median of per-round ratios this/baseline (the machine is too noisy for runs in
//   separate processes to compare).
// --decode: the events as eBPF ring records, decoded in the timed loop (decodeBatch + tracker:
//   the collector's whole user-space path per event).
// pairsPerCpuSec divides by process CPU time instead of wall time (steadier on a busy machine).
import os from 'node:os';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ConnectionTracker } from '../collector/conn/tracker.ts';
import type { SocketEvent } from '../collector/events.ts';
import { FIXTURES } from '../collector/fuzz/corpus.ts';
import { PcapSource } from '../collector/sources/pcap.ts';
import { CountingSink, encodeBatch, timeReplay, type RingBatch } from './_replay.ts';

type Replay = typeof timeReplay;

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

function run(name: string, batches: SocketEvent[][] | RingBatch[], expected: number, rounds: number, baseline: Replay | null): object {
  if (baseline !== null) return runAB(name, batches, expected, rounds, baseline);
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

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 === 1 ? s[(s.length - 1) >> 1]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

/** This tree and the baseline's replay, alternating rounds: pairs per CPU-second and ratios. */
function runAB(name: string, batches: SocketEvent[][] | RingBatch[], expected: number, rounds: number, baseline: Replay): object {
  const rates: { current: number[]; baseline: number[] } = { current: [], baseline: [] };
  const ratios: number[] = [];
  for (let round = 0; round < rounds; round++) {
    const order = round % 2 === 0 ? (['baseline', 'current'] as const) : (['current', 'baseline'] as const);
    for (const which of order) {
      const t = (which === 'current' ? timeReplay : baseline)(batches, 1);
      if (t.rows !== expected || t.stats.errors !== 0) throw new Error(`${name} (${which}): ${t.rows} rows, expected ${expected}`);
      rates[which].push(expected / t.cpuSeconds);
    }
    ratios.push(rates.current[round]! / rates.baseline[round]!);
  }
  const r = {
    name, pairs: expected, rounds,
    pairsPerCpuSec: { current: Math.round(median(rates.current)), baseline: Math.round(median(rates.baseline)) },
    bestPairsPerCpuSec: { current: Math.round(Math.max(...rates.current)), baseline: Math.round(Math.max(...rates.baseline)) },
    ratioOfMedians: +(median(rates.current) / median(rates.baseline)).toFixed(3),
    medianRatio: +median(ratios).toFixed(3),
  };
  process.stderr.write(`${name}: ${r.pairsPerCpuSec.current} vs ${r.pairsPerCpuSec.baseline} pairs per CPU-second (medians), ×${r.medianRatio}\n`);
  return r;
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
  const b = args.indexOf('--baseline');
  const baseline = b >= 0
    ? ((await import(pathToFileURL(resolve(args[b + 1]!, 'bench/_replay.ts')).href)) as { timeReplay: Replay }).timeReplay
    : null;
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
    results.push(run(name, batches, once * copies, rounds, baseline));
  }
  return { node: process.version, loadavg: os.loadavg(), decode, baseline: b >= 0 ? args[b + 1] : null, targets: { http: 200_000, mysql: 100_000, kafka: 100_000 }, results };
}
