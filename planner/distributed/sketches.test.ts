// The sketch SQL's error bounds, checked in a real DuckDB: per seed, three "nodes" (tables with
// overlapping values) each compute their sketch with the node SQL, the broker SQL merges the
// shipped texts, and the estimate is compared with the exact answer over the union.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { DuckDBInstance } from '@duckdb/node-api';
import {
  ddFinalize, ddNodeAggregate, ddNodeReduce, ddsketchAlpha, hllFinalize, hllNodeAggregate, hllNodeReduce, hllStandardError,
} from './sketches.ts';

const db = await DuckDBInstance.create(':memory:');
const conn = await db.connect();
after(() => { conn.closeSync(); db.closeSync(); });

async function one(sql: string): Promise<unknown> {
  return (await conn.runAndReadAll(sql)).getRows()[0]![0];
}

/** Three node tables: node k holds `rows` values from a seeded distribution, overlapping the others. */
async function nodes(seed: number, rows: number, value: string): Promise<void> {
  for (let k = 0; k < 3; k++) {
    await conn.run(`SELECT setseed(${((seed * 3 + k) % 1000) / 1000})`);
    await conn.run(`CREATE OR REPLACE TABLE n${k} AS SELECT ${value} AS x FROM range(${rows}) r(i)`);
  }
}

async function shipped(agg: (a: string) => string, reduce: (c: string) => string): Promise<string> {
  const texts: string[] = [];
  for (let k = 0; k < 3; k++) {
    const t = await one(`SELECT ${reduce('s')} FROM (SELECT ${agg('x')} AS s FROM n${k})`);
    if (t !== null) texts.push(String(t));
  }
  return texts.join(',');
}

const lit = (s: string) => `'${s.replace(/'/g, "''")}'`;

test('HyperLogLog: merged estimate within 4 standard errors (1.04/√m) of the exact distinct count', async () => {
  let worst = 0;
  for (let seed = 1; seed <= 24; seed++) {
    // cardinalities from tiny (linear counting) to far above m
    const rows = [10, 300, 3_000, 20_000, 120_000][seed % 5]!;
    await nodes(seed, rows, `CAST(floor(random() * ${rows * 2}) AS BIGINT) + ${seed * 1_000_000}`);
    const exact = Number(await one('SELECT count(DISTINCT x) FROM (SELECT x FROM n0 UNION ALL SELECT x FROM n1 UNION ALL SELECT x FROM n2)'));
    const est = Number(await one(`SELECT ${hllFinalize(lit(await shipped(hllNodeAggregate, hllNodeReduce)))}`));
    const err = Math.abs(est - exact) / exact;
    worst = Math.max(worst, err);
    assert.ok(err <= 4 * hllStandardError, `seed ${seed}: estimate ${est}, exact ${exact}, error ${err}`);
  }
  assert.ok(worst > 0, 'the sketch is approximate at large cardinalities');
});

test('HyperLogLog on text values, and no values at all → 0', async () => {
  await nodes(7, 5_000, `'host-' || CAST(floor(random() * 40000) AS BIGINT)`);
  const exact = Number(await one('SELECT count(DISTINCT x) FROM (SELECT x FROM n0 UNION ALL SELECT x FROM n1 UNION ALL SELECT x FROM n2)'));
  const est = Number(await one(`SELECT ${hllFinalize(lit(await shipped(hllNodeAggregate, hllNodeReduce)))}`));
  assert.ok(Math.abs(est - exact) / exact <= 4 * hllStandardError, `${est} vs ${exact}`);
  assert.equal(Number(await one(`SELECT ${hllFinalize('NULL')}`)), 0);
  assert.equal(Number(await one(`SELECT ${hllFinalize("''")}`)), 0);
});

test('DDSketch: merged quantiles within relative error α of the exact quantile_disc element', async () => {
  for (let seed = 1; seed <= 12; seed++) {
    const rows = [50, 2_000, 30_000][seed % 3]!;
    // log-normal-ish latencies, a few zeros and negatives mixed in
    await nodes(seed, rows, `CASE WHEN random() < 0.02 THEN 0 WHEN random() < 0.05 THEN -floor(random() * 1000) ELSE floor(exp(random() * 14 + 3)) END`);
    const text = lit(await shipped(ddNodeAggregate, ddNodeReduce));
    for (const q of [0, 0.01, 0.25, 0.5, 0.9, 0.99, 1]) {
      const exact = Number(await one(`SELECT list_sort(list(x))[CAST(floor(${q} * (count(*) - 1)) AS BIGINT) + 1] FROM (SELECT x FROM n0 UNION ALL SELECT x FROM n1 UNION ALL SELECT x FROM n2)`));
      const est = Number(await one(`SELECT ${ddFinalize(text, q)}`));
      assert.ok(Math.abs(est - exact) <= ddsketchAlpha * Math.abs(exact) * (1 + 1e-9), `seed ${seed} q ${q}: estimate ${est}, exact ${exact}`);
    }
  }
  assert.equal(await one(`SELECT ${ddFinalize('NULL', 0.5)}`), null);
});

