import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConnectionTracker } from '../conn/tracker.ts';
import { ArraySink, ConnScript, endpoint } from '../synth/conn-script.ts';
import { Rng } from '../synth/rng.ts';

const T0 = 1_700_000_000_000_000_000n;
const ms = (n: number): bigint => T0 + BigInt(n) * 1_000_000n;
const GET = (p: string) => `GET ${p} HTTP/1.1\r\nHost: h\r\n\r\n`;
const OK = (body: string) => `HTTP/1.1 200 OK\r\nContent-Length: ${body.length}\r\n\r\n${body}`;

/** Sends `garbage` as a request, then a valid exchange; the valid one must come through. */
function afterGarbage(garbage: Buffer | string, opts = {}) {
  const sink = new ArraySink();
  const t = new ConnectionTracker(sink, opts);
  const c = new ConnScript(endpoint());
  t.handleBatch([c.open(ms(0)), c.recv(GET('/first'), ms(1)), c.send(OK('1'), ms(2))]);
  t.handleBatch([c.recv(garbage, ms(3))]);
  t.handleBatch([c.recv(GET('/after'), ms(4)), c.send(OK('2'), ms(5))]);
  t.flushAll();
  assert.equal(t.stats.errors, 0);
  return { rows: sink.rows, stats: t.stats };
}

test('random bytes between requests: skipped, counted, the next request still parsed', () => {
  const rng = new Rng(1);
  for (let i = 0; i < 50; i++) {
    const { rows, stats } = afterGarbage(rng.bytes(1 + rng.int(3000)));
    assert.deepEqual(rows.map((r) => r.reqPath).slice(0, 1), ['/first']);
    assert.equal(rows.at(-1)!.reqPath, '/after', `case ${i}`);
    assert.ok(stats.parseFailures >= 1);
  }
});

const cases: Record<string, string> = {
  'truncated request line': 'GET /trunc',
  'truncated header line': 'GET /x HTTP/1.1\r\nHost',
  'bad version': 'GET /x HTTP/9.9\r\n\r\n',
  'space in header name': 'GET /x HTTP/1.1\r\nBad Name: v\r\n\r\n',
  'absurd content-length': 'POST /x HTTP/1.1\r\nContent-Length: 99999999999999999999\r\n\r\n',
  'content-length above the body limit': 'POST /x HTTP/1.1\r\nContent-Length: 5000000000\r\n\r\n',
  'negative content-length': 'POST /x HTTP/1.1\r\nContent-Length: -1\r\n\r\n',
  'conflicting content-lengths': 'POST /x HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n',
  'absurd chunk size': 'POST /x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffff\r\n',
  'chunk size not hex': 'POST /x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n',
  'unknown transfer-encoding on a request': 'POST /x HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n',
  'NUL in header value': 'GET /x HTTP/1.1\r\nA: b\x00c\r\n\r\n',
  'unknown method': 'BREW /pot HTTP/1.1\r\n\r\n',
};
for (const [name, garbage] of Object.entries(cases)) {
  test(`malformed: ${name}`, () => {
    const { rows, stats } = afterGarbage(garbage);
    assert.deepEqual(rows.map((r) => r.reqPath), ['/first', '/after']);
    assert.ok(stats.parseFailures >= 1, 'failure counted');
  });
}

test('an endless header line is cut off at maxHeadBytes; memory stays bounded', () => {
  const sink = new ArraySink();
  const t = new ConnectionTracker(sink, { http: { maxHeadBytes: 8192 } });
  const c = new ConnScript(endpoint());
  t.handleBatch([c.open(ms(0)), c.recv('GET /x HTTP/1.1\r\nX-Long: ', ms(1))]);
  for (let i = 0; i < 200; i++) t.handleBatch([c.recv('y'.repeat(1000), ms(2))]);
  assert.ok(t.stats.parseFailures >= 1);
  assert.ok(t.stats.droppedBytes > 190_000);
  t.handleBatch([c.recv('\r\n\r\n' + GET('/ok'), ms(3)), c.send(OK('k'), ms(4))]);
  assert.deepEqual(sink.rows.map((r) => r.reqPath), ['/ok']);
});

test('garbage in the response direction resyncs to the next response', () => {
  const sink = new ArraySink();
  const t = new ConnectionTracker(sink);
  const c = new ConnScript(endpoint());
  t.handleBatch([c.open(ms(0)), c.recv(GET('/a'), ms(1)), c.send(OK('a'), ms(2))]);
  t.handleBatch([c.send('\x00\xffjunk HTTP/1 bogus\r\n', ms(3))]);
  t.handleBatch([c.recv(GET('/b'), ms(4)), c.send(OK('b'), ms(5))]);
  assert.deepEqual(sink.rows.map((r) => [r.reqPath, r.respBody]), [['/a', 'a'], ['/b', 'b']]);
  assert.ok(t.stats.parseFailures >= 1);
});

test('a truncated request at close yields no row and no error', () => {
  const sink = new ArraySink();
  const t = new ConnectionTracker(sink);
  const c = new ConnScript(endpoint());
  t.handleBatch([c.open(ms(0)), c.recv('POST /x HTTP/1.1\r\nContent-Length: 100\r\n\r\nshort', ms(1)), c.close(ms(2))]);
  assert.equal(sink.rows.length, 0);
  assert.equal(t.stats.errors, 0);
  assert.equal(t.openConnections, 0);
});
