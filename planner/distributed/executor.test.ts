// DistributedExecutor without a network: "nodes" are engines in this process behind a runner that
// calls them directly. Checks the merge against one engine holding every row, the zero-node case
// (columns from the empty schema engine), and partial results.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { DuckEngine } from '../../engine/duck.ts';
import { SqlError, type QueryExecutor, type Value } from '../../engine/query.ts';
import type { HttpEventRow } from '../../engine/schema.ts';
import type { ProcessStatsRow } from '../../engine/tables/process-stats.ts';
import { DistributedExecutor } from './executor.ts';
import { ddsketchAlpha, hllStandardError } from './sketches.ts';
import { MergeDb } from './merge-db.ts';
import { NodeUnavailableError, type AgentNode, type FragmentChunk, type FragmentRunner, type NodeDirectory } from './nodes.ts';

function row(i: number, asid: number): HttpEventRow {
  return {
    timeNs: 1_767_225_600_000_000_000n + BigInt(i) * 1_000_000n, upid: { asid, pid: 10 + (i % 3), startTicks: 5n },
    remoteAddr: '10.0.0.1', remotePort: 1000 + i, localAddr: '10.0.0.2', localPort: 80, traceRole: 2, encrypted: false,
    majorVersion: 1, minorVersion: 1, contentType: 0, reqHeaders: '{}', reqMethod: i % 4 === 0 ? 'POST' : 'GET',
    reqPath: `/p${i % 5}`, reqBody: '', reqBodySize: i, respHeaders: '{}', respStatus: i % 7 === 0 ? 500 : 200,
    respMessage: 'OK', respBody: '', respBodySize: i * 2, latencyNs: BigInt((i * 7919) % 100_000),
  };
}

/** A process of row()'s (pid 10–12) sampled: rss grows with i; node c's samples an hour later (the time_ pruning test's ranges). */
function procRow(i: number, asid: number): ProcessStatsRow {
  return {
    timeNs: 1_767_225_600_000_000_000n + (asid === 3 ? 3_600_000_000_000n : 0n) + BigInt(i) * 8_000_000n, upid: { asid, pid: 10 + (i % 3), startTicks: 5n },
    majorFaults: 0, minorFaults: i, cpuUtimeNs: i * 1000, cpuKtimeNs: i * 10, numThreads: 1 + (i % 4), vsizeBytes: 1e8, rssBytes: 1e6 * i,
    rcharBytes: 0, wcharBytes: 0, readBytes: 0, writeBytes: 0,
  };
}

const engines = new Map<string, DuckEngine>();
const down = new Set<string>();
const runner: FragmentRunner = {
  async *run(node: AgentNode, sql: string): AsyncIterable<FragmentChunk> {
    if (down.has(node.name)) throw new NodeUnavailableError(node.name, '58000', `node ${node.name} failed: down`);
    const r = await engines.get(node.name)!.query(sql);
    for await (const rows of r.chunks) yield { columns: r.columns, rows, bytes: 0 };
  },
};
let nodes: AgentNode[] = [];
const directory: NodeDirectory = { nodes: () => nodes };

const all = await DuckEngine.create({ threads: 1 });
const schema = await DuckEngine.create({ threads: 1 });
const merge = await MergeDb.create(1, '256MB');
for (const [k, name] of ['a', 'b', 'c'].entries()) {
  const e = await DuckEngine.create({ threads: 1 });
  for (let i = 0; i < 300 + k * 50; i++) { e.append('http_events', row(i, k + 1)); all.append('http_events', row(i, k + 1)); }
  for (let i = 0; i < 12; i++) { e.append('process_stats', procRow(i, k + 1)); all.append('process_stats', procRow(i, k + 1)); }
  engines.set(name, e);
}
const executor = new DistributedExecutor(directory, runner, merge, schema, null, { fragmentTimeoutMs: 30_000 });

after(async () => {
  for (const e of [...engines.values(), all, schema]) await e.close();
  merge.close();
});

async function rows(x: QueryExecutor, sql: string): Promise<Value[][]> {
  const r = await x.query(sql);
  const out: Value[][] = [];
  for await (const c of r.chunks) out.push(...c);
  return out;
}

