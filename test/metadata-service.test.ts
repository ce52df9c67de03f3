// The metadata service (in process) against the fake Kubernetes API server and a real
// nats-server: agents and a broker follow it; gaps, catch-up, 410 relists and API outages.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MetadataService, type MetadataServiceOptions } from '../server/metadata/service.ts';
import { createLogger } from '../server/log.ts';
import { FakeKube } from './fixtures/fake-kube/server.ts';
import { startNats, type NatsServer } from './fixtures/fake-kube/nats-server.ts';
import { containerId, endpointSlice, pod } from './fixtures/fake-kube/objects.ts';
import { seedCluster, startAgent, startBroker, watchesPerType, webPod } from './fixtures/fake-kube/cluster.ts';
import { waitFor } from './helpers/processes.ts';

interface Env { kube: FakeKube; nats: NatsServer; restartNats(): Promise<void>; dataDir: string; start(o?: Partial<MetadataServiceOptions>): Promise<MetadataService> }

async function withEnv(fn: (env: Env) => Promise<void>): Promise<void> {
  const kube = new FakeKube({ bookmarkIntervalMs: 500 });
  const kubeUrl = await kube.start();
  const nats = await startNats();
  const dataDir = mkdtempSync(join(tmpdir(), 'wiretap-metadata-'));
  const services: MetadataService[] = [];
  const log = createLogger(process.env.WIRETAP_LOG_LEVEL ?? 'error');
  let current = nats;
  const env: Env = {
    kube, nats, dataDir,
    restartNats: async () => {
      await current.stop();
      current = await startNats(nats.port);
    },
    start: async (o = {}) => {
      const svc = await MetadataService.start({ kube: { server: kubeUrl }, nats: nats.url, dataDir, log, debounceMs: 20, ...o });
      services.push(svc);
      await waitFor('informers synced', async () => (svc.synced ? true : undefined), 15_000);
      // Every test seeds the cluster first: wait for the initial state to be published.
      await waitFor('initial state published', async () => (svc.stats.version > 0 ? true : undefined), 15_000);
      return svc;
    },
  };
  try {
    await fn(env);
  } finally {
    for (const s of services) await s.stop().catch(() => {});
    await current.stop();
    await kube.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

const until = (what: string, cond: () => boolean, ms = 15_000) => waitFor(what, async () => (cond() ? true : undefined), ms);

test('pods created and deleted reach the agent of their node and the broker', () => withEnv(async ({ kube, nats, start }) => {
  seedCluster(kube);
  const svc = await start();
  const n1 = await startAgent(nats.url, 'n1');
  const n2 = await startAgent(nats.url, 'n2');
  const broker = await startBroker(nats.url);
  try {
    // Snapshot at start: web-1 with its service (selector + slice) and workload (RS → Deployment).
    const web1 = n1.store.byContainerId(`containerd://${containerId('web-1')}`);
    assert.ok(web1, 'web-1 known on n1');
    assert.equal(web1.pod.name, 'web-1');
    assert.equal(web1.pod.namespace, 'shop');
    assert.equal(web1.pod.node, 'n1');
    assert.deepEqual(web1.pod.services, ['web']);
    assert.deepEqual(web1.pod.workload, { kind: 'Deployment', name: 'web' });
    assert.equal(web1.container, 'c0');
    assert.equal(n2.store.byContainerId(containerId('web-1')), undefined, 'n2 does not get n1 pods');
    assert.deepEqual(broker.view.nodes(), ['n1', 'n2']);
    assert.deepEqual(broker.view.nodesFor({ service: 'web' }), ['n1']);

    // A pod on n2; a pod on n2 that is in a Service only through its EndpointSlice.
    kube.apply('pods', webPod('web-2', 'n2'));
    kube.apply('pods', pod({ name: 'legacy-1', namespace: 'shop', node: 'n2', containerIds: [containerId('legacy-1')] }));
    kube.apply('endpointslices', endpointSlice('legacy', 'shop', [{ name: 'legacy-1', node: 'n2' }]));
    await until('n2 sees its pods', () => n2.store.byContainerId(containerId('legacy-1'))?.pod.services.join() === 'legacy' && !!n2.store.byContainerId(containerId('web-2')));
    await until('broker maps service web to both nodes', () => broker.view.nodesFor({ service: 'web' }).join() === 'n1,n2');
    assert.deepEqual(broker.view.nodesFor({ pod: 'legacy-1' }), ['n2']);
    assert.deepEqual(broker.view.nodesFor({ namespace: 'shop' }), ['n1', 'n2']);
    assert.deepEqual(broker.view.nodesFor({ namespace: 'other' }), []);

    // Deleted: gone from the live set but still hydrating (exited processes' rows).
    kube.delete('pods', 'web-1', 'shop');
    await until('n1 sees the delete', () => n1.store.livePods().length === 0);
    const gone = n1.store.byContainerId(containerId('web-1'));
    assert.ok(gone?.goneAtMs, 'deleted pod still resolves, marked gone');
    assert.deepEqual(broker.view.nodesFor({ pod: 'web-1' }), ['n1'], 'its rows are still on n1');

    for (const f of [n1.feed, n2.feed, broker.feed]) assert.equal(f.stats.gaps, 0);
    assert.ok(svc.stats.version > 0);
    assert.deepEqual([...watchesPerType(kube).values()].filter((n) => n > 1), [], 'one watch per resource');
    assert.equal(watchesPerType(kube).size, 7);
  } finally {
    await n1.stop(); await n2.stop(); await broker.stop();
  }
}));

test('an agent down for a while catches up in batches; a fresh one starts from a snapshot', () => withEnv(async ({ kube, nats, start }) => {
  seedCluster(kube);
  await start();
  const first = await startAgent(nats.url, 'n1');
  const store = first.store;
  await first.stop();
  const resumeAfter = first.feed.version;
  const broker = await startBroker(nats.url); // to know when the service has published
  for (let i = 0; i < 25; i++) kube.apply('pods', webPod(`batch-${i}`, 'n1'));
  await until('creates published', () => broker.view.pods({ namespace: 'shop' }).length === 26);
  for (let i = 0; i < 5; i++) kube.delete('pods', `batch-${i}`, 'shop');
  kube.apply('pods', webPod('elsewhere', 'n2'));
  await until('deletes published', () => broker.view.pods({ pod: 'elsewhere' }).length === 1);

  const back = await startAgent(nats.url, 'n1', { store, resumeAfter, batch: 7 });
  const fresh = await startAgent(nats.url, 'n1');
  try {
    assert.equal(back.feed.stats.snapshots, 0, 'resumed from its version, no snapshot');
    assert.ok(back.feed.stats.recoveredUpdates >= 30, `recovered ${back.feed.stats.recoveredUpdates}`);
    assert.ok(back.feed.stats.requests >= 5, 'in batches of 7');
    assert.equal(back.store.livePods().length, 21); // web-1 + batch-5..24
    assert.ok(back.store.byContainerId(containerId('batch-3'))?.goneAtMs, 'deleted while down: remembered as gone');
    assert.equal(back.store.byContainerId(containerId('elsewhere')), undefined);
    assert.equal(fresh.feed.stats.snapshots, 1);
    assert.equal(fresh.store.livePods().length, 21);
    assert.equal(fresh.feed.version, back.feed.version);
  } finally {
    await back.stop(); await fresh.stop(); await broker.stop();
  }
}));

test('watch history compacted while disconnected: the service relists (410) and publishes what changed', () => withEnv(async ({ kube, nats, start }) => {
  seedCluster(kube);
  kube.apply('pods', webPod('web-2', 'n1'));
  await start();
  const n1 = await startAgent(nats.url, 'n1');
  try {
    const listsBefore = kube.count({ plural: 'pods', verb: 'list' });
    kube.resetWatches();
    kube.delete('pods', 'web-2', 'shop');
    kube.apply('pods', webPod('web-3', 'n1'));
    kube.compact();
    await until('agent converged after relist', () => n1.store.livePods().map((p) => p.name).sort().join() === 'web-1,web-3', 20_000);
    assert.ok(kube.count({ plural: 'pods', verb: 'list' }) > listsBefore, 'pods relisted');
    assert.equal(n1.feed.stats.gaps, 0);
    await until('one watch per resource again', () => watchesPerType(kube).size === 7);
    assert.deepEqual([...watchesPerType(kube).values()].filter((n) => n > 1), []);
  } finally {
    await n1.stop();
  }
}));

test('API server unavailable: informers back off (bounded requests), then recover', (t) => withEnv(async ({ kube, nats, start }) => {
  seedCluster(kube);
  const svc = await start({ watcher: { backoffMinMs: 200, backoffMaxMs: 2000, minWatchIntervalMs: 200 } });
  const n1 = await startAgent(nats.url, 'n1');
  try {
    kube.setUnavailable('503');
    const windowStart = Date.now();
    await new Promise((r) => setTimeout(r, 6000));
    const during = kube.count({ sinceMs: windowStart });
    t.diagnostic(`${during} requests in 6 s while unavailable`);
    // Without backoff 7 informers would retry thousands of times in 6 s; with it (200 ms doubling
    // to 2 s, jittered) each makes about 6–9 attempts.
    assert.ok(during >= 7, `retried at all (${during})`);
    assert.ok(during <= 7 * 12, `no request storm: ${during} requests in 6 s`);
    assert.ok(svc.stats.apiErrors >= 7);

    kube.setUnavailable('off');
    kube.apply('pods', webPod('after-outage', 'n1'));
    await until('recovered', () => !!n1.store.byContainerId(containerId('after-outage')), 20_000);
    assert.equal(n1.store.livePods().length, 2, 'nothing deleted by the outage');
    assert.deepEqual([...watchesPerType(kube).values()].filter((n) => n > 1), []);
  } finally {
    await n1.stop();
  }
}));

test('a server that ends every watch at once cannot make the informers loop (watch starts are paced)', (t) => withEnv(async ({ kube, nats, start }) => {
  seedCluster(kube);
  await start({ watcher: { minWatchIntervalMs: 500 } });
  const n1 = await startAgent(nats.url, 'n1');
  const chop = setInterval(() => kube.endWatches(), 5);
  try {
    const windowStart = Date.now();
    await new Promise((r) => setTimeout(r, 3000));
    const watches = kube.count({ verb: 'watch', sinceMs: windowStart });
    t.diagnostic(`${watches} watch requests in 3 s`);
    // At most one watch start per 500 ms per resource: ≤ 7 × (3 s / 0.5 s + 1).
    assert.ok(watches <= 7 * 7, `${watches} watch requests in 3 s`);
    assert.ok(watches >= 7, 'watches were restarted');
    assert.equal(kube.count({ verb: 'list', sinceMs: windowStart }), 0, 'a clean end resumes from the last version, no relist');
    clearInterval(chop);
    kube.apply('pods', webPod('after-chop', 'n1'));
    await until('still delivering', () => !!n1.store.byContainerId(containerId('after-chop')));
  } finally {
    clearInterval(chop);
    await n1.stop();
  }
}));

test('subscribers started before the service retry with backoff, then catch up', () => withEnv(async ({ kube, nats, start }) => {
  seedCluster(kube);
  const agentStarted = startAgent(nats.url, 'n1'); // nobody answers "missing updates" yet
  await new Promise((r) => setTimeout(r, 2000));
  await start();
  const n1 = await agentStarted;
  try {
    assert.ok(n1.store.byContainerId(containerId('web-1')), 'caught up once the service answered');
    assert.ok(n1.feed.stats.failedRequests >= 1, 'retried');
    // Backoff 100 ms doubling to 1 s: a handful of requests in 2 s, not a busy loop.
    assert.ok(n1.feed.stats.requests <= 20, `${n1.feed.stats.requests} requests`);
  } finally {
    await n1.stop();
  }
}));

test('history pruned while an agent was away: its range request is refused and it takes a snapshot', () => withEnv(async ({ kube, nats, start }) => {
  seedCluster(kube);
  const svc = await start({ retainMs: 1, tombstoneMs: 60_000, compactIntervalMs: 100 });
  const first = await startAgent(nats.url, 'n1');
  await first.stop();
  // web-2 changes twice: its first update is superseded, so compaction drops a version the agent
  // never saw (updates that are still an entity's latest state are kept).
  const published = svc.stats.version;
  kube.apply('pods', webPod('web-2', 'n1'));
  await until('web-2 published', () => svc.stats.version > published);
  kube.apply('pods', { ...webPod('web-2', 'n1'), metadata: { ...webPod('web-2', 'n1').metadata, labels: { app: 'web', tier: 'front' } } });
  kube.delete('pods', 'web-1', 'shop');
  await until('compacted past the agent', () => svc.updates.prunedThrough > first.feed.version);
  const back = await startAgent(nats.url, 'n1', { store: first.store, resumeAfter: first.feed.version });
  try {
    assert.equal(back.feed.stats.snapshots, 1);
    assert.deepEqual(back.store.livePods().map((p) => p.name), ['web-2']);
    assert.ok(back.store.byContainerId(containerId('web-1'))?.goneAtMs, 'the deletion came as a tombstone in the snapshot');
  } finally {
    await back.stop();
  }
}));

test('NATS restarted: the service and agents reconnect; what was published meanwhile is recovered', () => withEnv(async ({ kube, nats, start, restartNats }) => {
  seedCluster(kube);
  await start();
  const n1 = await startAgent(nats.url, 'n1', { pollIntervalMs: 1000 });
  try {
    await restartNats(); // subscriptions and the "missing updates" responder must come back by themselves
    kube.apply('pods', webPod('during-restart', 'n1'));
    kube.apply('pods', webPod('after-restart', 'n1'));
    await until('agent caught up', () => !!n1.store.byContainerId(containerId('during-restart')) && !!n1.store.byContainerId(containerId('after-restart')), 30_000);
    assert.equal(n1.store.livePods().length, 3);
  } finally {
    await n1.stop();
  }
}));
