// Cluster mode end to end on loopback (issue 7): a real nats-server, agents as separate processes
// (`wiretap agent --source synthetic`, distinct ports on 127.0.0.1 — no network namespaces in this
// slice), a broker in this process. Distributed answers must equal a standalone engine holding
// the union of the agents' rows; pruning shows in EXPLAIN and in the agents' fragment counters;
// kill -9 of an agent mid-query fails the query naming it, or under partial results leaves it out
// with a NOTICE.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import pg from 'pg';
import { pino } from 'pino';
import { startNats, type NatsServer } from './fixtures/fake-kube/nats-server.ts';
import { spawnWithFirstLine, waitFor } from './helpers/processes.ts';
import { DuckEngine } from '../engine/duck.ts';
import { StandalonePlanner } from '../planner/standalone.ts';
import { PgServer } from '../server/pg/index.ts';
import { startBroker, type Broker } from '../server/broker/broker.ts';
import { syntheticHttpRows } from '../server/agent/synthetic-rows.ts';
import { syntheticStartNs } from '../server/agent/agent.ts';
import { asidFor } from '../server/registry/asid.ts';
import { ClusterMetadataView } from '../planner/cluster-metadata/cluster-view.ts';
import { ddsketchAlpha, hllStandardError } from '../planner/distributed/sketches.ts';

const log = pino({ level: 'silent' });
const wiretap = new URL('../bin/wiretap', import.meta.url).pathname;

interface AgentProc { name: string; child: ChildProcess; healthPort: number; rows: number; seed: number }

let nats: NatsServer;
const agents: AgentProc[] = [];
let broker: Broker;
let engine: DuckEngine;
let standalone: PgServer;
let standalonePort = 0;
const view = new ClusterMetadataView();

// node-3 holds many rows (so a query over it runs long enough to kill it mid-stream) and announces
// rarely (so it stays registered after the kill, as a node dying mid-query does)
const specs = [
  { name: 'node-0', rows: 3000, seed: 11, heartbeatMs: 300 },
  { name: 'node-1', rows: 2500, seed: 12, heartbeatMs: 300 },
  { name: 'node-2', rows: 4000, seed: 13, heartbeatMs: 300 },
  { name: 'node-3', rows: 150_000, seed: 14, heartbeatMs: 120_000 },
];

async function startAgentProcess(s: (typeof specs)[number]): Promise<AgentProc> {
  const { child, line } = await spawnWithFirstLine('node', [
    wiretap, 'agent', '--source', 'synthetic', '--rows', String(s.rows), '--seed', String(s.seed), '--node', s.name,
    '--grpc-bind', '127.0.0.1', '--grpc-port', '0', '--advertise', '127.0.0.1', '--health-port', '0',
    '--heartbeat-ms', String(s.heartbeatMs), '--nats', nats.url, '--log-level', 'warn',
  ], 120_000);
  const m = /health :(\d+)/.exec(line);
  assert.ok(m, line);
  return { name: s.name, child, healthPort: Number(m[1]), rows: s.rows, seed: s.seed };
}

async function agentStats(a: AgentProc): Promise<{ fragments: { fragments: number; rowsSent: number } }> {
  const res = await fetch(`http://127.0.0.1:${a.healthPort}/stats`);
  return (await res.json()) as { fragments: { fragments: number; rowsSent: number } };
}

async function query(port: number, sql: string, setup: string[] = []): Promise<{ rows: unknown[][]; fields: string[]; notices: string[] }> {
  const client = new pg.Client({ host: '127.0.0.1', port, user: 'wiretap', database: 'wiretap' });
  const notices: string[] = [];
  client.on('notice', (n) => notices.push(n.message ?? ''));
  await client.connect();
  try {
    for (const s of setup) await client.query(s);
    const r = await client.query({ text: sql, rowMode: 'array' });
    return { rows: r.rows as unknown[][], fields: r.fields.map((f) => f.name), notices };
  } finally {
    await client.end();
  }
}

function startBrokerHere(): Promise<Broker> {
  return startBroker({ nats: nats.url, port: 0, bind: '127.0.0.1', healthPort: 0, fragmentTimeoutMs: 60_000, clusterMetadata: false, pruner: view, log });
}

