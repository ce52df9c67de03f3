// Cluster mode end to end (root: eBPF and a cgroup v2 group): the fake Kubernetes API server has a
// pod on node-a whose container id names a cgroup this test creates; a real HTTP server runs in
// that cgroup, captured by `wiretap agent --source ebpf --node node-a`, which follows node-a's topic
// of the metadata service over a real nats-server. Queried through a broker, the server's rows
// carry pod, namespace, service and node from Kubernetes, and container from the cgroup.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, rmdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import pg from 'pg';
import { pino } from 'pino';
import { FakeKube } from './fixtures/fake-kube/server.ts';
import { startNats, type NatsServer } from './fixtures/fake-kube/nats-server.ts';
import { endpointSlice, namespace, node, pod, service } from './fixtures/fake-kube/objects.ts';
import { MetadataService } from '../server/metadata/service.ts';
import { startBroker, type Broker } from '../server/broker/broker.ts';
import { asidFor } from '../server/registry/asid.ts';
import { execFileP, spawnWithFirstLine, waitFor } from './helpers/processes.ts';

const wiretap = new URL('../bin/wiretap', import.meta.url).pathname;
const httpServer = new URL('./fixtures/http-server.mjs', import.meta.url).pathname;
const REQUESTS = 25;
const log = pino({ level: 'silent' });

function cgroup2Mount(): string {
  const line = readFileSync('/proc/mounts', 'utf8').split('\n').find((l) => l.split(' ')[2] === 'cgroup2');
  if (!line) throw new Error('no cgroup2 mount: this test needs cgroup v2 (root)');
  return line.split(' ')[1]!;
}

