// The native wiretap_scan against the store it reads: every column type (NULLs in each), sealed
// dictionary and plain text and the hot batch, scanned by several DuckDB threads, projected and
// filtered; plans are freed when queries finish, fail or are cancelled; concurrent queries stay
// consistent while rows are appended and expired.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { Rng } from '../../collector/synth/rng.ts';
import { DuckEngine } from '../duck.ts';
import { allRows, type Value } from '../query.ts';
import type { ColumnDef, ColumnType } from '../schema.ts';
import { TableStore } from '../store/table-store.ts';
import { httpRow } from '../testing/http-row.ts';
import { upidToString, type Upid } from '../upid.ts';
import { ScanRegistry, scanFunctionName } from './scan-function.ts';
import { ScanPlan, sealedBatchesOf } from './scan-plan.ts';

const col = (name: string, type: ColumnType): ColumnDef => ({ name, field: name, type, duck: '', doc: '' });
const defs: ColumnDef[] = [
  col('t', 'timestamptz'), col('n', 'int4'), col('i2', 'int2'), col('i4', 'int4'), col('i8', 'int8'),
  col('f4', 'float4'), col('f8', 'float8'), col('b', 'bool'), col('u', 'uuid'), col('d', 'text'), col('p', 'text'),
];
const upids: Upid[] = [
  { asid: 0, pid: 1, startTicks: 7n },
  { asid: 0x8000_0001, pid: 0xffff_fffe, startTicks: 0xffff_ffff_ffff_fff0n }, // top bits set
  { asid: 42, pid: 31337, startTicks: 1n << 40n },
];
const words = ['GET', 'PÖST', '/a/😀', '', 'x'.repeat(300), 'tab\there'];
const t0 = 1_700_000_000_000_000_000n;

type Row = Record<string, unknown>;

/** Rows with a NULL in every column but `n` (the key) now and then; `p` mostly distinct. */
function rows(count: number): Row[] {
  const rng = new Rng(7);
  const out: Row[] = [];
  for (let i = 0; i < count; i++) {
    const r: Row = {
      t: t0 + BigInt(i) * 1_000_777n + BigInt(Math.floor(rng.next() * 5000)),
      n: i,
      i2: Math.floor(rng.next() * 65536) - 32768,
      i4: Math.floor(rng.next() * 2 ** 32) - 2 ** 31,
      i8: Math.floor((rng.next() - 0.5) * 2 ** 52),
      f4: Math.fround((rng.next() - 0.5) * 1000),
      f8: (rng.next() - 0.5) * 1e9,
      b: rng.next() < 0.5,
      u: upids[i % upids.length],
      d: words[Math.floor(rng.next() * words.length)],
      p: `row-${i}-ü-${Math.floor(rng.next() * 1e9)}`,
    };
    defs.forEach((d, k) => { if (k !== 1 && (i * 31 + k * 7) % 13 === 0) r[d.name] = null; });
    out.push(r);
  }
  return out;
}

/** What DuckDB must return for a row, as the test query selects it (see `selectList`). */
function expected(r: Row, names: readonly string[]): Value[] {
  return names.map((name) => {
    const v = r[name];
    if (v === null) return null;
    switch (name) {
      case 't': return (v as bigint) / 1000n;
      case 'i8': return BigInt(v as number);
      case 'u': return upidToString(v as Upid);
      default: return v as Value;
    }
  });
}

const selectList = (names: readonly string[]) =>
  names.map((n) => (n === 't' ? 'epoch_us(t) AS t' : n === 'u' ? 'u::VARCHAR AS u' : n)).join(', ');

async function scanView(conn: DuckDBConnection, registry: ScanRegistry, plan: ScanPlan): Promise<number> {
  const id = registry.add(plan);
  const cols = defs.map((d, i) => (plan.outputs[i]!.cast ? `CAST(s.${d.name} AS VARCHAR) AS ${d.name}` : `s.${d.name}`));
  await conn.run(`CREATE OR REPLACE TEMP VIEW x AS SELECT ${cols.join(', ')} FROM ${scanFunctionName}(${id}) s`);
  return id;
}