before(async () => {
  nats = await startNats();
  for (const a of await Promise.all(specs.map(startAgentProcess))) agents.push(a);
  broker = await startBrokerHere();
  await waitFor('all agents registered', async () => (broker.registry.nodes().length === specs.length ? true : undefined), 60_000);
  // the standalone reference: one engine holding every agent's rows
  engine = await DuckEngine.create();
  for (const s of specs) for (const row of syntheticHttpRows({ seed: s.seed, count: s.rows, asid: asidFor(s.name), startNs: syntheticStartNs })) engine.append('http_events', row);
  await engine.flush();
  standalone = new PgServer({ executor: new StandalonePlanner(engine), host: '127.0.0.1', port: 0, logger: log });
  standalonePort = (await standalone.listen()).port;
  // cluster metadata: pod shop/web-1 runs on node-1 only
  view.apply({ kind: 'pod', key: 'uid-web-1', op: 'upsert', atMs: Date.now(), value: { uid: 'uid-web-1', name: 'web-1', namespace: 'shop', node: 'node-1', services: ['web'] } });
});

after(async () => {
  for (const a of agents) if (a.child.exitCode === null && a.child.signalCode === null) a.child.kill('SIGKILL');
  await broker?.stop();
  await standalone?.close();
  await engine?.close();
  await nats?.stop();
});

function close(a: unknown, b: unknown): boolean {
  if (typeof a === 'number' && typeof b === 'number') return Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(a), Math.abs(b));
  if (typeof a === 'string' && typeof b === 'string' && /^-?\d+\.\d+(e[+-]?\d+)?$/i.test(a) && /^-?\d+\.\d+(e[+-]?\d+)?$/i.test(b)) return close(Number(a), Number(b));
  return a === b || JSON.stringify(a) === JSON.stringify(b);
}

const suite: Array<{ sql: string; ordered: boolean; strategy: string; mayBeEmpty?: boolean }> = [
  { sql: 'select count(*) from http_events', ordered: true, strategy: 'partial-aggregate' },
  { sql: 'select count(*), sum(resp_body_size), min(latency), max(latency), avg(latency) from http_events', ordered: true, strategy: 'partial-aggregate' },
  { sql: 'select req_path, count(*) as n, avg(latency) from http_events group by req_path', ordered: false, strategy: 'partial-aggregate' },
  { sql: 'select req_method, resp_status, count(*), max(resp_body_size) from http_events where resp_status >= 400 group by 1, 2 order by 3 desc, 1, 2', ordered: true, strategy: 'partial-aggregate' },
  { sql: 'select req_path, req_method, latency from http_events where req_method = \'POST\' order by latency desc, time_ limit 7', ordered: true, strategy: 'node-rows' },
  { sql: 'select time_, upid, req_path from http_events order by time_ desc, upid limit 5 offset 3', ordered: true, strategy: 'node-rows' },
  { sql: 'select count(*) filter (where resp_status >= 500) as errors, avg(latency) filter (where req_method = \'GET\') as get_avg, count(*) from http_events', ordered: true, strategy: 'partial-aggregate' },
  { sql: 'select count(*) from http_events where latency between 1000000 and 2000000 and req_path like \'/api/%\'', ordered: true, strategy: 'partial-aggregate' },
  { sql: 'select req_path, count(*) filter (where resp_status >= 500)::float / count(*) as err_rate, avg(latency) / 1e6 as ms, max(latency) - min(latency) as spread from http_events group by 1', ordered: false, strategy: 'partial-aggregate' },
  { sql: 'select count(distinct remote_addr) from http_events', ordered: true, strategy: 'ship-rows' },
  { sql: 'select req_path, quantile_disc(latency, 0.5) from http_events group by 1', ordered: false, strategy: 'ship-rows' },
  // synthetic agents have no process_stats rows: this checks the per-table pushed predicates run
  { sql: 'select h.req_path, count(*) from http_events h join process_stats p on h.upid = p.upid where h.resp_status >= 500 and p.rss_bytes > 0 group by 1', ordered: false, strategy: 'ship-tables', mayBeEmpty: true },
  { sql: 'select a.req_path, count(*) from http_events a join (select distinct req_path from http_events where resp_status = 500) b on a.req_path = b.req_path group by 1', ordered: false, strategy: 'ship-tables' },
  // each table filtered by its own read (the preserved side's WHERE, the nullable side's ON), named columns only
  { sql: 'select h.req_path, count(*), count(p.upid) from http_events h left join process_stats p on h.upid = p.upid and p.rss_bytes > 0 where h.resp_status >= 500 group by 1', ordered: false, strategy: 'ship-tables' },
];

