import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DuckEngine } from './duck.ts';
import { allRows, SqlError, type QueryResult } from './query.ts';
import { httpRow } from './testing/http-row.ts';
import { upidToString } from './upid.ts';

async function sqlstate(p: Promise<unknown>): Promise<string> {
  try {
    const r = await p;
    if (r && typeof r === 'object' && 'chunks' in r) await allRows(r as QueryResult);
  } catch (err) {
    assert.ok(err instanceof SqlError, `expected SqlError, got ${String(err)}`);
    return err.sqlstate;
  }
  return 'no error';
}

test('appended rows are queryable with their types', async () => {
  const e = await DuckEngine.create();
  try {
    const t0 = 1_700_000_000_000_000_000n;
    for (let i = 0; i < 10; i++) e.append('http_events', httpRow({ timeNs: t0 + BigInt(i) * 1000n, reqPath: `/p/${i}` }));
    await e.flush();
    const r = await e.query('select time_, upid, req_path, resp_status, latency, encrypted from http_events order by time_ desc limit 3');
    assert.deepEqual(r.columns.map((c) => c.type), ['timestamptz', 'uuid', 'text', 'int4', 'int8', 'bool']);
    const rows = await allRows(r);
    assert.equal(rows.length, 3);
    assert.deepEqual(rows[0], [(t0 + 9000n) / 1000n, upidToString({ asid: 0, pid: 4242, startTicks: 123456n }), '/p/9', 200, 1_500_000n, false]);
  } finally {
    await e.close();
  }
});

test('only SELECT runs; files, network and DDL are refused with SQLSTATEs', async () => {
  const e = await DuckEngine.create();
  try {
    assert.equal(await sqlstate(e.query('selec 1')), '42601');
    assert.equal(await sqlstate(e.query('select * from nope')), '42P01');
    assert.equal(await sqlstate(e.query('select nope from http_events')), '42703');
    assert.notEqual(await sqlstate(e.query("select read_text('/etc/passwd')")), 'no error');
    assert.equal(await sqlstate(e.query("select * from read_text('/etc/passwd')")), '42501');
    assert.equal(await sqlstate(e.query("select * from read_csv('/etc/passwd')")), '42501');
    assert.equal(await sqlstate(e.query("COPY (select 1) TO '/tmp/wiretap-copy-test.csv'")), '25006');
    assert.equal(await sqlstate(e.query('create table t (a int)')), '25006');
    assert.equal(await sqlstate(e.query('delete from http_events')), '25006');
    assert.equal(await sqlstate(e.query("set enable_external_access = true")), '25006');
    assert.equal(await sqlstate(e.query("attach ':memory:' as x")), '25006');
    assert.equal(await sqlstate(e.query('select 1')), 'no error');
    // A query is prepared without splitting it first: several statements still fail as one error.
    await assert.rejects(e.query('select 1; select 2'), { sqlstate: '42601', message: 'expected one statement, got 2' });
    await assert.rejects(e.query('select count(*) from http_events; delete from http_events'), { sqlstate: '42601', message: 'expected one statement, got 2' });
    await assert.rejects(e.query('select 1 from'), { sqlstate: '42601' });
  } finally {
    await e.close();
  }
});

test('abort signal cancels a running query with 57014', async () => {
  const e = await DuckEngine.create();
  try {
    const ac = new AbortController();
    const p = e.query('select count(*) from range(100000000000)', ac.signal);
    setTimeout(() => ac.abort(), 200);
    assert.equal(await sqlstate(p), '57014');
    // A one-row aggregate over a stored table is materialized, not streamed: same cancellation,
    // and its scan is freed.
    e.append('http_events', httpRow());
    const one = new AbortController();
    const q = e.query('select count(*), max(r.range) from http_events, range(100000000000) r', one.signal);
    setTimeout(() => one.abort(), 200);
    assert.equal(await sqlstate(q), '57014');
    const scans = (e as unknown as { scans: { size: number; livePlans: number } }).scans;
    assert.deepEqual(await allRows(await e.query('select count(*), min(resp_status), max(time_) is not null from http_events')), [[1n, 200, true]]);
    assert.deepEqual([scans.size, scans.livePlans], [0, 0]);
    const grouped = await e.query('select resp_status, count(*) from http_events group by 1');
    assert.deepEqual(await allRows(grouped), [[200, 1n]]);
  } finally {
    await e.close();
  }
});

