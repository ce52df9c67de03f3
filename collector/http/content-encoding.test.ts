import { test } from 'node:test';
import assert from 'node:assert/strict';
import { deflateRawSync, deflateSync, gzipSync } from 'node:zlib';
import { ConnectionTracker } from '../conn/tracker.ts';
import { ArraySink, ConnScript, endpoint } from '../synth/conn-script.ts';
import { decodeBody } from './content-encoding.ts';

function exchange(resp: Buffer, events?: (c: ConnScript, resp: Buffer) => ReturnType<ConnScript['send']>[]) {
  const sink = new ArraySink();
  const tracker = new ConnectionTracker(sink);
  const c = new ConnScript(endpoint());
  tracker.handleBatch([c.open(1n), c.recv('GET /a HTTP/1.1\r\nHost: x\r\n\r\n', 2n), ...(events ? events(c, resp) : [c.send(resp, 3n)])]);
  tracker.handleBatch([c.recv('GET /next HTTP/1.1\r\n\r\n', 10n), c.send('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok', 11n)]);
  tracker.flushAll();
  return { rows: sink.rows, stats: tracker.stats };
}

function response(encoding: string, body: Buffer, chunked = false): Buffer {
  if (chunked) {
    const half = body.length >> 1;
    const chunk = (b: Buffer) => Buffer.concat([Buffer.from(b.length.toString(16) + '\r\n'), b, Buffer.from('\r\n')]);
    return Buffer.concat([Buffer.from(`HTTP/1.1 200 OK\r\nContent-Encoding: ${encoding}\r\nTransfer-Encoding: chunked\r\n\r\n`), chunk(body.subarray(0, half)), chunk(body.subarray(half)), Buffer.from('0\r\n\r\n')]);
  }
  return Buffer.concat([Buffer.from(`HTTP/1.1 200 OK\r\nContent-Encoding: ${encoding}\r\nContent-Length: ${body.length}\r\n\r\n`), body]);
}

const json = JSON.stringify({ items: Array.from({ length: 200 }, (_, i) => ({ id: i, name: `item ${i}` })) });

test('gzip and deflate (zlib and raw) bodies are decoded for capture; the size kept is the wire size', () => {
  for (const [enc, body] of [['gzip', gzipSync(json)], ['deflate', deflateSync(json)], ['deflate', deflateRawSync(json)]] as const) {
    for (const chunked of [false, true]) {
      const { rows } = exchange(response(enc, body, chunked));
      assert.equal(rows[0]!.respBody, json.slice(0, 512), `${enc} chunked=${chunked}`);
      assert.equal(rows[0]!.respBodySize, body.length);
      assert.equal(rows[1]!.reqPath, '/next');
    }
  }
});

test('decoding is bounded: a compression bomb yields the cap, undecodable bytes stay raw', () => {
  const bomb = gzipSync(Buffer.alloc(200 * 1024 * 1024, 0x41)); // ~200 KiB compressed
  const out = decodeBody('gzip', bomb.subarray(0, 64 * 1024), 512, 1024 * 1024);
  assert.equal(out!.length, 512);
  assert.equal(out!.toString(), 'A'.repeat(512));
  const { rows } = exchange(response('gzip', Buffer.from('not gzip at all')));
  assert.equal(rows[0]!.respBody, 'not gzip at all');
});

test('a gap inside chunked framing completes the message with what was seen, resyncs, counted', () => {
  const head = 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n';
  const { rows, stats } = exchange(Buffer.alloc(0), (c) => {
    const first = c.send(head, 3n);
    c.lose(0, '5\r\nworld\r\n0\r\n\r\n'.length); // the rest of the body was not captured
    return [first];
  });
  assert.deepEqual(rows.map((r) => [r.reqPath, r.respStatus, r.respBody]), [['/a', 200, 'hello'], ['/next', 200, 'ok']]);
  assert.ok(stats.parseFailures >= 1);
});
