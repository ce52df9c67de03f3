// Differential tests of the ingest path: whatever rows go in (every column kind, NULLs, unicode,
// lone surrogates, empty and long strings, dictionary/plain switching, late rows), every snapshot
// — hot and sealed batches alike — decodes to exactly what was appended.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ColumnDef } from '../schema.ts';
import { Rng } from '../../collector/synth/rng.ts';
import { decodedValue, type ScanBatch } from './decoded.ts';
import { bigintToNumber, timeUs } from './hot-batch.ts';
import { TableStore } from './table-store.ts';

const defs: ColumnDef[] = [
  { name: 'time_', field: 't', type: 'timestamptz', duck: 'TIMESTAMPTZ', doc: '' },
  { name: 'upid', field: 'u', type: 'uuid', duck: 'UUID', doc: '' },
  { name: 'port', field: 'p', type: 'int4', duck: 'INTEGER', doc: '' },
  { name: 'size', field: 'n', type: 'int8', duck: 'BIGINT', doc: '' },
  { name: 'ratio', field: 'r', type: 'float8', duck: 'DOUBLE', doc: '' },
  { name: 'flag', field: 'f', type: 'bool', duck: 'BOOLEAN', doc: '' },
  { name: 'method', field: 'm', type: 'text', duck: 'VARCHAR', doc: '' }, // few values: dictionary
  { name: 'body', field: 'b', type: 'text', duck: 'VARCHAR', doc: '' }, // mostly distinct: plain
  { name: 'phase', field: 'x', type: 'text', duck: 'VARCHAR', doc: '' }, // distinct, then repetitive
  { name: 'late', field: 'y', type: 'text', duck: 'VARCHAR', doc: '' }, // all NULL until late in the run
];

const words = ['', 'GET', 'é', 'ünïcødé 🚀', '\ud800', 'a\udc00b', '日本語のテキスト', 'x'.repeat(700), 'tab\there', '\u0000nul'];

/** What a string reads back as: each lone surrogate becomes U+FFFD (UTF-8 cannot hold it). */
function stored(s: string): string {
  return Buffer.from(s, 'utf8').toString('utf8');
}

function readAll(batches: readonly ScanBatch[]): unknown[][] {
  const out: unknown[][] = [];
  for (const b of batches) {
    const cols = defs.map((_, c) => b.column(c));
    for (let i = 0; i < b.rows; i++) out.push(cols.map((c) => decodedValue(c, i)));
  }
  return out;
}

function floorDiv(v: bigint, d: bigint): bigint {
  const q = v / d;
  return v < 0n && v % d !== 0n ? q - 1n : q;
}

test('rows appended through seals, plain/dictionary switching and late drops decode exactly', () => {
  const rng = new Rng(20261121);
  const store = new TableStore('t', defs, { budgetBytes: 1e12, maxRows: 1e12, batchRows: 2000, batchBytes: 1e12, lateWindowMs: 5_000, level: 1 });
  const upids = [{ asid: 0, pid: 1, startTicks: 5n }, { asid: 0xffff_ffff, pid: 0xffff_fff0, startTicks: 0xffff_ffff_ffff_ffffn }];
  const expected: unknown[][] = [];
  let late = 0;
  let snapshotAt: { rows: number; batches: readonly ScanBatch[] } | null = null;
  const base = 1_700_000_000_000_000_000n;
  const total = 23_500;
  for (let i = 0; i < total; i++) {
    // ns times around µs boundaries, jittering back by up to 3 s; every 997th row 10 s late.
    const tNs = base + BigInt(i) * 1_000_123n - BigInt(rng.int(3_000_000)) * 1000n + BigInt(rng.int(3)) - 1n - (i % 997 === 500 ? 10_000_000_000n : 0n);
    const body = i % 11 === 0 ? null : `{"id":${i},"w":"${rng.pick(words)}","r":${rng.int(1e9)}}`;
    const row = {
      t: tNs,
      u: i % 17 === 0 ? null : { ...upids[i % 3 === 0 ? 1 : 0]! }, // a fresh object per row
      p: i % 5 === 0 ? null : rng.int(65536) - 100,
      n: i % 7 === 0 ? undefined : i % 3 === 0 ? BigInt(rng.int(2 ** 31)) * BigInt(rng.int(2 ** 31)) - 2n ** 60n : rng.int(1000),
      r: i % 13 === 0 ? null : rng.next() * 1e6 - 5e5,
      f: i % 19 === 0 ? null : rng.next() < 0.5,
      m: i % 23 === 0 ? null : rng.pick(['GET', 'POST', 'PUT', '', 'ДЕЛЕТЕ', 'a\ud800']),
      b: body === null ? null : body + (i % 4000 === 1 ? 'y'.repeat(20_000) : ''), // some over a chunk
      x: i < 6000 ? `distinct-${i}-${rng.int(1e6)}` : `repeat-${i % 4}`,
      y: i < 15_000 ? null : rng.pick(words),
    };
    const before = store.stats().lateRowsDropped;
    store.append(row);
    if (store.stats().lateRowsDropped > before) {
      late++;
      continue;
    }
    expected.push([
      Number(floorDiv(tNs, 1000n)), row.u === null ? null : { asid: row.u.asid >>> 0, pid: row.u.pid >>> 0, startTicks: row.u.startTicks },
      row.p, row.n === undefined ? null : Number(row.n), row.r, row.f,
      row.m === null ? null : stored(row.m), row.b === null ? null : stored(row.b), stored(row.x), row.y === null ? null : stored(row.y),
    ]);
    if (i === 9_321) snapshotAt = { rows: expected.length, batches: store.snapshot().batches };
  }
  assert.ok(late >= 20, `late rows were dropped (${late})`);
  assert.equal(store.stats().lateRowsDropped, late);
  const hot = store.snapshot().batches;
  assert.ok(hot.at(-1)!.rows > 0 && hot.at(-1)!.rows < 2000, 'the last snapshot has a hot batch');
  assert.deepEqual(readAll(hot), expected);
  store.seal();
  assert.deepEqual(readAll(store.snapshot().batches), expected);
  // A snapshot taken mid-way still reads what it held (its hot part included).
  assert.deepEqual(readAll(snapshotAt!.batches), expected.slice(0, snapshotAt!.rows));

  // The columns went through both encodings: body and phase plain, then phase back to a dictionary.
  const modes = (c: number) => store.sealedBatches().map((b) => (Number.isNaN(b.distinctRatio(c)) ? 'plain' : 'dict'));
  assert.ok(modes(6).every((m) => m === 'dict'), 'method stays a dictionary');
  assert.ok(modes(7).slice(1).includes('plain'), 'body goes plain');
  assert.ok(modes(8).includes('plain') && modes(8).at(-1) === 'dict', `phase switches: ${modes(8).join(',')}`);
});

