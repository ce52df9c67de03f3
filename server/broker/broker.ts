// `wiretap broker`: Postgres wire (server/pg) → sessions (planner/broker-session: SET/SHOW and the
// catalog stay there) → DistributedExecutor: node fragments over gRPC to the agents the NATS
// registry knows, merge in the broker's DuckDB. Node pruning from the metadata service's cluster view.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DuckEngine } from '../../engine/duck.ts';
import { StandalonePlanner } from '../../planner/standalone.ts';
import { DistributedExecutor } from '../../planner/distributed/executor.ts';
import { MergeDb } from '../../planner/distributed/merge-db.ts';
import type { NodePruner } from '../../planner/distributed/nodes.ts';
import { PgServer, isLoopback, type PasswordAuthMethod } from '../pg/index.ts';
import { GrpcFragmentRunner } from '../agent/fragment-client.ts';
import { AgentRegistry } from '../registry/registry.ts';
import { followClusterMetadata } from '../metadata/subscribers.ts';
import type { Logger } from '../log.ts';

export interface BrokerStartOptions {
  nats: string;
  port: number;
  bind: string;
  healthPort: number;
  fragmentTimeoutMs: number;
  /** Cap on buffered shipped rows over all running statements (wire bytes; default 256 MiB). */
  maxShippedBytes?: number;
  /** Follow the metadata service's cluster topic for node pruning. */
  clusterMetadata: boolean;
  /** Instead of the metadata service (tests): which nodes host a pod/namespace/service. */
  pruner?: NodePruner;
  password?: string;
  users?: ReadonlyMap<string, string>;
  authMethod?: PasswordAuthMethod;
  tls?: { cert: string | Buffer; key: string | Buffer };
  log: Logger;
}

export interface Broker {
  port: number;
  healthPort: number;
  executor: DistributedExecutor;
  registry: AgentRegistry;
  stop(): Promise<void>;
}

export async function startBroker(o: BrokerStartOptions): Promise<Broker> {
  if (!isLoopback(o.bind) && !o.password && !o.users?.size) {
    throw new Error(`--bind ${o.bind} is not loopback: set WIRETAP_USERS or WIRETAP_PASSWORD so clients must authenticate`);
  }
  const registry = await AgentRegistry.start(o.nats, o.log.child({ component: 'registry' }));
  const merge = await MergeDb.create();
  const schemaNode = await DuckEngine.create({ threads: 1, memoryLimit: '256MB' }); // never holds rows
  const runner = new GrpcFragmentRunner();
  let pruner: NodePruner | null = o.pruner ?? null;
  let stopFeed: (() => void) | null = null;
  if (!pruner && o.clusterMetadata) {
    // until the cluster view has caught up, nothing is pruned (null = every node)
    let ready: ((filter: Parameters<NodePruner['nodesFor']>[0]) => string[]) | null = null;
    pruner = { nodesFor: (f) => (ready ? ready(f) : null) };
    let stopped = false;
    stopFeed = () => { stopped = true; };
    void followClusterMetadata(registry.connection, { log: o.log.child({ component: 'cluster-metadata' }) })
      .then((m) => {
        if (stopped) return void m.feed.stop();
        stopFeed = () => void m.feed.stop();
        ready = (f) => m.view.nodesFor(f);
      })
      .catch((err) => o.log.warn({ err }, 'cluster metadata unavailable: no node pruning'));
  }
  const executor = new DistributedExecutor(registry, runner, merge, schemaNode, pruner, { fragmentTimeoutMs: o.fragmentTimeoutMs, maxShippedBytes: o.maxShippedBytes });
  const planner = new StandalonePlanner(executor, (setting) => executor.forSession(setting));
  const server = new PgServer({
    executor: planner, host: o.bind, port: o.port, logger: o.log,
    password: o.password, users: o.users, authMethod: o.authMethod, tls: o.tls,
  });
  const address = await server.listen();
  const health: Server = createServer((req, res) => {
    const ok = req.url === '/healthz' || req.url === '/stats';
    res.writeHead(ok ? 200 : 404, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify({ agents: registry.nodes(), lastQuery: executor.lastStats }));
  });
  await new Promise<void>((resolve) => health.listen(o.healthPort, resolve));
  return {
    port: address.port,
    healthPort: (health.address() as AddressInfo).port,
    executor,
    registry,
    async stop() {
      health.close();
      await server.close();
      stopFeed?.();
      await planner.close();
      runner.close();
      await registry.close();
      merge.close();
      await schemaNode.close();
    },
  };
}
