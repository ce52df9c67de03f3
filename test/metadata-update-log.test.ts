// The durable update log (server/metadata/update-log.ts) and the subscriber-side stores
// (collector/k8s PodStore, planner ClusterMetadataView) without NATS.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UpdateLog, type NewUpdate } from '../server/metadata/update-log.ts';
import { PodStore, kubernetesColumns } from '../collector/k8s/pod-store.ts';
import { ClusterMetadataView } from '../planner/cluster-metadata/cluster-view.ts';
import type { MetadataUpdate, PodMeta } from '../collector/k8s/wire.ts';

function podMeta(name: string, node: string, ids: string[], services = ['web']): PodMeta {
  return { uid: `uid-${name}`, name, namespace: 'shop', node, services, containers: ids.map((id, i) => ({ id, name: `c${i}` })), labels: {}, phase: 'Running', podIp: '' };
}
const podUpdate = (p: PodMeta, op: 'upsert' | 'delete' = 'upsert'): NewUpdate =>
  ({ entity: { kind: 'pod', key: p.uid, value: p }, op, topics: ['cluster', `node.${p.node}`] });

function withDir(fn: (dir: string) => void): void {
  const dir = mkdtempSync(join(tmpdir(), 'wiretap-log-'));
  try { fn(dir); } finally { rmSync(dir, { recursive: true, force: true }); }
}

test('versions survive reopening (and a torn last line); per-topic prevVersion chains', () => withDir((dir) => {
  const path = join(dir, 'log.jsonl');
  let log = new UpdateLog(path);
  log.append([podUpdate(podMeta('a', 'n1', ['a1'])), podUpdate(podMeta('b', 'n2', ['b1']))]);
  log.append([podUpdate(podMeta('c', 'n1', ['c1']))]);
  log.close();
  appendFileSync(path, '{"v":99,"kind":"pod"'); // a crash mid-write
  log = new UpdateLog(path);
  assert.equal(log.version, 3);
  const [d] = log.append([podUpdate(podMeta('d', 'n1', ['d1']))]);
  assert.equal(d!.v, 4);
  const n1 = log.range('node.n1', 0);
  assert.ok(n1.ok);
  assert.deepEqual(n1.updates.map((u) => [u.version, u.prevVersion]), [[1, 0], [3, 1], [4, 3]]);
  assert.equal(n1.head, 4);
  const upTo = log.range('node.n1', 0, 500, 3);
  assert.ok(upTo.ok);
  assert.deepEqual(upTo.updates.map((u) => u.version), [1, 3], 'from..to');
  const cluster = log.range('cluster', 2, 1);
  assert.ok(cluster.ok);
  assert.deepEqual(cluster.updates.map((u) => [u.version, u.prevVersion]), [[3, 2]], 'max per reply');
  log.close();
}));

test('compaction: old updates pruned → range says pruned; snapshot keeps live state and fresh tombstones', () => withDir((dir) => {
  let now = 1_000_000;
  const log = new UpdateLog(join(dir, 'log.jsonl'), { retainMs: 1000, tombstoneMs: 5000, now: () => now });
  log.append([podUpdate(podMeta('a', 'n1', ['a1']))]);
  log.append([podUpdate(podMeta('b', 'n1', ['b1']))]);
  log.append([podUpdate(podMeta('b', 'n1', ['b1']), 'delete')]);
  log.append([podUpdate(podMeta('a', 'n1', ['a1', 'a2']))]);
  now += 2000;
  log.compact();
  assert.equal(log.prunedThrough, 2);
  assert.deepEqual(log.range('node.n1', 1), { ok: false, reason: 'pruned' });
  assert.ok(log.range('node.n1', 2).ok);
  const snap = log.snapshot('node.n1');
  assert.equal(snap.version, 4);
  assert.deepEqual(snap.entities.map((e) => [e.key, e.op]), [['uid-a', 'upsert'], ['uid-b', 'delete']]);
  now += 10_000;
  log.compact();
  assert.deepEqual(log.snapshot('node.n1').entities.map((e) => e.key), ['uid-a'], 'expired tombstone dropped');
  assert.equal(log.version, 4);
  log.close();
  const reopened = new UpdateLog(join(dir, 'log.jsonl'), { now: () => now });
  assert.equal(reopened.version, 4, 'counter survives even when updates were pruned');
  assert.equal(reopened.head('node.n1'), 4);
  assert.equal(reopened.epoch, log.epoch, 'same log, same epoch');
  reopened.close();
}));

