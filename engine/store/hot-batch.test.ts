import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ColumnDef } from '../schema.ts';
import { HotBatch } from './hot-batch.ts';
import { SealedBatch } from './sealed-batch.ts';

const col = (field: string, type: ColumnDef['type']): ColumnDef => ({ name: field, field, type, duck: '', doc: '' });
const defs = [col('t', 'timestamptz'), col('a', 'int4'), col('b', 'float8'), col('c', 'bool'), col('s', 'text')];
type Row = { t: bigint | null; a: unknown; b: unknown; c: unknown; s: string | null };

function rng(seed: number): () => number {
  let x = seed;
  return () => ((x = Math.imul(x ^ (x >>> 15), 0x2c1b3c6d) + 0x6d2b79f5) >>> 0) / 2 ** 32;
}

function rowAt(r: () => number, i: number): Row {
  const nul = (p: number) => r() < p;
  return {
    t: nul(0.05) ? null : 1_700_000_000_000_000_000n + BigInt(Math.floor(r() * 1e12)),
    a: nul(0.1) ? null : Math.floor((r() - 0.5) * 2e6),
    b: nul(0.1) ? undefined : r() < 0.1 ? BigInt(Math.floor(r() * 1e9)) : (r() - 0.3) * 1e4,
    c: nul(0.1) ? null : r() < 0.5,
    s: nul(0.1) ? null : `v${i % 7}`,
  };
}

/** min/max of column i over the rows a snapshot reads, NULLs and NaN left out (NaN when none). */
function range(b: HotBatch, i: number): [number, number] {
  const c = b.snapshot().column(i);
  if (c.kind !== 'i32' && c.kind !== 'f64' && c.kind !== 'time') throw new Error('numeric column expected');
  let min = Infinity;
  let max = -Infinity;
  for (let k = 0; k < c.values.length; k++) {
    if (c.nulls?.[k] === 1) continue;
    min = Math.min(min, c.values[k]!);
    max = Math.max(max, c.values[k]!);
  }
  return [min === Infinity ? NaN : min, max === -Infinity ? NaN : max];
}

test('zone min/max (computed when asked, over the rows not yet scanned) equal a full pass over the stored values', () => {
  const r = rng(7);
  const b = new HotBatch(defs, 1 << 20);
  let appended = 0;
  // Zone maps asked for between appends (snapshots, stats) and at the end (seal).
  for (const upTo of [1, 2, 63, 64, 65, 1000, 5000]) {
    for (; appended < upTo; appended++) b.append(rowAt(r, appended));
    const z = b.zone();
    for (const i of [0, 1, 2]) {
      const [min, max] = range(b, i);
      assert.deepEqual([z.min[i], z.max[i]], [min, max], `column ${i} after ${upTo} rows`);
    }
    assert.deepEqual([z.timeMin, z.timeMax], range(b, 0));
    assert.ok(Number.isNaN(z.min[3]!) && Number.isNaN(z.min[4]!), 'no range for bool and text');
  }
});

test('the zone range is the stored values: an int4 column given 3.5 and "12" stores 3 and 12', () => {
  const b = new HotBatch(defs, 100);
  b.append({ t: 1000n, a: 3.5, b: 1, c: true, s: 'x' });
  b.append({ t: 2000n, a: '12', b: 2n, c: false, s: 'y' });
  b.append({ t: null, a: null, b: null, c: null, s: null });
  const z = b.zone();
  assert.deepEqual([z.min[1], z.max[1]], [3, 12]);
  assert.deepEqual([z.min[2], z.max[2]], [1, 2]);
  assert.deepEqual([z.timeMin, z.timeMax], [1, 2]);
  const a = b.snapshot().column(1);
  assert.equal(a.kind, 'i32');
  assert.deepEqual([...(a.kind === 'i32' ? a.values : [])], [3, 12, 0]);
  assert.deepEqual([...(a.nulls ?? [])], [0, 0, 1]);
  // All NULL: no range.
  const n = new HotBatch(defs, 100);
  n.append({ t: null, a: null, b: null, c: null, s: null });
  assert.ok(Number.isNaN(n.zone().min[1]!) && Number.isNaN(n.zone().min[0]!), 'all NULL: no range');
});

