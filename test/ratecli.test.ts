// The benchmarks' open-loop rate client (bench/ratecli, C, built by rateClient on first use)
// against a node HTTP server in this process: every scheduled request is sent exactly once and
// each ends as exactly one of ok / HTTP error / connection error / timeout; latency counts from
// the intended send time (a stalled response delays the requests queued behind it, and their
// latency shows it: coordinated omission corrected); bad input is a clear error. No root needed.
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { after, test } from 'node:test';
import { rateClient, type LateUs, type RateResult } from '../bench/_nginx.ts';
import { freePort } from './helpers/net.ts';

const servers: Server[] = [];
after(() => {
  for (const s of servers) {
    s.closeAllConnections();
    s.close();
  }
});

/** A keep-alive server; `handle` gets the request's sequence number (/seq/N). Returns its URL
 *  and how often each N arrived. */
async function serve(handle: (id: number, res: ServerResponse) => void): Promise<{ url: string; seen: Map<number, number> }> {
  const seen = new Map<number, number>();
  const s = createServer((req: IncomingMessage, res: ServerResponse) => {
    const id = Number(/^\/seq\/(\d+)$/.exec(req.url ?? '')?.[1] ?? -1);
    seen.set(id, (seen.get(id) ?? 0) + 1);
    handle(id, res);
  });
  s.keepAliveTimeout = 60_000;
  servers.push(s);
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(s.address() as { port: number }).port}/`, seen };
}

const okBody = (res: ServerResponse, status = 200) => {
  res.writeHead(status, { 'content-length': '6' });
  res.end('hello\n');
};

function assertOrdered(r: RateResult): void {
  const ps = [r.p50Ms, r.p90Ms, r.p99Ms, r.p999Ms, r.maxMs];
  assert.ok(ps.every((p, i) => p >= 0 && (i === 0 || p >= ps[i - 1])), `latency percentiles out of order: ${ps}`);
  for (const l of [r.schedLateUs, r.sendLateUs] as LateUs[]) {
    const ls = [l.p50, l.p90, l.p99, l.p999, l.max];
    assert.ok(ls.every((p, i) => p >= 0 && (i === 0 || p >= ls[i - 1])), `lateness percentiles out of order: ${ls}`);
  }
  assert.ok(r.serviceP50Ms <= r.p50Ms && r.serviceP99Ms <= r.maxMs, 'service time exceeds latency from the intended time');
}

test('exact count: every scheduled request is sent once and answered once', async () => {
  const { url, seen } = await serve((_id, res) => okBody(res));
  const r = await rateClient(url, 2000, 1, { conns: 4 });
  assert.equal(r.count, 2000);
  assert.equal(r.sent, 2000);
  assert.equal(r.ok, 2000);
  assert.equal(r.errors, 0);
  assert.equal(r.timeouts, 0);
  assert.equal(r.failed, 0);
  assert.equal(seen.size, 2000);
  for (let i = 0; i < 2000; i++) assert.equal(seen.get(i), 1, `/seq/${i} arrived ${seen.get(i) ?? 0} times`);
  assertOrdered(r);
  assert.ok(r.achievedRate > 0 && r.cpuMs >= 0);
});

test('latency counts from the intended send time (coordinated omission corrected)', async () => {
  // One connection at 1000/s; the answer to /seq/100 is held 1 s. Requests 101..999 were due at
  // t0+101..999 ms but cannot be written before t0+1100 ms: each waits ≥ 100 ms, so p90 must be
  // ≥ 100 ms. A client timing from the write would report p90 near the service time (well under
  // a millisecond here). The slowest is /seq/100 (due at 0.1 s) or one queued right behind it: a
  // request due after 0.3 s would need a stall of its own of over 200 ms to overtake it.
  const { url } = await serve((id, res) => (id === 100 ? setTimeout(() => okBody(res), 1000) : okBody(res)));
  const r = await rateClient(url, 1000, 1, { conns: 1 });
  assert.equal(r.ok, 1000);
  assert.equal(r.failed, 0);
  assert.ok(r.p90Ms >= 100, `p90 ${r.p90Ms} ms: queueing behind the stalled response was not counted`);
  assert.ok(r.maxMs >= 1000, `max ${r.maxMs} ms: the stalled response itself took ≥ 1 s`);
  assert.ok(r.maxAtS >= 0.1 && r.maxAtS <= 0.3, `the slowest request was due at ${r.maxAtS} s, not near 0.1 s`);
  assert.ok(r.sendLateUs.p90 >= 100_000, `send lateness p90 ${r.sendLateUs.p90} µs: requests waited ≥ 100 ms for the connection`);
  assertOrdered(r);
});

test('HTTP errors, unsupported framing and timeouts are counted, each request once', async () => {
  // 100 requests: N % 10 == 0 → 500; N % 10 == 3 → chunked body (not parsed: the connection is
  // dropped, a connection error); N == 5 → never answered (timeout after 1 s).
  const { url, seen } = await serve((id, res) => {
    if (id === 5) return;
    if (id % 10 === 0) return okBody(res, 500);
    if (id % 10 === 3) {
      res.writeHead(200);
      res.write('hel');
      return void res.end('lo\n');
    }
    okBody(res);
  });
  const r = await rateClient(url, 200, 0.5, { conns: 2, timeoutMs: 1000 });
  assert.equal(r.count, 100);
  assert.equal(r.sent, 100);
  assert.equal(r.errors, 20);
  assert.equal(r.timeouts, 1);
  assert.equal(r.ok, 79);
  assert.equal(r.failed, 21);
  assert.equal(r.ok + r.failed, r.count);
  for (let i = 0; i < 100; i++) assert.equal(seen.get(i), 1, `/seq/${i} arrived ${seen.get(i) ?? 0} times`);
  assertOrdered(r);
});

test('(root) -R: the client runs under SCHED_FIFO and still sends exactly the schedule', async () => {
  const { url, seen } = await serve((_id, res) => okBody(res));
  const r = await rateClient(url, 1000, 0.5, { conns: 2, rtPrio: 10 });
  assert.equal(r.rtPrio, 10);
  assert.equal(r.ok, 500);
  assert.equal(r.failed, 0);
  assert.equal(seen.size, 500);
  assertOrdered(r);
});

test('-S: spinning to the intended times keeps the exact schedule', async () => {
  const { url, seen } = await serve((_id, res) => okBody(res));
  const r = await rateClient(url, 1000, 0.5, { conns: 2, spinUs: 50 });
  assert.equal(r.spinUs, 50);
  assert.equal(r.ok, 500);
  assert.equal(r.failed, 0);
  assert.equal(seen.size, 500);
  assertOrdered(r);
});

test('bad input: a clear error, not a crash or a hang', async () => {
  const port = await freePort();
  await assert.rejects(rateClient(`http://127.0.0.1:${port}/`, 100, 1), /rate client failed \(exit 2\): ratecli: connect 127\.0\.0\.1:\d+: Connection refused/);
  await assert.rejects(rateClient(`http://127.0.0.1:${port}/`, 0, 1), /ratecli: bad rate/);
  await assert.rejects(rateClient(`http://localhost:${port}/`, 100, 1), /not an IPv4 or IPv6 address/);
  await assert.rejects(rateClient(`http://127.0.0.1:${port}/`, 1, 0.1), /rounds to 0 requests/);
  await assert.rejects(rateClient(`http://127.0.0.1:${port}/`, 100, 1, { rtPrio: 100 }), /bad real-time priority/);
  await assert.rejects(rateClient(`http://127.0.0.1:${port}/`, 100, 1, { spinUs: -1 }), /bad spin/);
});
