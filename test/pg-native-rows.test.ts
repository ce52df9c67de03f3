// End to end: the wire server over the real engine answers the same protocol script byte for byte
// whether rows go through the native DataRow encoder or the JS encoders (WIRETAP_PG_NATIVE_ROWS=0):
// simple queries, Execute row limits (PortalSuspended), text/binary/mixed formats, SQL cursors
// (FETCH n, MOVE, FETCH through Execute), a non-UTC TimeZone (native at the zone's offset), NULLs. Also that
// statement_timeout and a closed socket still stop a natively streamed result.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { DuckEngine } from '../engine/duck.ts';
import { servePg, type ServedEngine } from './helpers/pg-standalone.ts';
import { httpRow } from '../engine/testing/http-row.ts';
import { nativeStats } from '../server/pg/row-batches.ts';
import { RawClient, frontend, errorFields, type BackendMessage } from '../server/pg/wire-test-client.ts';

let engine: DuckEngine;
let served: ServedEngine | undefined;
let port: number;

before(async () => {
  engine = await DuckEngine.create();
  for (let i = 0; i < 6000; i++) {
    engine.append('http_events', httpRow({
      timeNs: 1_763_700_000_000_000_000n + BigInt(i) * 1_000_123n,
      upid: { asid: 0, pid: 1000 + (i % 7), startTicks: 99n },
      remoteAddr: `10.0.${(i >> 8) & 255}.${i & 255}`,
      reqMethod: i % 5 === 0 ? 'POST' : 'GET',
      reqPath: i % 11 === 0 ? '' : `/api/ü/${i % 300}`,
      respStatus: i % 10 === 0 ? 500 : 200,
      latencyNs: BigInt(i) * 977n,
    }));
  }
  await engine.flush();
  served = await servePg(engine);
  ({ port } = served);
});

after(async () => {
  await (served?.close() ?? engine?.close());
});

const events = 'select time_, upid, remote_addr, req_method, req_path, resp_status, latency from http_events order by time_';
const values = `select i, (i % 300)::smallint as s, i * 1.5 as d, (i / 3)::float as f, 'row ' || i || ' ✓' as t,
    case when i % 3 = 0 then null else i::varchar end as n, timestamptz '1969-12-31 23:00:00+00' + i * interval '1 second 7 microseconds' as ts,
    date '1999-12-01' + (i % 1000)::integer as dt, to_seconds(i) - to_months(i % 30) as iv, i % 2 = 0 as b,
    (i / 7)::decimal(12, 2) as dec, (i * 1000)::hugeint as h, '\\x00ff'::blob as by
  from range(5000) t(i)`;

const lists = 'select i, [i, null, i + 1] as l from range(3000) t(i)';

/** Runs the script on a fresh session; returns every message except BackendKeyData (random keys). */
async function script(): Promise<BackendMessage[]> {
  const c = await RawClient.connect(port);
  const out: BackendMessage[] = [];
  const keep = (ms: BackendMessage[]) => out.push(...ms.filter((m) => m.type !== 'K'));
  try {
    keep(await c.startup());
    keep(await c.query(events));
    keep(await c.query(values));
    // extended: row limits cut chunks (DuckDB's are 2048 rows) at odd places
    for (const formats of [[1], Array.from({ length: 13 }, (_, i) => i % 2), []]) {
      c.write(Buffer.concat([
        frontend.parse('', values), frontend.bind('', '', [], formats), frontend.describePortal(),
        frontend.execute('', 3000), frontend.execute('', 7), frontend.execute('', 1), frontend.execute('', 0), frontend.sync(),
      ]));
      keep(await c.until('Z'));
    }
    c.write(Buffer.concat([frontend.parse('', events), frontend.bind('', '', [], [1]), frontend.execute('', 4095), frontend.execute('', 0), frontend.sync()]));
    keep(await c.until('Z'));
    // a LIST column: the JS encoders, from slices of the same chunks
    c.write(Buffer.concat([frontend.parse('', lists), frontend.bind(), frontend.execute('', 1000), frontend.execute('', 7), frontend.execute('', 0), frontend.sync()]));
    keep(await c.until('Z'));
    // SQL cursors: FETCH n, MOVE, FETCH ALL, and FETCH through Execute with a row limit
    keep(await c.query('begin'));
    keep(await c.query(`declare cur cursor for ${values}`));
    keep(await c.query('fetch 2100 from cur'));
    keep(await c.query('move 100 in cur'));
    keep(await c.query('fetch 5 from cur'));
    keep(await c.query('fetch all from cur'));
    keep(await c.query(`declare bin binary cursor for ${events}`));
    c.write(Buffer.concat([frontend.parse('', 'fetch 5000 from bin'), frontend.bind('', '', [], [1]), frontend.execute('', 2049), frontend.execute('', 0), frontend.sync()]));
    keep(await c.until('Z'));
    keep(await c.query('commit'));
    // a session TimeZone: timestamptz text at New York's offset (one per batch: these span 83 minutes)
    keep(await c.query("set timezone = 'America/New_York'"));
    keep(await c.query(values));
    return out;
  } finally {
    c.close();
  }
}

