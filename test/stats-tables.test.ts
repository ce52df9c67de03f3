// conn_stats, process_stats and wiretap_stats end to end (root): real connections captured by
// the kernel tracer, the producers sampled, rows queried back over the Postgres wire. The
// collector is scoped to the test's own network namespace, where the traffic runs: it asserts
// exact counts and zero drops, which other load on the host must not change.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { execFile } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { after, before, test } from 'node:test';
import { resolveScope } from '../collector/scope/scope.ts';
import { EbpfSource } from '../collector/sources/ebpf.ts';
import { upidToString } from '../engine/upid.ts';
import { probe } from '../native/index.ts';
import { createLogger } from '../server/log.ts';
import { startStandalone, type Standalone } from '../server/standalone.ts';
import { netnsLab, netnsUnavailable, type NetnsLab } from './helpers/netns.ts';
import { startTicksOf } from './helpers/processes.ts';
import { pgQuery } from './helpers/sql.ts';

const execFileP = promisify(execFile);
const PY = join(dirname(fileURLToPath(import.meta.url)), 'fixtures', 'socket-paths.py');
const unavailable = probe() ?? netnsUnavailable();
const opts = { skip: unavailable ?? false };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let wiretap: Standalone;
let lab: NetnsLab;
/** python 'disable' scenario: an HTTP connection left open between two exchanges. */
let live: { pid: number; port: number; upid: string; first: [number, number]; second: [number, number] };
let other: { pid: number; port: number };

async function rows(sql: string): Promise<Record<string, unknown>[]> {
  await wiretap.engine.flush();
  return (await pgQuery(wiretap.port, sql)).rows;
}

/** Rows of the connection on `port` (both ends live in process `pid`). */
async function connRows(port: number, pid: number): Promise<Record<string, unknown>[]> {
  const rs = await rows(`select local_port, remote_port, trace_role, protocol, conn_open::int as o,
               conn_close::int as c, conn_active::int as a, bytes_sent::int as sent,
               bytes_recv::int as recv, upid::text as upid
          from conn_stats where local_port = ${port} or remote_port = ${port} order by time_, local_port`);
  const pidHex = pid.toString(16).padStart(8, '0');
  return rs.filter((r) => (r.upid as string).replace(/-/g, '').slice(8, 16) === pidHex);
}

before(async () => {
  if (unavailable) return;
  lab = netnsLab('wt-st-', 1, '10.215.0');
  wiretap = await startStandalone({
    port: 0, bind: '127.0.0.1', source: new EbpfSource(resolveScope({ netns: `/run/netns/${lab.nodes[0]!.ns}` })), bodyCap: 512, maxRows: 100_000,
    logger: createLogger('warn'), statsIntervalMs: 0, captureStatsIntervalMs: 3_600_000,
  });
  // Interval 1: the live connection after its first exchange (and its process sampled).
  const [cmd, ...args] = lab.exec(0, ['python3', PY, 'disable']); // ip netns exec: execs python, same pid
  const child = spawn(cmd!, args, { stdio: ['pipe', 'pipe', 'inherit'] });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d));
  for (let i = 0; i < 200 && out.split('\n').length < 2; i++) await sleep(50);
  const r = JSON.parse(out.split('\n')[0]);
  await sleep(300);
  wiretap.captureStats.sampleInterval();
  wiretap.captureStats.proc.sample(BigInt(Date.now()) * 1_000_000n);
  const upid = upidToString({ asid: 0, pid: r.pid, startTicks: startTicksOf(r.pid) });
  // Interval 2: its second exchange and close, plus a connection speaking no known protocol.
  child.stdin!.write('go\n');
  await new Promise((res) => child.on('exit', res));
  const done = JSON.parse(out.trim().split('\n').pop()!);
  live = { pid: r.pid, port: r.port, upid, first: r.first, second: done.second };
  const [ocmd, ...oargs] = lab.exec(0, ['python3', PY, 'other']);
  const { stdout } = await execFileP(ocmd!, oargs);
  other = JSON.parse(stdout);
  await sleep(300);
  wiretap.captureStats.sampleInterval();
});

after(async () => {
  await wiretap?.stop();
  lab?.cleanup();
});

test('conn_stats: a live connection, then its close, with exact byte counts and protocol', opts, async () => {
  const rs = await connRows(live.port, live.pid);
  assert.equal(rs.length, 4, JSON.stringify(rs));
  const [req1, resp1] = live.first;
  const [req2, resp2] = live.second;
  const server = rs.filter((r) => r.local_port === live.port);
  const client = rs.filter((r) => r.remote_port === live.port);
  assert.deepEqual(server.map((r) => [r.o, r.c, r.a, r.sent, r.recv, r.protocol, r.trace_role]), [
    [1, 0, 1, resp1, req1, 'http', 2],
    [0, 1, 0, resp1 + resp2, req1 + req2, 'http', 2],
  ]);
  assert.deepEqual(client.map((r) => [r.o, r.c, r.a, r.sent, r.recv, r.protocol, r.trace_role]), [
    [1, 0, 1, req1, resp1, 'http', 1],
    [0, 1, 0, req1 + req2, resp1 + resp2, 'http', 1],
  ]);
  for (const r of rs) assert.equal(r.upid, live.upid);
});

test('conn_stats: a connection speaking nothing we parse still has its counters', opts, async () => {
  const rs = await connRows(other.port, other.pid);
  assert.equal(rs.length, 2);
  for (const r of rs) assert.deepEqual([r.o, r.c, r.a, r.sent, r.recv, r.protocol], [1, 1, 0, 21, 21, 'unknown']);
});

test('process_stats: the traced process sampled from /proc under its UPID', opts, async () => {
  const rs = await rows(`select num_threads::int as t, rss_bytes::bigint as rss, vsize_bytes::bigint as vs,
                                cpu_utime_ns::bigint + cpu_ktime_ns::bigint as cpu
                           from process_stats where upid::text = '${live.upid}'`);
  assert.ok(rs.length >= 1, 'sampled at least once while it lived');
  assert.ok((rs[0].t as number) >= 1);
  assert.ok(Number(rs[0].rss) > 1_000_000, 'python has > 1 MB resident');
  assert.ok(Number(rs[0].vs) >= Number(rs[0].rss));
});

test('wiretap_stats: what was shipped, left out and lost, per interval', opts, async () => {
  const rs = await rows(`select events::int as e, ringbuf_drops::int as d, user_drops::int as ud,
                                unshipped_calls::int as u, unshipped_bytes::int as ub, interval_ns::bigint as i,
                                tls_unmapped_calls::int as t, mmsg_lost::int as m
                           from wiretap_stats order by time_`);
  assert.equal(rs.length, 2);
  for (const r of rs) {
    assert.ok((r.e as number) > 0);
    assert.equal(r.d, 0);
    assert.equal(r.ud, 0);
    assert.ok(Number(r.i) > 0);
    assert.ok(typeof r.t === 'number' && typeof r.m === 'number', JSON.stringify(r));
  }
  // The 'other' connection's 12 calls (42 bytes) fall in the second interval.
  assert.ok((rs[1].u as number) >= 12, `unshipped ${rs[1].u}`);
  assert.ok((rs[1].ub as number) >= 42);
});
