// Differential test of the reworked HTTP parser (two-pass head scan, interned names, direct body
// decode) against the frozen pre-rework copy in ./legacy: the same events through two trackers
// must give the same rows and the same counters — on the recorded streams and on mutated ones
// (header-level mutations aimed at what the rework changed: case, escapes, non-ASCII bytes,
// repeated and folded headers, odd Content-Length / Transfer-Encoding values, splits, gaps).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConnectionTracker } from '../conn/tracker.ts';
import type { SocketEvent } from '../events.ts';
import { FIXTURES, loadRecorded } from '../fuzz/corpus.ts';
import { KafkaProtocol } from '../kafka/protocol.ts';
import { MysqlProtocol } from '../mysql/protocol.ts';
import type { Protocol } from '../protocol.ts';
import { PcapSource } from '../sources/pcap.ts';
import { newStats, type CollectorStats } from '../stats.ts';
import { ArraySink, ConnScript, endpoint } from '../synth/conn-script.ts';
import { Rng } from '../synth/rng.ts';
import { LegacyHttpProtocol } from './legacy/protocol.ts';
import { HttpProtocol } from './protocol.ts';
import type { HttpOptions } from './options.ts';

type Make = (stats: CollectorStats, http: Partial<HttpOptions>) => Protocol;
const current: Make = (s, o) => new HttpProtocol(s, o);
const legacy: Make = (s, o) => new LegacyHttpProtocol(s, o);

function replay(make: Make, batches: SocketEvent[][], http: Partial<HttpOptions> = {}, tickEvery = 0) {
  const stats = newStats();
  const sink = new ArraySink();
  const tracker = new ConnectionTracker(sink, { http, maxBufferedBytes: 16 * 1024, reorderWindow: 4 }, stats, [
    make(stats, http), new MysqlProtocol(stats), new KafkaProtocol(stats),
  ]);
  let t = 0n;
  batches.forEach((b, i) => {
    tracker.handleBatch(b);
    for (const e of b) if (e.timeNs > t) t = e.timeNs;
    if (tickEvery > 0 && i % tickEvery === 0) tracker.tick(t + 40_000_000_000n);
  });
  tracker.flushAll();
  return { rows: sink.rows, stats };
}

function same(batches: SocketEvent[][], http: Partial<HttpOptions> = {}, tickEvery = 0): number {
  const a = replay(legacy, batches, http, tickEvery);
  const b = replay(current, batches, http, tickEvery);
  assert.deepStrictEqual(b.stats, a.stats);
  assert.equal(b.rows.length, a.rows.length);
  for (let i = 0; i < a.rows.length; i++) assert.deepStrictEqual(b.rows[i], a.rows[i], `row ${i}`);
  return a.rows.length;
}

async function recordedEvents(name: string): Promise<SocketEvent[]> {
  const events: SocketEvent[] = [];
  await new PcapSource(`${FIXTURES}${name}.pcapng`).start((b) => events.push(...b));
  return events;
}

test('recorded streams: same rows and counters as the pre-rework parser', async () => {
  for (const name of ['http', 'http-keepalive']) {
    const events = await recordedEvents(name);
    // All at once, one event per batch, and in odd-sized batches.
    assert.ok(same([events]) > 30, name);
    same(events.map((e) => [e]));
    const odd: SocketEvent[][] = [];
    for (let i = 0; i < events.length; i += 7) odd.push(events.slice(i, i + 7));
    same(odd, { bodyCap: 64, redactHeaders: ['x-request-id', 'Date'] });
  }
});

// Header-level mutations of one message's text.
const INSERTS = ['"', '\\', '\t', '\u00e9', '\xff', ' ', ',', '\r\n', '\n', '\r\n ', '\r\n\t x', ':', '\x7f', '\x01', '0', '9'];
const LINES = [
  'Content-Length: 5, 5', 'Content-Length: 05', 'Content-Length: +5', 'Content-Length:  3 ', 'content-length: 999999999999999999',
  'CONTENT-LENGTH: 4', 'Content-Length: 4\u00e9', 'Transfer-Encoding: gzip, Chunked', 'transfer-encoding: identity',
  'Transfer-Encoding: chunked\u00e9', 'X-Dup: a', 'x-dup: "b\\"', 'X-Folded: a\r\n  b', 'Cookie: secret', 'cookie: more',
  'Authorization: Basic x', 'Host: h\u00e9llo', 'X-Tab: a\tb', 'Content-Type: APPLICATION/JSON', 'content-type: text/html; charset=\u00fc',
  'Content-Encoding: GZIP', 'Expect: 100-continue', 'Upgrade: websocket', 'X_Under~score: 1', 'Weird-Name!#$%&\'*+.^`|: v',
];

