// Cluster mode at scale on one machine (issue 7): N synthetic agents in a few worker processes, a
// real nats-server, one broker in this process. Reports, per query, the broker's overhead (query
// latency minus the slowest agent's own fragment time), the broker process's CPU time for the
// query (process.cpuUsage around it: separates the broker's own cost from waiting for CPU on a
// shared machine) and bytes shipped for a partially aggregated group-by vs shipping the rows it
// needs. Targets: overhead ≤ 100 ms, bytes ≤ 1%.
// Args: --agents N (default 100), --workers W (default 4), --rows R per agent (default 5000),
// --runs (default 3), --queries a,b (groupBy,count,topN,rowsNeeded,exactQuantile,outerJoin,listQuantiles,listQuantilesArray,singleQuantile,distinctCount,timeQuantiles; default all),
// --baseline DIR: a second broker from another checkout (e.g. a git worktree of an older commit)
// on the same agents; the two brokers answer each query in alternating rounds and the result
// carries both and their ratios (this tree / baseline).
import { parseArgs } from 'node:util';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { join, resolve } from 'node:path';
import { pino } from 'pino';
import { startNats } from '../test/fixtures/fake-kube/nats-server.ts';
import { spawnWithFirstLine, waitFor } from '../test/helpers/processes.ts';
import { startBroker, type Broker } from '../server/broker/broker.ts';

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const round = (x: number) => +x.toFixed(1);

const sqls = {
  groupBy: 'select req_path, resp_status, count(*), avg(latency), max(latency) from http_events group by 1, 2',
  count: 'select count(*) from http_events',
  topN: 'select req_path, latency from http_events order by latency desc limit 10',
  rowsNeeded: 'select req_path, resp_status, latency from http_events',
  // ship-rows (an exact quantile cannot be split): only req_path and latency cross the wire (projection.ts)
  exactQuantile: 'select req_path, quantile_cont(latency, 0.99) from http_events group by 1 order by 2 desc limit 5',
  // ship-tables (an outer join runs at the broker): each table shipped filtered by its own read (read-inputs.ts)
  outerJoin: 'select h.req_path, count(*), count(p.upid) from http_events h left join process_stats p on h.upid = p.upid where h.resp_status >= 500 group by 1',
  // expressions over aggregates (an error rate, ms): partial aggregates, merged inside the expression
  errorRate: 'select req_path, count(*) filter (where resp_status >= 500)::float / count(*) as err_rate, avg(latency) / 1e6 as ms from http_events group by 1 order by 2 desc limit 10',
  // a Grafana latency panel's p50/p90/p99 in one call: one DDSketch per group on the nodes (sketches.ts), ship-rows before
  listQuantiles: 'select req_path, approx_quantile(latency, [0.5, 0.9, 0.99]) as p from http_events group by 1 order by 1',
  // the same as ARRAY[…]: the parser read it before, so the baseline ships req_path and latency (ship-rows, projection.ts)
  listQuantilesArray: 'select req_path, approx_quantile(latency, ARRAY[0.5, 0.9, 0.99]) as p from http_events group by 1 order by 1',
  // one quantile: a sketch before too; the broker's finalize is what changed (one flat query for all groups)
  singleQuantile: 'select req_path, approx_quantile(latency, 0.99) as p99 from http_events group by 1 order by 1',
  // HyperLogLog: also finalized in one flat query now
  distinctCount: 'select req_path, approx_count_distinct(remote_addr || remote_port) as d from http_events group by 1 order by 1',
  // over time_: sketched as the distance from the group's earliest value on each node
  timeQuantiles: 'select req_path, approx_quantile(time_, [0.5, 0.99]) as t from http_events group by 1 order by 1',
} as const;
type QueryName = keyof typeof sqls;

interface Run { ms: number; slowestAgentMs: number; cpuMs: number; stats: Record<string, unknown> | null }

