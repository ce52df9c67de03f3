import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConnectionTracker, type TrackerOptions } from '../conn/tracker.ts';
import type { SocketEvent } from '../events.ts';
import { ArraySink, ConnScript, endpoint } from '../synth/conn-script.ts';

const T0 = 1_700_000_000_000_000_000n;
const ms = (n: number): bigint => T0 + BigInt(n) * 1_000_000n;

function run(events: SocketEvent[], opts: Partial<TrackerOptions> = {}, oneByOne = true) {
  const sink = new ArraySink();
  const tracker = new ConnectionTracker(sink, opts);
  if (oneByOne) for (const e of events) tracker.handleBatch([e]);
  else tracker.handleBatch(events);
  tracker.flushAll();
  return { rows: sink.rows, stats: tracker.stats, tracker };
}

const REQ = 'POST /api/users/42?x=1 HTTP/1.1\r\nHost: svc\r\nContent-Type: application/json\r\nContent-Length: 13\r\n\r\n{"name":"al"}';
const RESP_CHUNKED =
  'HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n' +
  '5\r\n{"id"\r\nA;ext=1\r\n:42,"ok":1\r\n1\r\n}\r\n0\r\nX-Trailer: yes\r\n\r\n';

function checkPair(rows: ReturnType<typeof run>['rows']): void {
  assert.equal(rows.length, 1);
  const r = rows[0]!;
  assert.equal(r.reqMethod, 'POST');
  assert.equal(r.reqPath, '/api/users/42?x=1');
  assert.equal(r.reqBody, '{"name":"al"}');
  assert.equal(r.reqBodySize, 13);
  assert.equal(r.respStatus, 200);
  assert.equal(r.respMessage, 'OK');
  assert.equal(r.respBody, '{"id":42,"ok":1}');
  assert.equal(r.respBodySize, 16);
  assert.equal(r.contentType, 1);
  assert.equal(JSON.parse(r.respHeaders)['x-trailer'], 'yes');
  assert.ok(r.latencyNs > 0n);
}

test('every split point of the request, then of the chunked response', () => {
  for (let i = 1; i < REQ.length; i++) {
    const c = new ConnScript(endpoint());
    const { rows, stats } = run([
      c.open(ms(0)), c.recv(REQ.slice(0, i), ms(1)), c.recv(REQ.slice(i), ms(2)), c.send(RESP_CHUNKED, ms(5)),
    ]);
    checkPair(rows);
    assert.equal(stats.parseFailures, 0, `split ${i}`);
    assert.equal(rows[0]!.latencyNs, 4_000_000n);
  }
  for (let j = 1; j < RESP_CHUNKED.length; j++) {
    const c = new ConnScript(endpoint());
    const { rows, stats } = run([
      c.open(ms(0)), c.recv(REQ, ms(1)), c.send(RESP_CHUNKED.slice(0, j), ms(5)), c.send(RESP_CHUNKED.slice(j), ms(9)),
    ]);
    checkPair(rows);
    assert.equal(stats.parseFailures, 0, `split ${j}`);
    assert.equal(rows[0]!.latencyNs, 8_000_000n, `split ${j}`);
  }
});

test('byte-at-a-time delivery of both messages', () => {
  const c = new ConnScript(endpoint());
  const evs: SocketEvent[] = [c.open(ms(0))];
  for (let i = 0; i < REQ.length; i++) evs.push(c.recv(REQ[i]!, ms(1)));
  for (let i = 0; i < RESP_CHUNKED.length; i++) evs.push(c.send(RESP_CHUNKED[i]!, ms(3)));
  const { rows, stats } = run(evs);
  checkPair(rows);
  assert.equal(stats.parseFailures, 0);
});

test('coalesced reads: several requests in one event, keep-alive, pipelining in FIFO order', () => {
  const c = new ConnScript(endpoint());
  const reqs = [1, 2, 3].map((n) => `GET /items/${n} HTTP/1.1\r\nHost: a\r\n\r\n`).join('');
  const resps = [1, 2, 3].map((n) => `HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\n${n}`).join('');
  const { rows, stats } = run([c.open(ms(0)), c.recv(reqs, ms(1)), c.send(resps, ms(4))], {}, false);
  assert.equal(stats.parseFailures, 0);
  assert.deepEqual(rows.map((r) => [r.reqPath, r.respBody]), [['/items/1', '1'], ['/items/2', '2'], ['/items/3', '3']]);
  // Pipelined: all three requests begin in the same event.
  assert.ok(rows.every((r) => r.timeNs === ms(1)));
});

