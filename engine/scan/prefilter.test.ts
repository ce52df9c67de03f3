// The native scan's row prefilter (WHERE bounds on integer/time columns): it emits exactly the
// rows inside every bound (NULL there fails), so queries give the same answers with and without
// it and as a resident DuckDB table — over sealed batches (decoded natively or in JS) and the hot
// one, with projection subsets, inclusive edges, empty and full selections.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { Rng } from '../../collector/synth/rng.ts';
import { allRows } from '../query.ts';
import type { ColumnDef, ColumnType } from '../schema.ts';
import { TableStore } from '../store/table-store.ts';
import { engineWithSteppedRows, steppedRowCount } from '../testing/stepped-rows.ts';
import { ScanRegistry, scanFunctionName } from './scan-function.ts';
import { ScanPlan, sealedBatchesOf, type RangeBound } from './scan-plan.ts';

const col = (name: string, type: ColumnType): ColumnDef => ({ name, field: name, type, duck: '', doc: '' });
const defs: ColumnDef[] = [
  col('t', 'timestamptz'), col('n', 'int4'), col('i4', 'int4'), col('i8', 'int8'), col('i2', 'int2'),
  col('f8', 'float8'), col('b', 'bool'), col('d', 'text'), col('p', 'text'),
];
const T = 0, N = 1, I4 = 2, I8 = 3, I2 = 4;
const t0 = 1_700_000_000_000_000_000n;
type Row = Record<string, unknown>;

/** Rows in time order; i4/i8/i2 NULL now and then (never n); d a small dictionary, p plain. */
function rows(count: number): Row[] {
  const rng = new Rng(11);
  const out: Row[] = [];
  for (let i = 0; i < count; i++) {
    out.push({
      t: t0 + BigInt(i) * 1_000_000n + BigInt(Math.floor(rng.next() * 999)) * 1000n,
      n: i,
      i4: i % 7 === 3 ? null : Math.floor(rng.next() * 1000) - 500,
      i8: i % 11 === 5 ? null : Math.floor((rng.next() - 0.5) * 2 ** 50),
      i2: i % 5 === 0 ? null : Math.floor(rng.next() * 600) - 300,
      f8: rng.next() < 0.1 ? null : (rng.next() - 0.5) * 1e6,
      b: rng.next() < 0.5,
      d: ['GET', 'POST', 'PÜT', null][Math.floor(rng.next() * 4)],
      p: `row-${i}-${Math.floor(rng.next() * 1e9)}`,
    });
  }
  return out;
}

const us = (r: Row) => Number((r.t as bigint) / 1000n);
const num = (r: Row, name: string): number | null => (name === 't' ? us(r) : (r[name] as number | null));

async function view(conn: DuckDBConnection, registry: ScanRegistry, plan: ScanPlan, name: string): Promise<void> {
  const id = registry.add(plan);
  const cols = defs.map((d, i) => (plan.outputs[i]!.cast ? `CAST(s.${d.name} AS VARCHAR) AS ${d.name}` : `s.${d.name}`));
  await conn.run(`CREATE OR REPLACE TEMP VIEW ${name} AS SELECT ${cols.join(', ')} FROM ${scanFunctionName}(${id}) s`);
}

const sqlOf = (b: RangeBound) => {
  const c = defs[b.column]!.name;
  const v = (x: number) => (b.column === T ? `make_timestamptz(${x}::BIGINT)` : String(x));
  return [Number.isFinite(b.lo) ? `${c} >= ${v(b.lo)}` : '', Number.isFinite(b.hi) ? `${c} <= ${v(b.hi)}` : ''].filter(Boolean);
};

