// `wiretap metadata` as users run it, killed with SIGKILL and restarted: versions continue from
// the durable log, unchanged objects are not re-sent, and agents that stayed up see no gap
// (0 missing updates) — including a change made while the service was down.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { FakeKube } from './fixtures/fake-kube/server.ts';
import { startNats } from './fixtures/fake-kube/nats-server.ts';
import { containerId } from './fixtures/fake-kube/objects.ts';
import { seedCluster, startAgent, startBroker, webPod } from './fixtures/fake-kube/cluster.ts';
import { spawnWithFirstLine, waitFor } from './helpers/processes.ts';

const bin = new URL('../bin/wiretap', import.meta.url).pathname;

async function startService(kubeUrl: string, natsUrl: string, dataDir: string): Promise<{ child: ChildProcess; version: number; healthPort: number }> {
  const { child, line } = await spawnWithFirstLine(process.execPath, [bin, 'metadata', '--kube-server', kubeUrl, '--nats', natsUrl, '--data-dir', dataDir, '--health-port', '0', '--log-level', 'warn'], 30_000);
  const m = /^wiretap metadata: version (\d+), .* health :(\d+)$/.exec(line);
  assert.ok(m, `first line: ${line}`);
  return { child, version: Number(m[1]), healthPort: Number(m[2]) };
}

async function kill9(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const gone = new Promise((r) => child.once('exit', r));
  child.kill('SIGKILL');
  await gone;
}

const until = (what: string, cond: () => boolean, ms = 20_000) => waitFor(what, async () => (cond() ? true : undefined), ms);