test('merged answers equal one engine over all rows', async () => {
  nodes = ['a', 'b', 'c'].map((name, i) => ({ name, asid: i + 1, address: 'in-process' }));
  for (const sql of [
    'select count(*), sum(resp_body_size), avg(latency), min(time_), max(req_path) from http_events',
    'select req_path, req_method, count(*), avg(latency) from http_events where resp_status = 200 group by 1, 2 order by 1, 2',
    'select upid, latency from http_events order by latency desc, upid limit 4 offset 1',
    'select count(distinct upid) from http_events',
    // expressions over mergeable aggregates and group keys, merged at the broker (partial-aggregate)
    'select req_path, count(*) filter (where resp_status >= 500)::float / count(*) as err_rate, avg(latency) / 1e3 as avg_us from http_events group by 1 order by 2 desc, 1',
    "select req_method, round(100.0 * sum(case when resp_status = 500 then 1 else 0 end) / count(*), 2), max(latency) - min(latency), req_method || ':' || count(*) from http_events group by req_method order by 1",
    'select count(*) filter (where resp_status = 500) * 1.0 / count(*), sum(latency) / count(*), -min(remote_port) from http_events',
    // shipped rows / tables carrying only the named columns (projection.ts)
    'select quantile_cont(latency, 0.5) as med, count(distinct req_path) from http_events where resp_status = 200 order by med',
    'select req_path, time_, row_number() over (partition by upid order by time_, remote_port) as n from http_events order by n desc, time_, req_path limit 5',
    "select \"REQ_PATH\", count(*) from http_events group by 1 having max(latency) > 50000 order by 1",
    'select a.req_path, count(*) from http_events a join http_events b on a.upid = b.upid and a.remote_port = b.remote_port where a.latency > 1000 group by 1 order by 1',
    'select count(*), max(h.req_method) from http_events h left join (select upid, max(latency) as m from http_events group by 1) x on h.upid = x.upid where x.m > 10',
    // each table filtered by its own read (read-inputs.ts): outer join ON / WHERE, subqueries, union
    'select h.req_path, count(p.upid), max(p.rss_bytes) from http_events h left join process_stats p on h.upid = p.upid and p.rss_bytes > 5e6 where h.resp_status = 500 group by 1 order by 1',
    'select count(*), sum(h.latency) from http_events h left join process_stats p on h.upid = p.upid where p.num_threads = 2 or p.upid is null',
    'select count(*) from http_events where resp_status = 200 and upid in (select upid from process_stats where rss_bytes > 9e6)',
    'select count(*) from http_events h where exists (select 1 from process_stats p where p.upid = h.upid and rss_bytes > remote_port * 1000)',
    'select req_path as x from http_events where latency < 5000 union all select cast(rss_bytes as varchar) from process_stats where num_threads = 3 order by 1',
    'select count(*), max(latency) from http_events where latency > 90000 and req_path in (select req_path from http_events where resp_status = 500 and req_method = \'GET\')',
    'select h.req_path, count(*) from http_events h join http_events e on h.upid = e.upid and h.remote_port = e.remote_port + 9 where h.latency > 50000 and e.resp_status = 500 group by 1 order by 1',
    'with big as (select * from process_stats where rss_bytes >= 8e6) select h.req_method, count(*) from http_events h join big on h.upid = big.upid where h.latency > 90000 group by 1 order by 1',
  ]) {
    assert.deepEqual(await rows(executor, sql), await rows(all, sql), sql);
    if (/err_rate|round\(100|\* 1\.0/.test(sql)) assert.equal(executor.plan(sql).strategy, 'partial-aggregate', sql);
  }
});

test('no node to ask: the right columns and zero counts', async () => {
  nodes = [];
  const r = await executor.query('select count(*), sum(latency) from http_events');
  assert.deepEqual(r.columns.map((c) => c.name), ['count', 'sum']);
  const out: Value[][] = [];
  for await (const c of r.chunks) out.push(...c);
  assert.deepEqual(out, [[0n, null]]);
});

test('a down node fails the statement, or is left out with a notice under partial results', async () => {
  nodes = ['a', 'b', 'c'].map((name, i) => ({ name, asid: i + 1, address: 'in-process' }));
  down.add('b');
  try {
    await assert.rejects(executor.query('select count(*) from http_events'), (e: SqlError) => /node b/.test(e.message));
    const partial = await executor.forSession((n) => (n === 'wiretap.partial_results' ? 'on' : undefined)).query('select count(*) from http_events');
    const out: Value[][] = [];
    for await (const c of partial.chunks) out.push(...c);
    assert.deepEqual(out, [[700n]]); // a (300) + c (400)
    assert.match((partial as { notices?: string[] }).notices?.[0] ?? '', /left out: b/);
  } finally {
    down.delete('b');
  }
});

test('sketches: approx_count_distinct and approx_quantile merge within their bounds (per group)', async () => {
  nodes = ['a', 'b', 'c'].map((name, i) => ({ name, asid: i + 1, address: 'in-process' }));
  const sql = 'select req_path, approx_count_distinct(remote_port) as d, approx_quantile(latency, 0.9) as q, count(*) from http_events group by req_path order by req_path';
  assert.equal(executor.plan(sql).strategy, 'partial-aggregate');
  const exact = await rows(all, "select req_path, count(distinct remote_port), list_sort(list(latency))[cast(floor(0.9 * (count(*) - 1)) as bigint) + 1], count(*) from http_events group by req_path order by req_path");
  const got = await rows(executor, sql);
  assert.equal(got.length, exact.length);
  got.forEach((r, i) => {
    const e = exact[i]!;
    assert.equal(r[0], e[0]);
    assert.ok(Math.abs(Number(r[1]) - Number(e[1])) <= 4 * hllStandardError * Number(e[1]), `${String(r[1])} vs ${String(e[1])}`);
    assert.equal(typeof r[2], 'bigint', 'the estimate keeps the column type (BIGINT)');
    assert.ok(Math.abs(Number(r[2]) - Number(e[2])) <= ddsketchAlpha * Number(e[2]) + 1, `${String(r[2])} vs ${String(e[2])}`);
    assert.equal(r[3], e[3]);
  });
  // no node to ask: DuckDB's answers for empty input (0 and NULL)
  nodes = [];
  assert.deepEqual(await rows(executor, 'select approx_count_distinct(req_path), approx_quantile(latency, 0.5) from http_events'), [[0n, null]]);
});

test('nodes whose heartbeat time_ range lies outside the WHERE bounds are not asked (EXPLAIN names why)', async () => {
  const asked: string[] = [];
  const counting: FragmentRunner = { run: (node, sql, d, s) => { asked.push(node.name); return runner.run(node, sql, d, s); } };
  const timed = new DistributedExecutor({ nodes: () => nodes }, counting, merge, schema, null, { fragmentTimeoutMs: 30_000 });
  // rows are 1 ms apart from 2026-01-01T00:00:00Z: a holds 300 ms, b 350 ms, c 400 ms
  const t0 = 1_767_225_600_000_000;
  nodes = ['a', 'b', 'c'].map((name, i) => ({ name, asid: i + 1, address: 'in-process', timeRanges: { http_events: { minUs: t0, maxUs: t0 + (299 + 50 * i) * 1000 }, process_stats: null } }));
  const sql = "select count(*), avg(latency) from http_events where time_ > '2026-01-01 00:00:00.320+00'";
  const plan = (await rows(timed, `explain ${sql}`)).map((r) => String(r[0])).join('\n');
  assert.match(plan, /nodes chosen \(2\): b, c/);
  assert.match(plan, /nodes pruned \(1\): a \[2026-01-01T00:00:00.000Z, 2026-01-01T00:00:00.299Z\] by time_: the query asks \[2026-01-01T00:00:00.320Z, …\], their http_events rows lie outside/);
  assert.deepEqual(await rows(timed, sql), await rows(all, sql));
  assert.deepEqual(asked.sort(), ['b', 'c']);
  // open-ended (capturing) nodes are never pruned by a lower bound; unknown tables never at all
  nodes = nodes.map((n) => ({ ...n, timeRanges: { http_events: { minUs: t0, maxUs: null } } }));
  assert.match((await rows(timed, `explain ${sql}`)).map((r) => String(r[0])).join('\n'), /nodes chosen \(3\)/);
  assert.match((await rows(timed, "explain select count(*) from process_stats where time_ > '2030-01-01'")).map((r) => String(r[0])).join('\n'), /nodes chosen \(3\)/);
  // a table a static node reports empty: pruned whatever the bounds
  nodes = nodes.map((n) => ({ ...n, timeRanges: { process_stats: null } }));
  assert.match((await rows(timed, "explain select count(*) from process_stats where time_ > '2000-01-01'")).map((r) => String(r[0])).join('\n'), /nodes chosen \(0\).*\n.*a, b, c by time_: no process_stats rows/);
});

test('one node: it runs the whole statement (no merge); standalone is that rule with the engine in-process', async () => {
  // a one-node cluster: the statement as written, even what the split rules would ship rows for
  nodes = [{ name: 'a', asid: 1, address: 'in-process' }];
  const sql = 'select req_path, count(distinct upid), quantile_cont(latency, 0.5) from http_events group by 1 order by 1';
  assert.deepEqual(await rows(executor, sql), await rows(engines.get('a')!, sql));
  assert.match((await rows(executor, `explain ${sql}`)).map((r) => String(r[0])).join('\n'), /nodes chosen \(1\): a\n[^]*one node holds every matching row: it runs the whole statement, no merge/);
  // down under partial results: the empty answer with the node named
  down.add('a');
  try {
    const partial = await executor.forSession((n) => (n === 'wiretap.partial_results' ? 'on' : undefined)).query('select count(latency) from http_events');
    const out: Value[][] = [];
    for await (const c of partial.chunks) out.push(...c);
    assert.deepEqual(out, [[0n]]);
    assert.match((partial as { notices?: string[] }).notices?.[0] ?? '', /left out: a/);
  } finally {
    down.delete('a');
  }
  // standalone: the engine's own result object comes back (streamed, undecoded chunks kept)
  const local = DistributedExecutor.local(all, merge.aggregateNames);
  for (const q of [sql, 'select 1 as one', "select approx_count_distinct(req_path) from http_events where time_ > '2000-01-01'"]) {
    assert.deepEqual(await rows(local, q), await rows(all, q), q);
  }
  const [viaPlanner, direct] = [await local.query('select req_path from http_events limit 1'), await all.query('select req_path from http_events limit 1')];
  assert.equal('duck' in viaPlanner, 'duck' in direct);
  for (const r of [viaPlanner, direct]) for await (const _ of r.chunks) { /* drain: releases the connection */ }
  assert.match((await rows(local, `explain ${sql}`)).map((r) => String(r[0])).join('\n'), /nodes chosen \(1\): local/);
});

test('shipped rows over the broker cap fail the statement with 53200 naming the cap; the executor carries on', async () => {
  nodes = ['a', 'b', 'c'].map((name, i) => ({ name, asid: i + 1, address: 'in-process' }));
  // the in-process runner has no wire: count 100 bytes a row
  const sized: FragmentRunner = {
    async *run(node, sql, d, s) { for await (const c of runner.run(node, sql, d, s)) yield { ...c, bytes: c.rows.length * 100 }; },
  };
  const capped = new DistributedExecutor(directory, sized, merge, schema, null, { fragmentTimeoutMs: 30_000, maxShippedBytes: 50_000 });
  // ship-rows: 1,050 rows × 100 B > 50 kB
  await assert.rejects(rows(capped, 'select count(distinct req_path || remote_port) from http_events'), (e: SqlError) => {
    assert.equal(e.sqlstate, '53200');
    assert.match(e.message, /exceed its cap of 48\.8 kB \(--max-shipped-mb/);
    return true;
  });
  // partial aggregates ship a few rows: fine, and nothing stays counted from the failed statement
  assert.deepEqual(await rows(capped, 'select count(latency) from http_events'), await rows(all, 'select count(latency) from http_events'));
  assert.deepEqual(await rows(capped, 'select count(distinct req_path) from http_events where latency < 20000'), await rows(all, 'select count(distinct req_path) from http_events where latency < 20000'));
});

test('a decimal partial sum (numeric with a fraction) merges as DOUBLE; integral ones stay exact', async () => {
  nodes = ['a', 'b', 'c'].map((name, i) => ({ name, asid: i + 1, address: 'in-process' }));
  const [[d, n]] = await rows(executor, 'select sum(latency * 1.5), sum(latency) from http_events') as [[number, bigint | string]];
  const [[e, m]] = await rows(all, 'select sum(latency * 1.5), sum(latency) from http_events');
  assert.ok(Math.abs(Number(d) - Number(e)) < 1e-6 * Number(e), `${String(d)} vs ${String(e)}`);
  assert.equal(String(n), String(m));
});

test('joins and subqueries: each table asks only the nodes its own time_ bounds can match (EXPLAIN per input)', async () => {
  const asked: string[] = [];
  const counting: FragmentRunner = { run: (node, sql, d, s) => { asked.push(`${node.name}:${/FROM (\w+)/.exec(sql)?.[1]}`); return runner.run(node, sql, d, s); } };
  const timed = new DistributedExecutor({ nodes: () => nodes }, counting, merge, schema, null, { fragmentTimeoutMs: 30_000 });
  const t0 = 1_767_225_600_000_000;
  // http_events: a 0–299 ms, b 0–349 ms, c 0–399 ms; process_stats: a and b 0–88 ms, c an hour later
  nodes = ['a', 'b', 'c'].map((name, i) => ({ name, asid: i + 1, address: 'in-process', timeRanges: {
    http_events: { minUs: t0, maxUs: t0 + (299 + 50 * i) * 1000 },
    process_stats: i < 2 ? { minUs: t0, maxUs: t0 + 100_000 } : { minUs: t0 + 3_600_000_000, maxUs: t0 + 3_700_000_000 },
  } }));
  const join = "select h.req_path, count(*) from http_events h left join process_stats p on h.upid = p.upid and p.time_ > h.time_ "
    + "where h.time_ > '2026-01-01 00:00:00.320+00' and p.time_ < '2026-01-01 00:30:00+00' group by 1";
  const plan = (await rows(timed, `explain ${join}`)).map((r) => String(r[0])).join('\n');
  assert.match(plan, /nodes chosen \(3\): a, b, c/);
  assert.match(plan, /time_ bounds of http_events: \[>= '2026-01-01 00:00:00.320\+00'; <= \(none\)\]/);
  assert.match(plan, /node fragment -> http_events \[asked: b, c; not asked: a \[2026-01-01T00:00:00.000Z, 2026-01-01T00:00:00.299Z\] by time_: the query asks \[2026-01-01T00:00:00.320Z, …\], their http_events rows lie outside\]/);
  assert.match(plan, /node fragment -> process_stats \[asked: a, b; not asked: c \[2026-01-01T01:00:00.000Z, 2026-01-01T01:01:40.000Z\] by time_: the query asks \[…, 2026-01-01T00:30:00.000Z\], their process_stats rows lie outside\]/);
  asked.length = 0;
  assert.deepEqual(await rows(timed, join), await rows(all, join));
  assert.deepEqual(asked.sort(), ['a:process_stats', 'b:http_events', 'b:process_stats', 'c:http_events']);
  // a subquery and a CTE: the table's reads are both bounded, a node outside both is not asked;
  // the one node left then runs the whole statement
  const sub = "with late as (select req_path from http_events where time_ >= '2026-01-01 00:00:00.360+00') "
    + "select count(*) from late where req_path in (select req_path from http_events where time_ between '2026-01-01 00:00:00.350+00' and '2026-01-01 00:00:01+00')";
  const subPlan = (await rows(timed, `explain ${sub}`)).map((r) => String(r[0])).join('\n');
  assert.match(subPlan, /nodes chosen \(1\): c\n.*nodes pruned \(2\): a \[[^\]]*\], b \[[^\]]*\] by time_: the query asks \[2026-01-01T00:00:00.360Z, …\] or \[2026-01-01T00:00:00.350Z, 2026-01-01T00:00:01.000Z\], their http_events rows lie outside/);
  asked.length = 0;
  assert.deepEqual(await rows(timed, sub), await rows(all, sub));
  assert.deepEqual(asked, ['c:undefined']); // the whole statement (WITH …), on c alone
  // one read without bounds: every node is asked for the table
  const open = "select count(*) from http_events where req_path in (select req_path from http_events where time_ > '2026-01-01 00:00:00.360+00')";
  assert.match((await rows(timed, `explain ${open}`)).map((r) => String(r[0])).join('\n'), /nodes chosen \(3\)/);
});

