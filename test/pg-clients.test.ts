// End to end: the tools users point at wiretap — psql meta-commands, psycopg2 / SQLAlchemy /
// pandas, pgjdbc, node-pg, postgres.js, and Grafana's datasource queries (replayed) — against
// the real engine behind the standalone planner (catalog and settings answered at the broker).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import postgres from 'postgres';
import { DuckEngine } from '../engine/duck.ts';
import { servePg, type ServedEngine } from './helpers/pg-standalone.ts';
import { httpRow } from '../engine/testing/http-row.ts';
import { grafanaMetadata, grafanaPanelQueries } from './clients/grafana-queries.ts';

const ROWS = 50;
const START_NS = 1_763_700_000_000_000_000n; // 2025-11-21T04:40:00Z
let engine: DuckEngine;
let served: ServedEngine | undefined;
let port: number;
const tmp = mkdtempSync(join(tmpdir(), 'wiretap-clients-'));

before(async () => {
  engine = await DuckEngine.create();
  for (let i = 0; i < ROWS; i++) {
    engine.append('http_events', httpRow({
      timeNs: START_NS + BigInt(i) * 10_000_000_000n, // one every 10 s
      reqMethod: i % 5 === 0 ? 'POST' : 'GET',
      reqPath: `/api/items/${i % 7}`,
      respStatus: i % 10 === 0 ? 500 : 200,
      latencyNs: BigInt(1_000_000 + i * 1000),
    }));
  }
  await engine.flush();
  served = await servePg(engine);
  ({ port } = served);
});

after(async () => {
  await (served?.close() ?? engine?.close());
  rmSync(tmp, { recursive: true, force: true });
});

function run(cmd: string, args: string[], timeoutMs = 120_000): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(cmd, args, { timeout: timeoutMs, maxBuffer: 16 << 20, env: { ...process.env, PGCONNECT_TIMEOUT: '10', PGPASSWORD: '' } },
      (err, stdout, stderr) => resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr }));
  });
}

const psql = (...commands: string[]): ReturnType<typeof run> =>
  run('/usr/bin/psql', ['-X', '-v', 'ON_ERROR_STOP=1', '-h', '127.0.0.1', '-p', String(port), '-U', 'wiretap', '-d', 'wiretap',
    ...commands.flatMap((c) => ['-c', c])]);

async function withPg<T>(fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ host: '127.0.0.1', port, user: 'wiretap', database: 'wiretap', application_name: 'clients-test' });
  c.on('error', () => {});
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end().catch(() => {});
  }
}

async function sqlstate(c: pg.Client, sql: string): Promise<string | undefined> {
  try {
    await c.query(sql);
    return undefined;
  } catch (err) {
    return (err as { code?: string }).code;
  }
}

test('psql: \\dt, \\d, \\d+, \\l, \\dn, \\x and \\timing', { timeout: 60_000 }, async () => {
  const dt = await psql('\\dt');
  assert.equal(dt.code, 0, dt.stderr);
  assert.match(dt.stdout, /public \| http_events\s+\| table \| wiretap/);
  const d = await psql('\\d http_events');
  assert.equal(d.code, 0, d.stderr);
  assert.match(d.stdout, /Table "public\.http_events"/);
  assert.match(d.stdout, /time_\s+\| timestamp with time zone/);
  assert.match(d.stdout, /latency\s+\| bigint/);
  const dplus = await psql('\\d+ http_events');
  assert.equal(dplus.code, 0, dplus.stderr);
  assert.match(dplus.stdout, /resp_status\s+\| integer .*\| response status code/);
  const l = await psql('\\l');
  assert.equal(l.code, 0, l.stderr);
  assert.match(l.stdout, /wiretap\s+\| wiretap\s+\| UTF8/);
  const dn = await psql('\\dn');
  assert.equal(dn.code, 0, dn.stderr);
  assert.match(dn.stdout, /public/);
  const x = await psql('\\x on', 'select count(*) as n from http_events');
  assert.match(x.stdout, /-\[ RECORD 1 \]-*\nn \| 50/);
  const timing = await psql('\\timing on', 'select 1 as one');
  assert.match(timing.stdout, /Time: [\d.]+ ms/);
  // the other describe commands run their catalog queries without error
  for (const meta of ['\\d+', '\\df', '\\dv', '\\du', '\\dT', '\\dx', '\\dL', '\\dF', '\\dX', '\\drds', '\\dp', '\\l+']) {
    const out = await psql(meta);
    assert.equal(out.code, 0, `${meta}: ${out.stderr}`);
  }
  assert.match((await psql('\\d+')).stdout, /http_events\s+\| table \| wiretap .*\| HTTP\/1\.x requests/);
});

