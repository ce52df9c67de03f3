// End to end: authentication methods and TLS as real clients negotiate them — psql (libpq) and
// node-pg with SCRAM-SHA-256, md5 and cleartext; sslmode=require/verify-full over a certificate
// made for the test; wrong passwords are FATAL 28P01; no certificate means SSLRequest → 'N'.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { SqlError, type QueryExecutor } from '../engine/query.ts';
import { PgServer, type PgServerOptions } from '../server/pg/index.ts';
import { selfSignedCert } from './helpers/tls.ts';

const tmp = mkdtempSync(join(tmpdir(), 'wiretap-tls-'));
const paths = selfSignedCert(tmp);
const cert = readFileSync(paths.cert);
const key = readFileSync(paths.key);

const servers: PgServer[] = [];
after(async () => {
  await Promise.all(servers.map((s) => s.close()));
  rmSync(tmp, { recursive: true, force: true });
});

const one: QueryExecutor = {
  async query(sql) {
    if (!/^select 1/i.test(sql)) throw new SqlError('42P01', 'nothing here');
    return { command: 'SELECT', columns: [{ name: 'one', type: 'int4' }], chunks: (async function* () { yield [[1]]; })() };
  },
};

async function start(opts: Partial<PgServerOptions>): Promise<number> {
  const server = new PgServer({ executor: one, host: '127.0.0.1', port: 0, ...opts });
  servers.push(server);
  return (await server.listen()).port;
}

function psql(port: number, user: string, password: string, sslmode = 'disable'): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    execFile('/usr/bin/psql', ['-X', '-A', '-t', '-c', 'select 1', `host=127.0.0.1 port=${port} user=${user} dbname=wiretap sslmode=${sslmode} sslrootcert=${join(tmp, 'cert.pem')}`],
      { timeout: 30_000, env: { ...process.env, PGPASSWORD: password, PGCONNECT_TIMEOUT: '10' } },
      (err, stdout, stderr) => resolve({ code: err ? 1 : 0, out: stdout + stderr }));
  });
}

async function nodePg(port: number, user: string, password: string, ssl?: object): Promise<string> {
  const c = new pg.Client({ host: '127.0.0.1', port, user, password, database: 'wiretap', ssl, connectionTimeoutMillis: 10_000 });
  c.on('error', () => {});
  try {
    await c.connect();
    return String((await c.query('select 1')).rows[0].one);
  } catch (err) {
    return `error ${(err as { code?: string }).code ?? (err as Error).message}`;
  } finally {
    await c.end().catch(() => {});
  }
}

const users = new Map([['alice', 'wonder land'], ['bob', 'b0b']]);

for (const method of ['scram-sha-256', 'md5', 'password'] as const) {
  test(`${method}: psql and node-pg log in; a wrong password or unknown user is 28P01`, { timeout: 60_000 }, async () => {
    const port = await start({ users, authMethod: method });
    assert.equal((await psql(port, 'alice', 'wonder land')).out.trim(), '1');
    assert.match((await psql(port, 'alice', 'nope')).out, /password authentication failed for user "alice"/);
    assert.equal(await nodePg(port, 'bob', 'b0b'), '1');
    assert.equal(await nodePg(port, 'bob', 'wrong'), 'error 28P01');
    assert.equal(await nodePg(port, 'mallory', 'b0b'), 'error 28P01');
  });
}

test('TLS: sslmode=require and verify-full with SCRAM; plain connections still work', { timeout: 60_000 }, async () => {
  const port = await start({ users, tls: { cert, key } });
  assert.equal((await psql(port, 'alice', 'wonder land', 'verify-full')).out.trim(), '1');
  assert.equal((await psql(port, 'alice', 'wonder land', 'require')).out.trim(), '1');
  assert.equal((await psql(port, 'alice', 'wonder land', 'disable')).out.trim(), '1');
  assert.equal(await nodePg(port, 'bob', 'b0b', { ca: cert, servername: 'localhost' }), '1');
  assert.equal(await nodePg(port, 'bob', 'wrong', { ca: cert }), 'error 28P01');
});

test('no certificate: SSLRequest is declined, sslmode=require fails, prefer falls back', { timeout: 30_000 }, async () => {
  const port = await start({});
  assert.match((await psql(port, 'x', '', 'require')).out, /server does not support SSL/);
  assert.equal((await psql(port, 'x', '', 'prefer')).out.trim(), '1');
});