const bytes = (ms: BackendMessage[]): Buffer => Buffer.concat(ms.flatMap((m) => [Buffer.from(m.type), m.body]));

test('native and JS DataRows: the same bytes for the whole protocol script', { timeout: 120_000 }, async () => {
  const before = nativeStats.rows;
  const native = await script();
  const nativeRows = nativeStats.rows - before;
  process.env.WIRETAP_PG_NATIVE_ROWS = '0';
  let js: BackendMessage[];
  try {
    js = await script();
  } finally {
    delete process.env.WIRETAP_PG_NATIVE_ROWS;
  }
  assert.equal(nativeStats.rows - before, nativeRows, 'WIRETAP_PG_NATIVE_ROWS=0 encodes nothing natively');
  // every row went natively, the America/New_York query's too
  assert.equal(nativeRows, 6000 + 5000 + 3 * 5000 + 6000 + (2100 + 5 + 2795) + 5000 + 5000);
  assert.equal(native.length, js.length);
  const counts = (ms: BackendMessage[]) => ms.reduce((m, x) => m.set(x.type, (m.get(x.type) ?? 0) + 1), new Map<string, number>());
  assert.deepEqual(counts(native), counts(js));
  assert.equal(counts(native).get('s'), 3 * 3 + 1 + 2 + 1, 'PortalSuspended after each limited Execute');
  const tags = native.filter((m) => m.type === 'C').map((m) => m.body.toString('utf8', 0, m.body.length - 1));
  assert.deepEqual(tags.filter((t) => /^(FETCH|MOVE)/.test(t)), ['FETCH 2100', 'MOVE 100', 'FETCH 5', 'FETCH 2795', 'FETCH 5000']);
  assert.ok(bytes(native).equals(bytes(js)), 'identical backend bytes');
});

test('statement_timeout and a vanished client stop a natively streamed result', { timeout: 120_000 }, async () => {
  const c = await RawClient.connect(port);
  try {
    await c.startup();
    await c.query("set statement_timeout = '50ms'");
    // many chunks: each is encoded natively; the timeout aborts between them (or DuckDB itself)
    const slow = 'select i, md5(i::varchar) from range(50000000) t(i)';
    const ms = await c.query(slow);
    const err = ms.find((m) => m.type === 'E');
    assert.ok(err, `an error, got ${ms.length} messages`);
    assert.equal(errorFields(err.body).C, '57014');
    await c.query('reset statement_timeout');
    const ok = await c.query('select 1');
    assert.equal(ok.filter((m) => m.type === 'D').length, 1, 'the session goes on');
  } finally {
    c.close();
  }
  // a client that reads nothing and leaves: the server stops at the socket's backpressure
  const gone = await RawClient.connect(port);
  await gone.startup();
  gone.socket.pause();
  gone.write(frontend.query('select i, repeat(\'x\', 100) from range(20000000) t(i)'));
  await new Promise((r) => setTimeout(r, 300));
  gone.close();
  const c2 = await RawClient.connect(port);
  try {
    await c2.startup();
    const ms = await c2.query('select count(*) from range(10)');
    assert.equal(ms.filter((m) => m.type === 'D').length, 1, 'the server still answers');
  } finally {
    c2.close();
  }
});
