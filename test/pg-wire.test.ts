// End to end: the Postgres wire server over the real DuckDB engine, driven by real clients —
// psql (libpq, PostgreSQL 15 client) as a child process and node-pg in process.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { DuckEngine } from '../engine/duck.ts';
import { PgServer } from '../server/pg/index.ts';
import { RawClient, frontend, errorFields } from '../server/pg/wire-test-client.ts';

const PSQL = '/usr/bin/psql';
let engine: DuckEngine;
let server: PgServer;
let port: number;

before(async () => {
  engine = await DuckEngine.create();
  server = new PgServer({ executor: engine, host: '127.0.0.1', port: 0 });
  ({ port } = await server.listen());
});

after(async () => {
  await server?.close();
  await engine?.close();
});

interface PsqlResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs psql unaligned and tuples-only with one -c per command; never rejects. */
function psql(commands: string[], extra: string[] = []): Promise<PsqlResult> {
  const args = ['-X', '-A', '-t', '-v', 'ON_ERROR_STOP=0', '-h', '127.0.0.1', '-p', String(port), '-U', 'wiretap', '-d', 'wiretap'];
  for (const c of commands) args.push('-c', c);
  args.push(...extra);
  return new Promise((resolve) => {
    execFile(PSQL, args, { timeout: 30_000, env: { ...process.env, PGCONNECT_TIMEOUT: '10', PGPASSWORD: '' } }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : null) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

async function withClient<T>(fn: (c: pg.Client) => Promise<T>, p = port): Promise<T> {
  const c = new pg.Client({ host: '127.0.0.1', port: p, user: 'wiretap', database: 'wiretap', connectionTimeoutMillis: 10_000 });
  c.on('error', () => {}); // surfaced through the failing query instead
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end().catch(() => {});
  }
}

/** The SQLSTATE a node-pg query fails with (fails the test if it succeeds). */
async function sqlstateOf(c: pg.Client, sql: string): Promise<string> {
  try {
    await c.query(sql);
  } catch (err) {
    return (err as { code?: string }).code ?? `no code: ${String(err)}`;
  }
  assert.fail(`expected ${sql} to fail`);
}

const everyType = `select
  true as b, 1::smallint as i2, 2::integer as i4, 9007199254740993::bigint as i8,
  1.5::real as f4, 0.1::double as f8, 'NaN'::double as f8nan, '-Infinity'::double as f8inf,
  12.345::decimal(10,3) as n, 'héllo ✓ ''q''' as t, '\\xDE\\xAD\\xBE\\xEF'::blob as by,
  '{"a":[1,2]}'::json as j, 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'::uuid as u,
  timestamptz '2024-01-02 03:04:05.678901+00' as tz, timestamp '2024-01-02 03:04:05' as ts,
  date '2024-02-29' as d, time '12:34:56.5' as tm,
  interval '1 year 2 months 3 days 04:05:06.789' as iv, null::integer as nul`;

test('node-pg: literals of every type arrive with the right OIDs and parse to the right values', { timeout: 30_000 }, async () => {
  await withClient(async (c) => {
    const r = await c.query(everyType);
    assert.equal(r.command, 'SELECT');
    assert.equal(r.rowCount, 1);
    const oids = Object.fromEntries(r.fields.map((f) => [f.name, f.dataTypeID]));
    assert.deepEqual(oids, {
      b: 16, i2: 21, i4: 23, i8: 20, f4: 700, f8: 701, f8nan: 701, f8inf: 701, n: 1700, t: 25, by: 17, j: 114,
      u: 2950, tz: 1184, ts: 1114, d: 1082, tm: 1083, iv: 1186, nul: 23,
    });
    const row = r.rows[0];
    assert.equal(row.b, true);
    assert.equal(row.i2, 1);
    assert.equal(row.i4, 2);
    assert.equal(row.i8, '9007199254740993'); // node-pg keeps int8 as a string: no precision lost
    assert.equal(row.f4, 1.5);
    assert.equal(row.f8, 0.1);
    assert.ok(Number.isNaN(row.f8nan));
    assert.equal(row.f8inf, -Infinity);
    assert.equal(row.n, '12.345');
    assert.equal(row.t, "héllo ✓ 'q'");
    assert.deepEqual(row.by, Buffer.from([0xde, 0xad, 0xbe, 0xef]));
    assert.deepEqual(row.j, { a: [1, 2] });
    assert.equal(row.u, 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11');
    assert.equal((row.tz as Date).toISOString(), '2024-01-02T03:04:05.678Z');
    // node-pg reads timestamp and date without zone as local time
    assert.equal((row.ts as Date).getTime(), new Date(2024, 0, 2, 3, 4, 5).getTime());
    assert.equal((row.d as Date).getTime(), new Date(2024, 1, 29).getTime());
    assert.equal(row.tm, '12:34:56.5');
    assert.deepEqual(
      { ...row.iv },
      { years: 1, months: 2, days: 3, hours: 4, minutes: 5, seconds: 6, milliseconds: 789 },
    );
    assert.equal(row.nul, null);
  });
});

test('psql: the same literals print exactly as PostgreSQL prints them', { timeout: 30_000 }, async () => {
  const r = await psql([everyType]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(
    r.stdout.trim(),
    [
      't', '1', '2', '9007199254740993', '1.5', '0.1', 'NaN', '-Infinity', '12.345', "héllo ✓ 'q'", '\\xdeadbeef',
      '{"a":[1,2]}', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '2024-01-02 03:04:05.678901+00', '2024-01-02 03:04:05',
      '2024-02-29', '12:34:56.5', '1 year 2 mons 3 days 04:05:06.789', '',
    ].join('|'),
  );
});

test('several statements in one simple query', { timeout: 30_000 }, async () => {
  await withClient(async (c) => {
    const results = (await c.query('select 1 as a; select 2 as b, 3 as c;')) as unknown as pg.QueryResult[];
    assert.equal(results.length, 2);
    assert.deepEqual(results[0]!.rows, [{ a: 1 }]);
    assert.deepEqual(results[1]!.rows, [{ b: 2, c: 3 }]);
  });
  const r = await psql(["select 'x;y' as a; select $$z;$$ -- ;\n; select 3"]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, 'x;y\nz;\n3\n');
});

test('bad SQL is 42601 and the session continues; unknown table is 42P01', { timeout: 30_000 }, async () => {
  await withClient(async (c) => {
    assert.equal(await sqlstateOf(c, 'selec 1'), '42601');
    assert.deepEqual((await c.query('select 41 + 1 as x')).rows, [{ x: 42 }]);
    assert.equal(await sqlstateOf(c, 'select * from no_such_table'), '42P01');
    assert.deepEqual((await c.query('select 1 as x')).rows, [{ x: 1 }]);
  });
  const r = await psql(['selec 1', 'select * from no_such_table', 'select 7']);
  assert.match(r.stderr, /ERROR: {2}syntax error/);
  assert.match(r.stderr, /no_such_table/);
  assert.equal(r.stdout, '7\n');
});

test("files are out of reach: read_text('/etc/passwd') and COPY … TO are refused", { timeout: 30_000 }, async () => {
  const target = join(tmpdir(), `wiretap-copy-${process.pid}-${Date.now()}.csv`);
  await withClient(async (c) => {
    const readCode = await sqlstateOf(c, "select read_text('/etc/passwd')");
    assert.match(readCode, /^[0-9A-Z]{5}$/);
    assert.equal(await sqlstateOf(c, `COPY (select 1) TO '${target}'`), '25006');
    assert.deepEqual((await c.query('select 1 as ok')).rows, [{ ok: 1 }]);
  });
  const r = await psql(["select read_text('/etc/passwd')", `COPY (select 1) TO '${target}'`]);
  assert.doesNotMatch(r.stdout + r.stderr, /root:/);
  assert.match(r.stderr, /ERROR/);
  assert.equal(existsSync(target), false, 'COPY must not have written the file');
});

const longQuery = 'select count(*) from range(10000000000)';

test('CancelRequest (node-pg keys, libpq wire format) aborts a long query with 57014; the connection stays usable', { timeout: 60_000 }, async () => {
  await withClient(async (c) => {
    const keys = c as unknown as { processID: number; secretKey: number };
    assert.ok(Number.isInteger(keys.processID));
    const started = Date.now();
    const pending = sqlstateOf(c, longQuery);
    await sleep(500);
    const cancel = await RawClient.connect(port);
    cancel.write(frontend.cancel(keys.processID, keys.secretKey));
    await cancel.untilClosed();
    assert.equal(await pending, '57014');
    assert.ok(Date.now() - started < 10_000, 'cancel took effect promptly');
    assert.deepEqual((await c.query('select 1 as x')).rows, [{ x: 1 }]);
  });
});

test('psql: Ctrl-C (SIGINT → CancelRequest) cancels a running query', { timeout: 60_000 }, async () => {
  const args = ['-X', '-A', '-t', '-h', '127.0.0.1', '-p', String(port), '-U', 'wiretap', '-d', 'wiretap', '-c', longQuery];
  const child = spawn(PSQL, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  await sleep(1000);
  const started = Date.now();
  child.kill('SIGINT');
  const killer = setTimeout(() => child.kill('SIGKILL'), 20_000);
  const code = await exited;
  clearTimeout(killer);
  assert.match(stderr, /canceling statement due to user request/);
  assert.notEqual(code, 0);
  assert.ok(Date.now() - started < 10_000);
});

test('too many connections: 53300 for node-pg and psql', { timeout: 30_000 }, async () => {
  const small = new PgServer({ executor: engine, host: '127.0.0.1', port: 0, maxConnections: 2 });
  const { port: smallPort } = await small.listen();
  const clients: pg.Client[] = [];
  try {
    for (let i = 0; i < 2; i++) {
      const c = new pg.Client({ host: '127.0.0.1', port: smallPort, user: 'wiretap', database: 'wiretap' });
      c.on('error', () => {});
      await c.connect();
      clients.push(c);
    }
    const third = new pg.Client({ host: '127.0.0.1', port: smallPort, user: 'wiretap', database: 'wiretap' });
    third.on('error', () => {});
    await assert.rejects(third.connect(), (err: { code?: string; message: string }) => {
      assert.equal(err.code, '53300');
      assert.match(err.message, /too many clients/);
      return true;
    });
    const r = await new Promise<PsqlResult>((resolve) =>
      execFile(PSQL, ['-X', '-h', '127.0.0.1', '-p', String(smallPort), '-U', 'wiretap', '-c', 'select 1'], { timeout: 20_000 }, (err, stdout, stderr) =>
        resolve({ code: err ? 1 : 0, stdout, stderr }),
      ),
    );
    assert.equal(r.code, 1);
    assert.match(r.stderr, /sorry, too many clients already/);
    // the admitted sessions are unaffected
    assert.deepEqual((await clients[0]!.query('select 1 as x')).rows, [{ x: 1 }]);
  } finally {
    await Promise.all(clients.map((c) => c.end().catch(() => {})));
    await small.close();
  }
});

test('a client disconnecting mid-result does not disturb the server', { timeout: 60_000 }, async () => {
  const before = server.connectionCount;
  const raw = await RawClient.connect(port);
  await raw.startup();
  raw.write(frontend.query('select range as n, repeat(\'x\', 200) as pad from range(50000000)'));
  await raw.until('D', 20_000); // rows are streaming
  raw.socket.destroy();
  // node-pg too: destroy its socket in the middle of a big result
  const c = new pg.Client({ host: '127.0.0.1', port, user: 'wiretap', database: 'wiretap' });
  c.on('error', () => {});
  await c.connect();
  const q = c.query('select range as n from range(50000000)').catch((e: Error) => e);
  await sleep(300);
  (c as unknown as { connection: { stream: { destroy(): void } } }).connection.stream.destroy();
  assert.ok((await q) instanceof Error);
  for (let i = 0; i < 200 && server.connectionCount > before; i++) await sleep(25);
  assert.equal(server.connectionCount, before, 'both connections released');
  await withClient(async (ok) => {
    assert.deepEqual((await ok.query('select 2 as x')).rows, [{ x: 2 }]);
  });
});

test('empty query: EmptyQueryResponse, for node-pg, psql and the raw protocol', { timeout: 30_000 }, async () => {
  await withClient(async (c) => {
    const r = await c.query('');
    assert.equal(r.rows.length, 0);
    assert.deepEqual((await c.query(' ; -- nothing')).rows, []);
  });
  const p = await psql(['']);
  assert.equal(p.code, 0, p.stderr);
  assert.equal(p.stdout, '');
  const raw = await RawClient.connect(port);
  await raw.startup();
  assert.deepEqual((await raw.query('')).map((m) => m.type), ['I', 'Z']);
  raw.close();
});

test('BEGIN/COMMIT/ROLLBACK: tags and transaction status through real clients', { timeout: 30_000 }, async () => {
  await withClient(async (c) => {
    assert.equal((await c.query('begin')).command, 'BEGIN');
    assert.deepEqual((await c.query('select 1 as x')).rows, [{ x: 1 }]);
    assert.equal(await sqlstateOf(c, 'select * from no_such_table'), '42P01');
    assert.equal(await sqlstateOf(c, 'select 1'), '25P02'); // failed transaction block
    assert.equal((await c.query('rollback')).command, 'ROLLBACK');
    assert.deepEqual((await c.query('select 3 as x')).rows, [{ x: 3 }]);
    assert.equal((await c.query('start transaction read only')).command, 'BEGIN');
    assert.equal((await c.query('commit')).command, 'COMMIT');
  });
  const r = await psql(['begin', 'select 5', 'commit']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, 'BEGIN\n5\nCOMMIT\n');
  const raw = await RawClient.connect(port);
  await raw.startup();
  const z = await raw.query('begin; selec');
  assert.equal(z.at(-1)!.body.toString(), 'E');
  assert.equal(errorFields(z.find((m) => m.type === 'E')!.body).C, '42601');
  assert.equal((await raw.query('rollback')).at(-1)!.body.toString(), 'I');
  raw.close();
});

test('non-SELECT statements are refused with a clear SQLSTATE', { timeout: 30_000 }, async () => {
  await withClient(async (c) => {
    for (const sql of ['create table t(a int)', "insert into http_events (req_path) values ('x')", 'drop table http_events', "install 'httpfs'", "attach '/tmp/x.db' as x"]) {
      const code = await sqlstateOf(c, sql);
      assert.ok(['25006', '0A000', '42501'].includes(code), `${sql} → ${code}`);
    }
    assert.deepEqual((await c.query('select count(*)::int as n from http_events')).rows, [{ n: 0 }]);
  });
});

test('node-pg extended protocol: named prepared statements and parameters', { timeout: 30_000 }, async () => {
  await withClient(async (c) => {
    for (let i = 0; i < 2; i++) {
      // the first call sends Parse+Bind+Describe+Execute+Sync, the second reuses the statement
      const r = await c.query({ name: 'two-cols', text: "select 42 as answer, 'x' as label" });
      assert.deepEqual(r.rows, [{ answer: 42, label: 'x' }]);
      assert.deepEqual(r.fields.map((f) => f.dataTypeID), [23, 25]);
    }
    const arr = await c.query({ name: 'as-array', text: 'select range as n from range(3)', rowMode: 'array' });
    assert.deepEqual(arr.rows, [['0'], ['1'], ['2']]);
    assert.deepEqual((await c.query('select $1::int as v, $2 as s', [1, "it's"])).rows, [{ v: 1, s: "it's" }]);
    assert.deepEqual((await c.query('select 1 as x')).rows, [{ x: 1 }]);
  });
});