test('metadata service killed -9 and restarted: versions continue, agents see no gap', async () => {
  const kube = new FakeKube();
  const kubeUrl = await kube.start();
  const nats = await startNats();
  const dataDir = mkdtempSync(join(tmpdir(), 'wiretap-metadata-'));
  let svc: Awaited<ReturnType<typeof startService>> | undefined;
  const cleanups: (() => Promise<void>)[] = [];
  try {
    seedCluster(kube);
    svc = await startService(kubeUrl, nats.url, dataDir);
    assert.equal(svc.version, 0, 'fresh data dir');
    const health = `http://127.0.0.1:${svc.healthPort}`;
    assert.equal((await fetch(`${health}/healthz`)).status, 200);
    await waitFor('ready (every informer listed)', async () => ((await fetch(`${health}/readyz`)).status === 200 ? true : undefined));
    const agent = await startAgent(nats.url, 'n1');
    cleanups.push(agent.stop);
    const broker = await startBroker(nats.url);
    cleanups.push(broker.stop);
    await until('agent has web-1', () => !!agent.store.byContainerId(containerId('web-1')));
    kube.apply('pods', webPod('web-2', 'n1'));
    await until('agent has web-2', () => !!agent.store.byContainerId(containerId('web-2')));
    await until('broker has web-2', () => broker.view.pods({ pod: 'web-2' }).length === 1);
    const before = agent.feed.version;
    const appliedBefore = agent.feed.stats.applied;
    // Counted from here: what the initial catch-up fetched (the service may publish its first
    // state while a subscriber is catching up) is not a missing update.
    const statsBefore = [agent.feed, broker.feed].map((f) => ({ ...f.stats }));

    await kill9(svc.child);
    // Changed while the service is down: picked up by its relist after the restart.
    kube.apply('pods', webPod('web-3', 'n1'));
    svc = await startService(kubeUrl, nats.url, dataDir);
    assert.ok(svc.version >= before, `restart keeps the counter (${svc.version} ≥ ${before})`);

    await until('agent has web-3', () => !!agent.store.byContainerId(containerId('web-3')));
    assert.ok(agent.feed.version > before, 'new versions continue above the old ones');
    assert.equal(agent.feed.stats.applied - appliedBefore, 1, 'only the change is sent, not the unchanged pods again');
    kube.delete('pods', 'web-2', 'shop');
    await until('agent sees web-2 deleted', () => !agent.store.livePods().some((p) => p.name === 'web-2'));
    await until('broker caught up', () => broker.feed.version === svc!.version || broker.feed.version >= agent.feed.version);

    [agent.feed, broker.feed].forEach((f, i) => {
      assert.equal(f.stats.gaps, 0, 'no gap seen');
      assert.equal(f.stats.recoveredUpdates - statsBefore[i]!.recoveredUpdates, 0, '0 missing updates across the restart');
      assert.equal(f.stats.snapshots, 1, 'only the initial snapshot');
    });
  } finally {
    if (svc) await kill9(svc.child);
    for (const c of cleanups) await c().catch(() => {});
    await nats.stop();
    await kube.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
});

test('an agent that missed updates published while it was away recovers them after a service restart', async () => {
  const kube = new FakeKube();
  const kubeUrl = await kube.start();
  const nats = await startNats();
  const dataDir = mkdtempSync(join(tmpdir(), 'wiretap-metadata-'));
  let svc: Awaited<ReturnType<typeof startService>> | undefined;
  try {
    seedCluster(kube);
    svc = await startService(kubeUrl, nats.url, dataDir);
    const first = await startAgent(nats.url, 'n1');
    await until('first agent has web-1', () => !!first.store.byContainerId(containerId('web-1')));
    await first.stop();
    kube.apply('pods', webPod('while-away', 'n1'));
    const broker = await startBroker(nats.url);
    await until('published', () => broker.view.pods({ pod: 'while-away' }).length === 1);
    await broker.stop();
    await kill9(svc.child);
    svc = await startService(kubeUrl, nats.url, dataDir);
    // Back with its old state: the restarted service still holds the update it missed.
    const back = await startAgent(nats.url, 'n1', { store: first.store, resumeAfter: first.feed.version });
    try {
      assert.ok(back.store.byContainerId(containerId('while-away')));
      assert.equal(back.feed.stats.recoveredUpdates, 1);
      assert.equal(back.feed.stats.snapshots, 0);
    } finally {
      await back.stop();
    }
  } finally {
    if (svc) await kill9(svc.child);
    await nats.stop();
    await kube.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
});

test('the service loses its log (new PVC): a new epoch makes subscribers take a snapshot instead of ignoring "old" versions', async () => {
  const kube = new FakeKube();
  const kubeUrl = await kube.start();
  const nats = await startNats();
  const dataDir = mkdtempSync(join(tmpdir(), 'wiretap-metadata-'));
  let svc: Awaited<ReturnType<typeof startService>> | undefined;
  try {
    seedCluster(kube);
    kube.apply('pods', webPod('web-2', 'n1'));
    for (let i = 0; i < 10; i++) kube.apply('pods', webPod(`extra-${i}`, 'n2')); // versions the new log will reuse
    svc = await startService(kubeUrl, nats.url, dataDir);
    const agent = await startAgent(nats.url, 'n1');
    try {
      await until('agent has web-2', () => !!agent.store.byContainerId(containerId('web-2')));
      const oldEpoch = agent.feed.epoch;
      await kill9(svc.child);
      rmSync(dataDir, { recursive: true, force: true });
      kube.delete('pods', 'web-2', 'shop');
      svc = await startService(kubeUrl, nats.url, dataDir);
      assert.equal(svc.version, 0, 'a new, empty log');
      await until('agent took a snapshot of the new log', () => agent.feed.stats.epochChanges === 1 && agent.feed.epoch !== undefined && agent.feed.epoch !== oldEpoch);
      await until('web-2 gone', () => !agent.store.livePods().some((p) => p.name === 'web-2'));
      assert.deepEqual(agent.store.livePods().map((p) => p.name), ['web-1']);
      assert.ok(agent.store.byContainerId(containerId('web-2'))?.goneAtMs, 'still hydrates, marked gone');
      kube.apply('pods', webPod('web-4', 'n1'));
      await until('new updates applied', () => !!agent.store.byContainerId(containerId('web-4')));
      assert.equal(agent.feed.stats.snapshots, 2);
    } finally {
      await agent.stop();
    }
  } finally {
    if (svc) await kill9(svc.child);
    await nats.stop();
    await kube.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
});
