// Cluster mode at scale on one machine (issue 7): N synthetic agents in a few worker processes, a
// real nats-server, one broker in this process. Reports, per query, the broker's overhead (query
// latency minus the slowest agent's own fragment time) and bytes shipped for a partially
// aggregated group-by vs shipping the rows it needs. Targets: overhead ≤ 100 ms, bytes ≤ 1%.
// Args: --agents N (default 100), --workers W (default 4), --rows R per agent (default 5000), --runs (default 3).
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { startNats } from '../test/fixtures/fake-kube/nats-server.ts';
import { spawnWithFirstLine, waitFor } from '../test/helpers/processes.ts';
import { startBroker } from '../server/broker/broker.ts';

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

export default async function (args: string[]): Promise<object> {
  const { values: v } = parseArgs({ args, options: { agents: { type: 'string' }, workers: { type: 'string' }, rows: { type: 'string' }, runs: { type: 'string' } } });
  const n = Number(v.agents ?? 100);
  const workers = Math.min(n, Number(v.workers ?? 4));
  const rows = Number(v.rows ?? 5000);
  const runs = Number(v.runs ?? 3);
  const nats = await startNats();
  const worker = fileURLToPath(new URL('./_cluster-agents.ts', import.meta.url));
  const children: Array<{ child: import('node:child_process').ChildProcess }> = [];
  const healthPorts: number[] = [];
  const broker = await startBroker({ nats: nats.url, port: 0, bind: '127.0.0.1', healthPort: 0, fragmentTimeoutMs: 120_000, clusterMetadata: false, log: pino({ level: 'warn' }, pino.destination(2)) });
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
    await waitFor(`${n} agents registered`, async () => (broker.registry.nodes().length === n ? true : undefined), 120_000);
    process.stderr.write(`${n} agents × ${rows} rows up in ${((performance.now() - t0) / 1000).toFixed(1)} s\n`);

    const slowestAgentMs = async () => {
      const stats = await Promise.all(healthPorts.map(async (p) => ((await (await fetch(`http://127.0.0.1:${p}/stats`)).json()) as { fragments: { lastFragmentMs: number } }).fragments.lastFragmentMs));
      return Math.max(...stats);
    };
    // a query that fails (e.g. an engine bug on the agents) is reported, the others still measured
    const measure = (sql: string) => measureOne(sql).catch((err: Error) => ({ error: err.message, bytesShipped: NaN }));
    const measureOne = async (sql: string) => {
      const out: Array<{ ms: number; slowestAgentMs: number; bytes: number; rowsShipped: number; fetchMs: number; mergeMs: number }> = [];
      for (let i = 0; i < runs; i++) {
        const t = performance.now();
        const r = await broker.executor.query(sql);
        for await (const _ of r.chunks) { /* drain */ }
        const ms = performance.now() - t;
        const s = broker.executor.lastStats!;
        out.push({ ms, slowestAgentMs: await slowestAgentMs(), bytes: s.bytesShipped, rowsShipped: s.rowsShipped, fetchMs: s.fetchMs, mergeMs: s.mergeMs });
      }
      const ms = median(out.map((o) => o.ms));
      const slowest = median(out.map((o) => o.slowestAgentMs));
      return { strategy: broker.executor.lastStats!.strategy, medianMs: +ms.toFixed(1), slowestAgentMs: +slowest.toFixed(1), brokerOverheadMs: +median(out.map((o) => o.ms - o.slowestAgentMs)).toFixed(1),
        fanOutMs: +median(out.map((o) => o.fetchMs)).toFixed(1), mergeMs: +median(out.map((o) => o.mergeMs)).toFixed(1), bytesShipped: out[0]!.bytes, rowsShipped: out[0]!.rowsShipped };
    };
    const groupBy = await measure('select req_path, resp_status, count(*), avg(latency), max(latency) from http_events group by 1, 2');
    const rowsNeeded = await measure('select req_path, resp_status, latency from http_events');
    const count = await measure('select count(*) from http_events');
    const topN = await measure('select req_path, latency from http_events order by latency desc limit 10');
    return {
      agents: n, workers, rowsPerAgent: rows,
      queries: { groupBy, count, topN, rowsNeededForGroupBy: rowsNeeded },
      bytesRatioGroupByVsRows: +(groupBy.bytesShipped / rowsNeeded.bytesShipped).toFixed(5),
      targets: { brokerOverheadMs: 100, bytesRatio: 0.01 },
    };
  } finally {
    for (const c of children) c.child.kill('SIGTERM');
    await Promise.all(children.map((c) => new Promise((r) => (c.child.exitCode !== null ? r(null) : c.child.once('exit', r)))));
    await broker.stop();
    await nats.stop();
  }
}