test('TimeZone: timestamptz text in the session zone (startup option and SET), binary stays UTC', { timeout: 60_000 }, async () => {
  // first row: 2025-11-21 04:40:00Z
  const startup = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    execFile('/usr/bin/psql', ['-X', '-A', '-t', '-v', 'ON_ERROR_STOP=1', '-h', '127.0.0.1', '-p', String(port), '-U', 'wiretap', '-d', 'wiretap',
      '-c', 'show timezone', '-c', 'select min(time_) from http_events',
      '-c', "set time zone 'Asia/Kolkata'", '-c', 'select min(time_) from http_events',
      '-c', 'set timezone = -3.5', '-c', 'select min(time_) from http_events'],
    { env: { ...process.env, PGOPTIONS: '-c TimeZone=Europe/Amsterdam', PGPASSWORD: '' } },
    (err, stdout, stderr) => resolve({ code: err ? 1 : 0, stdout, stderr }));
  });
  assert.equal(startup.code, 0, startup.stderr);
  assert.deepEqual(startup.stdout.trim().split('\n').filter((l) => l !== 'SET'), [
    'Europe/Amsterdam', '2025-11-21 05:40:00+01', '2025-11-21 10:10:00+05:30', '2025-11-21 01:10:00-03:30',
  ]);
  await withPg(async (c) => {
    await c.query("set timezone = 'America/New_York'");
    const text = await c.query({ text: 'select min(time_) as t from http_events', rowMode: 'array', types: { getTypeParser: () => (v: string) => v } } as unknown as pg.QueryArrayConfig);
    assert.equal(text.rows[0][0], '2025-11-20 23:40:00-05');
    assert.deepEqual((await c.query("select setting from pg_catalog.pg_settings where name = 'TimeZone'")).rows, [{ setting: 'America/New_York' }]);
    const binary = await c.query({ text: 'select min(time_) as t from http_events', binary: true } as unknown as pg.QueryConfig);
    assert.equal((binary.rows[0].t as Date).toISOString(), '2025-11-21T04:40:00.000Z'); // an instant: the zone does not apply
    assert.equal(await sqlstate(c, "set timezone = 'Mars/Olympus'"), '22023');
  });
});

test('session settings: SET/SHOW/RESET, statement_timeout 57014, errors keep the session', { timeout: 60_000 }, async () => {
  await withPg(async (c) => {
    assert.equal((await c.query('show application_name')).rows[0].application_name, 'clients-test');
    await c.query("set application_name = 'changed'");
    assert.equal((await c.query("select current_setting('application_name') as v")).rows[0].v, 'changed');
    await c.query('set extra_float_digits to 3');
    assert.equal((await c.query('show extra_float_digits')).rows[0].extra_float_digits, '3');
    await c.query("set search_path = public");
    await c.query('reset all');
    assert.equal((await c.query('show search_path')).rows[0].search_path, '"$user", public');
    assert.equal((await c.query('show DateStyle')).rows[0].DateStyle, 'ISO, MDY');
    assert.equal(await sqlstate(c, 'set no_such_setting = 1'), '42704');
    assert.equal(await sqlstate(c, 'set transaction read write'), '25006');
    assert.equal(await sqlstate(c, 'set role postgres'), '42501');
    await c.query("set statement_timeout = '100ms'");
    assert.equal(await sqlstate(c, 'select count(*) from range(100000000000)'), '57014');
    await c.query('reset statement_timeout');
    assert.equal(await sqlstate(c, 'selec 1'), '42601');
    assert.equal(await sqlstate(c, 'select * from nope'), '42P01');
    assert.equal(await sqlstate(c, 'select nope from http_events'), '42703');
    assert.equal(await sqlstate(c, 'delete from http_events'), '25006');
    assert.equal(await sqlstate(c, 'fetch backward 1 from nothing'), '55000');
    assert.equal((await c.query('select count(*)::int as n from http_events')).rows[0].n, ROWS);
  });
});

