// Cluster mode across network namespaces (issue 7): each agent runs in its own namespace with its
// own address (a veth pair into a host bridge) and its own synthetic rows; nats-server listens on
// the bridge address; the broker runs in this process on the host. Taking one namespace's link
// down makes a query fail by the fragment deadline naming that node, or — with
// wiretap.partial_results on — return the others' rows plus a NOTICE; with the link up again the
// node answers again. The link also goes down under a running fragment (slow on that node only):
// the same failure by the deadline, while the node itself finished in time (its answer was lost on
// the link). Namespaces and links (prefix wt-h4-) are removed afterwards, also on failure.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import pg from 'pg';
import { pino } from 'pino';
import { startNats, type NatsServer } from './fixtures/fake-kube/nats-server.ts';
import { spawnWithFirstLine, waitFor } from './helpers/processes.ts';
import { netnsLab, netnsUnavailable, type NetnsLab } from './helpers/netns.ts';
import { startBroker, type Broker } from '../server/broker/broker.ts';
import { asidFor } from '../server/registry/asid.ts';

const log = pino({ level: 'silent' });
const wiretap = new URL('../bin/wiretap', import.meta.url).pathname;

// ns-1 announces rarely, so it stays registered while its link is down (the registry would
// otherwise expire it after 3 missed heartbeats and simply stop asking it)
const specs = [
  { name: 'ns-0', rows: 2000, seed: 21, heartbeatMs: 300 },
  { name: 'ns-1', rows: 3000, seed: 22, heartbeatMs: 600_000 },
  { name: 'ns-2', rows: 2500, seed: 23, heartbeatMs: 300 },
];
const total = specs.reduce((a, s) => a + s.rows, 0);
const fragmentTimeoutMs = 3000;

let lab: NetnsLab | null = null;
let nats: NatsServer | null = null;
let broker: Broker | null = null;
const children: ChildProcess[] = [];

async function query(sql: string, setup: string[] = [], port = broker!.port): Promise<{ rows: unknown[][]; notices: string[] }> {
  const client = new pg.Client({ host: '127.0.0.1', port, user: 'wiretap', database: 'wiretap' });
  const notices: string[] = [];
  client.on('notice', (n) => notices.push(n.message ?? ''));
  await client.connect();
  try {
    for (const s of setup) await client.query(s);
    const r = await client.query({ text: sql, rowMode: 'array' });
    return { rows: r.rows as unknown[][], notices };
  } finally {
    await client.end();
  }
}

// count(latency): every synthetic row has one
const countSql = 'select count(latency) from http_events';

before(async () => {
  // needs root and iproute2 (CI runs as root): fail, do not skip, without them
  const missing = netnsUnavailable();
  if (missing) throw new Error(`cluster-netns: ${missing}`);
  lab = netnsLab('wt-h4-', specs.length, '10.214.0');
  nats = await startNats(undefined, lab.bridgeIp);
  const l = lab;
  const started = await Promise.all(specs.map((s, i) => {
    const [cmd, ...args] = l.exec(i, ['node', wiretap, 'agent', '--source', 'synthetic', '--rows', String(s.rows), '--seed', String(s.seed),
      '--node', s.name, '--grpc-bind', '0.0.0.0', '--grpc-port', '7070', '--advertise', l.nodes[i]!.ip, '--health-port', '8082',
      '--heartbeat-ms', String(s.heartbeatMs), '--nats', nats!.url, '--log-level', 'error']);
    return spawnWithFirstLine(cmd!, args, 120_000);
  }));
  for (const s of started) children.push(s.child);
  broker = await startBroker({ nats: nats.url, port: 0, bind: '127.0.0.1', healthPort: 0, fragmentTimeoutMs, clusterMetadata: false, log });
  await waitFor('all agents registered', async () => (broker!.registry.nodes().length === specs.length ? true : undefined), 60_000);
});

after(async () => {
  try {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    await broker?.stop();
    await nats?.stop();
  } finally {
    lab?.cleanup();
  }
});