test('oldest rows expire beyond the row budget', async () => {
  const e = await DuckEngine.create({ maxRowsPerTable: 1000, flushRows: 100 });
  try {
    const t0 = 1_700_000_000_000_000_000n;
    for (let i = 0; i < 3000; i++) e.append('http_events', httpRow({ timeNs: t0 + BigInt(i) * 1000n }));
    await e.flush();
    const rows = await allRows(await e.query('select count(*), min(time_) from http_events'));
    const count = Number(rows[0]![0]);
    assert.ok(count <= 1050 && count >= 1000, `count ${count}`);
    assert.ok((rows[0]![1] as bigint) > t0 / 1000n + 1000n);
    assert.ok(e.stats().rowsExpired >= 1950);
  } finally {
    await e.close();
  }
});

test('statements that read no column (count(*)) over hot and sealed batches', async () => {
  const e = await DuckEngine.create({ flushRows: 100 });
  try {
    const t0 = 1_700_000_000_000_000_000n;
    for (let i = 0; i < 250; i++) e.append('http_events', httpRow({ timeNs: t0 + BigInt(i) * 1000n }));
    assert.deepEqual(await allRows(await e.query('select count(*) from http_events')), [[250n]]);
    await e.flush();
    assert.deepEqual(await allRows(await e.query('select count(*) from http_events')), [[250n]]);
    assert.deepEqual(await allRows(await e.query('select 1 as one from http_events limit 2')), [[1], [1]]);
    assert.deepEqual(await allRows(await e.query('select count(*) from mysql_events')), [[0n]]);
    assert.deepEqual(await allRows(await e.query('select count(resp_status), (select count(*) from http_events) from http_events where resp_status >= 500')), [[0n, 250n]]);
  } finally {
    await e.close();
  }
});

test('a whole-row reference (SELECT h FROM http_events h) reads every column', async () => {
  const e = await DuckEngine.create({ flushRows: 100 });
  try {
    const t0 = 1_700_000_000_000_000_000n;
    for (let i = 0; i < 150; i++) e.append('http_events', httpRow({ timeNs: t0 + BigInt(i) * 1000n, reqPath: `/w/${i}` }));
    await e.flush();
    const viaRow = await allRows(await e.query("select h.req_path, to_json(h)->>'resp_status', (h).upid from http_events h where h.req_path = '/w/7'"));
    const whole = await allRows(await e.query("select to_json(h) from http_events h where req_path = '/w/7'"));
    const plain = await allRows(await e.query("select req_path, resp_status::varchar, upid from http_events where req_path = '/w/7'"));
    assert.deepEqual(viaRow, plain);
    const json = JSON.parse(String(whole[0]![0])) as Record<string, unknown>;
    assert.equal(json.req_path, '/w/7');
    assert.equal(json.resp_status, 200);
    assert.ok('cmdline' in json && 'latency' in json, Object.keys(json).join());
    // Unqualified by alias too: the table's own name as a row value.
    assert.equal((await allRows(await e.query('select count(http_events) from http_events')))[0]![0], 150n);
  } finally {
    await e.close();
  }
});

test('close() while queries run inside DuckDB: they fail with an error, nothing crashes', async () => {
  for (let round = 0; round < 20; round++) {
    const e = await DuckEngine.create({ threads: 1 });
    e.append('http_events', httpRow({}));
    const slow = e.query('select sum(i) from range(3000000000) t(i)');
    const setup = e.query('select count(*) from http_events'); // maybe still creating its views
    // a result being read when the engine closes: the reads stop with an error
    const streamed = (async () => {
      let rows = 0;
      try {
        for await (const c of (await e.query('select i from range(20000000) t(i)')).chunks) rows += c.length;
      } catch (err) {
        assert.ok(err instanceof SqlError, String(err));
        return err.sqlstate;
      }
      return `read all ${rows}`;
    })();
    await new Promise((r) => setTimeout(r, 5 + (round % 5) * 3));
    const closing = e.close();
    const states = await Promise.all([sqlstate(slow), sqlstate(setup), streamed]);
    await closing;
    // interrupted (57014), refused as closed (57P01), or done before the close
    assert.ok(['57014', '57P01'].includes(states[0]), `3-billion-row sum: ${states[0]}`);
    assert.ok(['57014', '57P01', 'no error'].includes(states[1]), states[1]);
    assert.ok(['57014', '57P01'].includes(states[2]), `20M-row read: ${states[2]}`);
  }
});
