// Pooled connections and persistent views: `wiretap_scan(-1 - slot)` binds the plan its own
// connection's query set, never another connection's, and never one that was cleared or removed;
// the engine's reused connections see every new snapshot, survive failed, cancelled and
// early-stopped queries, and switch TimeZone back and forth.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DuckDBInstance } from '@duckdb/node-api';
import { DuckEngine } from '../duck.ts';
import { allRows, SqlError, type QueryResult } from '../query.ts';
import type { ColumnDef } from '../schema.ts';
import { TableStore } from '../store/table-store.ts';
import { httpRow } from '../testing/http-row.ts';
import { currentScanArg, ScanRegistry, scanFunctionName } from './scan-function.ts';
import { ScanPlan, sealedBatchesOf } from './scan-plan.ts';

const defs: ColumnDef[] = [
  { name: 't', field: 't', type: 'timestamptz', duck: '', doc: '' },
  { name: 'n', field: 'n', type: 'int4', duck: '', doc: '' },
];

test('a persistent view binds its own connection’s current plan; cleared or removed plans fail the bind', async () => {
  const store = new TableStore('t', defs, { budgetBytes: 1e12, maxRows: 1e12, batchRows: 4096, batchBytes: 1e12, lateWindowMs: 3_600_000, level: 1 });
  for (let i = 0; i < 20_000; i++) store.append({ t: 1_700_000_000_000_000_000n + BigInt(i) * 1000n, n: i });
  const instance = await DuckDBInstance.create(':memory:', { threads: '2' });
  const a = await instance.connect();
  const b = await instance.connect();
  const registry = new ScanRegistry(1024);
  registry.register(a);
  try {
    const batches = store.snapshot().batches;
    const plan = (k: number) => new ScanPlan('t', defs, batches.slice(0, k), new Set(['n']), undefined, sealedBatchesOf(store, batches));
    const idA = registry.add(plan(2));
    const idB = registry.add(plan(batches.length));
    registry.setCurrent(a, 0, idA);
    registry.setCurrent(b, 0, idB);
    for (const c of [a, b]) await c.run(`CREATE TEMP VIEW x AS SELECT s.n FROM ${scanFunctionName}(${currentScanArg(0)}) s`);
    const count = async (c: typeof a) => (await c.runAndReadAll('select count(*), sum(n) from x')).getRows()[0]!.map(Number);
    for (let r = 0; r < 4; r++) {
      // Concurrent, parallel scans on the two connections: each sees only its own plan.
      const [ra, rb] = await Promise.all([count(a), count(b)]);
      assert.deepEqual(ra, [8192, (8191 * 8192) / 2]);
      assert.deepEqual(rb, [20_000, (19_999 * 20_000) / 2]);
    }
    // A statement prepared once scans, on each run, the plan the slot names then: never the one
    // it was prepared with, and only a plan whose columns keep their types.
    const prepared = await a.prepare('select count(*), sum(n) from x');
    const run = async () => (await prepared.runAndReadAll()).getRows()[0]!.map(Number);
    assert.deepEqual(await run(), [8192, (8191 * 8192) / 2]);
    const idC = registry.add(plan(batches.length));
    registry.setCurrent(a, 0, idC);
    assert.deepEqual(await run(), [20_000, (19_999 * 20_000) / 2]);
    const wide = new TableStore('w', [defs[0]!, { ...defs[1]!, type: 'int8' }], { budgetBytes: 1e12, maxRows: 1e12, batchRows: 4096, batchBytes: 1e12, lateWindowMs: 3_600_000, level: 1 });
    wide.append({ t: 1_700_000_000_000_000_000n, n: 1 });
    const idW = registry.add(new ScanPlan('w', wide.defs, wide.snapshot().batches, new Set(['n']), undefined, sealedBatchesOf(wide, wide.snapshot().batches)));
    registry.setCurrent(a, 0, idW);
    await assert.rejects(run(), /columns changed since the statement was prepared/);
    registry.setCurrent(a, 0, 0);
    await assert.rejects(run(), /no current scan for slot 0 on this connection/);
    prepared.destroySync();
    registry.remove(idC);
    registry.remove(idW);
    await assert.rejects(count(a), /no current scan for slot 0 on this connection/);
    assert.deepEqual(await count(b), [20_000, (19_999 * 20_000) / 2]);
    // A slot left pointing at a removed plan reads nothing: the bind fails.
    registry.remove(idB);
    await assert.rejects(count(b), /no scan/);
    registry.remove(idA);
    assert.throws(() => registry.setCurrent(a, -1, 1), /non-negative integers/);
    assert.throws(() => registry.setCurrent(a, 0, 1.5), /non-negative integers/);
    assert.equal(registry.size, 0);
  } finally {
    a.closeSync();
    b.closeSync();
    instance.closeSync();
  }
});