test('agents in their own namespaces register with their own addresses and answer', async () => {
  assert.deepEqual(broker!.registry.nodes().map((n) => [n.name, n.address]), specs.map((s, i) => [s.name, `${lab!.nodes[i]!.ip}:7070`]));
  assert.deepEqual((await query(countSql)).rows, [[String(total)]]);
});

test('link down on one namespace: the query fails by the fragment deadline naming the node; partial results return the rest with a NOTICE', async () => {
  lab!.linkDown(1);
  try {
    await assert.rejects(query(countSql), (err: Error & { code?: string }) => {
      assert.match(err.message, /node ns-1 \(10\.214\.0\.11:7070\) did not answer before the fragment deadline/);
      assert.equal(err.code, '57014');
      return true;
    });
    const r = await query(countSql, ['SET wiretap.partial_results = on']);
    assert.deepEqual(r.rows, [[String(total - specs[1]!.rows)]]);
    assert.equal(r.notices.length, 1);
    assert.match(r.notices[0]!, /left out: ns-1/);
  } finally {
    lab!.linkUp(1);
  }
  // link up: the node answers again (TCP retransmits, gRPC reconnects if it had to)
  await waitFor('ns-1 answers again', async () => ((await query(countSql).catch(() => null))?.rows[0]?.[0] === String(total) ? true : undefined), 60_000);
});

/** An agent's /stats over the bridge (its health port inside its namespace). */
async function agentStats(i: number): Promise<{ fragments: { fragments: number; failed: number; lastFragmentMs: number } }> {
  return (await (await fetch(`http://${lab!.nodes[i]!.ip}:8082/stats`)).json()) as { fragments: { fragments: number; failed: number; lastFragmentMs: number } };
}

test('link down DURING a running query: it fails by the fragment deadline naming the node; partial results return the rest with a NOTICE', async () => {
  // a broker with a deadline far beyond the slow fragment: a failure can only come from the link
  const deadlineMs = 12_000;
  const slow = await startBroker({ nats: nats!.url, port: 0, bind: '127.0.0.1', healthPort: 0, fragmentTimeoutMs: deadlineMs, clusterMetadata: false, log });
  try {
    await waitFor('agents registered', async () => (slow.registry.nodes().length === specs.length ? true : undefined), 30_000);
    // work only for ns-1's rows (its ASID leads their upids): a second or two there, nothing elsewhere
    const hex = asidFor('ns-1').toString(16).padStart(8, '0');
    const sql = `select count(latency), sum(case when cast(upid as varchar) like '${hex}%' then length(repeat(req_path, 20000)) else 0 end) from http_events`;
    const before = (await agentStats(1)).fragments;
    const strict = query(sql, [], slow.port).then(() => null, (err: Error & { code?: string }) => err);
    const partial = query(sql, ['SET wiretap.partial_results = on'], slow.port);
    // both fragments running on ns-1: take its link down under them
    for (;;) {
      if ((await agentStats(1)).fragments.fragments >= before.fragments + 2) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    lab!.linkDown(1);
    try {
      const err = await strict;
      assert.ok(err, 'the query succeeded although ns-1 was cut off while running it');
      assert.match(err.message, /node ns-1 \(10\.214\.0\.11:7070\) did not answer before the fragment deadline/);
      assert.equal(err.code, '57014');
      const r = await partial;
      assert.deepEqual(r.rows, [[String(total - specs[1]!.rows), '0']]);
      assert.equal(r.notices.length, 1);
      assert.match(r.notices[0]!, /left out: ns-1/);
    } finally {
      lab!.linkUp(1);
    }
    // ns-1 did both fragments within the deadline: their answers were lost on the link, not late
    const after = await waitFor('ns-1 reachable again', async () => (await agentStats(1).catch(() => undefined))?.fragments, 60_000);
    assert.equal(after.fragments, before.fragments + 2);
    assert.equal(after.failed, before.failed);
    assert.ok(after.lastFragmentMs < deadlineMs, `ns-1 took ${after.lastFragmentMs} ms`);
  } finally {
    await slow.stop();
  }
});
