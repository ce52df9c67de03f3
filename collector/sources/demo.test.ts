import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Collector } from '../collector.ts';
import { ConnectionTracker } from '../conn/tracker.ts';
import { ArraySink } from '../synth/conn-script.ts';
import { DemoSource } from './demo.ts';

const START = 1_700_000_000_000_000_000n;

test('demo source: N ticks through tracker and parser give well-formed rows for both sides', () => {
  const src = new DemoSource({ rate: 200, seed: 3, clock: () => START });
  const sink = new ArraySink();
  const t = new ConnectionTracker(sink);
  for (let i = 0; i < 50; i++) {
    t.handleBatch(src.produce(100));
    t.tick(START + BigInt(i) * 100_000_000n);
  }
  t.handleBatch(src.closeAll());
  t.flushAll();
  const rows = sink.rows;
  const requests = 200 * 5;
  assert.equal(rows.length, 2 * requests, 'one client row and one server row per request');
  assert.equal(t.stats.parseFailures, 0);
  assert.equal(t.stats.expiredRequests, 0);
  assert.equal(t.stats.unmatchedResponses, 0);
  assert.equal(t.stats.errors, 0);
  assert.equal(t.openConnections, 0);
  const byRole = { 1: 0, 2: 0 } as Record<number, number>;
  const statuses = new Set<number>();
  const methods = new Set<string>();
  for (const r of rows) {
    byRole[r.traceRole]!++;
    statuses.add(r.respStatus);
    methods.add(r.reqMethod);
    assert.ok(r.latencyNs > 0n && r.latencyNs < 10_000_000_000n);
    assert.ok(r.timeNs >= START - 1_000_000n);
    assert.match(r.reqPath, /^\/[\w/?=+.-]*$/);
    assert.equal(typeof JSON.parse(r.reqHeaders), 'object');
    assert.equal(JSON.parse(r.respHeaders)['content-type'], 'application/json');
    assert.equal(r.contentType, 1);
    if (r.respStatus !== 204) assert.ok(r.respBodySize > 0);
    if (r.respBodySize <= 512 && r.respStatus !== 204) JSON.parse(r.respBody);
    if (r.reqBodySize > 0 && r.reqBodySize <= 512) JSON.parse(r.reqBody);
    if (JSON.parse(r.reqHeaders).authorization !== undefined) assert.equal(JSON.parse(r.reqHeaders).authorization, '<redacted>');
    assert.ok(r.upid.pid >= 4101 && r.upid.pid <= 4106);
  }
  assert.equal(byRole[1], requests);
  assert.equal(byRole[2], requests);
  assert.ok(statuses.has(200) && statuses.has(404) && statuses.has(500), [...statuses].join());
  assert.ok(methods.has('GET') && methods.has('POST') && methods.has('DELETE'));
  assert.ok(rows.some((r) => JSON.parse(r.respHeaders)['transfer-encoding'] === 'chunked'));
  // Server-side latency is shorter than the client's for the same exchange.
  const server = rows.filter((r) => r.traceRole === 2).map((r) => r.latencyNs).sort((a, b) => Number(a - b));
  const median = server[server.length >> 1]!;
  assert.ok(median > 1_000_000n && median < 200_000_000n, `median ${median}`);
});

test('Collector: start/stop with the demo source delivers rows; stop flushes', async () => {
  const sink = new ArraySink();
  const src = new DemoSource({ rate: 500, intervalMs: 20 });
  const col = new Collector(src, sink, { tickIntervalMs: 50 });
  await col.start();
  await new Promise((r) => setTimeout(r, 400));
  await col.stop();
  const s = col.stats();
  assert.ok(s.records > 50, `records ${s.records}`);
  assert.equal(s.records, sink.rows.length);
  assert.equal(s.parseFailures, 0);
  assert.equal(s.openConnections, 0);
  assert.equal(s.source.events, s.events);
  assert.equal(s.records % 2, 0, 'both sides of every exchange');
});
