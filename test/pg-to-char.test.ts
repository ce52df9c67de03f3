// End to end: to_char(timestamptz|timestamp|date, 'format') through node-pg gives what PostgreSQL
// 15 gives, byte for byte. The oracle is a real PostgreSQL started by the test: the same
// statements run against both, in several session TimeZones, over instants on DST edges, ISO
// week-year boundaries and fractional seconds, plus a GROUP BY over http_events whose rows
// PostgreSQL holds in a table of its own. Formats we do not translate get SQLSTATE 0A000 and the
// connection lives on.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import { DuckEngine } from '../engine/duck.ts';
import { httpRow } from '../engine/testing/http-row.ts';
import { servePg, type ServedEngine } from './helpers/pg-standalone.ts';
import { startPgCluster, type PgCluster } from './helpers/pg-cluster.ts';

const instants = [
  '2025-03-09 06:59:59.123456+00', // the last instant before New York springs forward
  '2025-11-02 05:30:00+00', // 01:30 EDT, the first of the fall-back day's two
  '2025-11-02 06:30:00.5+00', // 01:30 EST, the second
  '2025-11-20 18:30:00+00', // midnight in Kolkata
  '2026-12-31 23:59:59.999999+00',
  '2027-01-01 00:00:00+00',
  '2025-12-29 12:00:00+00', // ISO week 1 of 2026
  '2021-01-03 01:02:03+00', // ISO week 53 of 2020
  '2000-02-29 12:00:01.000007+00',
  '2026-07-13 00:05:09.04+00',
];

const formats = [
  'YYYY-MM-DD HH24:MI:SS.US',
  'YYYY-MM-DD"T"HH24:MI:SS.MSOF',
  'yyyy-mm-dd hh24:mi:ss',
  'YYYYMMDDHH24MISS',
  'Day, DD Month YYYY',
  'FMDay, FMDD FMMonth YYYY',
  'DAY day Dy DY dy MONTH month Mon MON mon',
  'HH12:MI AM', 'hh12:mi a.m.', 'HH:MI P.M. pm', 'FMHH12',
  'IYYY-IW-ID IYY IY I IDDD',
  'DDD FMDDD DDth FMDDth ddth MMTH HH24th',
  'Q WW W D CC J',
  'SSSS SSSSS',
  'Y,YYY YYY YY Y',
  'FF1 FF2 FF3 FF4 FF5 FF6 MS FMMS US',
  'RM rm FMRM',
  'TZH:TZM OF',
  '"Week "IW" of "IYYY',
  'YYYY%MM 100% \\"quoted\\"',
  'AD ad B.C. b.c.',
  'TMMonth FXYYYY',
];

const zones = ['UTC', 'America/New_York', 'Asia/Kolkata', 'Australia/Lord_Howe'];

let oracle: PgCluster;
let served: ServedEngine;
let engine: DuckEngine;

const lit = (s: string): string => `'${s.replaceAll("'", "''")}'`;

before(async () => {
  oracle = await startPgCluster();
  engine = await DuckEngine.create();
  // in time order: the store takes late rows only within a window
  const ordered = [...instants].sort((a, b) => Date.parse(a.replace(' ', 'T').replace('+00', 'Z')) - Date.parse(b.replace(' ', 'T').replace('+00', 'Z')));
  for (const [i, text] of ordered.entries()) {
    const ms = Date.parse(text.replace(' ', 'T').replace('+00', 'Z'));
    engine.append('http_events', httpRow({ timeNs: BigInt(ms) * 1_000_000n + BigInt(i), upid: { asid: 0, pid: 1000 + i, startTicks: 1n }, reqPath: `/r/${i}` }));
  }
  await engine.flush();
  served = await servePg(engine);
  oracle.psql(`CREATE TABLE http_events (time_ timestamptz); INSERT INTO http_events VALUES ${instants.map((t) => `(${lit(t)})`).join(', ')}`);
});

after(async () => {
  await served?.close();
  oracle?.stop();
});

