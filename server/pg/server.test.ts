// Protocol behaviour of PgServer over real sockets, with scripted executors so every path
// (backpressure, cancel, auth, limits, malformed input) can be driven deterministically.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { SqlError, type QueryExecutor, type QueryResult, type Value } from '../../engine/query.ts';
import { PgServer, type PgServerOptions } from './server.ts';
import { SessionSettings } from '../../planner/session/settings.ts';
import { RawClient, frontend, errorFields, dataRowValues, rowDescription, type BackendMessage } from './wire-test-client.ts';

const servers: PgServer[] = [];
after(async () => {
  await Promise.all(servers.map((s) => s.close()));
});

async function start(executor: QueryExecutor, opts: Partial<PgServerOptions> = {}): Promise<{ server: PgServer; port: number }> {
  const server = new PgServer({ executor, host: '127.0.0.1', port: 0, ...opts });
  servers.push(server);
  const { port } = await server.listen();
  return { server, port };
}

function rows(values: Value[][], columns: QueryResult['columns'] = [{ name: 'a', type: 'int4' }]): QueryResult {
  return {
    command: 'SELECT',
    columns,
    chunks: (async function* () {
      yield values;
    })(),
  };
}

/** Answers `select N` with N, `fail …` with a SqlError, `crash` with a plain Error. */
const scripted: QueryExecutor = {
  async query(sql) {
    const m = /^select (\d+)$/i.exec(sql);
    if (m) return rows([[Number(m[1])]]);
    if (sql.startsWith('fail')) throw new SqlError('42601', 'syntax error at or near "fail"', 'some detail', 'some hint');
    if (sql === 'crash') throw new TypeError('boom');
    if (sql === 'set x') return { command: 'SET', columns: [], chunks: (async function* () {})() };
    throw new SqlError('42P01', `no such thing: ${sql}`);
  },
};

const types = (msgs: BackendMessage[]): string => msgs.map((m) => m.type).join('');
const tag = (m: BackendMessage): string => m.body.toString('utf8', 0, m.body.length - 1);

test('SSLRequest and GSSENCRequest are declined, then startup sends the PostgreSQL preamble', { timeout: 20_000 }, async () => {
  const { port } = await start(scripted);
  const c = await RawClient.connect(port);
  assert.equal(await c.rawByteAnswer(frontend.sslRequest()), 'N');
  assert.equal(await c.rawByteAnswer(frontend.gssencRequest()), 'N');
  const msgs = await c.startup({ user: 'alice', database: 'db', application_name: 'tests', some_unknown_option: 'x' });
  assert.equal(msgs[0]!.type, 'R');
  assert.equal(msgs[0]!.body.readInt32BE(0), 0); // AuthenticationOk
  const params = Object.fromEntries(
    msgs.filter((m) => m.type === 'S').map((m) => m.body.toString('utf8').split('\0').slice(0, 2)),
  );
  assert.deepEqual(Object.keys(params), [
    'application_name', 'client_encoding', 'DateStyle', 'default_transaction_read_only', 'in_hot_standby',
    'integer_datetimes', 'IntervalStyle', 'is_superuser', 'scram_iterations', 'server_encoding', 'server_version',
    'session_authorization', 'standard_conforming_strings', 'TimeZone',
  ]);
  assert.equal(params.application_name, 'tests');
  assert.equal(params.client_encoding, 'UTF8');
  assert.equal(params.DateStyle, 'ISO, MDY');
  assert.equal(params.integer_datetimes, 'on');
  assert.equal(params.session_authorization, 'alice');
  assert.equal(params.TimeZone, 'UTC');
  assert.match(params.server_version!, /^16\.\d+ /);
  assert.deepEqual(types(msgs.slice(-2)), 'KZ');
  assert.equal(msgs.at(-2)!.body.length, 8);
  assert.equal(msgs.at(-1)!.body.toString(), 'I');
  c.close();
});

