import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConnectionTracker } from '../conn/tracker.ts';
import { ConnScript, endpoint } from '../synth/conn-script.ts';
import type { SocketEvent } from '../events.ts';
import { bindParams, decodeExecuteParams } from './binary-values.ts';
import {
  TableSink, command, eof, err, execute, handshakeGreeting, handshakeResponse, ok, packet, packets,
  prepareOk, resultSet,
} from './testing.ts';

const CLIENT_DEPRECATE_EOF = 1 << 24;

function setup(opts: { open?: boolean } = {}) {
  const sink = new TableSink();
  const tracker = new ConnectionTracker(sink);
  const c = new ConnScript(endpoint({ localPort: 3306 }));
  let t = 1000n;
  const events: SocketEvent[] = [];
  if (opts.open !== false) events.push(c.open(t++));
  return {
    sink, tracker, c,
    /** Server side: recv = request, send = response. */
    exchange(req: Buffer, resp: Buffer | null) {
      tracker.handleBatch([c.recv(req, (t += 10n)), ...(resp ? [c.send(resp, (t += 100n))] : [])]);
    },
    flush() { tracker.flushAll(); },
    start() { tracker.handleBatch(events); },
    get rows() { return sink.rowsOf('mysql_events'); },
  };
}

test('handshake is skipped; COM_QUERY OK / ERR / result set / PING / INIT_DB / QUIT rows', () => {
  const s = setup();
  s.start();
  s.tracker.handleBatch([
    s.c.send(handshakeGreeting(), 1100n),
    s.c.recv(handshakeResponse(0xa20f), 1200n),
    s.c.send(ok(2), 1300n),
  ]);
  s.exchange(command(3, 'insert into t values (1),(2)'), ok(1, 2, 7));
  s.exchange(command(3, 'selec oops'), err(1, 1064, '42000', 'You have an error in your SQL syntax'));
  s.exchange(command(3, 'select a, b from t'), resultSet(['a', 'b'], [['1', 'x'], ['2', 'y'], ['3', 'z']]));
  s.exchange(command(0x0e), ok(1));
  s.exchange(command(0x02, 'shop'), ok(1));
  s.exchange(command(0x01), null);
  s.flush();
  const rows = s.rows.map((r) => [r.reqCmd, r.reqBody, r.respStatus, r.respBody]);
  assert.deepEqual(rows, [
    [3, 'insert into t values (1),(2)', 2, 'affected_rows=2 last_insert_id=7'],
    [3, 'selec oops', 3, 'ERROR 1064 (42000): You have an error in your SQL syntax'],
    [3, 'select a, b from t', 2, 'columns=2 rows=3'],
    [14, '', 2, 'affected_rows=0'],
    [2, 'shop', 2, 'affected_rows=0'],
    [1, '', 1, ''],
  ]);
  assert.ok(s.rows.slice(0, 5).every((r) => r.latencyNs > 0n));
  assert.equal(s.rows[5]!.latencyNs, 0n);
  assert.equal(s.rows[0]!.traceRole, 2);
  assert.equal(s.tracker.stats.parseFailures, 0);
});

test('CLIENT_DEPRECATE_EOF result sets and an empty result', () => {
  const s = setup();
  s.start();
  s.tracker.handleBatch([s.c.send(handshakeGreeting(), 1100n), s.c.recv(handshakeResponse(0xa20f | CLIENT_DEPRECATE_EOF), 1200n), s.c.send(ok(2), 1300n)]);
  s.exchange(command(3, 'select 1'), resultSet(['1'], [['1']], true));
  s.exchange(command(3, 'select * from empty'), resultSet(['a'], [], true));
  s.flush();
  assert.deepEqual(s.rows.map((r) => r.respBody), ['columns=1 rows=1', 'columns=1 rows=0']);
});

