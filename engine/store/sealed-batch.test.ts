import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ColumnDef } from '../schema.ts';
import { HotBatch } from './hot-batch.ts';
import { SealedBatch } from './sealed-batch.ts';
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