test('a startup packet split into single bytes, and startup + queries coalesced into one write', { timeout: 20_000 }, async () => {
  const { port } = await start(scripted);
  const a = await RawClient.connect(port);
  for (const b of frontend.startup({ user: 'u' })) {
    a.write(Buffer.from([b]));
    await sleep(1);
  }
  await a.until('Z');
  const q = frontend.query('select 7');
  for (const b of q) a.socket.write(Buffer.from([b]));
  const r = await a.until('Z');
  assert.deepEqual(dataRowValues(r.find((m) => m.type === 'D')!.body), ['7']);
  a.close();

  const b = await RawClient.connect(port);
  b.write(Buffer.concat([frontend.startup({ user: 'u' }), frontend.query('select 1'), frontend.query('select 2')]));
  await b.until('Z'); // startup
  const r1 = await b.until('Z');
  const r2 = await b.until('Z');
  assert.deepEqual(dataRowValues(r1.find((m) => m.type === 'D')!.body), ['1']);
  assert.deepEqual(dataRowValues(r2.find((m) => m.type === 'D')!.body), ['2']);
  b.close();
});

test('simple query: RowDescription, DataRow, CommandComplete; several statements; empty query', { timeout: 20_000 }, async () => {
  const { port } = await start(scripted);
  const c = await RawClient.connect(port);
  await c.startup();
  const r = await c.query('select 1; ; select 2;');
  assert.equal(types(r), 'TDCTDCZ');
  assert.deepEqual(rowDescription(r[0]!.body), [{ name: 'a', typeOid: 23, typeLen: 4 }]);
  assert.equal(tag(r[2]!), 'SELECT 1');
  const empty = await c.query('  -- nothing here\n');
  assert.equal(types(empty), 'IZ');
  const set = await c.query('set x');
  assert.equal(types(set), 'CZ');
  assert.equal(tag(set[0]!), 'SET');
  c.close();
});

test('errors: SqlError fields, the rest of the string skipped, non-SqlError is XX000, session continues', { timeout: 20_000 }, async () => {
  const { port } = await start(scripted);
  const c = await RawClient.connect(port);
  await c.startup();
  const r = await c.query('select 1; fail here; select 2');
  assert.equal(types(r), 'TDCEZ');
  assert.deepEqual(errorFields(r[3]!.body), {
    S: 'ERROR', V: 'ERROR', C: '42601', M: 'syntax error at or near "fail"', D: 'some detail', H: 'some hint',
  });
  const crash = await c.query('crash');
  assert.equal(errorFields(crash[0]!.body).C, 'XX000');
  assert.match(errorFields(crash[0]!.body).M!, /boom/);
  const unterminated = await c.query("select 1; select 'oops");
  assert.equal(types(unterminated), 'EZ'); // nothing runs, as in PostgreSQL
  assert.equal(errorFields(unterminated[0]!.body).C, '42601');
  assert.equal(types(await c.query('select 3')), 'TDCZ');
  c.close();
});

test('transaction control: tags and ReadyForQuery status', { timeout: 20_000 }, async () => {
  const { port } = await start(scripted);
  const c = await RawClient.connect(port);
  await c.startup();
  const status = (msgs: BackendMessage[]): string => msgs.at(-1)!.body.toString();
  let r = await c.query('BEGIN');
  assert.equal(tag(r[0]!), 'BEGIN');
  assert.equal(status(r), 'T');
  r = await c.query('select 1');
  assert.equal(status(r), 'T');
  r = await c.query('fail');
  assert.equal(status(r), 'E');
  r = await c.query('select 1');
  assert.equal(errorFields(r[0]!.body).C, '25P02');
  assert.equal(status(r), 'E');
  r = await c.query('commit');
  assert.equal(tag(r[0]!), 'ROLLBACK'); // COMMIT of a failed transaction rolls back
  assert.equal(status(r), 'I');
  r = await c.query('start transaction read only; savepoint s; fail; rollback to savepoint s; select 1; end');
  assert.equal(types(r), 'CCEZ');
  assert.equal(status(r), 'E');
  r = await c.query('rollback to savepoint s; select 1; end');
  assert.deepEqual(r.filter((m) => m.type === 'C').map(tag), ['ROLLBACK', 'SELECT 1', 'COMMIT']);
  assert.equal(status(r), 'I');
  r = await c.query('commit');
  assert.equal(types(r), 'NCZ'); // WARNING: there is no transaction in progress
  assert.equal(errorFields(r[0]!.body).C, '25P01');
  r = await c.query('savepoint x');
  assert.equal(errorFields(r[0]!.body).C, '25P01');
  c.close();
});