test('100-continue: the interim response is skipped', () => {
  const c = new ConnScript(endpoint());
  const { rows } = run([
    c.open(ms(0)),
    c.recv('PUT /upload HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n', ms(1)),
    c.send('HTTP/1.1 100 Continue\r\n\r\n', ms(2)),
    c.recv('hello', ms(3)),
    c.send('HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n', ms(4)),
  ]);
  assert.equal(rows.length, 1);
  assert.equal(rows[0]!.respStatus, 201);
  assert.equal(rows[0]!.reqBody, 'hello');
  assert.equal(rows[0]!.latencyNs, 3_000_000n);
});

test('HEAD, 204 and 304 responses carry no body even with Content-Length', () => {
  const c = new ConnScript(endpoint());
  const { rows, stats } = run([
    c.open(ms(0)),
    c.recv('HEAD /a HTTP/1.1\r\n\r\nDELETE /b HTTP/1.1\r\n\r\nGET /c HTTP/1.1\r\nIf-None-Match: x\r\n\r\nGET /d HTTP/1.1\r\n\r\n', ms(1)),
    c.send('HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n', ms(2)),
    c.send('HTTP/1.1 204 No Content\r\n\r\n', ms(3)),
    c.send('HTTP/1.1 304 Not Modified\r\nContent-Length: 50\r\n\r\n', ms(4)),
    c.send('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok', ms(5)),
  ]);
  assert.equal(stats.parseFailures, 0);
  assert.deepEqual(rows.map((r) => [r.reqMethod, r.respStatus, r.respBodySize]), [
    ['HEAD', 200, 0], ['DELETE', 204, 0], ['GET', 304, 0], ['GET', 200, 2],
  ]);
});

test('100 KB body in capped events (gaps inside the body): right sizes, next request intact', () => {
  const c = new ConnScript(endpoint());
  const body = Buffer.alloc(100 * 1024, 'a');
  const head = Buffer.from(`HTTP/1.1 200 OK\r\nContent-Length: ${body.length}\r\n\r\n`);
  const resp = Buffer.concat([head, body]);
  const evs: SocketEvent[] = [c.open(ms(0)), c.recv('GET /big HTTP/1.1\r\n\r\n', ms(1))];
  // Written as 16 KiB syscalls, each capturing only its first 4 KiB.
  for (let off = 0, t = 2; off < resp.length; off += 16384, t++) evs.push(c.send(resp.subarray(off, off + 16384), ms(t), 4096));
  evs.push(c.recv('GET /next HTTP/1.1\r\n\r\n', ms(20)));
  evs.push(c.send('HTTP/1.1 404 Not Found\r\nContent-Length: 3\r\n\r\nnop', ms(21)));
  const { rows, stats } = run(evs);
  assert.equal(stats.parseFailures, 0);
  let expectedGap = 0;
  for (let off = 0; off < resp.length; off += 16384) expectedGap += Math.max(0, Math.min(16384, resp.length - off) - 4096);
  assert.equal(stats.gapBytes, expectedGap);
  assert.equal(rows.length, 2);
  assert.equal(rows[0]!.respBodySize, 100 * 1024);
  assert.equal(rows[0]!.respBody, 'a'.repeat(512));
  assert.equal(rows[0]!.latencyNs, BigInt(1 + Math.ceil(resp.length / 16384) - 1) * 1_000_000n);
  assert.deepEqual([rows[1]!.reqPath, rows[1]!.respStatus, rows[1]!.respBody], ['/next', 404, 'nop']);
});

test('chunked body with gaps inside chunk data still parses', () => {
  const c = new ConnScript(endpoint());
  const chunk = 'b'.repeat(10000);
  const resp = `HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n${(10000).toString(16)}\r\n`;
  const { rows, stats } = run([
    c.open(ms(0)), c.recv('GET /c HTTP/1.1\r\n\r\n', ms(1)),
    c.send(resp, ms(2)), c.send(chunk, ms(3), 100), c.send('\r\n0\r\n\r\n', ms(4)),
  ]);
  assert.equal(stats.parseFailures, 0);
  assert.equal(rows.length, 1);
  assert.equal(rows[0]!.respBodySize, 10000);
  assert.equal(rows[0]!.respBody.length, 100);
});