function mutateText(rng: Rng, msg: string): string {
  const crlf = msg.indexOf('\r\n');
  const headEnd = msg.indexOf('\r\n\r\n');
  if (crlf < 0 || headEnd < 0) return msg;
  switch (rng.int(6)) {
    case 0: { // insert a tricky byte inside the head
      const at = 1 + rng.int(headEnd);
      return msg.slice(0, at) + rng.pick(INSERTS) + msg.slice(at);
    }
    case 1: // add a header line
    case 2:
      return msg.slice(0, crlf) + '\r\n' + rng.pick(LINES) + msg.slice(crlf);
    case 3: { // change the case of the head
      const head = msg.slice(0, headEnd);
      return (rng.int(2) === 0 ? head.toUpperCase() : head.toLowerCase()) + msg.slice(headEnd);
    }
    case 4: // bare LF line ends
      return msg.slice(0, headEnd + 4).replace(/\r\n/g, '\n') + msg.slice(headEnd + 4);
    default:
      return msg;
  }
}

const REQUESTS = [
  'GET /api/users/1?x=%C3%A9&y=\u00e9 HTTP/1.1\r\nHost: a\r\nAccept: */*\r\n\r\n',
  'POST /api/orders HTTP/1.1\r\nContent-Type: application/json\r\nContent-Length: 11\r\n\r\n{"a":[1,2]}',
  'PUT /x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\nT: "1"\r\nT: 2\r\n\r\n',
  'HEAD /h HTTP/1.0\r\n\r\n',
  'POST /up HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 4\r\n\r\nbody',
  'CONNECT host:443 HTTP/1.1\r\nHost: host:443\r\n\r\n',
  'GET /ws HTTP/1.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n',
];
const RESPONSES = [
  'HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Type: application/json\r\n\r\nhello',
  'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nh\u00e9llo\r\n0\r\nX-T: \u00fc\r\n\r\n',
  'HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n',
  'HTTP/1.0 500 Oops \u00e9\r\n\r\nclose-delimited',
  'HTTP/1.1 304 Not Modified\r\nContent-Length: 10\r\nETag: "x"\r\n\r\n',
  'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n\x81\x05hello',
  'HTTP/1.1 200 Connection established\r\n\r\n',
  'HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: 25\r\n\r\n\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03\xcbH\xcd\xc9\xc9\x07\x00\x86\xa6\x106\x05\x00\x00\x00',
];

test('mutated synthetic and recorded traffic: same rows and counters as the pre-rework parser', async () => {
  const rng = new Rng(7);
  const recorded = [...(await loadRecorded(`${FIXTURES}http.pcapng`)), ...(await loadRecorded(`${FIXTURES}http-keepalive.pcapng`))];
  let t = 1_700_000_000_000_000_000n;
  let rows = 0;
  for (let round = 0; round < 40; round++) {
    const batches: SocketEvent[][] = [];
    for (let conn = 0; conn < 25; conn++) {
      const c = new ConnScript(endpoint({ fd: conn, connGen: BigInt(round * 100 + conn), role: rng.pick([0, 1, 2] as const) }));
      const batch: SocketEvent[] = [];
      if (rng.int(4) > 0) batch.push(c.open(t));
      const pairs: [0 | 1, Buffer][] = [];
      if (rng.int(3) === 0) {
        // A window of a recorded connection, its payloads sometimes mutated as text.
        const rec = rng.pick(recorded);
        const from = rng.int(Math.max(1, rec.length - 8));
        for (const ch of rec.slice(from, from + 8)) {
          const p = rng.int(4) === 0 ? Buffer.from(mutateText(rng, ch.payload.toString('latin1')), 'latin1') : ch.payload;
          pairs.push([ch.direction, p]);
        }
      } else {
        for (let k = 0; k < 1 + rng.int(4); k++) {
          // utf8 for the synthetic texts (é becomes 2 bytes); a mutation may add raw latin1 bytes.
          const rq = rng.int(3) > 0 ? mutateText(rng, rng.pick(REQUESTS)) : rng.pick(REQUESTS);
          const rs = rng.int(3) > 0 ? mutateText(rng, rng.pick(RESPONSES)) : rng.pick(RESPONSES);
          pairs.push([1, Buffer.from(rq, rng.int(2) === 0 ? 'utf8' : 'latin1')], [0, Buffer.from(rs, 'latin1')]);
        }
      }
      for (const [dir, bytes] of pairs) {
        t += 1000n;
        if (rng.int(40) === 0) {
          c.lose(dir, 1 + rng.int(bytes.length + 1));
          continue;
        }
        const pieces = rng.int(4) === 0 ? 2 + rng.int(4) : 1;
        const step = Math.max(1, Math.ceil(bytes.length / pieces));
        for (let off = 0; off < Math.max(bytes.length, 1); off += step) {
          const part = bytes.subarray(off, off + step);
          batch.push(c.data(dir, part, t, rng.int(30) === 0 ? rng.int(part.length + 1) : Infinity));
        }
      }
      if (rng.int(3) > 0) batch.push(c.close(t));
      // Sometimes one connection's events over several batches.
      if (rng.int(3) === 0) for (const e of batch) batches.push([e]);
      else batches.push(batch);
    }
    const opts: Partial<HttpOptions> = round % 3 === 0 ? { bodyCap: 3, maxHeaders: 4, maxHeadBytes: 90 } : round % 3 === 1 ? { redactHeaders: ['host', 'X-DUP'] } : {};
    rows += same(batches, opts, round % 2 === 0 ? 10 : 0);
  }
  assert.ok(rows > 500, `only ${rows} rows compared`);
});
