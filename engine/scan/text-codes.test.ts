// Table-wide text codes (text-codes.ts + the native CodeDict): one code per distinct string across
// batches, remaps kept per sealed batch, and a dictionary replaced once mostly dead is dropped
// only when the last scan using it lets go.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DuckDBInstance } from '@duckdb/node-api';
import type { ColumnDef, ColumnType } from '../schema.ts';
import { TableStore } from '../store/table-store.ts';
import { codeTextFunctionName, ScanRegistry, scanFunctionName } from './scan-function.ts';
import { codeColumnName, ScanPlan, sealedBatchesOf } from './scan-plan.ts';
import { TextCodes } from './text-codes.ts';

const col = (name: string, type: ColumnType): ColumnDef => ({ name, field: name, type, duck: '', doc: '' });

test('text codes: one code per string across batches, cached remaps, retired dictionaries dropped after their last scan', async () => {
  const defs = [col('t', 'timestamptz'), col('n', 'int4'), col('s', 'text')];
  const store = new TableStore('t', defs, { budgetBytes: 1e12, maxRows: 1e12, batchRows: 1000, batchBytes: 1e12, lateWindowMs: 3_600_000, level: 1 });
  // Each batch has strings of its own and two shared by all; every 13th row NULL; the hot batch 500 rows.
  const values: (string | null)[] = [];
  for (let i = 0; i < 3500; i++) {
    const s = i % 13 === 0 ? null : i % 5 === 0 ? `shared-${i % 10}` : `b${Math.floor(i / 1000)}-ü-${i % 40}`;
    values.push(s);
    store.append({ t: 1_700_000_000_000_000_000n + BigInt(i) * 1_000_000n, n: i, s });
  }
  const distinct = (from: number, to: number) => new Set(values.slice(from, to).filter((v) => v !== null)).size;
  const all = distinct(0, 3500);
  const inBatch2 = distinct(2000, 3000);
  assert.ok(all > 2 * inBatch2);
  const snap = store.snapshot();
  const sealed = sealedBatchesOf(store, snap.batches);
  const instance = await DuckDBInstance.create(':memory:', { threads: '2' });
  const conn = await instance.connect();
  const registry = new ScanRegistry(1);
  registry.register(conn);
  const codes = new TextCodes(registry, 2, { factor: 1, slack: 0 });
  const scan = async (lease: ReturnType<TextCodes['lease']>, batches = snap.batches) => {
    const plan = new ScanPlan('t', defs, batches, new Set(['s']), undefined, sealed, [], undefined, new Map([[2, lease]]));
    const id = registry.add(plan);
    try {
      const code = codeColumnName('s');
      return (await conn.runAndReadAll(
        `SELECT count(*), count(${code}), count(DISTINCT ${code}), count(DISTINCT s), count(*) FILTER (WHERE ${codeTextFunctionName}(${code}) IS NOT DISTINCT FROM s) FROM ${scanFunctionName}(${id})`,
      )).getRows()[0];
    } finally {
      registry.remove(id);
    }
  };
  const first = codes.lease(snap.batches, sealed);
  // Every row's code decodes to its string, NULL stays NULL, and equal strings share one code.
  const rows = 3500n;
  const nonNull = rows - BigInt(Math.ceil(3500 / 13));
  assert.deepEqual(await scan(first), [rows, nonNull, BigInt(all), BigInt(all), rows]);
  const again = codes.lease(snap.batches, sealed);
  assert.equal(again.dict, first.dict);
  assert.ok(again.remaps.slice(0, 3).every((r, i) => r === first.remaps[i]), 'sealed remaps are kept');
  assert.equal(codes.info().entries, all);
  // Only batch 2 live: all entries > 1 × its own + 0 → a new dictionary; the old one stays while leased.
  const late = codes.lease([snap.batches[2]!], sealed);
  assert.notEqual(late.dict, first.dict);
  const nulls2 = BigInt(values.slice(2000, 3000).filter((v) => v === null).length);
  assert.deepEqual(await scan(late, [snap.batches[2]!]), [1000n, 1000n - nulls2, BigInt(inBatch2), BigInt(inBatch2), 1000n]);
  assert.deepEqual(await scan(again), [rows, nonNull, BigInt(all), BigInt(all), rows]);
  first.release();
  assert.equal(registry.codesInfo(again.dict).entries, all);
  again.release();
  again.release(); // twice is once
  assert.throws(() => registry.codesInfo(first.dict), /no such code dictionary/);
  // A code of a dropped dictionary is a query error, not a read of freed memory.
  const stale = (BigInt(first.dict) << 32n) | 1n;
  await assert.rejects(conn.run(`SELECT ${codeTextFunctionName}(${stale}::UBIGINT)`), /no such dictionary/);
  await assert.rejects(conn.run(`SELECT ${codeTextFunctionName}(((${late.dict}::UBIGINT) << 32) | 999999)`), /code out of range/);
  late.release();
  conn.closeSync();
  instance.closeSync();
});