// The split's plan for approx_quantile lists, expressions and timestamps, run for real: each "node"
// (a table behind the http_events view) runs the node SQL, the parts are unioned and the merge SQL
// runs over them, as the executor does. Compared with DuckDB over the union of the nodes' rows:
// the same column types, and each estimate within its bound of the exact quantile_disc element.
const { planDistributed } = await import('./split.ts');
const { visibleColumns } = await import('../../engine/schema.ts');
const aggregateNames = new Set(['count', 'sum', 'min', 'max', 'avg', 'approx_quantile', 'approx_count_distinct', 'quantile_disc']);

async function httpNodes(rows: readonly number[]): Promise<void> {
  const cols = visibleColumns('http_events').map((c) => `${c.name} ${c.duck}`).join(', ');
  for (const [k, n] of rows.entries()) {
    await conn.run(`CREATE OR REPLACE TABLE h${k} (${cols})`);
    await conn.run(`SELECT setseed(${(k + 1) / 10})`);
    // four paths; '/nulls' has no latency at all; log-normal latencies with zeros and NULLs; an hour of time_
    await conn.run(`INSERT INTO h${k} (req_path, latency, remote_port, resp_status, time_)
      SELECT CASE i % 5 WHEN 0 THEN '/a' WHEN 1 THEN '/b' WHEN 2 THEN '/nulls' WHEN 3 THEN NULL ELSE '/a' END,
        CASE WHEN i % 5 = 2 OR random() < 0.03 THEN NULL WHEN random() < 0.02 THEN 0 ELSE CAST(exp(random() * 12 + 4 + ${k}) AS BIGINT) END,
        CAST(random() * 60000 AS INTEGER), CASE WHEN random() < 0.1 THEN 500 ELSE 200 END,
        TIMESTAMPTZ '2026-01-01 00:00:00+00' + to_microseconds(CAST(random() * 3.6e9 AS BIGINT) + ${k} * 600000000)
      FROM range(${n}) r(i)`);
  }
}

/** Plan sql, run the node SQL on every node table and the merge SQL over the parts; and DuckDB's own answer over all rows. */
async function distributedAndAll(sql: string, nodeCount: number) {
  const plan = planDistributed(sql, aggregateNames);
  assert.equal(plan.strategy, 'partial-aggregate', sql);
  const parts: string[] = [];
  for (let k = 0; k < nodeCount; k++) {
    await conn.run(`CREATE OR REPLACE VIEW http_events AS SELECT * FROM h${k}`);
    await conn.run(`CREATE OR REPLACE TABLE part${k} AS ${plan.inputs[0]!.nodeSql}`);
    parts.push(`SELECT * FROM part${k}`);
  }
  await conn.run(`CREATE OR REPLACE TABLE __wt_parts AS ${parts.join(' UNION ALL ')}`);
  const got = await conn.runAndReadAll(plan.mergeSql);
  await conn.run(`CREATE OR REPLACE VIEW http_events AS ${Array.from({ length: nodeCount }, (_, k) => `SELECT * FROM h${k}`).join(' UNION ALL ')}`);
  const own = await conn.runAndReadAll(sql);
  return { plan, got: got.getRows(), types: got.columnTypes().map(String), ownTypes: own.columnTypes().map(String) };
}

/** Exact quantile_disc element (rank ⌊q·(n−1)⌋) of expr per group over all nodes' rows; NULL when none. */
async function exactQuantiles(expr: string, qs: number[], where = 'true'): Promise<Map<string, { values: (number | null)[]; min: number | null }>> {
  const e = `CAST(${expr} AS DOUBLE)`;
  const r = await conn.runAndReadAll(`SELECT coalesce(req_path, '<null>'), list_sort(list(${e}) FILTER (WHERE ${e} IS NOT NULL)) AS s FROM http_events WHERE ${where} GROUP BY 1`);
  const out = new Map<string, { values: (number | null)[]; min: number | null }>();
  for (const [path, s] of r.getRows()) {
    const xs = ((s as { items: number[] } | null)?.items ?? []).map(Number);
    out.set(String(path), { values: qs.map((q) => (xs.length ? xs[Math.floor(q * (xs.length - 1))]! : null)), min: xs.length ? xs[0]! : null });
  }
  return out;
}

