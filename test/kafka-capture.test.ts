// End to end with real eBPF (root): the test Kafka broker (test/fixtures/kafka-broker, its own
// process) driven by kcat (librdkafka) and kafkajs (a child process: the tracer excludes this
// one), captured by the kernel tracer, parsed into kafka_events, queried over the Postgres wire.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { EbpfSource } from '../collector/sources/ebpf.ts';
import { startStandalone, type Standalone } from '../server/standalone.ts';
import { createLogger } from '../server/log.ts';
import { execFileP, spawnWithFirstLine, waitFor } from './helpers/processes.ts';
import { pgQuery } from './helpers/sql.ts';

const fixtures = new URL('./fixtures/kafka-broker/', import.meta.url).pathname;
const KCAT_LINES = 50;
const KAFKAJS_MESSAGES = 12;

let wiretap: Standalone;
let broker: ChildProcess | undefined;
let port: number;

interface Row { req_cmd: number; client_id: string; req: Record<string, unknown>; resp: Record<string, unknown> | null; latency: string }

async function rows(where: string): Promise<Row[]> {
  const r = await pgQuery(wiretap.port, `select req_cmd, client_id, req_body, resp, latency from kafka_events
    where local_port = ${port} and trace_role = 2 and ${where} order by time_`);
  return r.rows.map((x) => ({ req_cmd: x.req_cmd, client_id: x.client_id, req: JSON.parse(x.req_body), resp: x.resp === '' ? null : JSON.parse(x.resp), latency: x.latency }));
}

function sumRecords(list: Row[], side: 'req' | 'resp'): number {
  return list.reduce((n, r) => n + Number((r[side] as { records?: number } | null)?.records ?? 0), 0);
}

before(async () => {
  wiretap = await startStandalone({
    port: 0, bind: '127.0.0.1', source: new EbpfSource({}), bodyCap: 512, maxRows: 1_000_000,
    logger: createLogger('warn'), statsIntervalMs: 0,
  });
  const started = await spawnWithFirstLine(process.execPath, ['--import', 'tsx', fixtures + 'main.ts']);
  broker = started.child;
  port = Number(started.line);
  const b = `127.0.0.1:${port}`;

  // kcat: produce lines, consume them back (simple consumer, then a consumer group).
  const lines = Array.from({ length: KCAT_LINES }, (_, i) => `line ${i}`).join('\n') + '\n';
  await new Promise<void>((resolve, reject) => {
    const p = execFileP('kcat', ['-b', b, '-P', '-t', 'kcat-topic'], { timeout: 30_000 });
    p.child.stdin!.end(lines);
    p.then(() => resolve(), reject);
  });
  const simple = await execFileP('kcat', ['-b', b, '-C', '-t', 'kcat-topic', '-o', 'beginning', '-e', '-q'], { timeout: 30_000 });
  assert.equal(simple.stdout.trim().split('\n').length, KCAT_LINES);
  const group = await execFileP('kcat', ['-b', b, '-G', 'kcat-group', '-o', 'beginning', '-e', '-q', 'kcat-topic'], { timeout: 30_000 });
  assert.equal(group.stdout.trim().split('\n').length, KCAT_LINES);

  // kafkajs: produce and consume in a group.
  const kjs = await execFileP(process.execPath, ['--import', 'tsx', fixtures + 'kafkajs-client.ts', String(port), 'kjs-topic', String(KAFKAJS_MESSAGES)], { timeout: 60_000 });
  assert.equal(kjs.stdout.trim(), `done ${KAFKAJS_MESSAGES}`);

  await waitFor('kafka rows', async () => {
    await wiretap.engine.flush();
    const r = await rows(`client_id = 'wiretap-kafkajs' and req_cmd = 9`);
    return r.length > 0 ? true : undefined;
  }, 30_000).catch(async (err) => {
    // Under heavy load the ring buffer can overflow (source.drops): say so, with what arrived.
    const st = wiretap.collector.stats();
    const got = (await rows('true')).map((r) => `${r.client_id}:${String(r.req.api)}`);
    throw new Error(`${(err as Error).message}; ringbuf drops ${st.source.drops}, gap bytes ${st.gapBytes}; rows: ${got.join(' ')}`);
  });
});

