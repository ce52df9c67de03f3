// Standalone planning: one node, in this process, through the same distributed planner and
// executor as a broker (DistributedExecutor.local: the node is the engine, no gRPC, no merge
// database; with one node the whole statement is its fragment). The broker's interface
// (QueryExecutor) is kept, so server/ is the same in both modes.
import type { QueryExecutor, QueryResult } from '../engine/query.ts';
import { BrokerSession, type QuerySession, type SessionFactory, type SessionStart } from './broker-session.ts';
import { CatalogDb } from './catalog/catalog-db.ts';
import { DistributedExecutor } from './distributed/executor.ts';

/** The engine's aggregate function names (the split rules recognise aggregates by name). */
async function aggregateNames(engine: QueryExecutor): Promise<Set<string>> {
  try {
    const r = await engine.query("SELECT DISTINCT lower(function_name) FROM duckdb_functions() WHERE function_type = 'aggregate'");
    const names = new Set<string>();
    for await (const rows of r.chunks) for (const row of rows) names.add(String(row[0]));
    return names;
  } catch {
    return new Set(); // syntax still marks count/sum/…; with one node every statement runs whole anyway
  }
}

/** The engine behind the distributed executor with one local node (created on the first statement). */
function throughPlanner(engine: QueryExecutor): QueryExecutor {
  let executor: Promise<DistributedExecutor> | null = null;
  return {
    async query(sql, signal, options) {
      executor ??= aggregateNames(engine).then((names) => DistributedExecutor.local(engine, names));
      return (await executor).query(sql, signal, options);
    },
  };
}

export class StandalonePlanner implements QueryExecutor, SessionFactory {
  private catalogDb: Promise<CatalogDb> | null = null;
  private defaultSession: BrokerSession | null = null;

  /**
   * bindNode (cluster mode): the node executor as seen by one session, so it can read the
   * session's settings (e.g. wiretap.partial_results).
   */
  private readonly localNode: QueryExecutor;

  constructor(
    engine: QueryExecutor,
    private readonly bindNode?: (setting: (name: string) => string | undefined) => QueryExecutor,
  ) {
    this.localNode = bindNode ? engine : throughPlanner(engine);
  }

  /** A session per client connection: its settings, identity, and the shared catalog. */
  openSession(start: SessionStart): QuerySession {
    if (this.bindNode) {
      const bound = this.bindNode((name) => session.settings.get(name));
      const session: BrokerSession = new BrokerSession({ query: (sql, signal, options) => bound.query(sql, signal, options) }, () => this.catalog(), start);
      return session;
    }
    return new BrokerSession(this.localNode, () => this.catalog(), start);
  }

  query(sql: string, signal?: AbortSignal): Promise<QueryResult> {
    this.defaultSession ??= new BrokerSession(this.localNode, () => this.catalog(), {
      user: 'wiretap', database: 'wiretap', processId: 0, parameters: {},
    });
    return this.defaultSession.query(sql, signal);
  }

  private catalog(): Promise<CatalogDb> {
    if (!this.catalogDb) {
      const created = CatalogDb.create();
      this.catalogDb = created;
      created.catch(() => {
        if (this.catalogDb === created) this.catalogDb = null; // retry on the next catalog query
      });
    }
    return this.catalogDb;
  }

  async close(): Promise<void> {
    const db = this.catalogDb;
    this.catalogDb = null;
    if (db) (await db).close();
  }
}
