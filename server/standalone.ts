// Standalone wiretap: source → collector → engine → planner → Postgres wire, in one process.
// The CLI and the end-to-end tests start it through this one function.
import { DuckEngine } from '../engine/duck.ts';
import { Collector } from '../collector/collector.ts';
import { ProcessMetadataStore, observingSink } from '../collector/metadata/metadata-store.ts';
import type { PodResolver } from '../collector/k8s/pod-store.ts';
import type { EventSource } from '../collector/events.ts';
import { StatsProducers } from '../collector/stats/producers.ts';
import { StandalonePlanner } from '../planner/standalone.ts';
import { PgServer, isLoopback, type PasswordAuthMethod } from './pg/index.ts';
import type { Logger } from './log.ts';

/** A capture node (below) plus the Postgres wire server in front of it. */
export interface StandaloneOptions extends Omit<NodeOptions, 'asid' | 'pods'> {
  port: number;
  bind: string;
  /** Password required from clients (any user name); this or users is mandatory when not bound to loopback. */
  password?: string;
  /** Per-user passwords. */
  users?: ReadonlyMap<string, string>;
  /** How passwords are checked (default scram-sha-256). */
  authMethod?: PasswordAuthMethod;
  /** PEM certificate and key for TLS on SSLRequest. */
  tls?: { cert: string | Buffer; key: string | Buffer };
  logger: Logger;
  /** How often live counters are logged (ms); 0 turns them off. */
  statsIntervalMs?: number;
}

export interface Standalone {
  port: number;
  engine: DuckEngine;
  collector: Collector;
  /** conn_stats / process_stats / wiretap_stats producers (tests sample them directly). */
  captureStats: StatsProducers;
  stop(): Promise<void>;
}

/** What a capture node is made of: the engine and what feeds it (standalone, and `wiretap agent`). */
export interface NodeOptions {
  source: EventSource;
  /** HTTP body bytes kept per row. */
  bodyCap: number;
  /** MySQL statement text kept per row (default 4096). */
  queryCap?: number;
  /** Rows kept per table (0: no row cap, the memory budget decides). */
  maxRows: number;
  /** Bytes the table store may hold (default 1 GiB). */
  memoryBudget?: number;
  /** Fraction of the memory budget per table (default http_events 0.4, the rest split equally). */
  tableShares?: Partial<Record<string, number>>;
  /** conn_stats / wiretap_stats interval (ms, default 10 s); process_stats is per second. */
  captureStatsIntervalMs?: number;
  /** The node's id in the cluster, the top 32 bits of its UPIDs (0 in standalone mode). */
  asid?: number;
  /** Kubernetes pods by container id (agents in a cluster); hydrates pod/namespace/service/node. */
  pods?: PodResolver;
}

export interface CaptureNode {
  engine: DuckEngine;
  collector: Collector;
  captureStats: StatsProducers;
  /** Starts capturing (collector, then stats producers); closes the engine if that fails. */
  start(): Promise<void>;
  stop(): Promise<void>;
}

/** Engine + collector + stats producers, not started. */
export async function createCaptureNode(o: NodeOptions): Promise<CaptureNode> {
  const metadata = new ProcessMetadataStore({ pods: o.pods ?? null });
  const engine = await DuckEngine.create({
    maxRowsPerTable: o.maxRows > 0 ? o.maxRows : undefined,
    memoryBudget: o.memoryBudget,
    tableShares: o.tableShares,
    metadata,
  });
  // Processes are described when first seen, so short-lived ones keep their cmdline/container.
  const sink = observingSink(engine, metadata);
  const asid = o.asid ?? 0;
  const collector = new Collector(o.source, sink, { http: { bodyCap: o.bodyCap }, mysql: o.queryCap === undefined ? {} : { queryCap: o.queryCap }, asid });
  // conn_stats, process_stats, wiretap_stats; exec events describe a process while it lives.
  const captureStats = new StatsProducers(collector, sink, { intervalMs: o.captureStatsIntervalMs ?? 10_000, asid });
  o.source.onProcessEvents?.((evs) => {
    for (const e of evs) if (e.kind === 'exec') metadata.observe({ asid, pid: e.tgid, startTicks: e.startTicks });
  });
  return {
    engine,
    collector,
    captureStats,
    async start() {
      try {
        await collector.start();
        captureStats.start();
      } catch (err) {
        await engine.close();
        throw err;
      }
    },
    async stop() {
      captureStats.stop();
      await collector.stop();
      await engine.close();
    },
  };
}

export async function startStandalone(o: StandaloneOptions): Promise<Standalone> {
  if (!isLoopback(o.bind) && !o.password && !o.users?.size) {
    throw new Error(`--bind ${o.bind} is not loopback: set WIRETAP_USERS or WIRETAP_PASSWORD so clients must authenticate`);
  }
  const node = await createCaptureNode(o);
  const { engine, collector, captureStats } = node;
  const server = new PgServer({
    executor: new StandalonePlanner(engine),
    host: o.bind,
    port: o.port,
    logger: o.logger,
    password: o.password,
    users: o.users,
    authMethod: o.authMethod,
    tls: o.tls,
  });
  await node.start();
  let address;
  try {
    address = await server.listen();
  } catch (err) {
    await node.stop();
    throw err;
  }
  const statsTimer =
    o.statsIntervalMs === 0
      ? null
      : setInterval(() => o.logger.info({ collector: collector.stats(), engine: engine.stats() }, 'stats'), o.statsIntervalMs ?? 10_000);
  statsTimer?.unref();
  return {
    port: address.port,
    engine,
    collector,
    captureStats,
    async stop() {
      if (statsTimer) clearInterval(statsTimer);
      await server.close();
      await node.stop();
    },
  };
}