test('extended protocol: Parse/Bind/Describe/Execute/Sync for a query without parameters', { timeout: 20_000 }, async () => {
  const { port } = await start(scripted);
  const c = await RawClient.connect(port);
  await c.startup();
  c.write(Buffer.concat([frontend.parse('', 'select 4'), frontend.bind(), frontend.describePortal(), frontend.execute(), frontend.sync()]));
  const r = await c.until('Z');
  assert.equal(types(r), '12TDCZ');
  assert.deepEqual(dataRowValues(r[3]!.body), ['4']);
  assert.equal(tag(r[4]!), 'SELECT 1');
  // named statement reused by two portals, then closed
  c.write(Buffer.concat([
    frontend.parse('s1', 'select 6;'), frontend.bind('p1', 's1'), frontend.bind('p2', 's1'),
    frontend.execute('p1'), frontend.execute('p2'), frontend.close('P', 'p1'), frontend.close('S', 's1'), frontend.sync(),
  ]));
  assert.equal(types(await c.until('Z')), '122DCDC33Z');
  c.write(Buffer.concat([frontend.bind('', 's1'), frontend.sync()]));
  const gone = await c.until('Z');
  assert.equal(errorFields(gone[0]!.body).C, '26000');
  // empty query and SET-like statements
  c.write(Buffer.concat([frontend.parse('', ''), frontend.bind(), frontend.describePortal(), frontend.execute(), frontend.sync()]));
  assert.equal(types(await c.until('Z')), '12nIZ');
  c.write(Buffer.concat([frontend.parse('', 'set x'), frontend.bind(), frontend.describePortal(), frontend.execute(), frontend.sync()]));
  assert.equal(types(await c.until('Z')), '12nCZ');
  c.close();
});

test('extended protocol: Describe statement runs the query once; the next Bind reuses its result', { timeout: 20_000 }, async () => {
  let calls = 0;
  const counting: QueryExecutor = {
    async query(sql, signal) {
      calls++;
      return scripted.query(sql, signal);
    },
  };
  const { port } = await start(counting);
  const c = await RawClient.connect(port);
  await c.startup();
  c.write(Buffer.concat([frontend.parse('', 'select 8'), frontend.describe('S'), frontend.bind(), frontend.execute(), frontend.sync()]));
  const r = await c.until('Z');
  assert.equal(types(r), '1tT2DCZ');
  assert.equal(r[1]!.body.readInt16BE(0), 0); // ParameterDescription: no parameters
  assert.deepEqual(rowDescription(r[2]!.body), [{ name: 'a', typeOid: 23, typeLen: 4 }]);
  assert.equal(calls, 1);
  c.close();
});

test('extended protocol: Execute with a row limit suspends the portal and resumes it', { timeout: 20_000 }, async () => {
  const many: QueryExecutor = {
    async query() {
      return {
        command: 'SELECT',
        columns: [{ name: 'n', type: 'int8' }],
        chunks: (async function* () {
          yield [[1n], [2n], [3n]];
          yield [[4n], [5n]];
        })(),
      };
    },
  };
  const { port } = await start(many);
  const c = await RawClient.connect(port);
  await c.startup();
  c.write(Buffer.concat([frontend.parse('', 'select n'), frontend.bind(), frontend.execute('', 2), frontend.execute('', 2), frontend.execute('', 2), frontend.execute('', 2), frontend.sync()]));
  const r = await c.until('Z');
  assert.equal(types(r), '12DDsDDsDCCZ');
  assert.deepEqual(r.filter((m) => m.type === 'D').map((m) => dataRowValues(m.body)[0]), ['1', '2', '3', '4', '5']);
  assert.deepEqual(r.filter((m) => m.type === 'C').map(tag), ['SELECT 1', 'SELECT 0']);
  c.close();
});