test('catalog: version(), current_schema(s), regclass, format_type, obj_description, has_*_privilege', { timeout: 30_000 }, async () => {
  await withPg(async (c) => {
    const r = await c.query(`select version() as v, current_schema() as s, current_database() as d, current_user as u,
      'http_events'::regclass::oid as oid, format_type(23, -1) as t, obj_description('http_events'::regclass, 'pg_class') as doc,
      has_table_privilege('http_events', 'select') as p, pg_catalog.pg_encoding_to_char(6) as enc, quote_ident('Mixed') as q`);
    const row = r.rows[0];
    assert.match(row.v, /^PostgreSQL 16/);
    assert.deepEqual([row.s, row.d, row.u, row.t, row.p, row.enc, row.q], ['public', 'wiretap', 'wiretap', 'integer', true, 'UTF8', '"Mixed"']);
    assert.equal(Number(row.oid), 16384);
    assert.match(row.doc, /HTTP/);
    const cols = await c.query(`select a.attname, format_type(a.atttypid, a.atttypmod) as type from pg_catalog.pg_attribute a
      where a.attrelid = 'public.http_events'::regclass and a.attnum > 0 order by a.attnum limit 2`);
    assert.deepEqual(cols.rows, [{ attname: 'time_', type: 'timestamp with time zone' }, { attname: 'upid', type: 'uuid' }]);
    // answers PostgreSQL 15 gives for the same expressions; casts alone make a statement a catalog query
    const pgAnswers = await c.query({ rowMode: 'array', text: `select 'pg_class'::regclass::oid::int, 1259::regclass::text, 23::regtype::text, 'now'::regproc::text,
      format_type(1043, 36), format_type(1700, 655366), format_type(1184, 3), quote_ident('select'), quote_ident('abort'), quote_ident('Abc'),
      pg_size_pretty(10240::bigint), pg_size_pretty(123456789::bigint), pg_size_pretty(-5000000000::bigint)` });
    assert.deepEqual(pgAnswers.rows[0], [1259, 'pg_class', 'integer', 'now', 'character varying(32)', 'numeric(10,2)', 'timestamp(3) with time zone',
      '"select"', 'abort', '"Abc"', '10 kB', '118 MB', '-4768 MB']);
    const info = await c.query("select column_name, data_type from information_schema.columns where table_name = 'http_events' and ordinal_position = 1");
    assert.deepEqual(info.rows, [{ column_name: 'time_', data_type: 'timestamp with time zone' }]);
  });
});

test('psycopg2 (plain and named cursor), SQLAlchemy inspector, pandas read_sql/read_sql_table', { timeout: 120_000 }, async () => {
  const r = await run('/usr/bin/python3', [join(import.meta.dirname, 'clients/python_clients.py'), `postgresql://wiretap@127.0.0.1:${port}/wiretap`]);
  assert.equal(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout);
  assert.deepEqual(out.plain, [[3, "it's"], ['n', 's', 'c']]);
  assert.equal(out.plain_rows, 5);
  assert.equal(out.named_rows, 5);
  assert.equal(out.timeout, '57014');
  assert.equal(out.undefined_column, '42703');
  assert.equal(out.after_error, 1);
  assert.ok(out.tables.includes('http_events'));
  assert.deepEqual(out.schemas.includes('public'), true);
  assert.deepEqual(out.columns[0], ['time_', 'TIMESTAMP']);
  assert.deepEqual(out.has_table, [true, false]);
  assert.deepEqual(out.read_sql_columns, ['req_method', 'n']);
  assert.deepEqual(out.read_sql_table_columns, ['time_', 'upid', 'remote_addr']);
  assert.equal(out.read_sql_table_time_dtype, 'datetime64[ns, UTC]');
});

test('psycopg 3: server-side cursor through the extended protocol (DECLARE with a parameter, Describe of its portal, FETCH), WITH HOLD, TimeZone', { timeout: 120_000 }, async () => {
  const r = await run('/usr/bin/python3', [join(import.meta.dirname, 'clients/psycopg3_clients.py'), `postgresql://wiretap@127.0.0.1:${port}/wiretap`]);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout), {
    plain: 40, columns: ['req_path', 'latency'], first: 3, rest: ROWS - 3, withhold: 2, tz: ['2025-11-21T10:10:00+05:30', '5:30:00'],
  });
});

