// The recorded HTTP streams (test/fixtures/pcap) give exactly the rows the pre-rework parser gave:
// one line per row in <capture>.rows.txt — method, path, status, body sizes, content type,
// latency and a hash of every column. The reworked parser (two-pass head scan, piece-by-piece
// reads) was checked row for row against the old one before it was removed, and these files
// were written then. On a mismatch the test writes <capture>.rows.actual next to the expected
// file: diff them; if the change is intended, move .actual over .txt.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { test } from 'node:test';
import type { HttpEventRow } from '../../engine/schema.ts';
import { ConnectionTracker } from '../conn/tracker.ts';
import type { SocketEvent } from '../events.ts';
import { FIXTURES } from '../fuzz/corpus.ts';
import { PcapSource } from '../sources/pcap.ts';
import { ArraySink } from '../synth/conn-script.ts';

function digest(r: HttpEventRow): string {
  const all = JSON.stringify(r, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));
  const hash = createHash('sha256').update(all).digest('hex').slice(0, 16);
  return `${r.reqMethod} ${r.reqPath} ${r.respStatus} ${r.reqBodySize}/${r.respBodySize} ct=${r.contentType} lat=${r.latencyNs} ${hash}`;
}

function rowsOf(batches: SocketEvent[][]): string[] {
  const sink = new ArraySink();
  const tracker = new ConnectionTracker(sink);
  for (const b of batches) tracker.handleBatch(b);
  tracker.flushAll();
  assert.equal(tracker.stats.parseFailures, 0);
  assert.equal(tracker.stats.errors, 0);
  return sink.rows.map(digest);
}

for (const name of ['http', 'http-keepalive']) {
  test(`${name}.pcapng: the recorded rows, whether delivered all at once or one event per batch`, async () => {
    const events: SocketEvent[] = [];
    await new PcapSource(`${FIXTURES}${name}.pcapng`).start((b) => events.push(...b));
    const file = `${FIXTURES}${name}.rows.txt`;
    const expected = readFileSync(file, 'utf8').trimEnd().split('\n');
    const actual = rowsOf([events]);
    if (actual.join('\n') !== expected.join('\n')) writeFileSync(file.replace(/\.txt$/, '.actual'), actual.join('\n') + '\n');
    assert.deepStrictEqual(actual, expected);
    // One event per batch: the same rows, the connections' rows interleaved in time order.
    assert.deepStrictEqual(rowsOf(events.map((e) => [e])).sort(), [...expected].sort());
  });
}
