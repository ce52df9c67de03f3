import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ColumnDef } from '../schema.ts';
import { ScanRegistry, scanFunctionName } from '../scan/scan-function.ts';
import { ScanPlan, sealedBatchesOf } from '../scan/scan-plan.ts';
import { HotBatch } from './hot-batch.ts';
import { TableStore } from './table-store.ts';
import { DuckDBInstance } from '@duckdb/node-api';
import { decompress } from 'zstd-napi';
import { storeAddon, storeAddonError } from '../../native/store.ts';
import { SealedBatch, type EncodedColumn } from './sealed-batch.ts';
import { decodedValue } from './decoded.ts';

const defs: ColumnDef[] = [
  { name: 'time_', field: 't', type: 'timestamptz', duck: 'TIMESTAMPTZ', doc: '' },
  { name: 'upid', field: 'u', type: 'uuid', duck: 'UUID', doc: '' },
  { name: 'small', field: 's', type: 'int4', duck: 'INTEGER', doc: '' },
  { name: 'wide', field: 'w', type: 'int4', duck: 'INTEGER', doc: '' },
  { name: 'big', field: 'b', type: 'int8', duck: 'BIGINT', doc: '' },
  { name: 'ratio', field: 'r', type: 'float8', duck: 'DOUBLE', doc: '' },
  { name: 'flag', field: 'f', type: 'bool', duck: 'BOOLEAN', doc: '' },
  { name: 'text', field: 'x', type: 'text', duck: 'VARCHAR', doc: '' },
];

test('a sealed batch decodes to exactly what was appended (all kinds, NULLs, wide ranges, unicode)', () => {
  const hot = new HotBatch(defs, 5000);
  const expected: unknown[][] = [];
  const upids = [{ asid: 0, pid: 1, startTicks: 5n }, { asid: 7, pid: 0xffff_fff0, startTicks: 0xffff_ffff_ffffn }];
  for (let i = 0; i < 3000; i++) {
    // Times out of order by up to a second, one far jump (forces the non-delta path in one column).
    const tUs = 1_700_000_000_000_000 + i * 1000 - (i % 7) * 150_000;
    const row = {
      t: BigInt(tUs) * 1000n + 999n,
      u: upids[i % 3 === 0 ? 1 : 0],
      s: i % 5 === 0 ? null : (i % 200) - 100,
      w: i % 2 ? -2_000_000_000 : 2_000_000_000,
      b: i === 17 ? 2 ** 52 : i % 11 === 0 ? undefined : BigInt(i * 1_000_003),
      r: i / 7,
      f: i % 3 === 0,
      x: i % 13 === 0 ? null : i % 4 === 0 ? `ünïcødé ${i % 9} 🚀` : `/api/items/${i % 50}`,
    };
    hot.append(row);
    expected.push([tUs, row.u, row.s, row.w, row.b === undefined ? null : Number(row.b), row.r, row.f, row.x]);
  }
  const sealed = SealedBatch.seal(hot, { level: 3 }).open();
  assert.equal(sealed.rows, 3000);
  for (let c = 0; c < defs.length; c++) {
    const col = sealed.column(c);
    for (let i = 0; i < 3000; i++) {
      assert.deepEqual(decodedValue(col, i), expected[i]![c], `column ${defs[c]!.name} row ${i}`);
    }
  }
  assert.equal(sealed.zone.upids.size, 2);
  assert.equal(sealed.zone.min[2], -99); // -100 only on NULL rows
  assert.equal(sealed.zone.max[2], 99);
});

test('sealed bytes are far below the hot estimate for repetitive rows', () => {
  const hot = new HotBatch(defs, 10_000);
  for (let i = 0; i < 10_000; i++) {
    hot.append({ t: BigInt(1_700_000_000_000_000 + i * 100) * 1000n, u: { asid: 0, pid: 9, startTicks: 1n }, s: 200, w: i, b: 1000n + BigInt(i % 100), r: 1, f: false, x: `/p/${i % 20}` });
  }
  const sealed = SealedBatch.seal(hot, { level: 3 });
  assert.ok(sealed.bytes < hot.bytes() / 10, `sealed ${sealed.bytes} vs hot ${hot.bytes()}`);
});

test('strings with lone surrogates and plain (non-dictionary) text columns round-trip', () => {
  const text: ColumnDef[] = [{ name: 'x', field: 'x', type: 'text', duck: 'VARCHAR', doc: '' }];
  for (const plain of [false, true]) {
    const hot = new HotBatch(text, 100, [plain]);
    const values = ['a\ud800b', 'é', null, '\udc00', 'plain 🚀', ''];
    for (const x of values) hot.append({ x });
    const col = SealedBatch.seal(hot, { level: 1 }).open().column(0);
    assert.deepEqual(values.map((_, i) => decodedValue(col, i)), values.map((v) => (v === null ? null : Buffer.from(Buffer.from(v, 'utf8').toString('utf8')).toString())), `plain=${plain}`);
    assert.equal(col.kind === 'text' && col.idx === null, plain);
  }
});