test('a batch started from the previous batch\'s row count grows only past that size', () => {
  const grewAt = (hint: number, maxRows: number, rows: number): number[] => {
    const b = new HotBatch(defs, maxRows, [], hint);
    const at: number[] = [];
    for (let i = 0; i < rows; i++) if (b.append({ t: BigInt(i) * 1000n, a: i, b: i, c: true, s: 's' })) at.push(i);
    return at;
  };
  assert.deepEqual(grewAt(0, 1 << 20, 300), [64, 128, 256]);
  assert.deepEqual(grewAt(1000, 1 << 20, 2000), [1024]);
  assert.deepEqual(grewAt(1000, 600, 600), [], 'at most maxRows');
  assert.deepEqual(grewAt(3, 1 << 20, 65), [64], 'at least 64 rows');
});

test('bytes() follows allocations: a first NULL adds the nulls array, growth the larger arrays', () => {
  const b = new HotBatch(defs.slice(0, 4), 1 << 20);
  b.append({ t: 1000n, a: 1, b: 1, c: true });
  const before = b.bytes();
  b.append({ t: 2000n, a: null, b: 1, c: true });
  assert.equal(b.bytes(), before + 64, 'one Uint8Array of 64 NULL flags');
  for (let i = 2; i < 65; i++) b.append({ t: 3000n, a: 1, b: 1, c: true });
  // 64 → 128 rows: int32 + 2 × float64 + bool + the int column's nulls, per row.
  assert.equal(b.bytes(), 2 * (before + 64));
});

test('sealed batches from presized, lazily ranged hot batches decode to the rows appended', () => {
  const r = rng(11);
  const rows: Row[] = Array.from({ length: 3000 }, (_, i) => rowAt(r, i));
  for (const hint of [0, 3000, 4096]) {
    const b = new HotBatch(defs, 1 << 20, [], hint);
    for (const row of rows) b.append(row);
    const hot = b.snapshot();
    const sealed = SealedBatch.seal(b, { level: 1 }).open();
    assert.deepEqual(sealed.zone, hot.zone);
    for (let i = 0; i < defs.length; i++) {
      const h = hot.column(i);
      const s = sealed.column(i);
      assert.equal(s.kind, h.kind);
      if (h.kind === 'text' && s.kind === 'text') {
        for (let k = 0; k < rows.length; k++) {
          if (h.nulls?.[k] === 1) continue;
          assert.equal(s.dict[s.idx ? s.idx[k]! : k], h.dict[h.idx ? h.idx[k]! : k]);
        }
      } else if ('values' in h && 'values' in s) {
        for (let k = 0; k < rows.length; k++) {
          assert.equal(s.nulls?.[k] ?? 0, h.nulls?.[k] ?? 0, `column ${i} row ${k} null`);
          if (h.nulls?.[k] !== 1) assert.equal(s.values[k], h.values[k], `column ${i} row ${k}`);
        }
      }
    }
  }
});