test('prepared statements: parameters bound with their types; close and reset name the statement', () => {
  const s = setup();
  s.start();
  const sql = "select * from t where id = ? and name = ? and price > ? and note = '?' and d = ? and x = ?";
  s.exchange(command(0x16, sql), prepareOk(5, 5, 2));
  const i64 = Buffer.alloc(8); i64.writeBigInt64LE(-42n);
  const dbl = Buffer.alloc(8); dbl.writeDoubleLE(9.5);
  const date = Buffer.from([7, 0xea, 0x07, 11, 21, 20, 5, 9]);
  s.exchange(execute(5, [[8, false, i64], [0xfd, false, Buffer.from("\x04it's")], [5, false, dbl], [0x0c, false, date], null]),
    resultSet(['a', 'b'], [['1', '2']]));
  // A second execute that does not resend types.
  const i64b = Buffer.alloc(8); i64b.writeBigInt64LE(7n);
  s.exchange(execute(5, [[8, false, i64b], [0xfd, false, Buffer.from('\x01z')], [5, false, dbl], [0x0c, false, date], null], false), ok(1));
  s.exchange(command(0x1a, Buffer.from([5, 0, 0, 0])), ok(1));
  s.exchange(command(0x19, Buffer.from([5, 0, 0, 0])), null);
  s.exchange(execute(9, []), err(1, 1243, 'HY000', 'Unknown prepared statement handler'));
  s.flush();
  const rows = s.rows.map((r) => [r.reqCmd, r.reqBody, r.respStatus, r.respBody]);
  assert.deepEqual(rows, [
    [0x16, sql, 2, 'stmt_id=5 params=5 columns=2'],
    [0x17, "select * from t where id = -42 and name = 'it\\'s' and price > 9.5 and note = '?' and d = '2026-11-21 20:05:09' and x = NULL", 2, 'columns=2 rows=1'],
    [0x17, "select * from t where id = 7 and name = 'z' and price > 9.5 and note = '?' and d = '2026-11-21 20:05:09' and x = NULL", 2, 'affected_rows=0'],
    [0x1a, sql, 2, 'affected_rows=0'],
    [0x19, sql, 1, ''],
    [0x17, 'EXECUTE stmt_id=9', 3, 'ERROR 1243 (HY000): Unknown prepared statement handler'],
  ]);
  assert.equal(s.tracker.stats.parseFailures, 0);
});

test('prepare replies without EOFs (deprecate EOF unknown) wait for the next packet to decide', () => {
  const s = setup({ open: false });
  s.exchange(command(0x16, 'insert into t values (?)'), prepareOk(1, 1, 0, true));
  s.exchange(command(0x16, 'select ?'), prepareOk(2, 1, 1, true));
  s.exchange(command(3, 'select 1'), resultSet(['1'], [['1']], true));
  s.flush();
  assert.deepEqual(s.rows.map((r) => r.respBody), ['stmt_id=1 params=1 columns=0', 'stmt_id=2 params=1 columns=1', 'columns=1 rows=1']);
  assert.equal(s.tracker.stats.parseFailures, 0);
});

test('multi-packet payloads (> 16 MiB) stream through without buffering them whole', () => {
  const s = setup();
  s.start();
  const big = Buffer.alloc(0xffffff + 100, 0x61);
  const query = Buffer.concat([Buffer.from([3]), Buffer.from("insert into blobs values ('"), big, Buffer.from("')")]);
  const req = packets(0, query);
  // Delivered in 64 KiB events, the way a socket would.
  const evs: SocketEvent[] = [];
  for (let off = 0; off < req.length; off += 65536) evs.push(s.c.recv(req.subarray(off, off + 65536), 2000n + BigInt(off)));
  s.tracker.handleBatch(evs);
  s.tracker.handleBatch([s.c.send(ok(2, 1), 50_000_000n)]);
  s.flush();
  assert.equal(s.rows.length, 1);
  assert.equal(s.rows[0]!.respBody, 'affected_rows=1');
  assert.ok(s.rows[0]!.reqBody.startsWith("insert into blobs values ('aaa"));
  assert.equal(s.rows[0]!.reqBody.length, 4096);
  assert.equal(s.tracker.stats.bufferOverflows, 0);
});

test('a client asking for TLS: ciphertext is ignored, the TLS library\'s plaintext is parsed (encrypted rows)', () => {
  const s = setup();
  s.start();
  s.tracker.handleBatch([s.c.send(handshakeGreeting(), 1100n), s.c.recv(handshakeResponse(0xa20f | 0x800, true), 1200n)]);
  s.tracker.handleBatch([s.c.recv(Buffer.from([0x16, 3, 1, 0, 200, ...Buffer.alloc(200, 7)]), 1300n), s.c.send(Buffer.alloc(300, 0x16), 1400n)]);
  assert.equal(s.rows.length, 0);
  // The uprobes' plaintext: the real handshake response (seq 2), auth OK (seq 3), a query.
  s.c.startTls();
  const auth = handshakeResponse(0xa20f | 0x800);
  auth[3] = 2;
  s.tracker.handleBatch([s.c.recv(auth, 1500n), s.c.send(ok(3), 1600n)]);
  s.exchange(command(3, 'select secret from vault'), resultSet(['secret'], [['x'], ['y']]));
  s.flush();
  assert.equal(s.rows.length, 1);
  assert.equal(s.rows[0]!.reqBody, 'select secret from vault');
  assert.equal(s.rows[0]!.encrypted, true);
  assert.equal(s.tracker.stats.parseFailures, 0);
});