export default async function (args: string[]): Promise<object> {
  const { values: v } = parseArgs({ args, options: {
    agents: { type: 'string' }, workers: { type: 'string' }, rows: { type: 'string' }, runs: { type: 'string' }, queries: { type: 'string' }, baseline: { type: 'string' },
  } });
  const n = Number(v.agents ?? 100);
  const workers = Math.min(n, Number(v.workers ?? 4));
  const rows = Number(v.rows ?? 5000);
  const runs = Number(v.runs ?? 3);
  const names = (v.queries ?? Object.keys(sqls).join(',')).split(',') as QueryName[];
  for (const q of names) if (!(q in sqls)) throw new Error(`--queries: unknown query ${q} (known: ${Object.keys(sqls).join(', ')})`);
  const nats = await startNats();
  const worker = fileURLToPath(new URL('./_cluster-agents.ts', import.meta.url));
  const children: Array<{ child: import('node:child_process').ChildProcess }> = [];
  const healthPorts: number[] = [];
  const log = pino({ level: 'warn' }, pino.destination(2));
  const options = { nats: nats.url, port: 0, bind: '127.0.0.1', healthPort: 0, fragmentTimeoutMs: 120_000, clusterMetadata: false, log };
  const brokers: Array<{ name: string; broker: Broker }> = [{ name: 'this', broker: await startBroker(options) }];
  if (v.baseline) {
    const mod = (await import(pathToFileURL(join(resolve(v.baseline), 'server/broker/broker.ts')).href)) as { startBroker: typeof startBroker };
    brokers.push({ name: 'baseline', broker: await mod.startBroker(options) });
  }
  try {
    const t0 = performance.now();
    const per = Math.ceil(n / workers);
    const started = await Promise.all(Array.from({ length: workers }, (_, w) => {
      const first = w * per;
      const count = Math.max(0, Math.min(per, n - first));
      return spawnWithFirstLine('node', ['--import', 'tsx', worker, nats.url, String(first), String(count), String(rows)], 600_000);
    }));
    for (const s of started) {
      children.push(s);
      healthPorts.push(...s.line.replace('ready ', '').split(',').filter(Boolean).map(Number));
    }
    for (const { broker } of brokers) await waitFor(`${n} agents registered`, async () => (broker.registry.nodes().length === n ? true : undefined), 120_000);
    process.stderr.write(`${n} agents × ${rows} rows up in ${((performance.now() - t0) / 1000).toFixed(1)} s\n`);

    const slowestAgentMs = async () => {
      const stats = await Promise.all(healthPorts.map(async (p) => ((await (await fetch(`http://127.0.0.1:${p}/stats`)).json()) as { fragments: { lastFragmentMs: number } }).fragments.lastFragmentMs));
      return Math.max(...stats);
    };
    const runOnce = async (broker: Broker, sql: string): Promise<Run> => {
      const cpu = process.cpuUsage();
      const t = performance.now();
      const r = await broker.executor.query(sql);
      for await (const _ of r.chunks) { /* drain */ }
      const ms = performance.now() - t;
      const used = process.cpuUsage(cpu);
      const s = broker.executor.lastStats as unknown as Record<string, unknown> | null;
      return { ms, slowestAgentMs: await slowestAgentMs(), cpuMs: (used.user + used.system) / 1000, stats: s ? { ...s } : null };
    };
    const summary = (out: Run[]) => {
      const numeric = (k: string) => out.every((o) => typeof o.stats?.[k] === 'number');
      const phases = Object.fromEntries(Object.keys(out[0]!.stats ?? {}).filter(numeric).map((k) => [k, round(median(out.map((o) => o.stats![k] as number)))]));
      return {
        strategy: out[0]!.stats?.strategy, medianMs: round(median(out.map((o) => o.ms))), slowestAgentMs: round(median(out.map((o) => o.slowestAgentMs))),
        brokerOverheadMs: round(median(out.map((o) => o.ms - o.slowestAgentMs))), brokerCpuMs: round(median(out.map((o) => o.cpuMs))),
        overheadRuns: out.map((o) => round(o.ms - o.slowestAgentMs)), phases,
      };
    };
    const results: Record<string, object> = {};
    for (const q of names) {
      // alternating rounds: both brokers see the same machine state; one warm-up each (connections, plan caches)
      const out = new Map<string, Run[]>(brokers.map((b) => [b.name, []]));
      try {
        for (const b of brokers) await runOnce(b.broker, sqls[q]);
        for (let i = 0; i < runs; i++) {
          const order = i % 2 ? [...brokers].reverse() : brokers;
          for (const b of order) out.get(b.name)!.push(await runOnce(b.broker, sqls[q]));
        }
      } catch (err) {
        results[q] = { error: (err as Error).message }; // reported; the other queries are still measured
        continue;
      }
      const per = Object.fromEntries([...out].map(([name, o]) => [name, summary(o)]));
      const ratio = (k: 'medianMs' | 'brokerOverheadMs' | 'brokerCpuMs') => +(median(out.get('this')!.map((o) => k === 'medianMs' ? o.ms : k === 'brokerCpuMs' ? o.cpuMs : o.ms - o.slowestAgentMs))
        / median(out.get('baseline')!.map((o) => k === 'medianMs' ? o.ms : k === 'brokerCpuMs' ? o.cpuMs : o.ms - o.slowestAgentMs))).toFixed(3);
      const last = out.get('this')!.at(-1)!.stats;
      const lastBaseline = out.get('baseline')?.at(-1)?.stats;
      results[q] = { ...per, bytesShipped: last?.bytesShipped, rowsShipped: last?.rowsShipped,
        ...(lastBaseline ? { bytesShippedBaseline: lastBaseline.bytesShipped, rowsShippedBaseline: lastBaseline.rowsShipped } : {}),
        ...(brokers.length > 1 ? { ratioThisVsBaseline: { medianMs: ratio('medianMs'), brokerOverheadMs: ratio('brokerOverheadMs'), brokerCpuMs: ratio('brokerCpuMs') } } : {}) };
    }
    const bytes = (q: QueryName) => (results[q] as { bytesShipped?: number } | undefined)?.bytesShipped;
    return {
      agents: n, workers, rowsPerAgent: rows, runs, baseline: v.baseline ?? null, loadavg: (await import('node:os')).loadavg().map((x) => +x.toFixed(2)),
      queries: results,
      ...(bytes('groupBy') && bytes('rowsNeeded') ? { bytesRatioGroupByVsRows: +(bytes('groupBy')! / bytes('rowsNeeded')!).toFixed(5) } : {}),
      targets: { brokerOverheadMs: 100, bytesRatio: 0.01 },
    };
  } finally {
    for (const c of children) c.child.kill('SIGTERM');
    await Promise.all(children.map((c) => new Promise((r) => (c.child.exitCode !== null ? r(null) : c.child.once('exit', r)))));
    for (const { broker } of brokers) await broker.stop();
    await nats.stop();
  }
}
