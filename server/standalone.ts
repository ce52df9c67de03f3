// Standalone wiretap: source → collector → engine → planner → Postgres wire, in one process.
// The CLI and the end-to-end tests start it through this one function.
import { DuckEngine } from '../engine/duck.ts';
import { Collector } from '../collector/collector.ts';
import { ProcessMetadataStore, observingSink } from '../collector/metadata/metadata-store.ts';
import type { EventSource } from '../collector/events.ts';
import { StandalonePlanner } from '../planner/standalone.ts';
import { PgServer, isLoopback } from './pg/index.ts';
import type { Logger } from './log.ts';

export interface StandaloneOptions {
  port: number;
  bind: string;
  source: EventSource;
  bodyCap: number;
  maxRows: number;
  /** Bytes the table store may hold (default 1 GiB). */
  memoryBudget?: number;
  /** Fraction of the memory budget per table (default http_events 0.4, the rest split equally). */
  tableShares?: Partial<Record<string, number>>;
  /** Cleartext password required from clients; mandatory when not bound to loopback. */
  password?: string;
  logger: Logger;
  /** How often live counters are logged (ms); 0 turns them off. */
  statsIntervalMs?: number;
}

export interface Standalone {
  port: number;
  engine: DuckEngine;
  collector: Collector;
  stop(): Promise<void>;
}

export async function startStandalone(o: StandaloneOptions): Promise<Standalone> {
  if (!isLoopback(o.bind) && !o.password) {
    throw new Error(`--bind ${o.bind} is not loopback: set WIRETAP_PASSWORD so clients must authenticate`);
  }
  const metadata = new ProcessMetadataStore();
  const engine = await DuckEngine.create({
    maxRowsPerTable: o.maxRows,
    memoryBudget: o.memoryBudget,
    tableShares: o.tableShares,
    metadata,
  });
  // Processes are described when first seen, so short-lived ones keep their cmdline/container.
  const collector = new Collector(o.source, observingSink(engine, metadata), { http: { bodyCap: o.bodyCap } });
  const server = new PgServer({
    executor: new StandalonePlanner(engine),
    host: o.bind,
    port: o.port,
    logger: o.logger,
    password: o.password,
  });
  try {
    await collector.start();
  } catch (err) {
    await engine.close();
    throw err;
  }
  let address;
  try {
    address = await server.listen();
  } catch (err) {
    await collector.stop();
    await engine.close();
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
    async stop() {
      if (statsTimer) clearInterval(statsTimer);
      await server.close();
      await collector.stop();
      await engine.close();
    },
  };
}
