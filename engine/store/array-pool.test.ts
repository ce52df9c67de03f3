// Hot batches recycle their typed arrays (array-pool.ts): later batches must never write into
// arrays a snapshot reads, and recycled (non-zero) arrays must seal to the same bytes as fresh ones.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tables } from '../schema.ts';
import { httpRow } from '../testing/http-row.ts';
import type { DecodedColumn, ScanBatch } from './decoded.ts';
import { pooledBytes } from './array-pool.ts';
import { TableStore, type TableStoreOptions } from './table-store.ts';

const base: TableStoreOptions = { budgetBytes: 1e12, maxRows: 1e12, batchRows: 1000, batchBytes: 1e12, lateWindowMs: 60_000, level: 1 };
const t0 = 1_700_000_000_000_000_000n;

/** Row i of a series; `nulls` makes some numeric and text values NULL. */
function row(i: number, series: number, nulls: boolean) {
  return httpRow({
    timeNs: t0 + BigInt(i) * 1_000_000n,
    remotePort: 30000 + ((i * 7 + series) % 5000),
    reqPath: `/s${series}/${i % 37}`,
    respBody: `{"id":${(i * 3 + series) % 50}}`,
    respStatus: (nulls && i % 5 === 0 ? null : 200 + (i % 3)) as number,
    reqHeaders: (nulls && i % 7 === 0 ? null : `{"n":${i % 11}}`) as string,
    latencyNs: (nulls && i % 4 === 0 ? null : BigInt(1000 + i * series)) as bigint,
  });
}

function readAll(b: ScanBatch): DecodedColumn[] {
  return tables.http_events.map((_, i) => b.column(i));
}

/** A decoded column as plain values per row (null for NULL), for comparing. */
function valuesOf(c: DecodedColumn, rows: number): unknown[] {
  const out: unknown[] = [];
  for (let r = 0; r < rows; r++) {
    if (c.nulls?.[r]) out.push(null);
    else if (c.kind === 'text') out.push(c.idx ? c.dict[c.idx[r]!] : c.dict[r]);
    else if (c.kind === 'upid') out.push(c.upids[c.idx[r]!]);
    else out.push(c.values[r]);
  }
  return out;
}

test('recycled arrays seal to the same bytes as fresh ones (NULL slots included)', () => {
  assert.equal(pooledBytes(), 0, 'first in this process: nothing recycled yet');
  const fresh = new TableStore('http_events', tables.http_events, base);
  for (let i = 0; i < 1000; i++) fresh.append(row(i + 5000, 3, true));
  // This store first fills and seals batches of other values, so the last batch's arrays are
  // recycled ones holding old values.
  const reused = new TableStore('http_events', tables.http_events, base);
  for (let i = 0; i < 3000; i++) reused.append(row(i, 4, false));
  const pooled = pooledBytes();
  assert.ok(pooled > 0, 'sealed batches gave their arrays back');
  for (let i = 0; i < 999; i++) reused.append(row(i + 5000, 3, true));
  assert.ok(pooledBytes() < pooled, 'the next batch took arrays from the pool');
  reused.append(row(999 + 5000, 3, true)); // the 1000th row seals it
  const a = fresh.sealedBatches()[0]!;
  const b = reused.sealedBatches().at(-1)!;
  for (let i = 0; i < tables.http_events.length; i++) assert.deepEqual(b.encoded(i), a.encoded(i), tables.http_events[i]!.name);
});

test('a snapshot of the hot batch keeps its rows while later batches reuse recycled arrays', () => {
  const s = new TableStore('http_events', tables.http_events, base);
  for (let i = 0; i < 1500; i++) s.append(row(i, 1, true));
  const snap = s.snapshot();
  const hot = snap.batches.at(-1)!;
  assert.equal(hot.rows, 500);
  // What the rows are, read from a fresh store that nothing else touches.
  const ref = new TableStore('http_events', tables.http_events, base);
  for (let i = 1000; i < 1500; i++) ref.append(row(i, 1, true));
  const expected = readAll(ref.snapshot().batches[0]!).map((c) => valuesOf(c, 500));
  // Seal the snapshotted batch and fill many more from the pool (different values everywhere).
  for (let i = 1500; i < 9000; i++) s.append(row(i, 2, false));
  assert.deepEqual(readAll(hot).map((c) => valuesOf(c, 500)), expected);
});
