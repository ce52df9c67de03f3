import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Direction } from '../events.ts';
import { ArraySink, ConnScript, endpoint } from '../synth/conn-script.ts';
import { ConnectionTracker } from './tracker.ts';

const T0 = 1_700_000_000_000_000_000n;
const ms = (n: number): bigint => T0 + BigInt(n) * 1_000_000n;
const sec = (n: number): bigint => T0 + BigInt(n) * 1_000_000_000n;

const GET = (p: string) => `GET ${p} HTTP/1.1\r\nHost: h\r\n\r\n`;
const OK = (body: string) => `HTTP/1.1 200 OK\r\nContent-Length: ${body.length}\r\n\r\n${body}`;

function tracker(opts = {}) {
  const sink = new ArraySink();
  return { sink, t: new ConnectionTracker(sink, opts) };
}

test('role inference for pre-existing connections: receiving a request ⇒ server, sending ⇒ client', () => {
  const { sink, t } = tracker();
  const server = new ConnScript(endpoint({ role: 0, fd: 3 }));
  const client = new ConnScript(endpoint({ role: 0, fd: 4, tgid: 200, localPort: 40000, remotePort: 8080 }));
  t.handleBatch([server.recv(GET('/s'), ms(1)), server.send(OK('s'), ms(2))]);
  t.handleBatch([client.send(GET('/c'), ms(1)), client.recv(OK('c'), ms(3))]);
  assert.deepEqual(sink.rows.map((r) => [r.reqPath, r.traceRole, r.upid.pid]), [['/s', 2, 100], ['/c', 1, 200]]);
  assert.equal(sink.rows[1]!.latencyNs, 2_000_000n);
});

test('a pre-existing connection joined mid-response resyncs to the next exchange', () => {
  const { sink, t } = tracker();
  const c = new ConnScript(endpoint({ role: 0 }));
  t.handleBatch([c.send('ody","tail":1}', ms(1))]); // end of a response we never saw begin
  t.handleBatch([c.recv(GET('/a'), ms(2)), c.send(OK('{}'), ms(3))]);
  t.handleBatch([c.recv(GET('/b'), ms(4)), c.send(OK('[]'), ms(5))]);
  assert.deepEqual(sink.rows.map((r) => [r.reqPath, r.respBody, r.traceRole]), [['/a', '{}', 2], ['/b', '[]', 2]]);
  assert.equal(t.stats.parseFailures, 0);
});

test('UPID asid option and endpoints on rows', () => {
  const { sink, t } = tracker({ asid: 7 });
  const c = new ConnScript(endpoint({ remoteAddr: '10.0.0.9', remotePort: 5555, localAddr: '10.0.0.1', localPort: 80 }));
  t.handleBatch([c.open(ms(0)), c.recv(GET('/'), ms(1)), c.send(OK(''), ms(2))]);
  const r = sink.rows[0]!;
  assert.deepEqual(r.upid, { asid: 7, pid: 100, startTicks: 5000n });
  assert.deepEqual([r.remoteAddr, r.remotePort, r.localAddr, r.localPort, r.encrypted], ['10.0.0.9', 5555, '10.0.0.1', 80, false]);
});

test('closed connections are released after flushing; idle ones after the timeout', () => {
  const { sink, t } = tracker({ idleTimeoutNs: 120_000_000_000n });
  const a = new ConnScript(endpoint({ fd: 3 }));
  const b = new ConnScript(endpoint({ fd: 4 }));
  t.handleBatch([a.open(ms(0)), b.open(ms(0)), a.recv(GET('/a'), ms(1)), b.recv(GET('/b'), ms(1))]);
  t.handleBatch([a.send(OK('x'), ms(2)), a.close(ms(3))]);
  assert.equal(sink.rows.length, 1);
  assert.equal(t.openConnections, 1);
  t.tick(sec(100));
  assert.equal(t.openConnections, 1);
  t.tick(sec(121));
  assert.equal(t.openConnections, 0);
  assert.equal(t.stats.idleReleased, 1);
  assert.equal(t.stats.expiredRequests, 1, 'the unanswered /b');
  assert.equal(t.stats.connectionsReleased, 2);
});

test('requests without a response expire after the request timeout, counted, no row', () => {
  const { sink, t } = tracker({ requestTimeoutNs: 30_000_000_000n });
  const c = new ConnScript(endpoint());
  t.handleBatch([c.open(ms(0)), c.recv(GET('/lost'), sec(1))]);
  t.tick(sec(30));
  assert.equal(t.stats.expiredRequests, 0);
  t.tick(sec(32));
  assert.equal(t.stats.expiredRequests, 1);
  // The connection lives on: the next exchange pairs correctly.
  t.handleBatch([c.recv(GET('/next'), sec(33)), c.send(OK('n'), sec(34))]);
  assert.deepEqual(sink.rows.map((r) => r.reqPath), ['/next']);
});