test('close-delimited response (HTTP/1.0, no length) ends at close', () => {
  const c = new ConnScript(endpoint({ role: 1, localPort: 40000, remotePort: 80 }));
  const { rows, stats } = run([
    c.open(ms(0)),
    c.send('GET /old HTTP/1.0\r\n\r\n', ms(1)),
    c.recv('HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\npart one ', ms(2)),
    c.recv('part two', ms(3)),
    c.close(ms(4)),
  ]);
  assert.equal(stats.parseFailures, 0);
  assert.equal(rows.length, 1);
  assert.equal(rows[0]!.respBody, 'part one part two');
  assert.equal(rows[0]!.respBodySize, 17);
  assert.equal(rows[0]!.traceRole, 1);
  assert.equal(rows[0]!.majorVersion, 1);
  assert.equal(rows[0]!.minorVersion, 0);
  assert.equal(rows[0]!.latencyNs, 2_000_000n);
});

test('headers: lower-cased, repeated joined, secrets redacted (configurable)', () => {
  const mk = () => {
    const c = new ConnScript(endpoint());
    return [
      c.open(ms(0)),
      c.recv('GET / HTTP/1.1\r\nAccept: a\r\nACCEPT: b\r\nAuthorization: Bearer xyz\r\nCookie: s=1\r\nX-Api-Key: k\r\nX-Custom: c\r\n\r\n', ms(1)),
      c.send('HTTP/1.1 200 OK\r\nSet-Cookie: a=1\r\nSet-Cookie: b=2\r\nContent-Type: application/grpc\r\nContent-Length: 0\r\n\r\n', ms(2)),
    ];
  };
  const { rows } = run(mk());
  const req = JSON.parse(rows[0]!.reqHeaders);
  assert.deepEqual(req, { accept: 'a, b', authorization: '<redacted>', cookie: '<redacted>', 'x-api-key': '<redacted>', 'x-custom': 'c' });
  assert.equal(JSON.parse(rows[0]!.respHeaders)['set-cookie'], '<redacted>');
  assert.equal(rows[0]!.contentType, 2);
  const custom = run(mk(), { http: { redactHeaders: ['X-Custom'] } }).rows[0]!;
  assert.equal(JSON.parse(custom.reqHeaders).authorization, 'Bearer xyz');
  assert.equal(JSON.parse(custom.reqHeaders)['x-custom'], '<redacted>');
});

test('body capture cap is configurable; original size kept', () => {
  const c = new ConnScript(endpoint());
  const { rows } = run([
    c.open(ms(0)), c.recv('POST /x HTTP/1.1\r\nContent-Length: 10\r\n\r\n0123456789', ms(1)),
    c.send('HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n', ms(2)),
  ], { http: { bodyCap: 4 } });
  assert.equal(rows[0]!.reqBody, '0123');
  assert.equal(rows[0]!.reqBodySize, 10);
});

test('header values needing JSON escapes stay valid JSON; obs-fold continues a value', () => {
  const c = new ConnScript(endpoint());
  const { rows } = run([
    c.open(ms(0)),
    c.recv(Buffer.from('GET / HTTP/1.1\r\nX-Q: a"b\\c\té\r\nX-Fold: one\r\n  two\r\n\r\n', 'utf8'), ms(1)),
    c.send('HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n', ms(2)),
  ]);
  assert.deepEqual(JSON.parse(rows[0]!.reqHeaders), { 'x-q': 'a"b\\c\té', 'x-fold': 'one two' });
});

test('Upgrade (101) and CONNECT tunnels: row emitted, then the connection is no longer parsed', () => {
  for (const [req, resp] of [
    ['GET /ws HTTP/1.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n', 'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n'],
    ['CONNECT db:5432 HTTP/1.1\r\n\r\n', 'HTTP/1.1 200 Connection Established\r\n\r\n'],
  ]) {
    const c = new ConnScript(endpoint());
    const { rows, stats } = run([
      c.open(ms(0)), c.recv(req!, ms(1)), c.send(resp!, ms(2)),
      c.send(Buffer.from([0x81, 0x05, 1, 2, 3, 4, 5]), ms(3)), c.recv(Buffer.from([0x82, 0x00, 0xff]), ms(4)),
    ]);
    assert.equal(rows.length, 1);
    assert.equal(stats.parseFailures, 0);
    assert.ok(stats.ignoredBytes > 0);
  }
});