async function sqlstate(p: Promise<QueryResult>): Promise<string> {
  try {
    await allRows(await p);
  } catch (err) {
    assert.ok(err instanceof SqlError, `expected SqlError, got ${String(err)}`);
    return err.sqlstate;
  }
  return 'no error';
}

test('pooled connections see new rows, stay isolated under concurrency and recover from failed, cancelled and stopped queries', async () => {
  const e = await DuckEngine.create({ flushRows: 1000, scanRowsPerThread: 256 });
  const internals = e as unknown as { idle: unknown[]; scans: { size: number; livePlans: number } };
  const t0 = 1_700_000_000_000_000_000n; // 2023-11-14 22:13:20 UTC = 17:13 in New York
  const add = (n: number, status: number) => {
    for (let i = 0; i < n; i++) e.append('http_events', httpRow({ timeNs: t0 + BigInt(i) * 1000n, respStatus: status }));
  };
  const count = async (sql = 'select count(*) from http_events where resp_status >= 500') => (await allRows(await e.query(sql)))[0]![0];
  try {
    add(2500, 200);
    add(700, 503);
    assert.equal(await count(), 700n);
    assert.equal(internals.idle.length, 1); // the connection went back to the pool
    // The same text on the reused connection and its persistent view sees rows appended since.
    add(300, 500);
    assert.equal(await count(), 1000n);
    await e.flush();
    add(5, 501);
    assert.equal(await count(), 1005n);
    assert.equal(internals.idle.length, 1);
    // It ran the statement its connection prepared for the first of them.
    assert.deepEqual([...(internals.idle[0] as { statements: Map<string, unknown> }).statements.keys()], ['select count(*) from http_events where resp_status >= 500']);

    // Concurrent queries take different connections; each gets its own plan's answer.
    const sqls = ['select count(*) from http_events where resp_status >= 500', 'select count(*) from http_events where resp_status < 500', 'select count(*) from http_events'];
    for (let r = 0; r < 3; r++) {
      const got = await Promise.all([...sqls, ...sqls].map((s) => count(s)));
      assert.deepEqual(got, [1005n, 2500n, 3505n, 1005n, 2500n, 3505n]);
    }
    assert.ok(internals.idle.length > 1);

    // A failed query, a cancelled one and a consumer that stops early leave nothing behind.
    assert.equal(await sqlstate(e.query('select nope from http_events')), '42703');
    const ac = new AbortController();
    const slow = e.query('select count(*), max(r.range) from http_events, range(100000000000) r', ac.signal);
    setTimeout(() => ac.abort(), 200);
    assert.equal(await sqlstate(slow), '57014');
    assert.equal(await count(), 1005n);
    assert.deepEqual([internals.scans.size, internals.scans.livePlans], [0, 0]);
    const stopped = await e.query('select resp_status from http_events');
    for await (const chunk of stopped.chunks) {
      assert.ok(chunk.length > 0);
      break;
    }
    // (Its DuckDB result may pin the plan until GC collects it, as before pooling: its
    // connection is closed, not reused.)
    assert.equal(await count(), 1005n);
    assert.equal(internals.scans.size, 0);

    // Per-query objects (hydrated metadata, wiretap_tables), GROUP BY codes and plain views alternate.
    assert.deepEqual(await allRows(await e.query('select count(container) from http_events')), [[0n]]);
    assert.equal(await count(), 1005n);
    assert.deepEqual(await allRows(await e.query("select rows from wiretap_tables where table_name = 'http_events'")), [[3505n]]);
    assert.deepEqual(await allRows(await e.query('select req_path, count(*) from http_events group by req_path')), [['/api/users/1', 3505n]]);
    assert.equal(await count(), 1005n);

    // TimeZone follows each query on a reused connection, back to UTC when absent.
    const hour = async (timeZone?: string) => (await allRows(await e.query('select extract(hour from min(time_)) from http_events', undefined, { timeZone })))[0]![0];
    assert.equal(await hour(), 22n);
    assert.equal(await hour('America/New_York'), 17n);
    assert.equal(await hour(), 22n);
    assert.equal(await hour('Asia/Tokyo'), 7n);
    assert.equal(await sqlstate(e.query('select 1 from http_events', undefined, { timeZone: 'No/Such_Zone' })), '22023');
    assert.equal(await hour('Asia/Tokyo'), 7n);
    assert.equal(await hour(), 22n);
    assert.equal(internals.scans.size, 0);
  } finally {
    await e.close();
  }
});