test('extended protocol: DECLARE/FETCH/MOVE/CLOSE through Parse/Bind/Execute (row limits, Describe, binary, errors)', { timeout: 20_000 }, async () => {
  let seen = '';
  const ten: QueryExecutor = {
    async query(sql) {
      seen = sql;
      return {
        command: 'SELECT',
        columns: [{ name: 'n', type: 'int4' }],
        chunks: (async function* () {
          yield [[1], [2], [3], [4]];
          yield [[5], [6], [7], [8], [9], [10]];
        })(),
      };
    },
  };
  const { port } = await start(ten);
  const c = await RawClient.connect(port);
  await c.startup();
  const values = (r: BackendMessage[]): Array<string | null> => r.filter((m) => m.type === 'D').map((m) => dataRowValues(m.body)[0]!);
  // outside a transaction block a cursor without HOLD is refused, as in PostgreSQL
  c.write(Buffer.concat([frontend.parse('', 'DECLARE c CURSOR FOR select n from t'), frontend.bind(), frontend.execute(), frontend.sync()]));
  assert.equal(errorFields((await c.until('Z'))[2]!.body).C, '25P01');
  assert.equal(types(await c.query('BEGIN')), 'CZ');
  // DECLARE with a parameter: bound into the cursor's query; describes as NoData
  c.write(Buffer.concat([
    frontend.parse('d', 'DECLARE c CURSOR FOR select n from t where n > $1', [23]), frontend.describe('S', 'd'),
    frontend.bind('', 'd', ['0']), frontend.describePortal(), frontend.execute(), frontend.sync(),
  ]));
  let r = await c.until('Z');
  assert.equal(types(r), '1tn2nCZ');
  assert.equal(tag(r[5]!), 'DECLARE CURSOR');
  assert.equal(seen, "select n from t where n > CAST('0' AS INTEGER)");
  // DECLARE made a portal of the cursor's name: Describe answers with its columns (psycopg 3 does this)
  c.write(Buffer.concat([frontend.describe('P', 'c'), frontend.sync()]));
  r = await c.until('Z');
  assert.equal(types(r), 'TZ');
  assert.deepEqual(rowDescription(r[0]!.body), [{ name: 'n', typeOid: 23, typeLen: 4 }]);
  // FETCH describes as the cursor's columns; Execute's row limit suspends inside the FETCH
  c.write(Buffer.concat([
    frontend.parse('f', 'FETCH 5 FROM c'), frontend.describe('S', 'f'), frontend.bind('', 'f'), frontend.describePortal(),
    frontend.execute('', 3), frontend.execute('', 3), frontend.sync(),
  ]));
  r = await c.until('Z');
  assert.equal(types(r), '1tT2TDDDsDDCZ');
  assert.deepEqual(rowDescription(r[2]!.body), [{ name: 'n', typeOid: 23, typeLen: 4 }]);
  assert.deepEqual(values(r), ['1', '2', '3', '4', '5']);
  assert.equal(tag(r.at(-2)!), 'FETCH 5'); // as in PostgreSQL: the FETCH's count, not this Execute's
  // MOVE skips, the next FETCH continues after it, in binary when Bind asks for it
  c.write(Buffer.concat([
    frontend.parse('', 'MOVE FORWARD 2 IN c'), frontend.bind(), frontend.execute(),
    frontend.bind('', 'f', [], [1]), frontend.execute(), frontend.sync(),
  ]));
  r = await c.until('Z');
  assert.equal(types(r), '12C2DDDCZ');
  assert.equal(tag(r[2]!), 'MOVE 2');
  assert.deepEqual(r.filter((m) => m.type === 'D').map((m) => m.body.readInt32BE(6)), [8, 9, 10]);
  assert.equal(tag(r[7]!), 'FETCH 3');
  c.write(Buffer.concat([frontend.parse('', 'FETCH ALL FROM c'), frontend.bind(), frontend.execute(), frontend.sync()]));
  r = await c.until('Z');
  assert.deepEqual(values(r), []);
  assert.equal(tag(r.at(-2)!), 'FETCH 0');
  // CLOSE, then FETCH from the closed cursor: NoData at Describe, 34000 at Execute
  c.write(Buffer.concat([frontend.parse('', 'CLOSE c'), frontend.bind(), frontend.execute(), frontend.sync()]));
  assert.equal(tag((await c.until('Z'))[2]!), 'CLOSE CURSOR');
  c.write(Buffer.concat([frontend.bind('', 'f'), frontend.describePortal(), frontend.execute(), frontend.sync()]));
  r = await c.until('Z');
  assert.equal(types(r), '2nEZ');
  assert.equal(errorFields(r[2]!.body).C, '34000');
  assert.equal(r.at(-1)!.body.toString(), 'E'); // the transaction block failed
  assert.equal(types(await c.query('ROLLBACK')), 'CZ');
  c.close();
});

