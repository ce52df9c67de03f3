// Differential test of the header JSON bytes path: the same traffic parsed with the bytes path on
// and off gives the same rows, and each bytes-path JSON is exactly Buffer.from(headersJson(head))
// of the strings path (bodies: ASCII ones as bytes, others decoded, all read back as sent) — over the recorded captures, the demo source's traffic and generated heads
// full of the rare cases (case, repeats, redaction incl. custom names, non-ASCII, escapes, tabs,
// obs-fold, trailers, many uncommon names).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { HttpEventRow, RowSink, RowTypes, TableName } from '../../engine/schema.ts';
import { Utf8Text, textRow } from '../../engine/utf8-text.ts';
import { ConnectionTracker } from '../conn/tracker.ts';
import type { SocketEvent } from '../events.ts';
import { FIXTURES, loadRecorded } from '../fuzz/corpus.ts';
import { DemoSource } from '../sources/demo.ts';
import { PcapSource } from '../sources/pcap.ts';
import { ConnScript, endpoint } from '../synth/conn-script.ts';
import { Rng } from '../synth/rng.ts';
import { useJsonBytes } from './head-parser.ts';

class RawSink implements RowSink {
  readonly rows: HttpEventRow[] = [];
  append<T extends TableName>(table: T, row: RowTypes[T]): void {
    if (table === 'http_events') this.rows.push(row as HttpEventRow);
  }
}

const REDACT = { redactHeaders: ['authorization', 'cookie', 'set-cookie', 'x-custom-secret', 'x-api-key'], maxHeadBytes: 256 * 1024 };

function rowsOf(batches: SocketEvent[][], bytes: boolean): HttpEventRow[] {
  useJsonBytes(bytes);
  try {
    const sink = new RawSink();
    const tracker = new ConnectionTracker(sink, { http: REDACT });
    for (const b of batches) tracker.handleBatch(b);
    tracker.flushAll();
    return sink.rows;
  } finally {
    useJsonBytes(true);
  }
}

const bytesOf = (v: string | Utf8Text): Buffer =>
  typeof v === 'string' ? Buffer.from(v) : Buffer.from(v.bytes.buffer, v.bytes.byteOffset + v.start, v.end - v.start);

/** Both runs' rows agree; returns how many header values took the bytes path. */
function compare(batches: SocketEvent[][], what: string): number {
  const fast = rowsOf(batches, true);
  const slow = rowsOf(batches, false);
  assert.equal(fast.length, slow.length, what);
  assert.ok(fast.length > 0, what);
  let viaBytes = 0;
  for (let i = 0; i < fast.length; i++) {
    const f = fast[i]!;
    const s = slow[i]!;
    for (const k of ['reqHeaders', 'respHeaders'] as const) {
      assert.equal(typeof s[k], 'string', `${what}: the strings path makes strings`);
      if (f[k] instanceof Utf8Text) {
        viaBytes++;
        assert.equal((f[k] as Utf8Text).chars, (s[k] as string).length, `${what} row ${i} ${k}: chars`);
      }
      assert.ok(bytesOf(f[k]).equals(Buffer.from(s[k] as string)), `${what} row ${i} ${k}: ${String(f[k])} vs ${String(s[k])}`);
      JSON.parse(String(f[k]));
    }
    assert.deepEqual(textRow(f), textRow(s), `${what} row ${i}`);
  }
  return viaBytes;
}

async function recorded(name: string): Promise<SocketEvent[][]> {
  const events: SocketEvent[] = [];
  await new PcapSource(`${FIXTURES}${name}.pcapng`).start((b) => events.push(...b));
  return [events];
}

test('recorded captures and demo traffic: bytes-path JSON equals the strings path', async () => {
  for (const name of ['http', 'http-keepalive']) {
    const batches = await recorded(name);
    const n = compare(batches, name);
    assert.ok(n > 0, `${name}: some heads took the bytes path`);
  }
  const src = new DemoSource({ rate: 10_000, seed: 3, clock: () => 1_700_000_000_000_000_000n });
  const batches: SocketEvent[][] = [];
  for (let k = 0; k < 40; k++) batches.push(src.produce(50));
  batches.push(src.closeAll());
  assert.ok(compare(batches, 'demo') > 0);
});

const NAMES = ['Host', 'host', 'ACCEPT', 'Content-Type', 'content-type', 'X-Custom-Secret', 'Authorization', 'Cookie',
  'X-Api-Key', 'x-a', 'X-B', 'x-request-id', 'Set-Cookie', 'Via', 'x-' + 'long'.repeat(30), 'Content-Encoding', 'ETag'];
const VALUES = ['v', 'application/json', 'a"b', 'back\\slash', 'tab\tinside', 'ünï', '日本', '', '  padded  ', '*/*',
  'x'.repeat(300), 'gzip', 'text/html; charset=utf-8'];

