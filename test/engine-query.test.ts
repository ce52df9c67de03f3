// The engine end to end through SQL: pruned scans return exactly what full scans return, a
// running query keeps its snapshot while rows are appended and expired, and the budget holds.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DuckEngine } from '../engine/duck.ts';
import { allRows, type Value } from '../engine/query.ts';
import { httpRow } from '../engine/testing/http-row.ts';
import { upidToString } from '../engine/upid.ts';

const t0 = 1_700_000_000_000_000_000n;
const sec = 1_000_000_000n;
const upids = [1, 2, 3, 4].map((pid) => ({ asid: 0, pid: 1000 + pid, startTicks: BigInt(pid * 77) }));

/** Rows over 4 processes, one process per time stretch so batches have small UPID sets. */
async function seeded(): Promise<DuckEngine> {
  const e = await DuckEngine.create({ flushRows: 500 });
  e.setMetadata({ lookup: (u) => ({ cmdline: `/usr/bin/app-${u.pid} --serve`, container: u.pid % 2 ? 'c'.repeat(64) : null }) });
  for (let i = 0; i < 8000; i++) {
    e.append('http_events', httpRow({
      timeNs: t0 + BigInt(i) * sec / 10n,
      upid: upids[Math.floor(i / 2000)]!,
      reqPath: `/api/v1/items/${i % 37}`,
      respStatus: i % 17 === 0 ? 503 : 200,
      remotePort: 40_000 + Math.floor(i / 500), // one port per 500-row batch: integer zone maps
      latencyNs: BigInt((i * 7919) % 100_000),
      reqBody: i % 5 === 0 ? null as unknown as string : `{"n":${i}}`,
    }));
  }
  return e;
}

// Each filter runs twice: as written (pushed down) and inside a subquery, which the engine never
// prunes. Results must be identical; the pushed-down form must also skip batches.
const filters: Array<[string, boolean | null]> = [
  ["time_ >= to_timestamp(1700000300) and time_ < to_timestamp(1700000400)", true],
  ["time_ between to_timestamp(1700000100) and to_timestamp(1700000100.5)", true],
  ["to_timestamp(1700000700) <= time_", true],
  [`upid = '${upidToString(upids[2]!)}'`, true],
  ["cmdline like '%app-1003%'", true],
  ["container is not null and resp_status = 503", true],
  ["container is null or time_ > to_timestamp(1700000790)", false], // OR: nothing to prune by
  ["resp_status >= 500 and time_ > now() - interval '1 minute'", true],
  ['remote_port = 40003', true],
  ['remote_port >= 40014.5 and resp_status = 503', true],
  ["remote_port between '40002' and 40004 and latency < 50000", true],
  ['remote_port > 40003 or remote_port < 40001', false],
  ['latency > 99990', null], // may or may not skip, must still be exact
];

test('a pruned scan returns exactly what a full scan filtered would', async () => {
  const e = await seeded();
  try {
    for (const [where, prunes] of filters) {
      const cols = 'time_, upid, req_path, remote_port, resp_status, latency, req_body, cmdline, container';
      const pruned = await allRows(await e.query(`select ${cols} from http_events where ${where} order by time_`));
      const scan = e.lastScans[0]!;
      const full = await allRows(await e.query(`select ${cols} from (select * from http_events) t where ${where} order by time_`));
      assert.equal(e.lastScans[0]!.batchesScanned, e.lastScans[0]!.batchesTotal, 'subquery form scans everything');
      assert.deepEqual(pruned, full, where);
      if (prunes) assert.ok(scan.batchesScanned < scan.batchesTotal, `${where}: scanned ${scan.batchesScanned}/${scan.batchesTotal}`);
      else if (prunes === false) assert.equal(scan.batchesScanned, scan.batchesTotal, where);
    }
    // Sanity: the filters select something (or, for the 'now()' one, nothing).
    const [[n]] = (await allRows(await e.query("select count(*) from http_events where cmdline like '%app-1003%'"))) as [[bigint]];
    assert.equal(n, 2000n);
  } finally {
    await e.close();
  }
});

test('select * lists stored then hydrated columns; metadata is per process', async () => {
  const e = await seeded();
  try {
    const r = await e.query('select * from http_events limit 1');
    const names = r.columns.map((c) => c.name);
    assert.deepEqual(names.slice(-6), ['pod', 'namespace', 'service', 'node', 'container', 'cmdline']);
    assert.equal(names[0], 'time_');
    const rows = await allRows(await e.query('select upid, cmdline, container, pod, count(*) from http_events group by all order by 2'));
    assert.deepEqual(rows.map((x) => [x[1], x[2], x[3], x[4]]), [
      ['/usr/bin/app-1001 --serve', 'c'.repeat(64), null, 2000n],
      ['/usr/bin/app-1002 --serve', null, null, 2000n],
      ['/usr/bin/app-1003 --serve', 'c'.repeat(64), null, 2000n],
      ['/usr/bin/app-1004 --serve', null, null, 2000n],
    ]);
  } finally {
    await e.close();
  }
});