test('distributed answers equal the standalone answer over the union of the same rows', async () => {
  for (const q of suite) {
    const plan = await query(broker.port, `explain ${q.sql}`);
    assert.match(String(plan.rows[0]![0]), new RegExp(`Distributed plan: ${q.strategy}`), q.sql);
    const [d, s] = await Promise.all([query(broker.port, q.sql), query(standalonePort, q.sql)]);
    assert.deepEqual(d.fields, s.fields, q.sql);
    const sort = (rows: unknown[][]) => (q.ordered ? rows : [...rows].sort((x, y) => JSON.stringify(x).localeCompare(JSON.stringify(y))));
    const [dr, sr] = [sort(d.rows), sort(s.rows)];
    assert.equal(dr.length, sr.length, q.sql);
    assert.ok(q.mayBeEmpty || dr.length > 0, `${q.sql}: no rows`);
    dr.forEach((row, i) => row.forEach((v, j) => assert.ok(close(v, sr[i]![j]), `${q.sql}: row ${i} col ${j}: ${String(v)} != ${String(sr[i]![j])}`)));
  }
});

test('approx_count_distinct / approx_quantile: sketches merged at the broker, within their bounds of the exact standalone answer', async () => {
  // with FILTER too: sketched over the filtered rows on the nodes
  const sql = 'select req_path, approx_count_distinct(remote_addr || remote_port) as d, approx_quantile(latency, 0.5) as p50, approx_quantile(latency, 0.99) as p99, '
    + 'approx_count_distinct(remote_addr || remote_port) filter (where resp_status >= 500) as e from http_events group by 1 order by 1';
  const plan = (await query(broker.port, `explain ${sql}`)).rows.map((r) => String(r[0])).join('\n');
  assert.match(plan, /Distributed plan: partial-aggregate/);
  // exact: count(distinct …) and the quantile_disc element at rank ⌊q·(n−1)⌋
  const rank = (q: number) => `list_sort(list(latency))[cast(floor(${q} * (count(*) - 1)) as bigint) + 1]`;
  const [d, s] = await Promise.all([
    query(broker.port, sql),
    query(standalonePort, `select req_path, count(distinct remote_addr || remote_port), ${rank(0.5)}, ${rank(0.99)}, count(distinct remote_addr || remote_port) filter (where resp_status >= 500) from http_events group by 1 order by 1`),
  ]);
  assert.deepEqual(d.fields, ['req_path', 'd', 'p50', 'p99', 'e']);
  assert.equal(d.rows.length, s.rows.length);
  assert.ok(d.rows.length > 1);
  d.rows.forEach((row, i) => {
    const e = s.rows[i]!;
    assert.equal(row[0], e[0]);
    for (const j of [1, 4]) assert.ok(Math.abs(Number(row[j]) - Number(e[j])) <= 4 * hllStandardError * Number(e[j]), `${String(row[0])}: distinct ${String(row[j])} vs ${String(e[j])}`);
    for (const j of [2, 3]) assert.ok(Math.abs(Number(row[j]) - Number(e[j])) <= ddsketchAlpha * Number(e[j]) + 1, `${String(row[0])} col ${j}: ${String(row[j])} vs ${String(e[j])}`);
  });
});