function pidsIn(group: string): number[] {
  try {
    return readFileSync(`${group}/cgroup.procs`, 'utf8').split('\n').filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

async function query(port: number, sql: string): Promise<unknown[][]> {
  const client = new pg.Client({ host: '127.0.0.1', port, user: 'wiretap', database: 'wiretap' });
  await client.connect();
  try {
    return (await client.query({ text: sql, rowMode: 'array' })).rows as unknown[][];
  } finally {
    await client.end();
  }
}

async function stopChild(child: ChildProcess | undefined): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const gone = once(child, 'exit');
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
  await gone;
  clearTimeout(timer);
}

test('pod, namespace, service and node from Kubernetes reach SQL results through the broker (root: eBPF, cgroup v2)', async (t) => {
  const containerId = randomBytes(32).toString('hex');
  const mount = cgroup2Mount();
  const parent = `${mount}/wiretap-k8s-test-${process.pid}`;
  const leaf = `${parent}/docker-${containerId}.scope`;
  const kube = new FakeKube();
  let nats: NatsServer | undefined;
  let svc: MetadataService | undefined;
  let agent: ChildProcess | undefined;
  let broker: Broker | undefined;
  let launcher: ChildProcess | undefined;
  const dataDir = mkdtempSync(join(tmpdir(), 'wiretap-k8s-hydration-'));
  try {
    // The cluster: shop/web-1 on node-a (its one container is the cgroup's), selected by shop/web.
    const kubeUrl = await kube.start();
    kube.apply('namespaces', namespace('shop'));
    kube.apply('nodes', node('node-a', '10.0.0.1'));
    kube.apply('nodes', node('node-b', '10.0.0.2'));
    kube.apply('services', service('web', 'shop', { app: 'web' }));
    kube.apply('pods', pod({ name: 'web-1', namespace: 'shop', node: 'node-a', labels: { app: 'web' }, containerIds: [containerId] }));
    kube.apply('endpointslices', endpointSlice('web', 'shop', [{ name: 'web-1', node: 'node-a' }]));

    nats = await startNats();
    const started = await MetadataService.start({ kube: { server: kubeUrl }, nats: nats.url, dataDir, log, debounceMs: 20 });
    svc = started;
    await waitFor('informers synced', async () => (started.synced ? true : undefined), 15_000);
    await waitFor('initial state published', async () => (started.stats.version > 0 ? true : undefined), 15_000);

    const spawned = await spawnWithFirstLine(process.execPath, [
      wiretap, 'agent', '--source', 'ebpf', '--node', 'node-a',
      '--grpc-bind', '127.0.0.1', '--grpc-port', '0', '--advertise', '127.0.0.1', '--health-port', '0', '--nats', nats.url, '--log-level', 'warn',
    ], 120_000);
    agent = spawned.child;
    assert.match(spawned.line, new RegExp(`node node-a, asid ${asidFor('node-a')}`));

    broker = await startBroker({ nats: nats.url, port: 0, bind: '127.0.0.1', healthPort: 0, fragmentTimeoutMs: 30_000, clusterMetadata: true, log });
    const b = broker;
    await waitFor('agent registered', async () => (b.registry.nodes().length === 1 ? true : undefined), 30_000);

    // The HTTP server is born inside the container's cgroup: a shell moved there first starts it
    // (so the server process is never seen outside the cgroup). `; :` keeps sh from exec'ing node.
    mkdirSync(leaf, { recursive: true });
    launcher = spawn('sh', ['-c', 'read _ && node "$0"; :', httpServer], { stdio: ['pipe', 'pipe', 'inherit'], detached: true });
    writeFileSync(`${leaf}/cgroup.procs`, String(launcher.pid));
    assert.match(readFileSync(`/proc/${launcher.pid}/cgroup`, 'utf8'), new RegExp(`docker-${containerId}\\.scope`));
    const lines = createInterface({ input: launcher.stdout! });
    const firstLine = new Promise<string>((resolve, reject) => {
      lines.once('line', resolve);
      launcher!.once('exit', (code) => reject(new Error(`http server launcher exited (${code}) before printing its port`)));
    });
    launcher.stdin!.end('go\n');
    const serverPort = Number(await Promise.race([firstLine, new Promise<never>((_, reject) => setTimeout(() => reject(new Error('http server printed nothing in 15 s')), 15_000).unref())]));
    assert.ok(serverPort > 0);
    const serverPids = pidsIn(leaf).filter((p) => p !== launcher!.pid);
    assert.equal(serverPids.length, 1, `one server process in the container cgroup: ${pidsIn(leaf)}`);

    for (let i = 0; i < REQUESTS; i++) await execFileP('curl', ['-s', '-o', '/dev/null', '--max-time', '10', `http://127.0.0.1:${serverPort}/k8s/${i}`]);

    const sql = `select pod, namespace, service, node, container, count(*) from http_events where local_port = ${serverPort} and trace_role = 2 group by all`;
    let last: unknown[][] = [];
    const rows = await waitFor(`${REQUESTS} hydrated server-side rows`, async () => {
      last = await query(b.port, sql);
      const total = last.reduce((n, r) => n + Number(r[5]), 0);
      return total >= REQUESTS && last.every((r) => r[0] !== null) ? last : undefined;
    }, 60_000).catch((err: Error) => { throw new Error(`${err.message}; last result: ${JSON.stringify(last)}`); });
    t.diagnostic(JSON.stringify(rows));
    assert.deepEqual(rows, [['shop/web-1', 'shop', 'shop/web', 'node-a', containerId, String(REQUESTS)]]);

    // The same columns as predicates (the broker prunes nodes by them): still exactly these rows.
    const byPod = await query(b.port, `select count(*) from http_events where pod = 'shop/web-1' and service = 'shop/web' and node = 'node-a' and local_port = ${serverPort} and trace_role = 2`);
    assert.deepEqual(byPod, [[String(REQUESTS)]]);
  } finally {
    // Out of the cgroup first (so it can be removed whatever happens), then killed.
    for (const p of pidsIn(leaf)) {
      try { writeFileSync(`${mount}/cgroup.procs`, String(p)); } catch { /* already gone */ }
    }
    if (launcher?.pid) {
      const running = launcher.exitCode === null && launcher.signalCode === null;
      const gone = running ? once(launcher, 'exit') : Promise.resolve();
      try { process.kill(-launcher.pid, 'SIGKILL'); } catch { /* the shell and the server are gone */ }
      await gone;
    }
    await waitFor('container cgroup empty', async () => (pidsIn(leaf).length === 0 ? true : undefined), 10_000).catch(() => {});
    await stopChild(agent);
    await broker?.stop();
    await svc?.stop().catch(() => {});
    await nats?.stop();
    await kube.stop();
    rmSync(dataDir, { recursive: true, force: true });
    if (existsSync(leaf)) rmdirSync(leaf);
    if (existsSync(parent)) rmdirSync(parent);
  }
});