test('a running query keeps its snapshot while rows are appended and expired', async () => {
  const e = await DuckEngine.create({ flushRows: 1000, maxRowsPerTable: 6000 });
  try {
    for (let i = 0; i < 5500; i++) e.append('http_events', httpRow({ timeNs: t0 + BigInt(i) * 1000n, reqPath: `/a/${i}` }));
    const r = await e.query('select time_, req_path from http_events');
    const seen: Value[][] = [];
    let appended = 5500;
    for await (const chunk of r.chunks) {
      seen.push(...chunk);
      // Between chunks: enough new rows to expire everything the query started with.
      for (let k = 0; k < 3000; k++, appended++) e.append('http_events', httpRow({ timeNs: t0 + BigInt(appended) * 1000n, reqPath: `/b/${appended}` }));
    }
    assert.ok(e.stats().rowsExpired >= 5500, `expired ${e.stats().rowsExpired}`);
    assert.equal(seen.length, 5500);
    const paths = new Set(seen.map((x) => x[1]));
    for (let i = 0; i < 5500; i++) assert.ok(paths.has(`/a/${i}`), `/a/${i}`);
    // The next query sees the new state.
    const [[count, min]] = (await allRows(await e.query("select count(*), min(req_path) from http_events where req_path like '/a/%'"))) as [[bigint, string | null]];
    assert.equal(count, 0n);
    assert.equal(min, null);
  } finally {
    await e.close();
  }
});

test('the memory budget holds and wiretap_tables accounts for every row', async () => {
  const budget = 4 << 20;
  const e = await DuckEngine.create({ memoryBudget: budget, tableShares: { http_events: 0.5 } });
  try {
    let peak = 0;
    for (let i = 0; i < 200_000; i++) {
      e.append('http_events', httpRow({ timeNs: t0 + BigInt(i) * 100_000n, reqPath: `/x/${i % 500}/${i}`, respBody: `{"id":${i},"v":"${(i * 2654435761) % 1e9}"}` }));
      if (i % 1000 === 0) peak = Math.max(peak, e.store.bytes());
    }
    assert.ok(peak <= budget, `peak ${peak}`);
    const rows = await allRows(await e.query("select rows, rows_appended, rows_expired, bytes, budget_bytes, oldest_time from wiretap_tables where table_name = 'http_events'"));
    const [held, appended, expired, bytes, share, oldest] = rows[0] as [bigint, bigint, bigint, bigint, bigint, bigint];
    assert.equal(appended, 200_000n);
    assert.ok(expired > 0n);
    assert.equal(held + expired, appended);
    assert.ok(bytes <= share && share === BigInt(budget / 2), `${bytes} ${share}`);
    const [[count, min]] = (await allRows(await e.query('select count(*), min(time_) from http_events'))) as [[bigint, bigint]];
    assert.equal(count, held);
    assert.equal(min, oldest);
  } finally {
    await e.close();
  }
});

for (const maxEnumEntries of [undefined, 0]) test(`mostly-distinct text columns (stored plain) read back exactly (${maxEnumEntries === 0 ? 'as VARCHAR' : 'as ENUM'})`, async () => {
  const e = await DuckEngine.create({ flushRows: 1024, maxEnumEntries });
  try {
    const bodies: string[] = [];
    for (let i = 0; i < 5000; i++) {
      const body = i % 7 === 0 ? null : `{"id":${i},"u":"ü${i}"}`;
      bodies.push(body as string);
      e.append('http_events', httpRow({ timeNs: t0 + BigInt(i) * 1000n, reqBody: body as string }));
    }
    const rows = await allRows(await e.query('select req_body from http_events order by time_'));
    assert.deepEqual(rows.map((r) => r[0]), bodies);
    const [[distinct]] = (await allRows(await e.query('select count(distinct req_body) from http_events'))) as [[bigint]];
    assert.equal(distinct, BigInt(bodies.filter((b) => b !== null).length));
    const batches = e.store.tables.get('http_events')!.sealedBatches();
    const reqBody = 14;
    assert.ok(batches.some((b) => b.open().column(reqBody).kind === 'text' && (b.open().column(reqBody) as { idx: unknown }).idx === null), 'some batch stored req_body plain');
  } finally {
    await e.close();
  }
});