test('approx_quantile with a list of quantiles, over an expression and over time_: one sketch per argument, DuckDB\'s types, each estimate within its bound', async () => {
  const sql = 'select req_path, approx_quantile(latency, [0.5, 0.9, 0.99]) as l, approx_quantile(latency / 1e6, [0.5, 0.99]) as ms, '
    + 'approx_quantile(time_, [0.1, 0.5, 0.9]) as t, approx_quantile(latency, 0.99) as p99 from http_events group by 1 order by 1';
  const plan = (await query(broker.port, `explain ${sql}`)).rows.map((r) => String(r[0])).join('\n');
  assert.match(plan, /Distributed plan: partial-aggregate/);
  // raw text (µs of timestamps kept) and the result columns' type oids
  const raw = async (port: number, text: string) => {
    const client = new pg.Client({ host: '127.0.0.1', port, user: 'wiretap', database: 'wiretap' });
    await client.connect();
    try {
      const r = await client.query({ text, rowMode: 'array', types: { getTypeParser: () => (v: string) => v } });
      return { rows: r.rows as (string | null)[][], oids: r.fields.map((f) => f.dataTypeID) };
    } finally {
      await client.end();
    }
  };
  const rank = (x: string, q: number) => `list_sort(list(${x}))[cast(floor(${q} * (count(*) - 1)) as bigint) + 1]`;
  const [d, own, exact] = await Promise.all([
    raw(broker.port, sql),
    raw(standalonePort, sql),
    raw(standalonePort, `select req_path, ${[0.5, 0.9, 0.99].map((q) => rank('latency', q)).join(', ')}, ${[0.1, 0.5, 0.9].map((q) => rank('epoch_us(time_)', q)).join(', ')}, min(epoch_us(time_)) from http_events group by 1 order by 1`),
  ]);
  assert.deepEqual(d.oids, own.oids, 'the same result types as one engine');
  assert.equal(d.rows.length, exact.rows.length);
  assert.ok(d.rows.length > 1);
  // lists reach clients as DuckDB's text form: [a, b, …]
  const list = (v: string | null) => v!.replace(/^\[|\]$/g, '').split(', ');
  const micros = (ts: string) => {
    const m = /^(.*?)(?:\.(\d+))?([+-]\d\d)$/.exec(ts)!;
    return Date.parse(`${m[1]!.replace(' ', 'T')}${m[3]}:00`) * 1000 + Number((m[2] ?? '').padEnd(6, '0'));
  };
  d.rows.forEach((row, i) => {
    const e = exact.rows[i]!.map((v, j) => (j === 0 ? v : Number(v)));
    assert.equal(row[0], e[0]);
    const within = (est: number, x: number, bound: number, what: string) => assert.ok(Math.abs(est - x) <= bound, `${String(row[0])} ${what}: ${est} vs ${x}`);
    list(row[1]!).forEach((v, k) => within(Number(v), e[1 + k] as number, ddsketchAlpha * (e[1 + k] as number) + 1, `latency[${k}]`));
    list(row[2]!).forEach((v, k) => within(Number(v), (e[1 + 2 * k] as number) / 1e6, ddsketchAlpha * (e[1 + 2 * k] as number) / 1e6 * (1 + 1e-9), `ms[${k}]`));
    // time_: α of the distance from the group's earliest time_, + 1 µs
    list(row[3]!).forEach((v, k) => within(micros(v), e[4 + k] as number, ddsketchAlpha * ((e[4 + k] as number) - (e[7] as number)) + 1, `time_[${k}]`));
    within(Number(row[4]), e[3] as number, ddsketchAlpha * (e[3] as number) + 1, 'p99');
  });
});

test('a SQL error on the nodes reaches the client with its SQLSTATE, also under partial results', async () => {
  for (const setup of [[], ['SET wiretap.partial_results = on']]) {
    await assert.rejects(query(broker.port, 'select no_such_column from http_events', setup), (err: Error & { code?: string }) => err.code === '42703');
  }
});