test('out-of-order events within the window are reordered by position', () => {
  const { sink, t } = tracker();
  const c = new ConnScript(endpoint());
  const req = GET('/ordered');
  const e1 = c.recv(req.slice(0, 10), ms(1));
  const e2 = c.recv(req.slice(10, 20), ms(1));
  const e3 = c.recv(req.slice(20), ms(1));
  const resp = OK('hello world');
  const r1 = c.send(resp.slice(0, 5), ms(2));
  const r2 = c.send(resp.slice(5), ms(3));
  t.handleBatch([c.open(ms(0)), e3, e1, r2, e2]);
  t.handleBatch([r1]);
  assert.equal(sink.rows.length, 1);
  assert.equal(sink.rows[0]!.reqPath, '/ordered');
  assert.equal(sink.rows[0]!.respBody, 'hello world');
  assert.equal(t.stats.parseFailures, 0);
});

test('a lost event inside a body of known length is a gap once the reorder window gives up', () => {
  const { sink, t } = tracker({ reorderWindow: 2 });
  const c = new ConnScript(endpoint());
  t.handleBatch([c.open(ms(0)), c.recv(GET('/x'), ms(1)), c.send('HTTP/1.1 200 OK\r\nContent-Length: 30\r\n\r\n0123456789', ms(2))]);
  c.lose(Direction.send, 10); // an event the ring buffer dropped
  t.handleBatch([c.send('abcdefghij', ms(3))]);
  assert.equal(sink.rows.length, 0, 'waits for the missing bytes');
  t.tick(ms(2000)); // reorder timeout: declare the gap
  assert.equal(sink.rows.length, 1);
  assert.equal(sink.rows[0]!.respBodySize, 30);
  assert.equal(sink.rows[0]!.respBody, '0123456789abcdefghij');
  assert.equal(t.stats.gapBytes, 10);
  assert.equal(t.stats.parseFailures, 0);
});

test('a lost response (gap over its head) does not shift later pairs', () => {
  const { sink, t } = tracker({ reorderWindow: 0 });
  const c = new ConnScript(endpoint());
  t.handleBatch([c.open(ms(0)), c.recv(GET('/1'), ms(1))]);
  const lost = OK('one');
  c.lose(Direction.send, lost.length);
  t.handleBatch([c.recv(GET('/2'), ms(3)), c.send(OK('two'), ms(4))]);
  assert.deepEqual(sink.rows.map((r) => [r.reqPath, r.respBody]), [['/2', 'two']]);
  assert.equal(t.stats.expiredRequests, 1);
});

test('a lost request: its response is dropped as unmatched, next pair is right', () => {
  const { sink, t } = tracker({ reorderWindow: 0 });
  const c = new ConnScript(endpoint());
  t.handleBatch([c.open(ms(0)), c.recv(GET('/0'), ms(1)), c.send(OK('zero'), ms(2))]);
  c.lose(Direction.recv, GET('/1').length);
  t.handleBatch([c.send(OK('one'), ms(4))]);
  t.handleBatch([c.recv(GET('/2'), ms(5)), c.send(OK('two'), ms(6))]);
  assert.deepEqual(sink.rows.map((r) => [r.reqPath, r.respBody]), [['/0', 'zero'], ['/2', 'two']]);
  assert.equal(t.stats.unmatchedResponses, 1);
});

test('fd reuse with a new connGen releases the old connection', () => {
  const { sink, t } = tracker();
  const a = new ConnScript(endpoint({ connGen: 1n }));
  const b = new ConnScript(endpoint({ connGen: 2n }));
  t.handleBatch([a.open(ms(0)), a.recv(GET('/a'), ms(1)), a.send(OK('a'), ms(2))]);
  t.handleBatch([b.open(ms(3)), b.recv(GET('/b'), ms(4)), b.send(OK('b'), ms(5))]);
  t.handleBatch([a.recv(GET('/late'), ms(6))]); // stale event of the replaced connection
  assert.deepEqual(sink.rows.map((r) => r.reqPath), ['/a', '/b']);
  assert.equal(t.stats.connectionsReleased, 1);
  assert.equal(t.stats.staleEvents, 1);
  assert.equal(t.openConnections, 1);
});

test('buffer cap: an endless head is dropped and counted, memory stays bounded, then recovery', () => {
  const { sink, t } = tracker({ maxBufferedBytes: 64 * 1024, http: { maxHeadBytes: 1 << 20 } });
  const c = new ConnScript(endpoint());
  t.handleBatch([c.open(ms(0)), c.recv('GET /' + 'a'.repeat(1000), ms(1))]);
  for (let i = 0; i < 100; i++) t.handleBatch([c.recv('a'.repeat(1000), ms(2))]);
  assert.ok(t.stats.bufferOverflows >= 1);
  assert.ok(t.stats.droppedBytes >= 64 * 1024);
  t.handleBatch([c.recv(' HTTP/1.1\r\n\r\n' + GET('/fine'), ms(3)), c.send(OK('ok'), ms(4))]);
  assert.deepEqual(sink.rows.map((r) => r.reqPath), ['/fine']);
});

test('non-HTTP traffic is ignored without parse failures', () => {
  const { sink, t } = tracker();
  const c = new ConnScript(endpoint({ role: 1 }));
  t.handleBatch([c.open(ms(0)), c.send(Buffer.from([0x16, 0x03, 0x01, 0x02, 0x00]), ms(1)), c.recv('\x00\x01binary', ms(2))]);
  t.handleBatch([c.send('*1\r\n$4\r\nPING\r\n', ms(3))]);
  assert.equal(sink.rows.length, 0);
  assert.equal(t.stats.parseFailures, 0);
  assert.ok(t.stats.ignoredBytes > 0);
});