async function both<T>(f: (c: pg.Client) => Promise<T>): Promise<{ ours: T; theirs: T }> {
  const connect = async (port: number, user: string) => {
    const c = new pg.Client({ host: '127.0.0.1', port, user, database: 'postgres' });
    await c.connect();
    return c;
  };
  const a = await connect(served.port, 'wiretap');
  const b = await connect(oracle.port, 'postgres');
  try {
    return { ours: await f(a), theirs: await f(b) };
  } finally {
    await a.end();
    await b.end();
  }
}

/** Rows as arrays of text, so nothing is lost to client-side parsing. */
async function textRows(c: pg.Client, sql: string): Promise<string[][]> {
  const r = await c.query({ text: sql, rowMode: 'array', types: { getTypeParser: () => (v: string) => v } });
  return r.rows as string[][];
}

test('to_char of timestamptz, timestamp and date matches PostgreSQL in every session TimeZone', async () => {
  for (const zone of zones) {
    const { ours, theirs } = await both(async (c) => {
      await c.query(`SET TimeZone = ${lit(zone)}`);
      const out: string[][] = [];
      for (const f of formats) {
        const cols = instants.map((t) => `to_char(TIMESTAMPTZ ${lit(t)}, ${lit(f)})`).join(', ');
        out.push(...(await textRows(c, `SELECT ${cols}`)));
      }
      // without a zone, and a date: the session TimeZone plays no part
      const naive = formats.filter((f) => !f.includes('OF') && !f.includes('TZ'));
      for (const f of naive) out.push(...(await textRows(c, `SELECT to_char(TIMESTAMP '2025-11-02 01:30:00.25', ${lit(f)}), to_char(DATE '2024-02-29', ${lit(f)})`)));
      return out;
    });
    for (let i = 0; i < theirs.length; i++) assert.deepEqual(ours[i], theirs[i], `TimeZone ${zone}, statement ${i}`);
    assert.equal(ours.length, theirs.length);
  }
});

test('to_char over http_events: grouped by the local hour, named to_char, NULL stays NULL', async () => {
  const { ours, theirs } = await both(async (c) => {
    await c.query(`SET TimeZone = 'America/New_York'`);
    const grouped = await textRows(c, `SELECT to_char(time_, 'YYYY-MM-DD HH24:00 TZH') AS h, count(*) FROM http_events GROUP BY 1 ORDER BY 1`);
    const named = await c.query(`SELECT to_char(time_, 'FMMonth DD') FROM http_events ORDER BY time_ LIMIT 1`);
    const nested = await textRows(c, `SELECT upper(to_char(min(time_), 'Mon')) || to_char(max(time_), ' "to" Mon') FROM http_events`);
    const nulls = await textRows(c, `SELECT to_char(NULL::timestamptz, 'YYYY'), to_char(now(), '') IS NULL`);
    return { grouped, name: named.fields.map((f) => f.name), first: named.rows, nested, nulls };
  });
  assert.deepEqual(ours, theirs);
  assert.deepEqual(ours.name, ['to_char']);
  assert.equal(ours.grouped.length, instants.length);
});

test('formats that are not translated get SQLSTATE 0A000 and the connection lives on', async () => {
  const c = new pg.Client({ host: '127.0.0.1', port: served.port, user: 'wiretap', database: 'postgres' });
  await c.connect();
  try {
    await assert.rejects(c.query(`SELECT to_char(42.5, '999D99')`), (e: { code?: string; message: string }) => e.code === '0A000' && /numeric format/.test(e.message));
    await assert.rejects(c.query(`SELECT to_char(now(), 'HH24:MI TZ')`), (e: { code?: string; message: string }) => e.code === '0A000' && /OF gives the UTC offset/.test(e.message));
    const r = await c.query(`SELECT to_char(TIMESTAMPTZ '2026-01-02 03:04:05+00', 'YYYY') AS y`);
    assert.deepEqual(r.rows, [{ y: '2026' }]);
    // extended protocol: the value is a parameter (repeated where the format needs it)
    const p = await c.query(`SELECT to_char($1::timestamptz, 'FMMonth FMDDth, HH24:MI') AS t`, ['2026-03-01 17:05:00+00']);
    assert.deepEqual(p.rows, [{ t: 'March 1st, 17:05' }]);
  } finally {
    await c.end();
  }
});
