// GROUP BY a text column grouped by its table-wide codes (group-codes.ts, text-codes.ts): every
// rewritten statement must give exactly what the statement as written gives (rows, order, column
// names and types, NULL groups, errors), and shapes the rewrite cannot prove run as written.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DuckEngine } from '../duck.ts';
import { allRows } from '../query.ts';
import { httpRow } from '../testing/http-row.ts';

const base = 1_800_000_000_000n * 1_000_000n;

/** 6,500 rows sealed every 1000 (six sealed batches and a hot one): ~300 paths, skewed, with NULLs. */
async function engine(): Promise<DuckEngine> {
  const e = await DuckEngine.create({ flushRows: 1000, threads: 2, scanRowsPerThread: 500 });
  for (let i = 0; i < 6500; i++) {
    const k = (i * 7919) % 997;
    const path = i % 97 === 0 ? null : k % 5 === 0 ? `/a/${k % 40}` : k % 5 === 1 ? `/b/${k % 300}/détail/ü/${k % 3}` : k % 5 === 2 ? '' : `/c${k % 60}`;
    e.append('http_events', httpRow({
      timeNs: base + BigInt(i) * 1_000_000n, reqPath: path as string, reqMethod: ['GET', 'POST', 'PUT'][i % 3]!,
      respStatus: [200, 404, 500, 503][k % 4]!, latencyNs: BigInt(1000 + ((i * 31) % 5000)),
    }));
  }
  return e;
}

const show = (rows: unknown[][]) => JSON.stringify(rows, (_, v) => (typeof v === 'bigint' ? `${v}n` : v));

async function run(e: DuckEngine, q: string, codes: boolean): Promise<{ rows: string; columns: string; rewrite?: string; error?: string }> {
  e.groupByCodes = codes;
  try {
    const r = await e.query(q);
    const rows = await allRows(r);
    return { rows: show(rows), columns: JSON.stringify(r.columns), rewrite: e.lastRewrite };
  } catch (err) {
    return { rows: '', columns: '', error: (err as Error).message };
  }
}

test('GROUP BY a text column: rewritten shapes give the answers of the statement as written', async () => {
  const e = await engine();
  try {
    const at = (i: number) => `make_timestamptz(${Number((base + BigInt(i) * 1_000_000n) / 1000n)}::BIGINT)`;
    const rewritten = [
      'select req_path, count(*) as n, avg(latency), quantile_cont(latency, 0.99) as p99 from http_events group by req_path order by 2 desc, 1 limit 10',
      'select req_path, count(*) as n, median(latency), sum(latency) from http_events group by req_path order by 2 desc, 1 limit 10',
      'select req_path, count(*) from http_events group by req_path order by req_path nulls first',
      'select req_path, count(*) from http_events group by req_path order by 1 desc nulls last',
      'select REQ_PATH, count(*) from http_events group by Req_Path order by 1',
      'select req_path as p, count(*) n from http_events where resp_status >= 500 group by p order by n desc, p limit 7',
      `select count(*) as n, h.req_path from http_events h where req_path like '/a%' and time_ > ${at(1500)} group by h.req_path having count(*) > 3 order by 1 desc, 2`,
      'select req_path, max(latency), min(resp_status) from http_events group by 1 order by 2 desc, 1 limit 5 offset 2',
      "select req_path, count(*) from http_events where req_path is null or req_path = '' group by req_path order by 2",
      'select count(*) from http_events group by req_path order by 1',
      'select req_method, count(*), sum(latency) from http_events group by req_method order by 1',
      'select req_path, count(*) as req_method from http_events group by req_path order by req_method desc, req_path',
      'select req_path, count(*), 42 as k from http_events where resp_status = 404 group by req_path order by 1 limit 3',
      // integral DOUBLE constants (1e6, 2.0) and a list of decimals survive the statement's JSON round trip
      'select req_path, quantile_cont(latency / 1e6, [0.5, 0.9]), sum(latency * 2.0) from http_events group by req_path order by 1 limit 5',
    ];
    for (const q of rewritten) {
      const plain = await run(e, q, false);
      const coded = await run(e, q, true);
      assert.ok(coded.rewrite, `rewritten: ${q}`);
      assert.equal(plain.error, undefined, q);
      assert.equal(coded.rows, plain.rows, q);
      assert.equal(coded.columns, plain.columns, q);
      assert.ok(JSON.parse(plain.rows).length > 0, `non-empty: ${q}`);
    }
    const asWritten = [
      'select upper(req_path), count(*) from http_events group by req_path order by 1',
      'select req_path, count(distinct req_path) from http_events group by req_path order by 1',
      "select req_path, count(*) from http_events group by req_path having req_path <> '' order by 1",
      'select req_path, count(*) from http_events group by req_path order by length(req_path), 1',
      'select req_path, resp_status, count(*) from http_events group by 1, 2 order by 1, 2',
      'select req_path, count(*) from http_events group by rollup (req_path) order by 1, 2',
      'select req_path, count(*), sum(count(*)) over () from http_events group by req_path order by 1',
      'select * from (select req_path, count(*) n from http_events group by 1) order by n desc, req_path limit 3',
      'select distinct req_path, count(*) from http_events group by req_path order by 1',
      'select req_path, req_path, count(*) from http_events group by req_path order by 3, 1',
      'select req_path as p, count(*) from http_events where p is not null group by req_path order by 1',
      'select req_path collate nocase as p, count(*) from http_events group by 1 order by 1',
      'select req_path, count(*) from http_events group by req_path order by http_events.req_path',
      'select req_path, count(*) from http_events group by all order by 1',
      'select resp_status, count(*) from http_events group by resp_status order by 1',
    ];
    for (const q of asWritten) {
      const plain = await run(e, q, false);
      const coded = await run(e, q, true);
      assert.equal(coded.rewrite, undefined, `not rewritten: ${q}`);
      assert.equal(coded.rows, plain.rows, q);
      assert.equal(coded.error, plain.error, q);
    }
    // Errors are the statement's own (a rewrite that does not prepare runs as written).
    for (const q of ['select req_path, resp_status from http_events group by req_path', 'select req_path, count(*) from http_events group by req_path order by nope']) {
      const plain = await run(e, q, false);
      const coded = await run(e, q, true);
      assert.ok(plain.error, q);
      assert.equal(coded.error, plain.error, q);
    }
  } finally {
    await e.close();
  }
});

test('GROUP BY codes: rows appended and sealed between queries get codes too, NULL is its own group', async () => {
  const e = await engine();
  try {
    const q = 'select req_path, count(*) from http_events group by req_path order by 1 nulls first';
    const first = await run(e, q, true);
    assert.ok(first.rewrite);
    assert.deepEqual(JSON.parse(first.rows)[0], [null, `${Math.ceil(6500 / 97)}n`]);
    for (let i = 6500; i < 7700; i++) e.append('http_events', httpRow({ timeNs: base + BigInt(i) * 1_000_000n, reqPath: i % 2 ? '/new' : '/c1' }));
    const coded = await run(e, q, true);
    const plain = await run(e, q, false);
    assert.equal(coded.rows, plain.rows);
    assert.ok(coded.rows.includes('"/new","600n"'), coded.rows);
    await e.flush();
    assert.equal((await run(e, q, true)).rows, plain.rows);
  } finally {
    await e.close();
  }
});