test('bigints convert exactly without BigInt arithmetic (time floors to µs, int8 rounds like Number)', () => {
  const rng = new Rng(7);
  const cases: bigint[] = [0n, 1n, -1n, 999n, 1000n, -999n, -1000n, -1001n, 2n ** 53n + 1n, -(2n ** 53n) - 1n, 2n ** 63n - 1n, -(2n ** 63n), 2n ** 64n + 12345n, -(2n ** 70n) - 1n];
  for (let i = 0; i < 20_000; i++) {
    const mag = BigInt(rng.int(2 ** 31)) * BigInt(rng.int(2 ** 31)) * BigInt(1 + rng.int(4));
    cases.push(rng.next() < 0.3 ? -mag : mag, 1_700_000_000_000_000_000n + BigInt(rng.int(2 ** 30)));
  }
  for (const v of cases) {
    assert.equal(bigintToNumber(v), Number(v), `number of ${v}`);
    assert.equal(timeUs(v), Number(floorDiv(v, 1000n)), `µs of ${v}`);
  }
  assert.equal(timeUs(1_700_000_000_123_456_789), Math.floor(1_700_000_000_123_456_789 / 1000));
});

/**
 * The sealed bytes are a frozen format (the native scan reads what they decode to, and sealed
 * batches outlive code changes only in memory, but a format change must be deliberate): this
 * digest of every encoded buffer was produced by the store before the ingest rewrite (commit
 * 252655f), which built dictionaries from V8 strings. Changed deliberately since: time deltas
 * packed at 1/2/4 bytes instead of always 4 (with the width forced back to 4 the old digest
 * 9b41bb79… still matched), then zstd level 1 with hashLog 12 and minMatch 7 (same bytes from the
 * native sealer and from zstd-napi: WIRETAP_STORE_NATIVE=0 gives this digest too).
 */
test('sealed bytes are unchanged: the same rows seal to the same buffers as the string-keyed store did', async () => {
  const { createHash } = await import('node:crypto');
  const { tables } = await import('../schema.ts');
  const { httpRow } = await import('../testing/http-row.ts');
  const rng = new Rng(42);
  const store = new TableStore('http_events', tables.http_events, { budgetBytes: 1e12, maxRows: 1e12, batchRows: 4096, batchBytes: 1e12, lateWindowMs: 1e9, level: 1 });
  for (let i = 0; i < 4096 * 4 + 77; i++) {
    store.append(httpRow({
      timeNs: 1_700_000_000_000_000_000n + BigInt(i) * 1_000_321n,
      reqPath: `/api/v1/items/${rng.int(50)}${rng.next() < 0.1 ? '?q=ünï' : ''}`,
      respBody: rng.next() < 0.5 ? `{"id":${rng.int(1e9)},"name":"item-${i}"}` : '',
    }));
  }
  store.seal();
  const h = createHash('sha256');
  const walk = (v: unknown): void => {
    if (v instanceof Uint8Array) h.update(v);
    else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) { h.update(k); walk(x); }
    else h.update(String(v));
  };
  for (const b of store.sealedBatches()) walk((b as unknown as { cols: unknown }).cols);
  assert.equal(h.digest('hex'), '5a4408a617900b6089dd9317e440e49d23034191bd9ed77460ddb87fabeadf3f');
});