test('snapshot in chunks with a cursor', () => withDir((dir) => {
  const log = new UpdateLog(join(dir, 'log.jsonl'));
  log.append(Array.from({ length: 7 }, (_, i) => podUpdate(podMeta(`p${i}`, 'n1', [`id${i}`]))));
  const keys: string[] = [];
  let cursor: string | undefined;
  let chunks = 0;
  do {
    const r = log.snapshot('node.n1', cursor, 3);
    keys.push(...r.entities.map((e) => e.key));
    cursor = r.nextCursor;
    chunks++;
  } while (cursor !== undefined);
  assert.equal(chunks, 3);
  assert.deepEqual(keys, Array.from({ length: 7 }, (_, i) => `uid-p${i}`));
  log.close();
}));

function wire(p: PodMeta, version: number, op: 'upsert' | 'delete', atMs: number): MetadataUpdate {
  return { kind: 'pod', key: p.uid, value: p, op, epoch: 'e', version, prevVersion: version - 1, atMs };
}

test('PodStore: container ids with or without runtime prefix; replaced containers and deleted pods kept for the retention', () => {
  let now = 10_000;
  const store = new PodStore({ retentionMs: 1000, now: () => now });
  const id1 = 'a'.repeat(64);
  const id2 = 'b'.repeat(64);
  store.apply(wire(podMeta('web-1', 'n1', [id1]), 1, 'upsert', now));
  assert.deepEqual(kubernetesColumns(store.byContainerId(`containerd://${id1}`)!), { pod: 'shop/web-1', namespace: 'shop', service: 'shop/web', node: 'n1' });
  assert.equal(store.byContainerId(id1)?.container, 'c0');
  store.apply(wire(podMeta('web-1', 'n1', [id2]), 2, 'upsert', now)); // container restarted
  assert.equal(store.byContainerId(id1)?.goneAtMs, now);
  assert.equal(store.byContainerId(id2)?.goneAtMs, undefined);
  store.apply(wire(podMeta('web-1', 'n1', [id2]), 3, 'delete', now + 100));
  assert.equal(store.byContainerId(id2)?.goneAtMs, now + 100);
  assert.deepEqual(store.livePods(), []);
  now += 1050;
  store.purge();
  assert.equal(store.byContainerId(id1), undefined, 'replaced container expired');
  assert.ok(store.byContainerId(id2), 'deleted pod still within retention');
  now += 100;
  store.purge();
  assert.equal(store.byContainerId(id2), undefined);
  assert.deepEqual(store.size, { pods: 0, containers: 0 });
});

test('ClusterMetadataView: filters → nodes, several values, deleted pods until retention', () => {
  let now = 0;
  const view = new ClusterMetadataView({ retentionMs: 1000, now: () => now });
  view.reset([
    { kind: 'node', key: 'n1', op: 'upsert', atMs: 0, value: { name: 'n1' } },
    { kind: 'node', key: 'n2', op: 'upsert', atMs: 0, value: { name: 'n2' } },
    wire(podMeta('web-1', 'n1', ['x'], ['web']), 1, 'upsert', 0),
    wire(podMeta('db-1', 'n2', ['y'], ['db', 'db-headless']), 2, 'upsert', 0),
  ]);
  assert.deepEqual(view.nodes(), ['n1', 'n2']);
  assert.deepEqual(view.nodesFor({ service: 'db-headless' }), ['n2']);
  assert.deepEqual(view.nodesFor({ service: 'shop/db', pod: 'shop/db-1' }), ['n2'], 'namespace/name as the columns show them');
  assert.deepEqual(view.nodesFor({ service: 'other/db' }), []);
  assert.deepEqual(view.nodesFor({ pod: ['web-1', 'db-1'] }), ['n1', 'n2']);
  assert.deepEqual(view.nodesFor({ namespace: 'shop', service: 'web' }), ['n1']);
  assert.deepEqual(view.nodesFor({ namespace: 'kube-system' }), []);
  view.apply(wire(podMeta('web-1', 'n1', ['x']), 3, 'delete', 100));
  now = 1000;
  assert.deepEqual(view.nodesFor({ service: 'web' }), ['n1']);
  now = 1200;
  assert.deepEqual(view.nodesFor({ service: 'web' }), []);
});
