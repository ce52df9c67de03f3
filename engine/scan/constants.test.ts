// Range-only columns sent as constants: a column the statement reads only in its WHERE's range
// comparisons, in a batch whose zone map shows every row satisfies them (and no NULLs), goes to
// DuckDB as a constant vector instead of being decoded. Answers must equal the unfiltered scan
// (prefilter off), and any other reference to the column (select list, subquery, `*`, the row as
// a struct) must keep the real values.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DuckDBInstance } from '@duckdb/node-api';
import { allRows } from '../query.ts';
import type { ColumnDef, ColumnType } from '../schema.ts';
import { TableStore } from '../store/table-store.ts';
import { engineWithSteppedRows } from '../testing/stepped-rows.ts';
import { ScanRegistry, scanFunctionName } from './scan-function.ts';
import { ScanPlan, sealedBatchesOf } from './scan-plan.ts';

test('engine: range-only columns go as constants where zone maps allow, with the answers of an unfiltered scan', async () => {
  const { e, at } = await engineWithSteppedRows(5); // 4 sealed batches of 1000 rows and a hot one
  // [query, batch columns sent as constants]: sealed batches of 1000 rows, the hot one holds 4000–4499.
  const cases: Array<[string, number]> = [
    [`select count(*) from http_events where time_ > ${at(1500)}`, 3], // batches 2, 3 and the hot one; 1 straddles
    [`select count(*) from http_events where time_ >= ${at(2000)}`, 2], // batch 2 starts at the bound: not strictly inside (slack)
    [`select count(*) from http_events where resp_status >= 500 and time_ > ${at(1500)}`, 3],
    [`select count(*), sum(resp_body_size) from http_events where time_ between ${at(1200)} and ${at(4000)}`, 2], // 2 and 3
    [`select count(*) from http_events where time_ < ${at(2500)} and time_ > ${at(10)}`, 1],
    [`select count(*) from http_events where resp_status between 100 and 600`, 5], // every row, every batch
    [`select count(*) from http_events h where h.time_ > ${at(1500)}`, 3],
    [`select count(*) from http_events where time_ = ${at(2000)}`, 0],
    // Other references keep the real values.
    [`select count(*), min(time_) from http_events where time_ > ${at(1500)}`, 0],
    [`select time_ from http_events where time_ > ${at(4490)} order by 1`, 0],
    [`select max(h.time_) from http_events h where time_ > ${at(1500)}`, 0],
    [`select * from http_events where time_ > ${at(4495)} order by resp_body_size`, 0],
    [`select count(*) from http_events where time_ > ${at(1500)} and exists (select 1 where time_ > ${at(3000)})`, 0],
    [`select count(*) from http_events where time_ > ${at(1500)} or resp_status = 404`, 0],
    [`select resp_status, count(*) from http_events where resp_status between 100 and 600 group by 1 order by 1`, 0],
    [`select count(*) from http_events where time_ > ${at(1500)} and time_::date > '2000-01-01'`, 0],
  ];
  for (const [q, constants] of cases) {
    e.rowPrefilter = true;
    const on = await allRows(await e.query(q));
    assert.equal(e.lastScans[0]?.constants, constants, q);
    e.rowPrefilter = false;
    const off = await allRows(await e.query(q));
    assert.equal(e.lastScans[0]?.constants, 0, q);
    assert.deepEqual(on, off, q);
  }
  e.rowPrefilter = true;
  assert.deepEqual(await allRows(await e.query(`select count(*) from http_events where time_ > ${at(1500)}`)), [[2999n]]);
  await e.close();
});

const col = (name: string, type: ColumnType): ColumnDef => ({ name, field: name, type, duck: '', doc: '' });

test('native scan: constant columns (never where a batch has NULLs there), bad constants refused', async () => {
  const defs = [col('t', 'timestamptz'), col('n', 'int4'), col('m', 'int2'), col('k', 'int8'), col('s', 'text')];
  const store = new TableStore('t', defs, { budgetBytes: 1e12, maxRows: 1e12, batchRows: 1000, batchBytes: 1e12, lateWindowMs: 3_600_000, level: 1 });
  let nullsM = 0;
  for (let i = 0; i < 3500; i++) {
    if (i >= 2000 && i % 9 === 0) nullsM++;
    store.append({ t: 1_700_000_000_000_000_000n + BigInt(i) * 1_000_000n, n: i, m: i >= 2000 && i % 9 === 0 ? null : i % 100, k: i * 3, s: `s${i % 5}` });
  }
  const snap = store.snapshot();
  const instance = await DuckDBInstance.create(':memory:', { threads: '2' });
  const conn = await instance.connect();
  const registry = new ScanRegistry(1);
  registry.register(conn);
  const all = new Set(defs.map((d) => d.name));
  const sealed = sealedBatchesOf(store, snap.batches);
  const loose = { lo: -1e18, hi: 1e18 };
  for (const [name, column, sent] of [['n', 1, 4], ['m', 2, 2], ['k', 3, 4], ['t', 0, 4]] as const) {
    const plan = new ScanPlan('t', defs, snap.batches, all, undefined, sealed, [], new Map([[column, loose]]));
    const id = registry.add(plan);
    assert.equal(plan.constantsSent, sent, `${name}: batches 2 and 3 have NULLs in m`);
    // Each batch's minimum for every row: DuckDB sees constants, the other columns stay real.
    const other = name === 'n' ? 'k' : 'n';
    const got = (await conn.runAndReadAll(`SELECT count(*), count(${name}), sum(${other}), count(DISTINCT ${name}), string_agg(DISTINCT s, ',' ORDER BY s) FROM ${scanFunctionName}(${id})`)).getRows()[0]!;
    const sum = BigInt((3499 * 3500) / 2);
    assert.deepEqual(got.slice(0, 3), [3500n, BigInt(3500 - (name === 'm' ? nullsM : 0)), other === 'k' ? 3n * sum : sum], name);
    assert.equal(got[4], 's0,s1,s2,s3,s4');
    if (name !== 'm') assert.equal(got[3], 4n, `${name}: one value per batch`);
    registry.remove(id);
  }
  assert.throws(() => new ScanPlan('t', defs, snap.batches, all, undefined, sealed, [], new Map([[4, loose]])), /no constant for column 4/);
  const native = (registry as unknown as { registry: { add(p: unknown): number } }).registry;
  const plan = new ScanPlan('t', defs, snap.batches, all, undefined, sealed).nativePlan();
  const withColumn = (c: number, v: unknown) => ({ ...plan, batches: plan.batches.map((b) => ({ ...b, columns: b.columns.map((x, i) => (i === c ? { nulls: null, constant: v } : x)) })) });
  assert.throws(() => native.add(withColumn(4, 1)), /constant must be an integer/);
  assert.throws(() => native.add(withColumn(1, 1.5)), /constant must be an integer/);
  assert.throws(() => native.add(withColumn(2, 40000)), /constant must be an integer/);
  assert.throws(() => native.add(withColumn(1, 'x')), /constant must be an integer/);
  conn.closeSync();
  instance.closeSync();
});
