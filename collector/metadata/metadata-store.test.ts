import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ProcessMetadataStore } from './metadata-store.ts';
import { PodStore } from '../k8s/pod-store.ts';

/** A fake /proc with one process: pid 77 started at tick 500 (field 22 of stat). */
function fakeProc(): { root: string; exit: () => void; reuse: () => void } {
  const root = mkdtempSync(join(tmpdir(), 'wiretap-proc-'));
  const write = (ticks: number, cmd: string) => {
    mkdirSync(join(root, '77'), { recursive: true });
    const fields = Array.from({ length: 50 }, (_, i) => (i === 18 ? String(ticks) : '0')).join(' ');
    writeFileSync(join(root, '77', 'stat'), `77 (my app) S ${fields}`);
    writeFileSync(join(root, '77', 'cmdline'), `${cmd}\0--flag\0`);
    writeFileSync(join(root, '77', 'cgroup'), `0::/system.slice/docker-${'ab'.repeat(32)}.scope\n`);
  };
  write(500, '/usr/bin/app');
  return {
    root,
    exit: () => rmSync(join(root, '77'), { recursive: true }),
    reuse: () => write(900, '/usr/bin/other'),
  };
}

test('describes a process from /proc and remembers it after it exits, for retainMs', () => {
  const p = fakeProc();
  try {
    const store = new ProcessMetadataStore({ procRoot: p.root, retainMs: 1000, refreshMs: 10 });
    const upid = { asid: 0, pid: 77, startTicks: 500n };
    store.observe(upid, 0);
    assert.deepEqual({ ...store.lookup(upid, 1) }, { pid: 77, cmdline: '/usr/bin/app --flag', container: 'ab'.repeat(32), pod: null, namespace: null, service: null, node: null, seenAt: 0, exitedAt: null });
    p.exit();
    assert.equal(store.lookup(upid, 100)?.cmdline, '/usr/bin/app --flag', 'remembered after exit');
    assert.equal((store.lookup(upid, 100) as { exitedAt: number }).exitedAt, 100);
    store.prune(100 + 60_001 + 1000);
    assert.equal(store.lookup(upid, 100 + 60_001 + 1000), undefined, 'forgotten after retention');
  } finally {
    rmSync(p.root, { recursive: true, force: true });
  }
});

test('a reused pid (other start ticks) is not taken for the old process', () => {
  const p = fakeProc();
  try {
    const store = new ProcessMetadataStore({ procRoot: p.root, refreshMs: 10 });
    const old = { asid: 0, pid: 77, startTicks: 500n };
    store.observe(old, 0);
    p.reuse();
    assert.equal(store.lookup(old, 50)?.cmdline, '/usr/bin/app --flag');
    assert.equal(store.lookup({ asid: 0, pid: 77, startTicks: 900n }, 50)?.cmdline, '/usr/bin/other --flag');
    assert.equal(new ProcessMetadataStore({ procRoot: p.root }).lookup(old), undefined);
  } finally {
    rmSync(p.root, { recursive: true, force: true });
  }
});

test('pod, namespace, service and node come from the pod store at lookup, even when the pod is learned later', () => {
  const p = fakeProc();
  try {
    let now = 1_000;
    const pods = new PodStore({ now: () => now });
    const store = new ProcessMetadataStore({ procRoot: p.root, pods, refreshMs: 10 });
    const upid = { asid: 0, pid: 77, startTicks: 500n };
    store.observe(upid, 0);
    assert.equal(store.lookup(upid, 1)?.pod, null, 'no pod known yet');
    const pod = {
      uid: 'u1', name: 'api-7f9', namespace: 'shop', node: 'node-a', services: ['api', 'api-internal'],
      containers: [{ id: 'ab'.repeat(32), name: 'api' }], labels: {}, phase: 'Running', podIp: '10.0.0.7',
    };
    pods.apply({ kind: 'pod', key: 'u1', value: pod, epoch: 'e', version: 1, prevVersion: 0, op: 'upsert', atMs: now });
    const m = store.lookup(upid, 2)!;
    assert.deepEqual([m.pod, m.namespace, m.service, m.node, m.container], ['shop/api-7f9', 'shop', 'shop/api,shop/api-internal', 'node-a', 'ab'.repeat(32)]);
    now += 10;
    pods.apply({ kind: 'pod', key: 'u1', value: pod, epoch: 'e', version: 2, prevVersion: 1, op: 'delete', atMs: now });
    p.exit();
    assert.equal(store.lookup(upid, 100)?.pod, 'shop/api-7f9', 'a deleted pod still hydrates rows of its exited process');
  } finally {
    rmSync(p.root, { recursive: true, force: true });
  }
});