/** A result value as a number: BIGINT, DOUBLE, or a timestamp's epoch µs. */
function asNumber(v: unknown): number | null {
  if (v === null) return null;
  if (typeof v === 'object' && v !== null && 'micros' in v) return Number((v as { micros: bigint }).micros);
  return Number(v);
}
const items = (v: unknown) => (v === null ? null : (v as { items: unknown[] }).items.map(asNumber));

test('approx_quantile lists, expressions and timestamps: DuckDB\'s result types, each estimate within its bound, NULL for no values (a node with no rows)', async () => {
  await httpNodes([20_000, 12_000, 0]);
  const sql = 'select req_path, approx_quantile(latency, [0.5, 0.9, 0.99]) as l, approx_quantile(latency, 0.9) as s, '
    + 'approx_quantile(latency / 1e6, [0.1, 0.5, 1]) as ms, approx_quantile(time_, [0, 0.5, 0.99, 1]) as t, '
    + 'approx_quantile(remote_port + 1, ARRAY[0.25]) as port, approx_quantile(latency, [0.99]) filter (where resp_status = 500) as err, '
    + 'approx_quantile(latency, [0.99, 0.5]) as sub, approx_count_distinct(latency) as d, count(*) '
    + 'from http_events group by 1 order by 1';
  const { plan, got, types, ownTypes } = await distributedAndAll(sql, 3);
  assert.deepEqual(types, ownTypes);
  assert.deepEqual(types.slice(1, 9), ['BIGINT[]', 'BIGINT', 'DOUBLE[]', 'TIMESTAMP WITH TIME ZONE[]', 'INTEGER[]', 'BIGINT[]', 'BIGINT[]', 'BIGINT']);
  // latency's lists and single q share one histogram (the FILTERed one sketches other values): five sketches for seven calls
  assert.equal(plan.inputs[0]!.nodeSql.match(/histogram\(/g)?.length, 4);
  assert.equal(plan.inputs[0]!.nodeSql.match(/list\(epoch_us\(time_\)\)/g)?.length, 1);
  const exact = {
    l: await exactQuantiles('latency', [0.5, 0.9, 0.99]), s: await exactQuantiles('latency', [0.9]),
    ms: await exactQuantiles('latency / 1e6', [0.1, 0.5, 1]), t: await exactQuantiles('epoch_us(time_)', [0, 0.5, 0.99, 1]),
    port: await exactQuantiles('remote_port + 1', [0.25]), err: await exactQuantiles('latency', [0.99], 'resp_status = 500'),
  };
  assert.equal(got.length, 4);
  let checked = 0;
  for (const row of got) {
    const path = row[0] === null ? '<null>' : String(row[0]);
    const within = (name: keyof typeof exact, est: (number | null)[] | null, bound: (x: number, min: number) => number) => {
      const want = exact[name].get(path)!;
      if (want.min === null) return assert.equal(est, null, `${path} ${name}: no values → NULL`);
      assert.equal(est!.length, want.values.length);
      want.values.forEach((x, i) => {
        assert.ok(Math.abs(est![i]! - x!) <= bound(x!, want.min!), `${path} ${name}[${i}]: estimate ${est![i]}, exact ${x}`);
        checked++;
      });
    };
    const relative = (x: number) => ddsketchAlpha * Math.abs(x) * (1 + 1e-9);
    within('l', items(row[1]), (x) => relative(x) + 0.5);
    within('s', row[2] === null ? null : [asNumber(row[2])], (x) => relative(x) + 0.5);
    within('ms', items(row[3]), relative);
    // timestamps: α of the distance from the group's earliest value, + 1 µs of rounding
    within('t', items(row[4]), (x, min) => ddsketchAlpha * (x - min) + 1);
    within('port', items(row[5]), (x) => relative(x) + 0.5);
    within('err', items(row[6]), (x) => relative(x) + 0.5);
    // a subset of the shared sketch's quantiles, in the call's order
    assert.deepEqual(items(row[7]), items(row[1]) && [items(row[1])![2], items(row[1])![0]]);
  }
  assert.ok(checked > 40, `${checked} estimates checked`);
  assert.deepEqual(items(got.find((r) => r[0] === '/nulls')![1]), null);
  // HyperLogLog in the same merge: 0 for a group without values, else within 4 standard errors
  const distinct = new Map((await conn.runAndReadAll("SELECT coalesce(req_path, '<null>'), count(DISTINCT latency) FROM http_events GROUP BY 1")).getRows().map(([k, v]) => [String(k), Number(v)]));
  for (const row of got) {
    const want = distinct.get(row[0] === null ? '<null>' : String(row[0]))!;
    assert.ok(Math.abs(Number(row[8]) - want) <= 4 * hllStandardError * want, `${String(row[0])}: ${String(row[8])} vs ${want}`);
  }
  assert.equal(got.find((r) => r[0] === '/nulls')![8], 0n);

  // no rows at all (every node empty after WHERE): one row of NULLs, as DuckDB answers
  const none = await distributedAndAll('select approx_quantile(latency, [0.5, 0.9]), approx_quantile(time_, [0.5]), approx_quantile(latency / 1e6, 0.5), approx_quantile(latency, [0.9]) from http_events where latency < 0', 3);
  assert.deepEqual(none.types, none.ownTypes);
  assert.deepEqual(none.got, [[null, null, null, null]]);
});

test('approx_quantile over timestamps: bounded by α of the span from the group\'s minimum, not of the epoch', async () => {
  // one-minute time buckets: the estimate is within 0.6 s of the exact element (an epoch-relative sketch would be months off)
  await httpNodes([15_000, 15_000]);
  const sql = "select time_bucket(interval '10 minutes', time_) as b, approx_quantile(time_, [0.01, 0.5, 0.99]) as t, approx_quantile(time_::timestamp, 0.5) as naive from http_events group by 1 order by 1";
  const { got, types, ownTypes } = await distributedAndAll(sql, 2);
  assert.deepEqual(types, ownTypes);
  assert.deepEqual(types.slice(1), ['TIMESTAMP WITH TIME ZONE[]', 'TIMESTAMP']);
  const exact = await conn.runAndReadAll("SELECT time_bucket(interval '10 minutes', time_) AS b, list_sort(list(epoch_us(time_))) FROM http_events GROUP BY 1 ORDER BY 1");
  assert.equal(got.length, exact.getRows().length);
  let worst = 0;
  got.forEach((row, g) => {
    const xs = (exact.getRows()[g]![1] as { items: bigint[] }).items.map(Number);
    const est = items(row[1])!;
    [0.01, 0.5, 0.99].forEach((q, i) => {
      const x = xs[Math.floor(q * (xs.length - 1))]!;
      const err = Math.abs(est[i]! - x);
      worst = Math.max(worst, err);
      assert.ok(err <= ddsketchAlpha * (x - xs[0]!) + 1, `bucket ${g} q ${q}: ${est[i]} vs ${x}`);
    });
    // TIMESTAMP (no zone) of the same instants: the same µs, since the session here is UTC
    const mid = xs[Math.floor(0.5 * (xs.length - 1))]!;
    assert.ok(Math.abs(asNumber(row[2])! - mid) <= ddsketchAlpha * (mid - xs[0]!) + 1);
  });
  assert.ok(worst <= 6_000_000, `worst error ${worst} µs within 1% of 10 minutes`);
});

test('approx_quantile over an expression is sketched only when the split knows its type, which is DuckDB\'s', async () => {
  await httpNodes([500, 300]);
  const sketched = ['latency', 'latency / 1e6', 'latency / 1000', 'latency / 1000.0', 'latency - 1.5e3', 'latency * 2', '-latency', 'remote_port + 1',
    'remote_port + 3000000000', '2 * remote_port', 'abs(remote_port)', 'remote_port % 7', 'remote_port::bigint', 'CAST(latency AS DOUBLE)', 'latency::double precision',
    'cast(latency as float8)', 'CAST(remote_port % 1000 AS SMALLINT) + 1', 'CAST(remote_port % 1000 AS SMALLINT) * 40000', '(latency + remote_port) / 2', 'time_', 'time_::timestamp', 'time_::timestamp with time zone', 'cast(time_ as timestamptz)'];
  for (const e of sketched) {
    const sql = `select approx_quantile(${e}, [0.5, 0.9]) as l, approx_quantile(${e}, 0.5) as s from http_events`;
    const { types, ownTypes } = await distributedAndAll(sql, 2);
    assert.deepEqual(types, ownTypes, e);
  }
  // DuckDB answers these in another type than the input's (DECIMAL, FLOAT, TINYINT) or the split cannot type them: rows shipped, exact at the broker
  for (const e of ['latency * 1.5', 'latency::float', 'remote_port::tinyint', 'latency::decimal(18,3)', 'req_path', "time_ + interval '1 hour'", 'epoch_ms(time_)', 'latency // 2']) {
    assert.notEqual(planDistributed(`select approx_quantile(${e}, [0.5]) from http_events`, aggregateNames).strategy, 'partial-aggregate', e);
  }
  // quantiles: numbers in [0, 1], at least one
  for (const q of ['[]', '[0.5, 1.5]', '[0.5, NULL]', '[-0.1]', 'ARRAY[0.5, remote_port]', '2']) {
    assert.notEqual(planDistributed(`select approx_quantile(latency, ${q}) from http_events`, aggregateNames).strategy, 'partial-aggregate', q);
  }
});
