// MergeRun's connection life: closing a statement's merge while one of its steps still runs on
// DuckDB's thread pool (a failed statement closes it from another fragment's error) must wait for
// that step — closing the connection under a running query is a use-after-free in DuckDB.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { MergeDb } from './merge-db.ts';
import type { ResultColumn } from '../../engine/query.ts';

const db = await MergeDb.create(1, '256MB');
after(() => db.close());

const columns: ResultColumn[] = Array.from({ length: 40 }, (_, i) => ({ name: `c${i}`, type: i % 2 ? 'text' : 'int8' }));
const row = columns.map((c, i) => (c.type === 'text' ? `v${i}` : BigInt(i)));

test('closing a merge while its table creation runs on the thread pool: no crash, later appends are dropped', async () => {
  for (let round = 0; round < 200; round++) {
    const run = await db.open();
    const appends = ['a', 'b', 'c'].map((name) => run.append(name, columns, [row]));
    await Promise.resolve(); // the first CREATE is on the thread pool now
    run.close();
    // each append settles (done or refused), none hangs
    await Promise.allSettled(appends);
  }
  // the database is still usable
  const run = await db.open();
  await run.append('t', columns, [row, row]);
  const r = await run.result(['t'], async () => columns, 'select count(*) from t');
  const out: unknown[][] = [];
  for await (const c of r.chunks) out.push(...c);
  assert.deepEqual(out, [[2n]]);
});