test('TLS plaintext without a MySQL SSLRequest in clear starts a fresh parser', () => {
  const s = setup({ open: false });
  s.c.startTls();
  s.exchange(command(3, 'select 1'), resultSet(['1'], [['1']]));
  s.flush();
  assert.deepEqual(s.rows.map((r) => [r.reqBody, r.encrypted]), [['select 1', true]]);
});

test('joined mid-connection: the reply side resyncs at the next reply; a lost reply drops its command', () => {
  const s = setup({ open: false });
  // Tail of an earlier result set on the response side, then normal traffic.
  s.tracker.handleBatch([s.c.send(Buffer.concat([packet(7, 'row-tail'), eof(8)]), 900n)]);
  s.exchange(command(3, 'select 1'), resultSet(['1'], [['1']]));
  // A command whose reply was not captured (lost event), then another.
  s.exchange(command(3, 'select lost'), null);
  s.c.lose(0, ok(1).length);
  s.exchange(command(3, 'select 2'), resultSet(['2'], [['2']]));
  s.flush();
  assert.deepEqual(s.rows.map((r) => [r.reqBody, r.respBody]), [['select 1', 'columns=1 rows=1'], ['select 2', 'columns=1 rows=1']]);
  assert.equal(s.tracker.stats.expiredRequests, 1);
});

test('binding skips quoted and commented question marks; truncated parameters keep what decoded', () => {
  assert.equal(bindParams("select ? /* ? */, '?', \"?\", `?`, ? -- ?\n, ?", ['1', '2', '3']), "select 1 /* ? */, '?', \"?\", `?`, 2 -- ?\n, 3");
  const e = execute(1, [[3, true, Buffer.from([0xff, 0xff, 0xff, 0xff])], [1, false, Buffer.from([0xfe])]]);
  const payload = e.subarray(4);
  assert.deepEqual(decodeExecuteParams(payload, 2, null).values, ['4294967295', '-2']);
  assert.deepEqual(decodeExecuteParams(payload.subarray(0, payload.length - 1), 2, null).values, ['4294967295']);
});

test('rows lost inside a result set: skipped to the terminator, marked, later replies still pair', () => {
  const s = setup();
  s.start();
  const rows: string[][] = [];
  for (let i = 0; i < 2000; i++) rows.push([String(i), 'x'.repeat(50)]);
  const resp = resultSet(['i', 'x'], rows);
  s.tracker.handleBatch([s.c.recv(command(3, 'select big'), 100n)]);
  const evs: SocketEvent[] = [];
  let t = 200n;
  // Every event is 16 KiB; the third one lost its payload beyond 100 bytes (capture cap).
  for (let off = 0, k = 0; off < resp.length; off += 16384, k++) evs.push(s.c.send(resp.subarray(off, off + 16384), t++, k === 2 ? 100 : Infinity));
  s.tracker.handleBatch(evs);
  s.exchange(command(3, 'select 1'), resultSet(['1'], [['1']]));
  s.flush();
  const got = s.rows.map((r) => [r.reqBody, r.respBody.replace(/rows>=\d+ lost_bytes=\d+/, 'rows>=N lost_bytes=N')]);
  assert.deepEqual(got, [['select big', 'columns=2 rows>=N lost_bytes=N'], ['select 1', 'columns=1 rows=1']]);
});

test('MariaDB cached metadata: a "metadata follows" byte after the column count (1: definitions sent, 0: not)', () => {
  const s = setup();
  s.start();
  const withMeta = resultSet(['a'], [['1'], ['2']]);
  // Column count packet [01] → [01 01] (length 2).
  const sent = Buffer.concat([packet(1, Buffer.from([1, 1])), withMeta.subarray(5)]);
  s.exchange(command(3, 'select a from t'), sent);
  // Metadata not resent: count [01 00], then EOF, rows, EOF.
  const skipped = Buffer.concat([packet(1, Buffer.from([1, 0])), eof(2), packet(3, Buffer.from([1, 0x37])), eof(4)]);
  s.exchange(command(3, 'select a from t'), skipped);
  s.flush();
  assert.deepEqual(s.rows.map((r) => r.respBody), ['columns=1 rows=2', 'columns=1 rows=1']);
  assert.equal(s.tracker.stats.parseFailures, 0);
});

test('TrackerOptions.mysql reaches the parser: queryCap truncates the statement text', () => {
  const sink = new TableSink();
  const tracker = new ConnectionTracker(sink, { mysql: { queryCap: 8 } });
  const c = new ConnScript(endpoint({ localPort: 3306 }));
  tracker.handleBatch([c.open(1n), c.recv(command(3, 'select 1234567890'), 10n), c.send(resultSet(['1'], [['1']]), 20n)]);
  tracker.flushAll();
  assert.deepEqual(sink.rowsOf('mysql_events').map((r) => r.reqBody), ['select 1']);
});