test('a pod filter contacts only the node running that pod (EXPLAIN and agent counters)', async () => {
  const sql = "select count(*) from http_events where pod = 'shop/web-1' and resp_status >= 200";
  const plan = (await query(broker.port, `explain ${sql}`)).rows.map((r) => String(r[0])).join('\n');
  assert.match(plan, /nodes chosen \(1\): node-1/);
  assert.match(plan, /nodes pruned \(3\): node-0, node-2, node-3 by pod in \(shop\/web-1\)/);
  assert.match(plan, /pushed predicates: pod = 'shop\/web-1' AND resp_status >= 200/);
  const before = await Promise.all(agents.map(agentStats));
  const r = await query(broker.port, sql);
  assert.deepEqual(r.rows, [['0']]); // synthetic rows carry no pod metadata: the point is who was asked
  const afterStats = await Promise.all(agents.map(agentStats));
  const delta = agents.map((a, i) => [a.name, afterStats[i]!.fragments.fragments - before[i]!.fragments.fragments]);
  assert.deepEqual(delta, [['node-0', 0], ['node-1', 1], ['node-2', 0], ['node-3', 0]]);
});

test('a time_ range outside a node\'s rows prunes it (heartbeat ranges; EXPLAIN and agent counters)', async () => {
  // synthetic rows are 1 ms apart from 2026-01-01T00:00:00Z: node-0/1/2 hold ≤ 4 s, node-3 150 s
  const sql = "select count(*), max(latency) from http_events where time_ >= '2026-01-01 00:00:05+00' and time_ < timestamp '2026-01-01 00:01:00'";
  const plan = (await query(broker.port, `explain ${sql}`)).rows.map((r) => String(r[0])).join('\n');
  assert.match(plan, /nodes chosen \(1\): node-3/);
  assert.match(plan, /nodes pruned \(3\): node-0 \[2026-01-01T00:00:00.000Z, 2026-01-01T00:00:02.999Z\], node-1 \[[^\]]*\], node-2 \[[^\]]*\] by time_: the query asks \[2026-01-01T00:00:05.000Z, 2026-01-01T00:01:00.000Z\], their http_events rows lie outside/);
  const before = await Promise.all(agents.map(agentStats));
  const [d, s] = await Promise.all([query(broker.port, sql), query(standalonePort, sql)]);
  assert.deepEqual(d.rows, s.rows);
  assert.equal(d.rows[0]![0], '55000');
  const afterStats = await Promise.all(agents.map(agentStats));
  assert.deepEqual(agents.map((a, i) => [a.name, afterStats[i]!.fragments.fragments - before[i]!.fragments.fragments]), [['node-0', 0], ['node-1', 0], ['node-2', 0], ['node-3', 1]]);
  // a range no node holds: nobody is asked, the answer is still right (zero)
  const none = "select count(*) from http_events where time_ between '2025-01-01' and '2025-12-31'";
  assert.match((await query(broker.port, `explain ${none}`)).rows.map((r) => String(r[0])).join('\n'), /nodes chosen \(0\)/);
  assert.deepEqual((await query(broker.port, none)).rows, [['0']]);
  // a bound only the nodes can evaluate (a column on both sides) prunes nothing
  assert.match((await query(broker.port, 'explain select count(*) from http_events where time_ > time_')).rows.map((r) => String(r[0])).join('\n'), /nodes chosen \(4\)/);
});

