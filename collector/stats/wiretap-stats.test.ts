import { test } from 'node:test';
import assert from 'node:assert/strict';
import { newStats } from '../stats.ts';
import { WiretapStatsProducer } from './wiretap-stats.ts';

test('wiretap_stats rows are per-interval deltas of every counter, TLS and mmsg losses included', () => {
  const p = new WiretapStatsProducer({ append() {} }, 'node-a');
  const collector = newStats();
  collector.records = 10;
  collector.parseFailuresByProtocol = { http: 2 };
  const first = p.sample({ kernelEvents: 100, kernelDrops: 1, kernelTlsNoFd: 3, kernelMmsgLost: 4 }, collector, 2_000n, 1_000n);
  assert.deepEqual(
    [first.node, first.intervalNs, first.events, first.ringbufDrops, first.tlsUnmappedCalls, first.mmsgLost, first.records, first.parseFailuresByProtocol],
    ['node-a', 1000, 100, 1, 3, 4, 10, '{"http":2}'],
  );
  collector.records = 15;
  const second = p.sample({ kernelEvents: 160, kernelDrops: 1, kernelTlsNoFd: 5, kernelMmsgLost: 4 }, collector, 5_000n, 1_000n);
  assert.deepEqual(
    [second.intervalNs, second.events, second.ringbufDrops, second.tlsUnmappedCalls, second.mmsgLost, second.records, second.parseFailuresByProtocol],
    [3000, 60, 0, 2, 0, 5, '{}'],
  );
});