for (const maxEnumEntries of [undefined, 0]) for (const decode of ['native', 'js'] as const) {
  test(`a parallel native scan returns exactly the store's rows, every type and NULLs (text as ${maxEnumEntries === 0 ? 'VARCHAR' : 'ENUM'}, sealed batches decoded in ${decode})`, async () => {
    const store = new TableStore('t', defs, { budgetBytes: 1e12, maxRows: 1e12, batchRows: 2048, batchBytes: 1e12, lateWindowMs: 3_600_000, level: 1 });
    const data = rows(11_000);
    for (const r of data) store.append(r);
    const snap = store.snapshot();
    assert.equal(snap.batches.length, 6, '5 sealed batches and the hot one');
    assert.ok(snap.batches.some((b) => { const c = b.column(10); return c.kind === 'text' && c.idx === null; }), 'p went plain');

    const instance = await DuckDBInstance.create(':memory:', { threads: '4' });
    const conn = await instance.connect();
    const registry = new ScanRegistry(1); // one batch per thread
    registry.register(conn);
    const all = defs.map((d) => d.name);
    const sealed = decode === 'native' ? sealedBatchesOf(store, snap.batches) : new Map();
    assert.equal(sealed.size, decode === 'native' ? 5 : 0);
    const plan = new ScanPlan('t', defs, snap.batches, new Set(all), maxEnumEntries, sealed);
    assert.equal(plan.outputs[9]!.type, maxEnumEntries === 0 ? 'varchar' : 'enum');
    const native = plan.nativePlan(1);
    assert.ok(native.maxThreads > 1);
    // Sealed batches go compressed (all columns but ENUM text); the hot batch goes decoded.
    const encodedColumns = native.batches.flatMap((b) => b.columns.filter((c) => c?.encoded)).length;
    assert.equal(plan.outputs[10]!.type, 'varchar', 'mostly distinct: never an ENUM');
    assert.equal(encodedColumns, decode === 'js' ? 0 : 5 * (maxEnumEntries === 0 ? 11 : 10));
    await scanView(conn, registry, plan);

    const check = async (names: string[], where: string, keep: (r: Row) => boolean) => {
      const got = (await conn.runAndReadAll(`SELECT ${selectList(names)} FROM x ${where} ORDER BY n`)).getRows();
      const want = data.filter(keep).map((r) => expected(r, names));
      assert.equal(got.length, want.length, `${names} ${where}`);
      assert.deepEqual(got, want, `${names} ${where}`);
    };
    await check(all, '', () => true);
    await check(['n', 'u', 'p'], '', () => true);
    await check(['n', 'f4', 'b', 'd'], 'WHERE i2 < 0 AND d <> \'GET\'', (r) => r.i2 !== null && (r.i2 as number) < 0 && r.d !== null && r.d !== 'GET');
    await check(['n', 't', 'i8'], 'WHERE b', (r) => r.b === true);
    const counts = (await conn.runAndReadAll('SELECT count(*), count(p), sum(i4) FROM x')).getRows()[0]!;
    const nonNull = data.filter((r) => r.i4 !== null);
    assert.deepEqual(counts, [BigInt(data.length), BigInt(data.filter((r) => r.p !== null).length), nonNull.reduce((s, r) => s + BigInt(r.i4 as number), 0n)]);

    // Columns the plan did not prepare cannot be read (an error, not wrong rows).
    const narrow = new ScanPlan('t', defs, snap.batches, new Set(['n']), maxEnumEntries, sealed);
    await scanView(conn, registry, narrow);
    assert.equal((await conn.runAndReadAll('SELECT sum(n) FROM x')).getRows()[0]![0], BigInt((data.length * (data.length - 1)) / 2));
    await assert.rejects(conn.runAndReadAll('SELECT p FROM x'), /column p was not prepared for this scan/);
    conn.closeSync();
    instance.closeSync();
  });
}

test('plans are freed when their query finishes, fails or is cancelled', async () => {
  const store = new TableStore('t', defs, { budgetBytes: 1e12, maxRows: 1e12, batchRows: 4096, batchBytes: 1e12, lateWindowMs: 3_600_000, level: 1 });
  for (const r of rows(20_000)) store.append(r);
  const instance = await DuckDBInstance.create(':memory:', { threads: '2' });
  const conn = await instance.connect();
  const registry = new ScanRegistry(1);
  registry.register(conn);
  const plan = () => {
    const batches = store.snapshot().batches;
    return new ScanPlan('t', defs, batches, new Set(defs.map((d) => d.name)), undefined, sealedBatchesOf(store, batches));
  };

  const run = async (sql: string, cancel = false): Promise<unknown> => {
    const id = await scanView(conn, registry, plan());
    const prepared = await conn.prepare(sql);
    try {
      const pending = prepared.run().then(async (r) => (await r.getRows()).length);
      // Interrupt until it ends (the cancelled query below would run for hours otherwise).
      let settled = false;
      void pending.finally(() => { settled = true; }).catch(() => {});
      while (cancel && !settled) {
        conn.interrupt();
        await new Promise((r) => setTimeout(r, 20));
      }
      return await pending;
    } catch (err) {
      return err;
    } finally {
      prepared.destroySync();
      registry.remove(id);
    }
  };
  assert.equal(await run('SELECT * FROM x'), 20_000);
  assert.match(String(await run('SELECT CAST(p AS INTEGER) FROM x')), /Conversion Error/);
  const cancelled = await run('SELECT count(*) FROM x a, x b, x c WHERE a.n + b.n + c.n = -1', true);
  assert.match(String(cancelled), /INTERRUPT|interrupted/i);
  await conn.run('DROP VIEW x');
  assert.equal(registry.size, 0);
  assert.equal(registry.livePlans, 0, 'every plan freed');
  assert.throws(() => registry.add({ ...plan(), nativePlan: () => ({ columns: [{ name: 'a', type: 'enum' }], batches: [], maxThreads: 1 }) } as unknown as ScanPlan), /ENUM column a needs members/);
  await assert.rejects(conn.runAndReadAll(`SELECT * FROM ${scanFunctionName}(999)`), /no scan 999/);
  conn.closeSync();
  instance.closeSync();
});