test('DEALLOCATE and DISCARD ALL release prepared statements and cursors (what a pooler resets between clients)', { timeout: 20_000 }, async () => {
  const executor: QueryExecutor = {
    async query(sql) {
      if (/^discard all$/i.test(sql)) return { command: 'DISCARD ALL', columns: [], chunks: (async function* () {})() };
      return rows([[1], [2]]);
    },
  };
  const { port } = await start(executor);
  const c = await RawClient.connect(port);
  await c.startup();
  c.write(Buffer.concat([frontend.parse('s1', 'select n'), frontend.parse('s2', 'select n'), frontend.sync()]));
  assert.equal(types(await c.until('Z')), '11Z');
  let r = await c.query('DEALLOCATE PREPARE s1');
  assert.equal(tag(r[0]!), 'DEALLOCATE');
  r = await c.query('deallocate s1');
  assert.equal(errorFields(r[0]!.body).C, '26000');
  c.write(Buffer.concat([frontend.bind('', 's2'), frontend.execute(), frontend.sync()])); // s2 is still there
  assert.equal(types(await c.until('Z')), '2DDCZ');
  r = await c.query('DECLARE h CURSOR WITH HOLD FOR select n');
  assert.equal(tag(r[0]!), 'DECLARE CURSOR');
  r = await c.query('BEGIN; DISCARD ALL');
  assert.equal(errorFields(r[1]!.body).C, '25001');
  await c.query('ROLLBACK');
  r = await c.query('DISCARD ALL');
  assert.equal(tag(r[0]!), 'DISCARD ALL');
  assert.equal(errorFields((await c.query('FETCH 1 FROM h'))[0]!.body).C, '34000');
  c.write(Buffer.concat([frontend.bind('', 's2'), frontend.sync()]));
  assert.equal(errorFields((await c.until('Z'))[0]!.body).C, '26000');
  c.close();
});

test('statement_timeout interrupts a slow FETCH (simple and extended): 57014, the cursor is gone, the session continues', { timeout: 20_000 }, async () => {
  const settings = new SessionSettings('u');
  settings.set('statement_timeout', '200ms');
  const slow: QueryExecutor = {
    async query(sql, signal) {
      if (sql !== 'select slow') return rows([[1]]);
      return {
        command: 'SELECT',
        columns: [{ name: 'a', type: 'int4' }],
        chunks: (async function* () {
          yield [[1]];
          // the next chunk never comes unless the query is interrupted
          await new Promise((resolve) => signal?.addEventListener('abort', resolve, { once: true }));
          throw new SqlError('57014', 'interrupted');
        })(),
      };
    },
  };
  const factory = { ...slow, openSession: () => ({ settings, query: slow.query }) } as unknown as QueryExecutor;
  const { port } = await start(factory);
  const c = await RawClient.connect(port);
  await c.startup();
  await c.query('BEGIN');
  assert.equal(tag((await c.query('DECLARE s CURSOR FOR select slow'))[0]!), 'DECLARE CURSOR');
  let r = await c.query('FETCH 1 FROM s');
  assert.deepEqual(r.filter((m) => m.type === 'D').map((m) => dataRowValues(m.body)), [['1']]);
  r = await c.query('FETCH ALL FROM s');
  const err = errorFields(r.find((m) => m.type === 'E')!.body);
  assert.deepEqual([err.C, err.M], ['57014', 'canceling statement due to statement timeout']);
  await c.query('ROLLBACK');
  assert.equal(errorFields((await c.query('FETCH 1 FROM s'))[0]!.body).C, '34000');
  // the same through Parse/Bind/Execute
  await c.query('BEGIN');
  await c.query('DECLARE e CURSOR FOR select slow');
  c.write(Buffer.concat([frontend.parse('', 'FETCH ALL FROM e'), frontend.bind(), frontend.execute(), frontend.sync()]));
  r = await c.until('Z');
  assert.equal(types(r), '12DEZ');
  assert.equal(errorFields(r[3]!.body).C, '57014');
  await c.query('ROLLBACK');
  assert.equal(types(await c.query('select 1')), 'TDCZ');
  c.close();
});

