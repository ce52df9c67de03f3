// Short fuzz runs for every parser (CI): mutated recorded streams and random bytes. The long run
// (≥ 1M inputs each) is `npm run bench -- fuzz`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HttpProtocol } from '../http/protocol.ts';
import { KafkaProtocol } from '../kafka/protocol.ts';
import { MysqlProtocol } from '../mysql/protocol.ts';
import type { Protocol } from '../protocol.ts';
import type { CollectorStats } from '../stats.ts';
import { FIXTURES, loadRecorded } from './corpus.ts';
import { runFuzz } from './harness.ts';

const MAX_BUFFERED = 64 * 1024;
/** Largest single event the harness builds: a recorded chunk, possibly doubled by a mutation. */
const SLACK = 256 * 1024;

const cases: [string, string, (s: CollectorStats) => Protocol][] = [
  ['http', 'http.pcapng', (s) => new HttpProtocol(s)],
  ['mysql', 'mysql.pcapng', (s) => new MysqlProtocol(s)],
  ['kafka', 'kafka.pcapng', (s) => new KafkaProtocol(s)],
];

for (const [name, file, protocol] of cases) {
  test(`${name}: 20k mutated recorded inputs — no exception, bounded buffers and queues, failures counted`, async () => {
    const corpus = await loadRecorded(FIXTURES + file);
    assert.ok(corpus.length > 0);
    const r = runFuzz(protocol, corpus, { inputs: 20_000, seed: 1, maxBufferedBytes: MAX_BUFFERED, inputsPerConnection: 10 });
    assert.equal(r.stats.errors, 0, 'no exception escaped a parser');
    assert.ok(r.maxBufferedSeen <= MAX_BUFFERED + SLACK, `buffered ${r.maxBufferedSeen}`);
    assert.ok(r.maxPendingSeen <= 1024, `pending ${r.maxPendingSeen}`);
    assert.ok(r.stats.parseFailures > 0, 'garbage was resynchronised (counted)');
    assert.ok(r.rows > 0, 'unmutated stretches still parse');
  });
}
