// `wiretap agent`: a capture node (or synthetic rows) + the ExecuteFragment gRPC service + the
// registry announcer + /healthz and /stats. The node fragment runs on the same DuckEngine that
// standalone mode queries.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DuckEngine } from '../../engine/duck.ts';
import type { EventSource } from '../../collector/events.ts';
import { createCaptureNode, type CaptureNode } from '../standalone.ts';
import { startFragmentServer, type FragmentServer } from './fragment-service.ts';
import { syntheticHttpRows } from './synthetic-rows.ts';
import { asidFor } from '../registry/asid.ts';
import { startAnnouncer, type Announcer } from '../registry/announcer.ts';
import { followNodeMetadata } from '../metadata/subscribers.ts';
import { PodStore } from '../../collector/k8s/pod-store.ts';
import type { Logger } from '../log.ts';
import type { AgentOptions } from './args.ts';
import type { TimeRanges } from '../../planner/distributed/nodes.ts';

export interface AgentStartOptions extends Pick<AgentOptions, 'nats' | 'node' | 'grpcBind' | 'grpcPort' | 'advertise' | 'healthPort' | 'heartbeatMs'> {
  /** A capture source, or synthetic rows loaded at start. */
  source: { kind: 'capture'; events: EventSource; bodyCap: number; memoryBudget?: number } | { kind: 'synthetic'; rows: number; seed: number };
  log: Logger;
}

export interface Agent {
  asid: number;
  grpcPort: number;
  healthPort: number;
  engine: DuckEngine;
  fragments: FragmentServer;
  stop(): Promise<void>;
}

/** Fixed start time of synthetic rows, so every run and the tests' standalone copy agree. */
export const syntheticStartNs = 1_767_225_600_000_000_000n; // 2026-01-01T00:00:00Z

/**
 * time_ range per table for the heartbeat. A capturing agent keeps appending rows newer than any
 * heartbeat, so its ranges are open-ended and an empty table is "unknown" (not listed); a static one
 * (synthetic rows) is exact, and an empty table is reported empty.
 */
export function timeRangesOf(engine: DuckEngine, live: boolean): TimeRanges {
  const out: TimeRanges = {};
  for (const t of engine.tableStats()) {
    if (Number.isNaN(t.oldestTime) || t.rows === 0) {
      if (!live) out[t.table] = null;
      continue;
    }
    out[t.table] = { minUs: t.oldestTime, maxUs: live ? null : t.newestTime };
  }
  return out;
}

export async function startAgent(o: AgentStartOptions): Promise<Agent> {
  const asid = asidFor(o.node);
  let node: CaptureNode | null = null;
  let engine: DuckEngine;
  // This node's pods, from the metadata service over NATS: hydrates pod/namespace/service/node.
  const pods = new PodStore();
  if (o.source.kind === 'capture') {
    node = await createCaptureNode({ source: o.source.events, bodyCap: o.source.bodyCap, maxRows: 0, memoryBudget: o.source.memoryBudget, asid, pods });
    engine = node.engine;
    await node.start();
  } else {
    // synthetic agents are for tests and the cluster-scale bench, where many share one machine
    engine = await DuckEngine.create({ threads: 1, memoryLimit: '256MB' });
    for (const row of syntheticHttpRows({ seed: o.source.seed, count: o.source.rows, asid, startNs: syntheticStartNs })) engine.append('http_events', row);
    await engine.flush();
  }
  let fragments: FragmentServer | null = null;
  let announcer: Announcer | null = null;
  let health: Server | null = null;
  try {
    fragments = await startFragmentServer(engine, o.grpcBind, o.grpcPort, o.log.child({ component: 'fragments' }));
    const f = fragments;
    health = createServer((req, res) => {
      // /readyz: the agent only listens once its engine is loaded and it has announced itself
      const ok = req.url === '/healthz' || req.url === '/readyz' || req.url === '/stats';
      res.writeHead(ok ? 200 : 404, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ node: o.node, asid, fragments: f.counters, engine: engine.stats(), announcements: announcer?.announcements ?? 0 }));
    });
    const h = health;
    await new Promise<void>((resolve, reject) => { h.once('error', reject); h.listen(o.healthPort, resolve); });
    const live = o.source.kind === 'capture';
    announcer = await startAnnouncer(o.nats, { name: o.node, asid, address: `${o.advertise}:${fragments.port}`, heartbeatMs: o.heartbeatMs }, o.log.child({ component: 'registry' }),
      () => ({ timeRanges: timeRangesOf(engine, live) }));
  } catch (err) {
    health?.close();
    await fragments?.close();
    if (node) await node.stop(); else await engine.close();
    throw err;
  }
  // Not awaited: without a metadata service (standalone hosts, tests) the agent still serves;
  // the feed catches up whenever the service answers.
  let stopFeed: () => void = () => {};
  if (node) {
    let stopped = false;
    stopFeed = () => { stopped = true; };
    void followNodeMetadata(announcer.connection, o.node, { store: pods, log: o.log.child({ component: 'node-metadata' }) })
      .then((m) => {
        if (stopped) return void m.feed.stop();
        stopFeed = () => void m.feed.stop();
      })
      .catch((err) => o.log.warn({ err }, 'node metadata unavailable: pod/namespace/service/node stay NULL'));
  }
  const healthPort = (health.address() as AddressInfo).port;
  const f = fragments;
  const a = announcer;
  const h = health;
  return {
    asid,
    grpcPort: f.port,
    healthPort,
    engine,
    fragments: f,
    async stop() {
      stopFeed();
      await a.close();
      h.close();
      await f.close();
      if (node) await node.stop(); else await engine.close();
    },
  };
}