/** Every compressed buffer of an encoded column, decompressed, with the rest of its header. */
function plainBuffers(e: EncodedColumn): unknown {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(e)) {
    if (v instanceof Uint8Array) out[k] = [...decompress(v)];
    else if (v && typeof v === 'object' && 'width' in v && 'data' in v) out[k] = { width: v.width, data: [...decompress(v.data as Uint8Array)] };
    else out[k] = v;
  }
  return out;
}

test('the native sealer (seal.cc) writes the same buffers as the JS loops: offsets, deltas, raw floats, NULLs in each', () => {
  assert.ok(storeAddon && typeof storeAddon.packZstd === 'function', `wiretap_store.node with the sealer is built: ${storeAddonError?.message ?? 'rebuild it'}`);
  const cases: [string, (i: number) => Record<string, unknown>][] = [
    // delta time; i32 small with NULLs (pooled slots hold garbage: pack as the base); f64 integral with NULLs (offset)
    ['sorted', (i) => ({ t: BigInt(1_700_000_000_000_000 + i * 37) * 1000n, u: i % 9 === 0 ? null : { asid: 0, pid: i % 5, startTicks: 1n }, s: i % 7 === 0 ? null : i % 300, w: i * 1000, b: i % 4 === 0 ? null : BigInt(i % 70_000), r: i % 6 === 0 ? null : i * 3, f: i % 2 === 0, x: `/p/${i % 40}` })],
    // a jump too far for 32-bit deltas (time as offsets), then too far for offsets (raw); NULL times,
    // negative values, non-integral floats
    ['jumps', (i) => ({ t: i % 11 === 0 ? null : BigInt(1_000_000 + (i === 100 ? 3e9 : i)) * 1000n, u: { asid: 1, pid: 2, startTicks: 3n }, s: -i, w: 7, b: null, r: i % 5 === 0 ? null : i * 0.1, f: null, x: null })],
    ['far', (i) => ({ t: i % 11 === 0 ? null : BigInt(1_000_000 + (i === 100 ? 1e13 : i) * 1000) * 1000n, u: { asid: 1, pid: 2, startTicks: 3n }, s: -i, w: i % 3 ? -2_000_000_000 : 2_000_000_000, b: BigInt(i) * 1_000_003n, r: i % 5 === 0 ? null : i * 0.1, f: null, x: null })],
    // every value NULL
    ['nulls', () => ({ t: null, u: null, s: null, w: null, b: null, r: null, f: null, x: null })],
  ];
  const modes: string[] = [];
  for (const [name, row] of cases) {
    const hot = new HotBatch(defs, 4000);
    for (let i = 0; i < 3000; i++) hot.append(row(i));
    const viaNative = SealedBatch.seal(hot, { level: 1 });
    const viaJs = SealedBatch.seal(hot, { level: 1, native: false });
    modes.push((viaNative.encoded(0) as { mode: string }).mode, (viaNative.encoded(5) as { mode: string }).mode);
    const a = viaNative.open();
    const b = viaJs.open();
    for (let c = 0; c < defs.length; c++) {
      assert.deepEqual(plainBuffers(viaNative.encoded(c)!), plainBuffers(viaJs.encoded(c)!), `${name}: column ${defs[c]!.name}'s buffers`);
      for (let i = 0; i < 3000; i++) assert.deepEqual(decodedValue(a.column(c), i), decodedValue(b.column(c), i), `${name}: column ${defs[c]!.name} row ${i}`);
    }
  }
  // time_ and ratio in each case: every float mode was compared.
  assert.deepEqual(modes, ['delta', 'offset', 'offset', 'raw', 'raw', 'raw', 'raw', 'raw']);
});

test('the native sealer refuses bad arguments with an error', () => {
  assert.ok(storeAddon && typeof storeAddon.packZstd === 'function');
  const s = storeAddon;
  assert.throws(() => s.packZstd(new Int32Array(4), 5, 0, 1, null, 1), /rows must be a whole number within the array/);
  assert.throws(() => s.packZstd(new Int32Array(4), 4, 0, 3 as 1, null, 1), /width must be 1, 2 or 4/);
  assert.throws(() => s.packZstd(new Int16Array(4) as unknown as Int32Array, 4, 0, 1, null, 1), /values must be an Int32Array/);
  assert.throws(() => s.packZstd(new Int32Array(4), 4, 0, 1, new Uint8Array(2), 1), /nulls shorter than rows/);
  assert.throws(() => s.packZstd(new Int32Array(4), 4, NaN, 1, null, 1), /base must be finite/);
  assert.throws(() => s.deltaZstd(new Float64Array(4), 4, 0, null, 99, new Uint8Array(1)), /zstd level out of range/);
  assert.throws(() => s.deltaZstd(new Float64Array(4), 4, 0, null, 1, new Uint32Array(1) as unknown as Uint8Array), /width must be a Uint8Array/);
  assert.throws(() => s.zstd('abc' as unknown as Uint8Array, 1), /bytes must be a typed array/);
  assert.throws(() => s.maxU32(new Int32Array(2) as unknown as Uint32Array, 2), /values must be a Uint32Array/);
  const width = new Uint8Array(1);
  assert.equal(s.deltaZstd(Float64Array.of(0, 2 ** 33), 2, 0, null, 1, width), null);
  assert.deepEqual([...decompress(s.deltaZstd(Float64Array.of(5, 7, 6), 3, 5, null, 1, width)!)], [0, 4, 1]);
  assert.equal(width[0], 1);
  assert.deepEqual([...decompress(s.deltaZstd(Float64Array.of(5, 7, 6, 5 + 2 ** 20), 4, 5, Uint8Array.of(0, 0, 1, 0), 1, width)!)], [0, 0, 0, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0xfc, 0xff, 31, 0]);
  assert.equal(width[0], 4);
  assert.equal(s.integralF64(Float64Array.of(1, 2.5), 2, Uint8Array.of(0, 1)), true);
  assert.equal(s.integralF64(Float64Array.of(1, Infinity), 2, null), false);
  assert.equal(s.maxU32(Uint32Array.of(3, 0xffff_ffff, 1), 2), 0xffff_ffff);
});