test('generated heads with every rare case: bytes-path JSON equals the strings path', () => {
  const rng = new Rng(99);
  const batches: SocketEvent[][] = [];
  let t = 1_700_000_000_000_000_000n;
  let viaBytes = 0;
  let total = 0;
  const bodies: string[] = [];
  for (let conn = 0; conn < 300; conn++) {
    const c = new ConnScript(endpoint({ connGen: BigInt(conn + 1), remotePort: 30000 + conn }));
    const events: SocketEvent[] = [c.open(t++)];
    for (let m = 0; m < 4; m++) {
      const head = (first: string): string => {
        let s = first + '\r\n';
        const n = rng.int(8);
        for (let h = 0; h < n; h++) {
          s += `${rng.pick(NAMES)}:${rng.int(2) ? ' ' : ''}${rng.pick(VALUES)}\r\n`;
          if (rng.int(25) === 0) s += ` folded ${rng.pick(VALUES)}\r\n`;
        }
        return s;
      };
      const chunked = rng.int(6) === 0;
      // Some heads bigger than a slab (the scan stops writing; the two-pass writer writes them).
      const big = conn % 50 === 0 ? Array.from({ length: 70 }, (_, k) => `X-Big-${k}: ${'v'.repeat(1000)}\r\n`).join('') : '';
      const req = head(`GET /p/${conn}/${m} HTTP/1.1`) + big + '\r\n';
      const body = m % 2 === 0 ? `{"m":${m}}` : `{"m":"ünï ${m}"}`;
      bodies.push(body);
      const resp = chunked
        ? head('HTTP/1.1 200 OK').replace(/content-length[^\r]*\r\n/gi, '').replace(/content-encoding[^\r]*\r\n/gi, '') +
          `Transfer-Encoding: chunked\r\n\r\n${body.length.toString(16)}\r\n${body}\r\n0\r\n${rng.int(2) ? `X-Trailer: ${rng.pick(VALUES)}\r\nHost: t\r\n` : ''}\r\n`
        : head('HTTP/1.1 200 OK').replace(/content-length[^\r]*\r\n/gi, '').replace(/content-encoding[^\r]*\r\n/gi, '') +
          `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
      events.push(c.recv(Buffer.from(req), t++), c.send(Buffer.from(resp), t++));
    }
    events.push(c.close(t++));
    batches.push(events);
  }
  const fast = rowsOf(batches, true);
  // Bodies: ASCII ones as bytes, the others decoded; both read back as the text sent.
  for (const r of fast) assert.equal(String(r.respBody), bodies[Number(/^\/p\/(\d+)\/(\d)$/.exec(r.reqPath)![1]) * 4 + Number(r.reqPath.slice(-1))], r.reqPath);
  assert.ok(fast.length > bodies.length / 2);
  assert.ok(fast.some((r) => r.respBody instanceof Utf8Text) && fast.some((r) => typeof r.respBody === 'string'));
  for (const r of fast) for (const v of [r.reqHeaders, r.respHeaders]) (v instanceof Utf8Text ? viaBytes++ : 0), total++;
  compare(batches, 'generated');
  // Both paths are exercised: plain heads take the bytes path, rare cases the strings path.
  assert.ok(viaBytes > total / 10 && viaBytes < total * 0.9, `${viaBytes} of ${total} via bytes`);
});

test('mutated recorded connections (the fuzz corpus): bytes-path JSON equals the strings path', async () => {
  const rng = new Rng(2026);
  const conns = [...(await loadRecorded(`${FIXTURES}http.pcapng`)), ...(await loadRecorded(`${FIXTURES}http-keepalive.pcapng`))];
  // Mutations aimed at what decides the path: bytes that need escapes or are not ASCII, case,
  // repeated or folded lines, redacted names, plus random flips.
  const inserts = ['"', '\\', '\t', 'é', '\xff', 'X-Api-Key: k\r\n', 'Host: again\r\n', ' folded\r\n', 'ACCEPT: a\r\n', 'x-custom-secret: s\r\n'];
  const batches: SocketEvent[][] = [];
  let t = 1_700_000_000_000_000_000n;
  for (let round = 0; round < 20; round++) {
    for (let k = 0; k < conns.length; k++) {
      const c = new ConnScript(endpoint({ connGen: BigInt(round * 10_000 + k + 1), remotePort: 20000 + k }));
      const events: SocketEvent[] = [c.open(t++)];
      for (const chunk of conns[k]!) {
        let b = chunk.payload;
        if (rng.int(3) === 0) {
          const s = b.toString('latin1');
          const at = s.indexOf('\r\n') + 2 + rng.int(Math.max(1, s.indexOf('\r\n\r\n') - s.indexOf('\r\n')));
          const ins = rng.pick(inserts);
          b = Buffer.concat([b.subarray(0, at), Buffer.from(ins, ins === 'é' ? 'utf8' : 'latin1'), b.subarray(at)]);
        }
        if (rng.int(10) === 0) {
          b = Buffer.from(b);
          b[rng.int(b.length)] = rng.int(256);
        }
        events.push(c.data(chunk.direction, b, t++));
      }
      events.push(c.close(t++));
      batches.push(events);
    }
  }
  assert.ok(compare(batches, 'mutated corpus') > 0);
});