test('concurrent parallel queries stay consistent while rows are appended and expired', async () => {
  const e = await DuckEngine.create({ flushRows: 512, maxRowsPerTable: 6000, scanRowsPerThread: 1, threads: 4 });
  let seq = 0;
  const append = (n: number) => {
    for (let i = 0; i < n; i++, seq++) e.append('http_events', httpRow({ timeNs: t0 + BigInt(seq) * 1000n, respBodySize: seq, reqPath: `/p/${seq % 50}` }));
  };
  append(3000);
  const checks: Promise<void>[] = [];
  for (let round = 0; round < 12; round++) {
    for (let q = 0; q < 3; q++) {
      checks.push(e.query('select count(*), count(distinct resp_body_size), min(resp_body_size), max(resp_body_size), sum(resp_body_size), count(distinct req_path) from http_events')
        .then(allRows).then(([[count, distinct, min, max, sum, paths]]) => {
          // The snapshot is always one contiguous run of sequence numbers (oldest expire first).
          const c = count as bigint;
          assert.equal(distinct, c);
          assert.equal((max as bigint) - (min as bigint) + 1n, c);
          assert.equal(BigInt(String(sum)), ((min as bigint) + (max as bigint)) * c / 2n);
          assert.equal(paths, c >= 50n ? 50n : c);
        }));
    }
    append(1500);
    await new Promise((r) => setImmediate(r));
  }
  await Promise.all(checks);
  assert.ok(e.stats().rowsExpired > 10_000);
  // Finished queries leave nothing pinned (the engine frees its prepared statements).
  assert.equal((e as unknown as { scans: ScanRegistry }).scans.livePlans, 0);
  await e.close();
});

test('malformed native plans are refused with clear errors, bad ids fail the query, never a crash', async () => {
  const instance = await DuckDBInstance.create(':memory:', { threads: '2' });
  const conn = await instance.connect();
  const registry = new ScanRegistry(1);
  registry.register(conn);
  const native = (registry as unknown as { registry: { add(p: unknown): number; remove(id: number): void } }).registry;
  const plan = (type: string, column: unknown, rows = 4, extra: object = {}) =>
    ({ columns: [{ name: 'c', type, ...extra }], batches: [{ rows, columns: [column] }], maxThreads: 2 });
  assert.throws(() => native.add(plan('integer', { values: new Float64Array(4), nulls: null })), /values has the wrong element type/);
  assert.throws(() => native.add(plan('integer', { values: new Int32Array(3), nulls: null })), /c\.values is shorter than the batch/);
  assert.throws(() => native.add(plan('integer', { nulls: null })), /missing values/);
  assert.throws(() => native.add(plan('nonsense', null)), /unknown column type nonsense/);
  assert.throws(() => native.add(plan('varchar', { idx: new Uint8Array(4), utf8: new Uint8Array(2), offsets: new Uint32Array([0, 3]), nulls: null })), /offsets out of order or past utf8/);
  assert.throws(() => native.add(plan('enum', { idx: new Uint8Array(4), remap: new Uint32Array([5]), nulls: null }, 4, { members: ['a'] })), /remap points past the ENUM/);
  assert.throws(() => native.add(plan('integer', { encoded: { kind: 'text' }, nulls: null })), /cannot be read from an encoded text column/);
  assert.throws(() => native.add(plan('integer', { encoded: { kind: 'i32', base: 0, ints: new Uint8Array(4), width: 3 }, nulls: null })), /width must be 1, 2 or 4/);
  // Well-formed plans whose data is wrong fail the query, not the process.
  const run = async (p: unknown) => {
    const id = native.add(p);
    try {
      return await conn.runAndReadAll(`SELECT * FROM ${scanFunctionName}(${id})`);
    } finally {
      native.remove(id);
    }
  };
  await assert.rejects(run(plan('varchar', { idx: new Uint8Array([0, 1, 9, 0]), utf8: new Uint8Array([97]), offsets: new Uint32Array([0, 1]), nulls: null })), /dictionary id out of range/);
  await assert.rejects(run(plan('integer', { encoded: { kind: 'i32', base: 0, ints: new Uint8Array([1, 2, 3]), width: 1 }, nulls: null })), /column c: bad zstd frame/);
  conn.closeSync();
  instance.closeSync();
});