test('extended protocol: unsupported parts fail once, messages are discarded until Sync, the session continues', { timeout: 20_000 }, async () => {
  const { port } = await start(scripted);
  const c = await RawClient.connect(port);
  await c.startup();
  c.write(Buffer.concat([frontend.parse('', 'select $1'), frontend.bind('', '', []), frontend.describePortal(), frontend.execute(), frontend.sync()]));
  let r = await c.until('Z');
  assert.equal(types(r), '1EZ');
  assert.equal(errorFields(r[1]!.body).C, '08P01'); // bind supplies 0 parameters, the statement needs 1
  c.write(Buffer.concat([frontend.parse('', 'select 1'), frontend.bind('', '', [], [2]), frontend.execute(), frontend.sync()]));
  r = await c.until('Z');
  assert.equal(types(r), '1EZ');
  assert.match(errorFields(r[1]!.body).M!, /format code/);
  c.write(Buffer.concat([frontend.parse('', 'select 1; select 2'), frontend.sync()]));
  assert.equal(errorFields((await c.until('Z'))[0]!.body).C, '42601');
  c.write(Buffer.concat([frontend.parse('', 'fail'), frontend.bind(), frontend.execute(), frontend.sync()]));
  r = await c.until('Z');
  assert.equal(types(r), '12EZ');
  assert.equal(errorFields(r[2]!.body).C, '42601');
  assert.equal(types(await c.query('select 5')), 'TDCZ');
  c.close();
});

test('extended protocol: BEGIN/COMMIT through Parse/Execute track the transaction status', { timeout: 20_000 }, async () => {
  const { port } = await start(scripted);
  const c = await RawClient.connect(port);
  await c.startup();
  const run = async (sql: string): Promise<BackendMessage[]> => {
    c.write(Buffer.concat([frontend.parse('', sql), frontend.bind(), frontend.execute(), frontend.sync()]));
    return c.until('Z');
  };
  let r = await run('BEGIN');
  assert.equal(tag(r[2]!), 'BEGIN');
  assert.equal(r.at(-1)!.body.toString(), 'T');
  r = await run('fail');
  assert.equal(r.at(-1)!.body.toString(), 'E');
  r = await run('select 1');
  assert.equal(errorFields(r[1]!.body).C, '25P02');
  r = await run('ROLLBACK');
  assert.equal(tag(r[2]!), 'ROLLBACK');
  assert.equal(r.at(-1)!.body.toString(), 'I');
  c.close();
});

test('Terminate closes the connection cleanly', { timeout: 20_000 }, async () => {
  const { port, server } = await start(scripted);
  const c = await RawClient.connect(port);
  await c.startup();
  c.write(frontend.terminate());
  const rest = await c.untilClosed();
  assert.equal(rest.length, 0);
  for (let i = 0; i < 50 && server.connectionCount > 0; i++) await sleep(10);
  assert.equal(server.connectionCount, 0);
});