test('sketches with FILTER (WHERE …): sketched over the filtered rows on the nodes, within their bounds of the exact filtered answer', async () => {
  nodes = ['a', 'b', 'c'].map((name, i) => ({ name, asid: i + 1, address: 'in-process' }));
  const sql = "select req_path, approx_count_distinct(remote_port) filter (where resp_status >= 500) as e, "
    + "approx_quantile(latency, 0.5) filter (where req_method = 'GET') as q, count(*) from http_events group by 1 order by 1";
  assert.equal(executor.plan(sql).strategy, 'partial-aggregate');
  const exact = await rows(all, "select req_path, count(distinct remote_port) filter (where resp_status >= 500), "
    + "list_sort(list(latency) filter (where req_method = 'GET'))[cast(floor(0.5 * (count(*) filter (where req_method = 'GET') - 1)) as bigint) + 1], count(*) from http_events group by 1 order by 1");
  const got = await rows(executor, sql);
  assert.equal(got.length, exact.length);
  got.forEach((r, i) => {
    const e = exact[i]!;
    assert.equal(r[0], e[0]);
    assert.ok(Math.abs(Number(r[1]) - Number(e[1])) <= 4 * hllStandardError * Number(e[1]), `${String(r[1])} vs ${String(e[1])}`);
    assert.ok(Math.abs(Number(r[2]) - Number(e[2])) <= ddsketchAlpha * Number(e[2]) + 1, `${String(r[2])} vs ${String(e[2])}`);
    assert.equal(r[3], e[3]);
  });
  assert.ok(got.some((r) => Number(r[1]) > 0) && got.some((r) => Number(r[1]) < Number(r[3])), 'the filter keeps some rows and drops others');
});
