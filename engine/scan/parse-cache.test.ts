// The parser cache (scan/analyze.ts parseCache): a statement sent again reuses its parse but
// never its data or its time-relative bounds.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { DuckEngine } from '../duck.ts';
import { allRows } from '../query.ts';
import { httpRow } from '../testing/http-row.ts';
import { Lru, parseCache } from './analyze.ts';

test('the same text twice sees rows that arrived in between, and still prunes', async () => {
  const e = await DuckEngine.create({ flushRows: 4 });
  try {
    const t0 = 1_700_000_000_000_000_000n;
    const q = `select count(*) from http_events where resp_status >= 500 and time_ > '2023-11-14 22:13:20.000005+00'`;
    for (let i = 0; i < 8; i++) e.append('http_events', httpRow({ timeNs: t0 + BigInt(i) * 1000n, respStatus: i % 2 ? 503 : 200 }));
    await e.flush();
    assert.deepEqual(await allRows(await e.query(q)), [[1n]]);
    const before = parseCache.size;
    for (let i = 8; i < 16; i++) e.append('http_events', httpRow({ timeNs: t0 + BigInt(i) * 1000n, respStatus: i % 2 ? 503 : 200 }));
    await e.flush();
    assert.deepEqual(await allRows(await e.query(q)), [[5n]]);
    assert.equal(parseCache.size, before, 'the second run added no entry');
    const scan = e.lastScans.find((s) => s.table === 'http_events')!;
    assert.ok(scan.batchesScanned < scan.batchesTotal, `pruned: ${JSON.stringify(scan)}`);
    // A bound computed by a pure function is kept with the text; the rows are not.
    const made = `select count(*) from http_events where time_ > make_timestamp(${t0 / 1000n + 5n}::BIGINT)::TIMESTAMPTZ and resp_status >= 500`;
    assert.deepEqual(await allRows(await e.query(made)), [[5n]]);
    e.append('http_events', httpRow({ timeNs: t0 + 100_000n, respStatus: 500 }));
    await e.flush();
    assert.deepEqual(await allRows(await e.query(made)), [[6n]]);
    assert.deepEqual(await allRows(await e.query(q)), [[6n]]);
    // A different text is parsed on its own: its own bound, its own answer.
    assert.deepEqual(await allRows(await e.query(q.replace('>= 500', '< 500'))), [[5n]]);
    assert.equal(parseCache.size > before, true);
  } finally {
    await e.close();
  }
});

test('a now()-relative bound is evaluated again on each run of the same text', async () => {
  const e = await DuckEngine.create();
  try {
    // Rows 1.5 s in the future: not before now() at first, before it once that time has passed.
    const future = (BigInt(Date.now()) + 1500n) * 1_000_000n;
    for (let i = 0; i < 3; i++) e.append('http_events', httpRow({ timeNs: future + BigInt(i) }));
    await e.flush();
    const qs = ['select count(*) from http_events where time_ < now()', 'select count(*) from http_events where time_ < current_timestamp and resp_status > 1 + 2'];
    for (const q of qs) assert.deepEqual(await allRows(await e.query(q)), [[0n]], q);
    while (BigInt(Date.now()) * 1_000_000n <= future + 10_000_000n) await sleep(100);
    for (const q of qs) assert.deepEqual(await allRows(await e.query(q)), [[3n]], q);
  } finally {
    await e.close();
  }
});

test('the cache forgets the least recently used entry beyond its size', () => {
  const c = new Lru<string, number>(2);
  c.set('a', 1);
  c.set('b', 2);
  assert.equal(c.get('a'), 1); // a is now newer than b
  c.set('c', 3);
  assert.equal(c.size, 2);
  assert.equal(c.get('b'), undefined);
  assert.equal(c.get('a'), 1);
  assert.equal(c.get('c'), 3);
  assert.ok(parseCache.max > 0 && parseCache.max <= 1024);
});
