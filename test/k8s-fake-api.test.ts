// The fake Kubernetes API server (test/fixtures/fake-kube/) driven by the real
// @kubernetes/client-node: typed lists, informers (ListWatch) seeing adds/updates/deletes,
// bookmarks, 410 Gone → relist, injected faults, request counting.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CoreV1Api, KubeConfig, ListWatch, Watch, type KubernetesObject, type V1Pod } from '@kubernetes/client-node';
import { FakeKube } from './fixtures/fake-kube/server.ts';
import { containerId, namespace, pod } from './fixtures/fake-kube/objects.ts';
import { waitFor } from './helpers/processes.ts';

function kubeConfig(server: string): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'fake', server, skipTLSVerify: true }] /* the client refuses http:// otherwise */, users: [{ name: 'u' }],
    contexts: [{ name: 'fake', cluster: 'fake', user: 'u' }], currentContext: 'fake',
  });
  return kc;
}

async function withFake(fn: (kube: FakeKube, kc: KubeConfig) => Promise<void>, bookmarkIntervalMs = 200): Promise<void> {
  const kube = new FakeKube({ bookmarkIntervalMs });
  const url = await kube.start();
  try {
    await fn(kube, kubeConfig(url));
  } finally {
    await kube.stop();
  }
}

test('typed list through the generated client: items, resourceVersion, namespaced path', () => withFake(async (kube, kc) => {
  kube.apply('namespaces', namespace('shop'));
  kube.apply('pods', pod({ name: 'web-1', namespace: 'shop', node: 'n1', containerIds: [containerId('web-1')] }));
  kube.apply('pods', pod({ name: 'db-1', namespace: 'data', node: 'n2' }));
  const core = kc.makeApiClient(CoreV1Api);
  const all = await core.listPodForAllNamespaces();
  assert.equal(all.items.length, 2);
  assert.equal(all.metadata?.resourceVersion, String(kube.resourceVersion));
  const shop = await core.listNamespacedPod({ namespace: 'shop' });
  assert.deepEqual(shop.items.map((p) => p.metadata?.name), ['web-1']);
  assert.equal(shop.items[0]!.status?.containerStatuses?.[0]?.containerID, `containerd://${containerId('web-1')}`);
  assert.ok(shop.items[0]!.metadata?.uid);
  assert.equal(kube.count({ plural: 'pods', verb: 'list' }), 2);
}));

test('informer: initial list, then ADDED/MODIFIED/DELETED over one chunked watch', () => withFake(async (kube, kc) => {
  kube.apply('pods', pod({ name: 'a', namespace: 'ns', node: 'n1' }));
  const core = kc.makeApiClient(CoreV1Api);
  const seen: string[] = [];
  const lw = new ListWatch<V1Pod>('/api/v1/pods', new Watch(kc), () => core.listPodForAllNamespaces(), false);
  lw.on('add', (p) => seen.push(`add ${p.metadata?.name}`));
  lw.on('update', (p) => seen.push(`update ${p.metadata?.name}`));
  lw.on('delete', (p) => seen.push(`delete ${p.metadata?.name}`));
  await lw.start();
  try {
    await waitFor('watch open', async () => (kube.openWatches.length === 1 ? true : undefined));
    kube.apply('pods', pod({ name: 'b', namespace: 'ns', node: 'n1' }));
    kube.apply('pods', pod({ name: 'a', namespace: 'ns', node: 'n1', phase: 'Succeeded' }));
    kube.delete('pods', 'b', 'ns');
    await waitFor('events', async () => (seen.length === 4 ? true : undefined), 5000);
    assert.deepEqual(seen, ['add a', 'add b', 'update a', 'delete b']);
    assert.deepEqual(lw.list().map((p) => p.metadata?.name), ['a']);
    assert.equal(kube.count({ verb: 'watch' }), 1);
  } finally {
    await lw.stop();
  }
}));

test('watch stream wire format: chunked JSON lines, bookmarks when asked, 410 as an ERROR event', () => withFake(async (kube) => {
  kube.apply('pods', pod({ name: 'a', namespace: 'ns', node: 'n1' }));
  const rv = kube.resourceVersion;
  const res = await fetch(`${kube.url}/api/v1/pods?watch=1&resourceVersion=${rv}&allowWatchBookmarks=true`);
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('transfer-encoding'), 'chunked');
  const reader = res.body!.getReader();
  const first = JSON.parse(new TextDecoder().decode((await reader.read()).value!).split('\n')[0]!);
  assert.equal(first.type, 'BOOKMARK');
  assert.deepEqual(first.object, { kind: 'Pod', apiVersion: 'v1', metadata: { resourceVersion: String(rv) } });
  await reader.cancel();

  kube.apply('pods', pod({ name: 'b', namespace: 'ns', node: 'n1' }));
  kube.compact();
  const gone = await (await fetch(`${kube.url}/api/v1/pods?watch=true&resourceVersion=${rv}`)).text();
  const lines = gone.trim().split('\n').map((l) => JSON.parse(l));
  assert.equal(lines.length, 1);
  assert.equal(lines[0].type, 'ERROR');
  assert.equal(lines[0].object.kind, 'Status');
  assert.equal(lines[0].object.code, 410);
  assert.equal(lines[0].object.reason, 'Expired');
  assert.match(lines[0].object.message, /^too old resource version: \d+ \(\d+\)$/);
}));

test('informer relists after 410 Gone and converges (deletes seen through the relist)', () => withFake(async (kube, kc) => {
  kube.apply('pods', pod({ name: 'a', namespace: 'ns', node: 'n1' }));
  kube.apply('pods', pod({ name: 'b', namespace: 'ns', node: 'n1' }));
  const core = kc.makeApiClient(CoreV1Api);
  const lw = new ListWatch<KubernetesObject>('/api/v1/pods', new Watch(kc), () => core.listPodForAllNamespaces(), false);
  const errors: unknown[] = [];
  lw.on('error', (e) => errors.push(e));
  await lw.start();
  try {
    await waitFor('watch open', async () => (kube.openWatches.length === 1 ? true : undefined));
    // While the watch is down, things change and the history is compacted away.
    kube.resetWatches();
    kube.delete('pods', 'a', 'ns');
    kube.apply('pods', pod({ name: 'c', namespace: 'ns', node: 'n2' }));
    kube.compact();
    await lw.start(); // the client library stops on a connection error; wiretap restarts it with backoff
    await waitFor('converged', async () => {
      const names = lw.list().map((p) => p.metadata?.name).sort().join(',');
      return names === 'b,c' ? true : undefined;
    }, 5000);
    assert.ok(kube.count({ plural: 'pods', verb: 'list' }) >= 2, 'relisted');
  } finally {
    await lw.stop();
  }
}));

test('faults: injected 500s and 503s are counted and reach the client as errors', () => withFake(async (kube, kc) => {
  const core = kc.makeApiClient(CoreV1Api);
  kube.failNext(1, 500);
  await assert.rejects(core.listNode(), (e: Error & { code?: number }) => e.code === 500);
  kube.setUnavailable('503');
  await assert.rejects(core.listNode(), (e: Error & { code?: number }) => e.code === 503);
  kube.setUnavailable('reset');
  await assert.rejects(core.listNode());
  kube.setUnavailable('off');
  assert.equal((await core.listNode()).items.length, 0);
  assert.deepEqual(kube.requests.map((r) => r.status), [500, 503, 'reset', 200]);
}));