test('rows still pending (not yet written column by column) are in every read: snapshots mid-chunk, zone, NULLs, missing fields, strings and Utf8Text mixed', async () => {
  const { Utf8Text } = await import('../utf8-text.ts');
  const { pendingRows } = await import('./hot-batch.ts');
  const slab = Buffer.alloc(4096);
  let used = 0;
  const bytes = (s: string) => {
    const n = slab.write(s, used + 1);
    const t = new Utf8Text(slab, used + 1, used + 1 + n, s.length);
    used += n + 1;
    return t;
  };
  const tdefs = [...defs, col('u', 'uuid'), col('d', 'json')];
  const want: { t: number | null; a: number | null; s: string | null; d: string | null; u: number | null }[] = [];
  const upids = [{ asid: 1, pid: 7, startTicks: 1n }, { asid: 1, pid: 8, startTicks: 2n }];
  const b = new HotBatch(tdefs, 1 << 20);
  const check = (n: number) => {
    const snap = b.snapshot();
    assert.equal(snap.rows, n);
    const t = snap.column(0);
    const a = snap.column(1);
    const s = snap.column(4);
    const u = snap.column(5);
    const d = snap.column(6);
    assert.ok(t.kind === 'time' && a.kind === 'i32' && s.kind === 'text' && u.kind === 'upid' && d.kind === 'text');
    const text = (c: typeof s, k: number) => (c.kind !== 'text' || c.nulls?.[k] === 1 ? null : c.dict[c.idx ? c.idx[k]! : k]!);
    for (let k = 0; k < n; k++) {
      assert.deepEqual({
        t: t.nulls?.[k] === 1 ? null : t.values[k]!,
        a: a.nulls?.[k] === 1 ? null : a.values[k]!,
        s: text(s, k),
        d: text(d, k),
        u: u.nulls?.[k] === 1 ? null : u.upids[u.idx[k]!]!.pid,
      }, want[k], `row ${k} of ${n}`);
    }
    assert.equal(b.zone().timeMax, Math.max(...want.filter((w) => w.t !== null).map((w) => w.t!)));
    return snap;
  };
  let held: ReturnType<typeof check> | null = null;
  for (let i = 0; i < 3 * pendingRows + 5; i++) {
    const kind = i % 4;
    const str = `v${i % 5}`;
    const row: Record<string, unknown> = i % 7 === 3
      ? {} // every field missing: all NULL
      : { t: BigInt(1000 * (i + 1)), a: i, b: 0.5, c: true, s: kind === 0 ? null : kind === 1 ? bytes(str) : str, u: upids[i % 2], d: kind === 2 ? bytes(`{"i":${i}}`) : `{"i":${i}}` };
    b.append(row);
    want.push(i % 7 === 3
      ? { t: null, a: null, s: null, d: null, u: null }
      : { t: i + 1, a: i, s: kind === 0 ? null : str, d: `{"i":${i}}`, u: upids[i % 2]!.pid });
    // Reads in the middle of a chunk, at its end and just after it.
    if ([0, 1, 30, pendingRows - 1, pendingRows, pendingRows + 1, 2 * pendingRows + 17].includes(i)) {
      const snap = check(i + 1);
      if (i === 30) held = snap;
    }
  }
  check(want.length);
  // A snapshot taken mid-chunk keeps its rows while later ones are written.
  assert.equal(held!.rows, 31);
  assert.equal(held!.column(1).kind === 'i32' && [...(held!.column(1) as { values: Int32Array }).values].length, 31);
  // And the sealed batch holds the same rows.
  const sealed = SealedBatch.seal(b, { level: 1 }).open();
  assert.equal(sealed.rows, want.length);
  const s = sealed.column(6);
  assert.ok(s.kind === 'text');
  for (let k = 0; k < want.length; k++) assert.equal(s.nulls?.[k] === 1 ? null : s.dict[s.idx ? s.idx[k]! : k], want[k]!.d, `sealed row ${k}`);
});

test('values that cannot be converted (a Symbol, a throwing toString) do not leave a chunk half written', () => {
  const tdefs = [...defs, col('u', 'uuid')];
  const b = new HotBatch(tdefs, 1 << 20);
  const evil = { toString(): string { throw new Error('no'); }, valueOf(): number { throw new Error('no'); } };
  const n = 100;
  for (let i = 0; i < n; i++) {
    const bad = i % 10 === 5;
    b.append({ t: BigInt(1000 * (i + 1)), a: bad ? Symbol('x') : i, b: bad ? evil : i / 2, c: true, s: bad ? evil : `s${i % 3}`, u: bad ? { asid: Symbol('x'), pid: 1, startTicks: 1n } : { asid: 1, pid: 2, startTicks: 3n } });
  }
  const snap = b.snapshot();
  assert.equal(snap.rows, n);
  const a = snap.column(1);
  const f = snap.column(2);
  const s = snap.column(4);
  const u = snap.column(5);
  assert.ok(a.kind === 'i32' && f.kind === 'f64' && s.kind === 'text' && u.kind === 'upid');
  for (let i = 0; i < n; i++) {
    const bad = i % 10 === 5;
    assert.equal(a.values[i], bad ? 0 : i, `int row ${i}`); // NaN stored in an int32 column: 0
    assert.ok(bad ? Number.isNaN(f.values[i]!) : f.values[i] === i / 2, `float row ${i}`);
    assert.equal(s.nulls?.[i] === 1 ? null : s.dict[s.idx ? s.idx[i]! : i], bad ? null : `s${i % 3}`, `text row ${i}`);
    assert.equal(u.nulls?.[i] === 1 ? null : u.upids[u.idx[i]!]!.pid, bad ? null : 2, `upid row ${i}`);
  }
});