after(async () => {
  if (broker !== undefined && broker.exitCode === null) {
    broker.kill('SIGTERM');
    await new Promise((r) => broker!.once('exit', r));
  }
  await wiretap?.stop();
});

test('kcat: ApiVersions (flexible v3), Metadata, Produce with every record counted, responses with offsets', async () => {
  const all = await rows(`client_id = 'rdkafka'`);
  const apis = new Set(all.map((r) => r.req.api));
  for (const api of ['ApiVersions', 'Metadata', 'Produce', 'ListOffsets', 'Fetch', 'FindCoordinator', 'JoinGroup', 'SyncGroup', 'OffsetCommit', 'LeaveGroup']) {
    assert.ok(apis.has(api), `kcat used ${api}: ${[...apis].join(',')}`);
  }
  const av = all.find((r) => r.req.api === 'ApiVersions')!;
  assert.equal(av.req.v, 3);
  assert.match(String(av.req.client), /^librdkafka\//);
  assert.equal((av.resp as { error: number }).error, 0);

  const produce = all.filter((r) => r.req_cmd === 0);
  assert.equal(sumRecords(produce, 'req'), KCAT_LINES, 'records produced by kcat');
  for (const p of produce) {
    const parts = (p.resp as { topics: { name: string; partitions: { error: number; base_offset: number }[] }[] }).topics;
    assert.equal(parts[0]!.name, 'kcat-topic');
    assert.equal(parts[0]!.partitions[0]!.error, 0);
    assert.ok(BigInt(p.latency) > 0n);
  }
});

test('kcat consumers: Fetch responses carry the records back (simple consumer and group), offsets listed', async () => {
  const fetches = await rows(`client_id = 'rdkafka' and req_cmd = 1`);
  assert.equal(sumRecords(fetches, 'resp'), 2 * KCAT_LINES, 'each consumer fetched every record once');
  const lo = await rows(`client_id = 'rdkafka' and req_cmd = 2`);
  assert.ok(lo.some((r) => JSON.stringify(r.resp).includes(`"offset":${KCAT_LINES}`) || JSON.stringify(r.resp).includes('"offset":0')), JSON.stringify(lo));
});

test('kafkajs: produce, consumer group (join, sync, offsets), fetch — with its client id', async () => {
  const all = await rows(`client_id = 'wiretap-kafkajs'`);
  const produce = all.filter((r) => r.req_cmd === 0);
  assert.equal(sumRecords(produce, 'req'), KAFKAJS_MESSAGES);
  const join = all.find((r) => r.req_cmd === 11)!;
  assert.equal(join.req.group, 'kjs-topic-group');
  assert.equal((join.resp as { error: number }).error, 0);
  const fetched = sumRecords(all.filter((r) => r.req_cmd === 1), 'resp');
  assert.ok(fetched >= KAFKAJS_MESSAGES, `fetched ${fetched}`);
  const offsetFetch = all.find((r) => r.req_cmd === 9)!;
  assert.equal((offsetFetch.resp as { error: number }).error, 0);
  const commit = all.filter((r) => r.req_cmd === 8);
  assert.ok(commit.length > 0);
  assert.ok(commit.some((c) => JSON.stringify(c.req).includes(`"offset":${KAFKAJS_MESSAGES}`)), JSON.stringify(commit.map((c) => c.req)));
});

test('client-side rows: kcat is traced as the client of the same exchanges', async () => {
  const r = await pgQuery(wiretap.port, `select count(*)::int as n from kafka_events where remote_port = ${port} and trace_role = 1 and client_id = 'rdkafka' and req_cmd = 0`);
  assert.ok(r.rows[0].n >= 1);
});