for (const decode of ['native', 'js'] as const) {
  test(`prefiltered scans match unfiltered ones and a resident table (sealed batches decoded in ${decode}, and the hot batch)`, async () => {
    const store = new TableStore('t', defs, { budgetBytes: 1e12, maxRows: 1e12, batchRows: 2048, batchBytes: 1e12, lateWindowMs: 3_600_000, level: 1 });
    const data = rows(9_500);
    for (const r of data) store.append(r);
    const snap = store.snapshot();
    assert.equal(snap.batches.length, 5, '4 sealed batches and the hot one');
    const sealed = decode === 'native' ? sealedBatchesOf(store, snap.batches) : new Map();
    const instance = await DuckDBInstance.create(':memory:', { threads: '4' });
    const conn = await instance.connect();
    const registry = new ScanRegistry(1);
    registry.register(conn);
    const all = new Set(defs.map((d) => d.name));
    await view(conn, registry, new ScanPlan('t', defs, snap.batches, all, undefined, sealed), 'x');
    await conn.run('CREATE TABLE r AS SELECT * FROM x');

    const tAt = (i: number) => us(data[i]!);
    const cases: Array<{ what: string; bounds: RangeBound[] }> = [
      { what: 'time, inclusive edges on exact row times (sealed and hot)', bounds: [{ column: T, lo: tAt(1000), hi: tAt(8999) }] },
      { what: 'time, newest rows only (hot batch)', bounds: [{ column: T, lo: tAt(9000), hi: Infinity }] },
      { what: 'int with NULLs, edges on values', bounds: [{ column: I4, lo: -100, hi: 250 }] },
      { what: 'int with NULLs, every value inside: only NULLs go', bounds: [{ column: I4, lo: -(2 ** 31), hi: 2 ** 31 }] },
      { what: 'all selected (zone maps: no work)', bounds: [{ column: N, lo: -1, hi: 1e9 }] },
      { what: 'empty selection', bounds: [{ column: I2, lo: 301, hi: Infinity }] },
      { what: 'point', bounds: [{ column: N, lo: 4096, hi: 4096 }] },
      { what: 'time and two ints', bounds: [{ column: T, lo: tAt(2000), hi: Infinity }, { column: I2, lo: 0, hi: Infinity }, { column: I8, lo: -Infinity, hi: 2 ** 48 }] },
    ];
    const projections = [['n'], ['n', 'd', 'p'], ['n', 't', 'i4', 'i8', 'i2', 'f8', 'b', 'd', 'p'], ['p', 'b']];
    for (const { what, bounds } of cases) {
      const inside = (r: Row) => bounds.every((b) => {
        const v = num(r, defs[b.column]!.name);
        return v !== null && v >= b.lo && v <= b.hi;
      });
      const plan = new ScanPlan('t', defs, snap.batches, all, undefined, sealed, bounds);
      await view(conn, registry, plan, 'y');
      // Exactly the rows inside every bound come out (with no WHERE at all): it does filter.
      const emitted = (await conn.runAndReadAll('SELECT count(*), sum(n) FROM y')).getRows()[0]!;
      const want = data.filter(inside);
      assert.deepEqual(emitted, [BigInt(want.length), want.length ? BigInt(want.reduce((s, r) => s + (r.n as number), 0)) : null], what);
      const where = `WHERE ${bounds.flatMap(sqlOf).join(' AND ') || 'true'}`;
      for (const names of projections) {
        const q = (from: string) => `SELECT ${names.join(', ')} FROM ${from} ${where} ORDER BY n NULLS FIRST, p`;
        const got = (await conn.runAndReadAll(q('y'))).getRows();
        assert.deepEqual(got, (await conn.runAndReadAll(q('x'))).getRows(), `${what}: ${names} vs unfiltered`);
        assert.deepEqual(got, (await conn.runAndReadAll(q('r'))).getRows(), `${what}: ${names} vs resident`);
        if (names.includes('n')) assert.deepEqual(got.map((row) => row[names.indexOf('n')]), want.map((r) => r.n), `${what}: ${names} rows`);
      }
      const agg = `SELECT count(*), count(i4), sum(i8), count(DISTINCT d), max(p) FROM %s ${where}`;
      assert.deepEqual((await conn.runAndReadAll(agg.replace('%s', 'y'))).getRows(), (await conn.runAndReadAll(agg.replace('%s', 'r'))).getRows(), what);
    }
    // Ranges only on integer and time columns.
    assert.throws(() => new ScanPlan('t', defs, snap.batches, all, undefined, sealed, [{ column: 5, lo: 0, hi: 1 }]), /no range prefilter on column 5/);
    const native = (registry as unknown as { registry: { add(p: unknown): number } }).registry;
    const bad = { ...new ScanPlan('t', defs, snap.batches, all, undefined, sealed).nativePlan(), ranges: [{ column: 5, lo: 0, hi: 1 }] };
    assert.throws(() => native.add(bad), /only integer and time columns/);
    assert.throws(() => native.add({ ...bad, ranges: [{ column: 99, lo: 0, hi: 1 }] }), /needs a column index/);
    conn.closeSync();
    instance.closeSync();
  });
}

test('engine queries with time and integer bounds give the same rows with and without the prefilter', async () => {
  const { e, at } = await engineWithSteppedRows(3); // 4 sealed batches of 1000 rows and a hot one
  const n = steppedRowCount;
  const queries = [
    `select count(*) from http_events where resp_status >= 500 and time_ > ${at(3000)}`,
    `select count(*) from http_events where resp_status > 500 and time_ >= ${at(3000)}`,
    `select resp_body_size, resp_status, req_path from http_events where time_ between ${at(999)} and ${at(1000)} order by 1`,
    `select resp_body_size from http_events where time_ < ${at(1)} or resp_status = 7 order by 1`,
    `select count(*) from http_events where resp_status = 404 and time_ <= ${at(4499)}`,
    `select count(*), sum(resp_body_size) from http_events where resp_status < 200`,
    `select count(*) from http_events where 500 <= resp_status and time_ > ${at(4499)}`,
    `select max(resp_body_size) from http_events where resp_status >= 200 and resp_status <= 600`,
  ];
  for (const q of queries) {
    e.rowPrefilter = true;
    const on = await allRows(await e.query(q));
    e.rowPrefilter = false;
    const off = await allRows(await e.query(q));
    assert.deepEqual(on, off, q);
  }
  e.rowPrefilter = true;
  assert.deepEqual(await allRows(await e.query(`select count(*) from http_events where time_ > ${at(4000)} and time_ <= ${at(4010)}`)), [[10n]]);
  // Every reference to a table reads the same view: a second one must see all rows, so a
  // statement naming the table twice is neither pruned nor prefiltered.
  const big = (await allRows(await e.query('select count(*) from http_events where resp_status >= 500')))[0]![0];
  assert.deepEqual(
    await allRows(await e.query(`select count(*), (select count(resp_status) from http_events) from http_events where resp_status >= 500 and time_ > ${at(3000)}`)),
    (await allRows(await e.query(`select count(*) from http_events where resp_status >= 500 and time_ > ${at(3000)}`))).map(([c]) => [c, BigInt(n)]),
  );
  assert.deepEqual(
    await allRows(await e.query(`select count(*) from http_events where resp_status >= 500 and exists (select 1 from http_events h where h.resp_status = 200 and h.time_ < ${at(10)})`)),
    [[big]],
  );
  await e.close();
});