test('malformed input: oversized message, bad length, unknown type → FATAL 08P01 and close; others unaffected', { timeout: 20_000 }, async () => {
  const { port } = await start(scripted, { maxMessageSize: 1024 });
  const bystander = await RawClient.connect(port);
  await bystander.startup();

  const big = await RawClient.connect(port);
  await big.startup();
  big.write(frontend.query('select ' + 'x'.repeat(2000)));
  const bigMsgs = await big.untilClosed();
  assert.equal(errorFields(bigMsgs[0]!.body).S, 'FATAL');
  assert.equal(errorFields(bigMsgs[0]!.body).C, '08P01');

  const bad = await RawClient.connect(port);
  await bad.startup();
  bad.write(Buffer.from([0x51, 0, 0, 0, 1]));
  assert.equal(errorFields((await bad.untilClosed())[0]!.body).C, '08P01');

  const unknown = await RawClient.connect(port);
  await unknown.startup();
  unknown.write(frontend.typed('!', Buffer.alloc(0)));
  assert.equal(errorFields((await unknown.untilClosed())[0]!.body).C, '08P01');

  const junk = await RawClient.connect(port);
  junk.write(Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n'));
  await junk.untilClosed();

  assert.equal(types(await bystander.query('select 9')), 'TDCZ');
  bystander.close();
});

test('startup errors: missing user (28000), unsupported major version, newer minor negotiated down', { timeout: 20_000 }, async () => {
  const { port } = await start(scripted);
  const a = await RawClient.connect(port);
  a.write(frontend.startup({ database: 'x' }));
  assert.equal(errorFields((await a.untilClosed())[0]!.body).C, '28000');

  const b = await RawClient.connect(port);
  b.write(frontend.startup({ user: 'u' }, 2 << 16));
  assert.equal(errorFields((await b.untilClosed())[0]!.body).C, '0A000');

  const d = await RawClient.connect(port);
  d.write(frontend.startup({ user: 'u', '_pq_.something': '1' }, (3 << 16) | 2));
  const r = await d.until('Z');
  assert.equal(r[0]!.type, 'v'); // NegotiateProtocolVersion: we speak 3.0
  assert.equal(r[0]!.body.readInt32BE(0), 0);
  d.close();
});

test('password auth: cleartext accepted, wrong password is FATAL 28P01', { timeout: 20_000 }, async () => {
  const { port } = await start(scripted, { password: 's3cret', authMethod: 'password' });
  const ok = await RawClient.connect(port);
  ok.write(frontend.startup({ user: 'u' }));
  const req = await ok.until('R');
  assert.equal(req.at(-1)!.body.readInt32BE(0), 3); // AuthenticationCleartextPassword
  ok.write(frontend.password('s3cret'));
  const done = await ok.until('Z');
  assert.equal(done[0]!.body.readInt32BE(0), 0);
  ok.close();

  const bad = await RawClient.connect(port);
  bad.write(frontend.startup({ user: 'u' }));
  await bad.until('R');
  bad.write(frontend.password('nope'));
  const msgs = await bad.untilClosed();
  assert.deepEqual(
    { C: errorFields(msgs[0]!.body).C, S: errorFields(msgs[0]!.body).S, M: errorFields(msgs[0]!.body).M },
    { C: '28P01', S: 'FATAL', M: 'password authentication failed for user "u"' },
  );
});

test('trust is refused on a non-loopback address', { timeout: 20_000 }, async () => {
  const server = new PgServer({ executor: scripted, host: '0.0.0.0', port: 0 });
  await assert.rejects(server.listen(), /non-loopback/);
  await server.close();
});

test('too many connections: 53300, and a slot frees up when a session ends', { timeout: 20_000 }, async () => {
  const { port } = await start(scripted, { maxConnections: 2 });
  const a = await RawClient.connect(port);
  await a.startup();
  const b = await RawClient.connect(port);
  await b.startup();
  const c = await RawClient.connect(port);
  c.write(frontend.startup({ user: 'u' }));
  const msgs = await c.untilClosed();
  assert.equal(errorFields(msgs[0]!.body).C, '53300');
  assert.equal(errorFields(msgs[0]!.body).M, 'sorry, too many clients already');
  a.write(frontend.terminate());
  await a.untilClosed();
  await sleep(20);
  const d = await RawClient.connect(port);
  assert.equal((await d.startup()).at(-1)!.type, 'Z');
  b.close();
  d.close();
});

/** An executor whose query waits until aborted, reporting how it ended. */
function hangingExecutor(): QueryExecutor & { aborted: Promise<void> } {
  let markAborted!: () => void;
  const aborted = new Promise<void>((r) => (markAborted = r));
  return {
    aborted,
    async query(sql, signal) {
      if (sql === 'select 1') return rows([[1]]);
      await new Promise<void>((_, reject) => {
        signal!.addEventListener('abort', () => {
          markAborted();
          reject(new SqlError('57014', 'canceling statement due to user request'));
        });
      });
      throw new Error('unreachable');
    },
  };
}

test('CancelRequest with the right key aborts the running query (57014); a wrong key does nothing', { timeout: 20_000 }, async () => {
  const exec = hangingExecutor();
  const { port } = await start(exec);
  const c = await RawClient.connect(port);
  const pre = await c.startup();
  const key = pre.find((m) => m.type === 'K')!.body;
  const pid = key.readInt32BE(0);
  const secret = key.readInt32BE(4);
  c.write(frontend.query('select forever'));
  await sleep(50);

  const wrong = await RawClient.connect(port);
  wrong.write(frontend.cancel(pid, secret ^ 1));
  await wrong.untilClosed();
  await sleep(50);
  const raced = await Promise.race([exec.aborted.then(() => 'aborted'), sleep(100).then(() => 'running')]);
  assert.equal(raced, 'running');

  const cancel = await RawClient.connect(port);
  cancel.write(frontend.cancel(pid, secret));
  assert.deepEqual(await cancel.untilClosed(), []); // no reply on the cancel connection
  const r = await c.until('Z');
  assert.equal(errorFields(r[0]!.body).C, '57014');
  assert.equal(types(await c.query('select 1')), 'TDCZ');
  c.close();
});

test('backpressure: a client that stops reading stops the pulling of chunks; disconnect aborts', { timeout: 20_000 }, async () => {
  let pulled = 0;
  let finished = false;
  let signalAborted = false;
  const row = ['x'.repeat(1000)];
  const exec: QueryExecutor = {
    async query(_sql, signal) {
      signal!.addEventListener('abort', () => (signalAborted = true));
      return {
        command: 'SELECT',
        columns: [{ name: 't', type: 'text' }],
        chunks: (async function* () {
          try {
            for (;;) {
              pulled++;
              yield Array.from({ length: 100 }, () => row); // ~100 KB per chunk
            }
          } finally {
            finished = true;
          }
        })(),
      };
    },
  };
  const { port, server } = await start(exec);
  const c = await RawClient.connect(port);
  await c.startup();
  c.socket.pause(); // stop reading
  c.write(frontend.query('select endless'));
  await sleep(500);
  const p1 = pulled;
  await sleep(500);
  assert.equal(pulled, p1, 'no chunks pulled while the client is not reading');
  assert.ok(p1 < 200, `pulled ${p1} chunks (~${p1 / 10} MB) into a non-reading client`);
  c.socket.destroy();
  for (let i = 0; i < 100 && !(finished && server.connectionCount === 0); i++) await sleep(10);
  assert.ok(finished, 'result iterator closed');
  assert.ok(signalAborted, 'query signal aborted on disconnect');
  assert.equal(server.connectionCount, 0);
});

test('close() aborts running queries and tells clients 57P01', { timeout: 20_000 }, async () => {
  const exec = hangingExecutor();
  const server = new PgServer({ executor: exec, port: 0 });
  const { port } = await server.listen();
  const c = await RawClient.connect(port);
  await c.startup();
  c.write(frontend.query('select forever'));
  await sleep(50);
  await server.close();
  await exec.aborted;
  const msgs = await c.untilClosed();
  assert.ok(msgs.some((m) => m.type === 'E' && errorFields(m.body).C === '57P01'), types(msgs));
});

test('extended protocol: parameters are bound as typed literals; binary results', { timeout: 20_000 }, async () => {
  const seen: string[] = [];
  const echo: QueryExecutor = {
    async query(sql) {
      seen.push(sql);
      return rows([[7, 'x', 1_700_000_000_000_000n]], [{ name: 'a', type: 'int4' }, { name: 'b', type: 'text' }, { name: 't', type: 'timestamptz' }]);
    },
  };
  const { port } = await start(echo);
  const c = await RawClient.connect(port);
  await c.startup();
  // $1 declared int8; $2 unspecified (inferred from the comparison with a known column); $3 in a string is not a parameter
  c.write(Buffer.concat([
    frontend.parse('s1', "select $1, '$3' where resp_status = $2 and req_path = $3", [20]),
    frontend.describe('S', 's1'),
    frontend.bind('', 's1', ['5', '200', "it's"], [1]),
    frontend.execute(),
    frontend.sync(),
  ]));
  const r = await c.until('Z');
  assert.equal(types(r), '1tT2DCZ');
  const p = r[1]!.body;
  assert.deepEqual([p.readInt16BE(0), p.readInt32BE(2), p.readInt32BE(6), p.readInt32BE(10)], [3, 20, 23, 25]);
  assert.equal(seen[1], "select CAST('5' AS BIGINT), '$3' where resp_status = CAST('200' AS INTEGER) and req_path = 'it''s'");
  // binary: int4, text, timestamptz (µs since 2000-01-01)
  const d = r[4]!.body;
  assert.equal(d.readInt16BE(0), 3);
  assert.equal(d.readInt32BE(2), 4);
  assert.equal(d.readInt32BE(6), 7);
  assert.equal(d.toString('utf8', 14, 15), 'x');
  assert.equal(d.readBigInt64BE(19), 1_700_000_000_000_000n - 946_684_800_000_000n);
  c.close();
});
