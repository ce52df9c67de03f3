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