test('a broker with a small --max-shipped-mb fails a statement shipping more with 53200 naming the cap, and keeps serving', async () => {
  const small = await startBroker({ nats: nats.url, port: 0, bind: '127.0.0.1', healthPort: 0, fragmentTimeoutMs: 60_000, maxShippedBytes: 1024 * 1024, clusterMetadata: false, log });
  try {
    await waitFor('agents registered', async () => (small.registry.nodes().length === specs.length ? true : undefined), 30_000);
    // ship-rows: every node's rows travel (node-3 alone is 150k rows, several MB)
    await assert.rejects(query(small.port, 'select count(distinct req_path || remote_addr) from http_events'), (err: Error & { code?: string }) => {
      assert.equal(err.code, '53200');
      assert.match(err.message, /exceed its cap of 1\.0 MB \(--max-shipped-mb/);
      return true;
    });
    const sql = 'select req_path, count(latency) from http_events group by 1 order by 1';
    const [d, s] = await Promise.all([query(small.port, sql), query(standalonePort, sql)]);
    assert.deepEqual(d.rows, s.rows);
  } finally {
    await small.stop();
  }
});

test('a restarted broker knows every agent again (they re-announce)', async () => {
  await broker.stop();
  broker = await startBrokerHere();
  await waitFor('agents re-registered', async () => (broker.registry.nodes().length === specs.length ? true : undefined), 30_000);
  const r = await query(broker.port, 'select count(*) from http_events');
  assert.deepEqual(r.rows, [[String(specs.reduce((a, s) => a + s.rows, 0))]]);
});

test('statement_timeout cancels the fragments on the agents (57014, agent-side cancel counter)', async () => {
  const victim = agents.find((a) => a.name === 'node-3')!;
  const stats = async () => ((await (await fetch(`http://127.0.0.1:${victim.healthPort}/stats`)).json()) as { fragments: { cancelled: number } }).fragments.cancelled;
  const before = await stats();
  // ships node-3's 150k rows: far longer than the timeout
  await assert.rejects(
    query(broker.port, 'select count(distinct req_path || remote_addr || cast(latency as varchar)) from http_events', ["SET statement_timeout = '300ms'"]),
    (err: Error & { code?: string }) => err.code === '57014',
  );
  await waitFor('node-3 saw the cancel', async () => ((await stats()) > before ? true : undefined), 30_000);
});

test('kill -9 of an agent mid-query fails the query naming it; partial results leave it out with a NOTICE', async () => {
  const victim = agents.find((a) => a.name === 'node-3')!;
  const before = (await agentStats(victim)).fragments.fragments;
  // every row of every node is shipped: node-3 streams 150k rows, long enough to be killed mid-stream
  const running = query(broker.port, "select count(distinct req_path || remote_addr || cast(latency as varchar)) from http_events").then(
    () => { throw new Error('query succeeded although node-3 was killed'); },
    (err: Error) => err,
  );
  await waitFor('node-3 streaming its fragment', async () => {
    const s = await agentStats(victim);
    return s.fragments.fragments > before && s.fragments.rowsSent > 0 ? true : undefined;
  }, 60_000);
  victim.child.kill('SIGKILL');
  const err = await running;
  assert.match(err.message, /node node-3/);

  const survivors = specs.filter((s) => s.name !== 'node-3').reduce((a, s) => a + s.rows, 0);
  const r = await query(broker.port, 'select count(*) from http_events', ['SET wiretap.partial_results = on']);
  assert.deepEqual(r.rows, [[String(survivors)]]);
  assert.equal(r.notices.length, 1);
  assert.match(r.notices[0]!, /node-3/);
});

test('an agent that stops announcing expires from the registry', async () => {
  const a = agents.find((x) => x.name === 'node-0')!;
  a.child.kill('SIGTERM');
  await waitFor('node-0 expired', async () => (broker.registry.nodes().some((n) => n.name === 'node-0') ? undefined : true), 30_000);
  const r = await query(broker.port, 'select count(*) from http_events', ['SET wiretap.partial_results = on']);
  assert.deepEqual(r.rows, [[String(specs[1]!.rows + specs[2]!.rows)]]);
});

test('NATS stopped: queries to known agents keep working; registration resumes when it returns', async () => {
  const port = nats.port;
  await nats.stop();
  // longer than 3 heartbeats of node-1/node-2: without NATS nobody expires
  await new Promise((r) => setTimeout(r, 1500));
  const survivors = specs[1]!.rows + specs[2]!.rows;
  const r = await query(broker.port, 'select count(*) from http_events', ['SET wiretap.partial_results = on']);
  assert.deepEqual(r.rows, [[String(survivors)]]);
  nats = await startNats(port);
  const late = await startAgentProcess({ name: 'node-4', rows: 1000, seed: 15, heartbeatMs: 300 });
  agents.push(late);
  await waitFor('node-4 registered after NATS returned', async () => (broker.registry.nodes().some((n) => n.name === 'node-4') ? true : undefined), 60_000);
  const again = await query(broker.port, 'select count(*) from http_events', ['SET wiretap.partial_results = on']);
  assert.deepEqual(again.rows, [[String(survivors + 1000)]]);
});