test('time deltas packed at 1, 2 and 4 bytes (and offsets) decode alike in JS and in the native scan (scan-decode.cc)', async () => {
  const tdefs: ColumnDef[] = [
    { name: 't', field: 't', type: 'timestamptz', duck: 'TIMESTAMPTZ', doc: '' },
    { name: 'n', field: 'n', type: 'int4', duck: 'INTEGER', doc: '' },
  ];
  const store = new TableStore('t', tdefs, { budgetBytes: 1e12, maxRows: 1e12, batchRows: 1000, batchBytes: 1e12, lateWindowMs: 1e12, level: 1 });
  // Per batch of 1000 rows: steps of ~50 µs (zigzag < 256), ~1 ms (< 65536), ~0.1 s, then one
  // jump of 3e9 µs (no 32-bit delta: offsets); every 17th time NULL, every 5th step backwards.
  const steps = [50, 1000, 100_000, 0];
  const want: (bigint | null)[] = [];
  let us = 1_700_000_000_000_000;
  for (let i = 0; i < 4000; i++) {
    const step = steps[Math.floor(i / 1000)]!;
    us += i === 3500 ? 3e9 : i % 5 === 0 ? -step / 2 : step;
    const t = i % 17 === 0 ? null : BigInt(us) * 1000n + 123n;
    want.push(t === null ? null : BigInt(us));
    store.append({ t, n: i });
  }
  store.seal();
  const snap = store.snapshot();
  const sealed = sealedBatchesOf(store, snap.batches);
  assert.deepEqual([...sealed.values()].map((b) => { const e = b.encoded(0) as { mode: string; ints: { width: number } }; return `${e.mode} ${e.ints.width}`; }),
    ['delta 1', 'delta 2', 'delta 4', 'offset 4']);
  for (const b of snap.batches) {
    const c = b.column(0);
    for (let i = 0; i < b.rows; i++) {
      const n = b.column(1) as { values: Int32Array };
      const v = decodedValue(c, i);
      assert.equal(v === null ? null : BigInt(v as number), want[n.values[i]!], `JS decode, row ${n.values[i]}`);
    }
  }
  const instance = await DuckDBInstance.create(':memory:', { threads: '2' });
  const conn = await instance.connect();
  const registry = new ScanRegistry(1);
  registry.register(conn);
  const plan = new ScanPlan('t', tdefs, snap.batches, new Set(['t', 'n']), undefined, sealed);
  const id = registry.add(plan);
  const got = (await conn.runAndReadAll(`SELECT n, epoch_us(t) FROM ${scanFunctionName}(${id}) ORDER BY n`)).getRows();
  assert.deepEqual(got, want.map((t, n) => [n, t]));
  conn.closeSync();
  instance.closeSync();
});

test('the native integral test agrees with Number.isInteger (sign, 2^52 and 2^53 edges, NaN, ±Infinity), NULL rows skipped', () => {
  assert.ok(storeAddon && typeof storeAddon.integralF64 === 'function');
  const s = storeAddon;
  const values = [0, -0, -3, 1.5, -0.5, 2 ** 52 - 0.5, 2 ** 52, -(2 ** 52) + 0.5, 2 ** 53 + 2, Number.MAX_VALUE, -Number.MAX_VALUE, NaN, Infinity, -Infinity, 5e-324, 4503599627370495.5];
  for (const v of values) {
    // Alone, and after 2000 integers (past the first block of 1024).
    assert.equal(s.integralF64(Float64Array.of(v), 1, null), Number.isInteger(v), String(v));
    const long = new Float64Array(2001).fill(7);
    long[2000] = v;
    assert.equal(s.integralF64(long, 2001, null), Number.isInteger(v), `${v} at 2000`);
    const nulls = new Uint8Array(2001);
    nulls[2000] = 1;
    assert.equal(s.integralF64(long, 2001, nulls), true, `${v} at 2000, NULL`);
  }
});
