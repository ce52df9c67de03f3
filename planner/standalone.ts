// Standalone planning: one node, in this process. The broker's interface (QueryExecutor) is kept
// so cluster mode can replace the local call with distributed fragments without touching server/.
import type { QueryExecutor, QueryResult } from '../engine/query.ts';
import { BrokerSession, type QuerySession, type SessionFactory, type SessionStart } from './broker-session.ts';
import { CatalogDb } from './catalog/catalog-db.ts';

export class StandalonePlanner implements QueryExecutor, SessionFactory {
  private catalogDb: Promise<CatalogDb> | null = null;
  private defaultSession: BrokerSession | null = null;

  /**
   * bindNode (cluster mode): the node executor as seen by one session, so it can read the
   * session's settings (e.g. wiretap.partial_results).
   */
  constructor(
    private readonly localNode: QueryExecutor,
    private readonly bindNode?: (setting: (name: string) => string | undefined) => QueryExecutor,
  ) {}

  /** A session per client connection: its settings, identity, and the shared catalog. */
  openSession(start: SessionStart): QuerySession {
    if (this.bindNode) {
      const bound = this.bindNode((name) => session.settings.get(name));
      const session: BrokerSession = new BrokerSession({ query: (sql, signal) => bound.query(sql, signal) }, () => this.catalog(), start);
      return session;
    }
    // One node holds every row, so a telemetry statement is its own node fragment and the merge
    // fragment is the identity. Pushdown rules, node selection and merge arrive with cluster mode.
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
