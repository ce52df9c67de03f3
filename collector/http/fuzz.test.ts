// Fuzz smoke test: ~20k random and mutated inputs through tracker + HTTP parser. Nothing may
// throw (the tracker counts caught exceptions in stats.errors), loop, or grow without bound.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConnectionTracker } from '../conn/tracker.ts';
import { Direction, type SocketEvent } from '../events.ts';
import { ArraySink, ConnScript, endpoint } from '../synth/conn-script.ts';
import { Rng } from '../synth/rng.ts';

const SEEDS = [
  'GET /api/users/1 HTTP/1.1\r\nHost: a\r\nAccept: */*\r\n\r\n',
  'POST /api/orders HTTP/1.1\r\nContent-Type: application/json\r\nContent-Length: 11\r\n\r\n{"a":[1,2]}',
  'PUT /x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\nT: 1\r\n\r\n',
  'HEAD /h HTTP/1.0\r\n\r\n',
];
const RESPONSES = [
  'HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello',
  'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n',
  'HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n',
  'HTTP/1.0 500 Oops\r\n\r\nclose-delimited',
];

function mutate(rng: Rng, s: Buffer): Buffer {
  const b = Buffer.from(s);
  const kind = rng.int(5);
  if (kind === 0) for (let i = 0; i < 1 + rng.int(4); i++) b[rng.int(b.length)] = rng.int(256);
  if (kind === 1) return Buffer.concat([b.subarray(0, rng.int(b.length)), rng.bytes(rng.int(40)), b.subarray(rng.int(b.length))]);
  if (kind === 2) return b.subarray(0, rng.int(b.length));
  if (kind === 3) return Buffer.concat([b, b.subarray(rng.int(b.length))]);
  if (kind === 4) return Buffer.from(b.toString('latin1').replace(/\d+/, String(rng.int(1e9))), 'latin1');
  return b;
}

function splitInto(rng: Rng, c: ConnScript, dir: 0 | 1, bytes: Buffer, t: bigint, out: SocketEvent[]): void {
  for (let off = 0; off < bytes.length;) {
    const n = 1 + rng.int(Math.min(bytes.length - off, 64));
    const cap = rng.int(10) === 0 ? rng.int(n + 1) : Infinity;
    out.push(c.data(dir, bytes.subarray(off, off + n), t, cap));
    off += n;
  }
}

test('20k random and mutated inputs: no exception, bounded buffers, counters sane', () => {
  const rng = new Rng(42);
  const sink = new ArraySink();
  const maxBuffered = 32 * 1024;
  const tracker = new ConnectionTracker(sink, { maxBufferedBytes: maxBuffered, reorderWindow: 4 });
  const started = Date.now();
  let inputs = 0;
  let t = 1_700_000_000_000_000_000n;
  for (let conn = 0; inputs < 20_000; conn++) {
    const c = new ConnScript(endpoint({ fd: conn % 50, connGen: BigInt(conn), role: rng.pick([0, 1, 2] as const) }));
    const events: SocketEvent[] = [];
    if (rng.int(2) === 0) events.push(c.open(t));
    for (let k = 0; k < 10; k++, inputs++) {
      t += 1000n;
      const reqDir = rng.int(2) as 0 | 1;
      const r = rng.int(4);
      const req = r === 0 ? rng.bytes(rng.int(200)) : mutate(rng, Buffer.from(rng.pick(SEEDS), 'latin1'));
      const resp = r === 1 ? rng.bytes(rng.int(200)) : mutate(rng, Buffer.from(rng.pick(RESPONSES), 'latin1'));
      splitInto(rng, c, reqDir, req, t, events);
      splitInto(rng, c, reqDir === 0 ? 1 : 0, resp, t + 500n, events);
      if (rng.int(20) === 0) c.lose(rng.pick([Direction.send, Direction.recv]), rng.int(5000));
    }
    // Mild shuffling: neighbouring events swapped, as if from different CPUs.
    for (let i = 1; i < events.length; i++) if (rng.int(8) === 0) [events[i - 1], events[i]] = [events[i]!, events[i - 1]!];
    if (rng.int(3) > 0) events.push(c.close(t));
    tracker.handleBatch(events);
    if (conn % 100 === 0) tracker.tick(t + 60_000_000_000n);
  }
  tracker.flushAll();
  const elapsed = Date.now() - started;
  assert.equal(tracker.stats.errors, 0);
  assert.equal(tracker.openConnections, 0);
  assert.ok(tracker.stats.parseFailures > 0);
  assert.ok(sink.rows.length > 0, 'some mutated exchanges are still valid');
  for (const r of sink.rows) {
    assert.ok(r.latencyNs > 0n);
    assert.ok(r.reqBody.length <= 512 * 4 && r.respBody.length <= 512 * 4);
    JSON.parse(r.reqHeaders);
    JSON.parse(r.respHeaders);
  }
  assert.ok(elapsed < 10_000, `took ${elapsed} ms`);
});

test('long random streams on one connection stay within the buffer cap', () => {
  const rng = new Rng(7);
  const maxBuffered = 16 * 1024;
  const tracker = new ConnectionTracker(new ArraySink(), { maxBufferedBytes: maxBuffered });
  const c = new ConnScript(endpoint());
  tracker.handleBatch([c.open(1n), c.recv('GET / HTTP/1.1\r\n\r\n', 2n)]);
  // Plausible-looking prefixes keep the parser waiting; random bytes make it resync.
  for (let i = 0; i < 2000; i++) {
    const chunk = rng.int(3) === 0 ? Buffer.from('GET /' + 'a'.repeat(rng.int(300))) : rng.bytes(rng.int(600));
    tracker.handleBatch([c.recv(chunk, 3n)]);
    const conn = (tracker as unknown as { conns: Map<number, { streams: { buffered: number }[] }> }).conns.values().next().value!;
    assert.ok(conn.streams[1]!.buffered <= maxBuffered + 600, `buffered ${conn.streams[1]!.buffered}`);
  }
  assert.equal(tracker.stats.errors, 0);
});
