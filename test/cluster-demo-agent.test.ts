// `wiretap agent --source demo` through the CLI: the capture path (demo traffic → collector →
// engine) behind the gRPC service, registered over a real nats-server, queried through a broker.
// Its rows carry the node's ASID in the top 32 bits of their UPIDs.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { pino } from 'pino';
import { startNats, type NatsServer } from './fixtures/fake-kube/nats-server.ts';
import { spawnWithFirstLine, waitFor } from './helpers/processes.ts';
import { pgQuery } from './helpers/sql.ts';
import { startBroker, type Broker } from '../server/broker/broker.ts';
import { asidFor } from '../server/registry/asid.ts';

let nats: NatsServer | undefined;
let agent: ChildProcess | undefined;
let broker: Broker | undefined;

after(async () => {
  if (agent && agent.exitCode === null) {
    const gone = new Promise((r) => agent!.once('exit', r));
    agent.kill('SIGTERM');
    await gone;
  }
  await broker?.stop();
  await nats?.stop();
});

test('a demo-source agent serves captured rows with its ASID through the broker', async () => {
  nats = await startNats();
  const spawned = await spawnWithFirstLine('node', [
    new URL('../bin/wiretap', import.meta.url).pathname, 'agent', '--source', 'demo', '--node', 'demo-node',
    '--grpc-bind', '127.0.0.1', '--grpc-port', '0', '--advertise', '127.0.0.1', '--health-port', '0', '--nats', nats.url, '--log-level', 'warn',
  ], 120_000);
  agent = spawned.child;
  assert.match(spawned.line, new RegExp(`node demo-node, asid ${asidFor('demo-node')}`));
  broker = await startBroker({ nats: nats.url, port: 0, bind: '127.0.0.1', healthPort: 0, fragmentTimeoutMs: 30_000, clusterMetadata: false, log: pino({ level: 'silent' }) });
  await waitFor('agent registered', async () => (broker!.registry.nodes().length === 1 ? true : undefined), 30_000);
  const port = broker.port;
  await waitFor('demo rows captured', async () => (Number((await pgQuery(port, 'select count(*) as n from http_events')).rows[0].n) > 0 ? true : undefined), 60_000);
  const asidHex = asidFor('demo-node').toString(16).padStart(8, '0');
  const r = await pgQuery(port, 'select count(*) as n, count(*) filter (where upid::varchar like \'' + asidHex + '-%\') as mine from http_events');
  assert.equal(r.rows[0].n, r.rows[0].mine);
});
