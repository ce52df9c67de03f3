// The recorded MySQL and Kafka streams (test/fixtures/pcap) give exactly the rows they gave when
// <capture>.rows.txt was written: one line per row — command, the request/response summaries
// (Kafka's JSON text verbatim) and a hash of every column — so a faster parser or summary writer
// must stay byte-identical. (HTTP has its own: ../http/recorded.test.ts.) On a mismatch the test
// writes <capture>.rows.actual next to the expected file: diff them; if the change is intended,
// move .actual over .txt.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { test } from 'node:test';
import type { KafkaEventRow } from '../../engine/tables/kafka.ts';
import type { MysqlEventRow } from '../../engine/tables/mysql.ts';
import type { SocketEvent } from '../events.ts';
import { FIXTURES } from '../fuzz/corpus.ts';
import { TableSink } from '../mysql/testing.ts';
import { PcapSource } from '../sources/pcap.ts';
import { ConnectionTracker } from './tracker.ts';

function hash(r: object): string {
  const all = JSON.stringify(r, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));
  return createHash('sha256').update(all).digest('hex').slice(0, 16);
}

const digests = {
  mysql: (r: MysqlEventRow) => `${r.reqCmd} ${JSON.stringify(r.reqBody)} ${r.respStatus} ${JSON.stringify(r.respBody)} lat=${r.latencyNs} ${hash(r)}`,
  kafka: (r: KafkaEventRow) => `${r.reqCmd} ${r.clientId} ${r.reqBody} ${r.resp} lat=${r.latencyNs} ${hash(r)}`,
};

function rowsOf(name: 'mysql' | 'kafka', batches: SocketEvent[][]): string[] {
  const sink = new TableSink();
  const tracker = new ConnectionTracker(sink);
  for (const b of batches) tracker.handleBatch(b);
  tracker.flushAll();
  assert.equal(tracker.stats.parseFailures, 0);
  assert.equal(tracker.stats.errors, 0);
  if (name === 'mysql') return sink.rowsOf('mysql_events').map(digests.mysql);
  return sink.rowsOf('kafka_events').map(digests.kafka);
}

for (const name of ['mysql', 'kafka'] as const) {
  test(`${name}.pcapng: the recorded rows, whether delivered all at once or one event per batch`, async () => {
    const events: SocketEvent[] = [];
    await new PcapSource(`${FIXTURES}${name}.pcapng`).start((b) => events.push(...b));
    const file = `${FIXTURES}${name}.rows.txt`;
    const expected = readFileSync(file, 'utf8').trimEnd().split('\n');
    const actual = rowsOf(name, [events]);
    if (actual.join('\n') !== expected.join('\n')) writeFileSync(file.replace(/\.txt$/, '.actual'), actual.join('\n') + '\n');
    assert.ok(expected.length > 10);
    assert.deepStrictEqual(actual, expected);
    assert.deepStrictEqual(rowsOf(name, events.map((e) => [e])).sort(), [...expected].sort());
  });
}