test('pgjdbc: DatabaseMetaData, PreparedStatement setLong/setTimestamp, fetchSize, setQueryTimeout', { timeout: 180_000 }, async () => {
  const classes = join(tmp, 'java');
  const javac = await run('javac', ['-d', classes, join(import.meta.dirname, 'clients/JdbcClient.java')]);
  assert.equal(javac.code, 0, javac.stderr);
  const r = await run('java', ['-cp', `/usr/share/java/postgresql.jar:${classes}`, 'JdbcClient', `jdbc:postgresql://127.0.0.1:${port}/wiretap`]);
  assert.equal(r.code, 0, r.stderr);
  const kv = Object.fromEntries(r.stdout.trim().split('\n').map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
  assert.equal(kv.product, 'PostgreSQL 16');
  assert.ok(kv.tables!.split(',').includes('http_events'));
  assert.match(kv.columns!, /^time_:timestamptz,upid:uuid,remote_addr:text count=28$/); // 22 stored + 6 hydrated
  assert.ok(kv.schemas!.split(',').includes('public'));
  assert.equal(kv.primaryKeys, '0');
  assert.equal(kv.prepared, String(ROWS));
  assert.equal(kv.binary, '42,x,true');
  assert.equal(kv.fetched, String(ROWS));
  assert.equal(kv.cursor, `${ROWS},4`); // DECLARE with a parameter, FETCH 20 ×3 (20, 20, 10), a last empty FETCH
  assert.equal(kv.timeout, '57014');
  assert.equal(kv.after, '1');
});

test('Metabase and DBeaver: their connect and schema-sync SQL (from their sources) over pgjdbc', { timeout: 180_000 }, async () => {
  const classes = join(tmp, 'java-tools');
  const javac = await run('javac', ['-d', classes, join(import.meta.dirname, 'clients/ToolIntrospection.java')]);
  assert.equal(javac.code, 0, javac.stderr);
  const r = await run('java', ['-cp', `/usr/share/java/postgresql.jar:${classes}`, 'ToolIntrospection', `jdbc:postgresql://127.0.0.1:${port}/wiretap`]);
  assert.equal(r.code, 0, r.stderr);
  const steps = new Map(r.stdout.trim().split('\n').map((l) => [l.slice(0, l.indexOf(' ')), l.slice(l.indexOf(' ') + 1)]));
  const failed = [...steps].filter(([, v]) => v.startsWith('FAIL'));
  assert.deepEqual(failed, [], 'every step runs without error');
  const values = (step: string): string[] => (steps.get(step) ?? '').replace(/^ok rows=\d+ values=/, '').split(',');
  // Metabase: tables with their descriptions (pg_description joined on 'pg_class'::regclass), typed fields
  assert.ok(values('mb.get-tables').includes('HTTP/1.x requests and responses captured with eBPF'));
  assert.ok(values('mb.table-privileges').includes('http_events'));
  assert.deepEqual(values('mb.describe-fields').slice(0, 3), ['timestamptz', 'uuid', 'text']);
  assert.match(steps.get('mb.jdbc-primary-keys')!, /^ok rows=0 /); // no keys, and no error
  assert.match(steps.get('mb.jdbc-imported-keys')!, /^ok rows=0 /);
  assert.match(steps.get('mb.jdbc-index-info')!, /^ok rows=0 /);
  assert.match(steps.get('mb.sample')!, new RegExp(`^ok rows=${ROWS} .* meta=timestamptz/`));
  assert.deepEqual(values('mb.count'), [String(ROWS)]);
  assert.deepEqual(values('mb.report-timezone'), ['2025-11-20 20:40:00-08']); // PST in November
  assert.match(steps.get('mb.fallback-metadata')!, /^ok rows=0 .* columns=28 first=time_:timestamptz$/);
  assert.deepEqual(values('db.set-search-path'), ['public']);
  assert.ok(Number(values('db.sql-keywords')[0]) > 100); // PostgreSQL's keywords minus SQL:2003's
  // the rest of DatabaseMetaData
  assert.deepEqual(values('jdbc.catalogs'), ['wiretap']);
  assert.deepEqual(values('jdbc.views'), ['wiretap_tables']);
  assert.ok(values('jdbc.table-privileges').includes('SELECT'));
  // DBeaver: database, schemas, types, the table with its comment, its columns
  assert.deepEqual(values('db.defaults'), ['wiretap']);
  assert.deepEqual(values('db.database'), ['wiretap']);
  assert.deepEqual(values('db.schemas'), ['information_schema', 'pg_catalog', 'public']);
  assert.deepEqual(values('db.encodings'), ['LATIN1', 'UTF8']);
  assert.deepEqual(values('db.tables'), ['HTTP/1.x requests and responses captured with eBPF']);
  assert.deepEqual(values('db.columns').slice(0, 3), ['time_', 'upid', 'remote_addr']);
  assert.equal(steps.get('failures'), '0');
});

test('node-pg: parameters, named statements, text and binary results agree', { timeout: 30_000 }, async () => {
  await withPg(async (c) => {
    const r = await c.query({ name: 'by-status', text: 'select count(*)::int as n from http_events where resp_status = $1 and time_ >= $2', values: [500, new Date(0)] });
    assert.equal(r.rows[0].n, 5);
    const again = await c.query({ name: 'by-status', text: 'select count(*)::int as n from http_events where resp_status = $1 and time_ >= $2', values: [200, new Date(0)] });
    assert.equal(again.rows[0].n, 45);
    const text = `select 1::smallint as a, 2::int as b, 3::bigint as c, 1.5::real as d, 2.25::double as e, true as f, 'x' as g,
      time_ as h, upid as i, '\\x0102'::blob as j from http_events order by time_ limit 1`;
    const asText = await c.query({ text, rowMode: 'array' });
    const asBinary = await c.query({ text, rowMode: 'array', binary: true } as unknown as pg.QueryArrayConfig);
    assert.deepEqual(asBinary.rows, asText.rows);
    assert.deepEqual(asText.rows[0].slice(0, 7), [1, 2, '3', 1.5, 2.25, true, 'x']);
    // SQL cursor through Parse/Bind/Execute: parameters in DECLARE, a named FETCH statement reused
    await c.query('begin');
    await c.query({ text: 'declare nc cursor for select resp_status from http_events where req_method = $1 order by time_', values: ['POST'] });
    const first = await c.query({ name: 'fetch-nc', text: 'fetch 4 from nc' });
    const rest = await c.query({ name: 'fetch-nc', text: 'fetch 4 from nc' });
    assert.deepEqual([first.command, first.rowCount, rest.rowCount], ['FETCH', 4, 4]);
    assert.equal(first.fields[0]!.name, 'resp_status');
    assert.equal((await c.query({ text: 'move all in nc', values: [] as unknown[], name: 'move-nc' })).rowCount, 2);
    await c.query({ name: 'close-nc', text: 'close nc' });
    await c.query('commit');
  });
});

test('postgres.js: prepared statements and a cursor', { timeout: 30_000 }, async () => {
  const sql = postgres({ host: '127.0.0.1', port, user: 'wiretap', database: 'wiretap', max: 1, connect_timeout: 10, onnotice: () => {} });
  try {
    for (let i = 0; i < 2; i++) {
      const rows = await sql`select count(*)::int as n from http_events where req_method = ${'POST'} and latency > ${0}`;
      assert.equal(rows[0]!.n, 10);
    }
    let seen = 0;
    let batches = 0;
    await sql`select req_path from http_events order by time_`.cursor(20, async (rows) => {
      batches++;
      seen += rows.length;
    });
    assert.equal(seen, ROWS);
    assert.equal(batches, 3);
  } finally {
    await sql.end({ timeout: 5 });
  }
});

test('Grafana: metadata queries, -- ping, multi-statement, macro-expanded time series', { timeout: 30_000 }, async () => {
  await withPg(async (c) => {
    assert.deepEqual((await c.query(grafanaMetadata.version)).rows, [{ version: 1600 }]);
    assert.deepEqual((await c.query(grafanaMetadata.timescale)).rows, []);
    assert.deepEqual((await c.query(grafanaMetadata.schemas)).rows, [{ name: 'public' }]);
    assert.ok((await c.query(grafanaMetadata.tables)).rows.some((r) => r.table === 'http_events'));
    assert.ok((await c.query(grafanaMetadata.tablesInSchema)).rows.some((r) => r.table === 'http_events'));
    const columns = (await c.query(grafanaMetadata.columns('http_events'))).rows;
    assert.deepEqual(columns[0], { column: 'time_', type: 'timestamp with time zone' });
    assert.equal((await c.query(grafanaMetadata.columns('public.http_events'))).rows.length, columns.length);
    const ping = await c.query('-- ping');
    assert.equal(ping.rows.length, 0);
    const multi = (await c.query('select 1 as a; select 2 as b')) as unknown as pg.QueryResult[];
    assert.deepEqual(multi.map((m) => m.rows), [[{ a: 1 }], [{ b: 2 }]]);
    const q = grafanaPanelQueries('2025-11-21T04:40:00Z', '2025-11-21T04:50:00Z');
    const grouped = await c.query(q.timeGroup!);
    assert.deepEqual(grouped.fields.map((f) => f.name), ['time', 'requests']);
    assert.equal(grouped.rows.reduce((s, r) => s + Number(r.requests), 0), ROWS);
    const series = await c.query(q.timeColumn!);
    assert.equal(series.fields[0]!.name, 'time');
    assert.equal(series.fields[0]!.dataTypeID, 1184); // timestamptz: what Grafana's time series needs
    assert.ok(series.rows[0].time instanceof Date);
    assert.equal((await c.query(q.table!)).rows.length, 7);
  });
});
