// One client session at the broker. Statements are classified here: SET/SHOW/RESET/DISCARD
// are answered from the session's settings; statements over telemetry tables go to the node(s);
// statements about the catalog (pg_catalog, information_schema, version(), current_setting(),
// format_type(), …) are answered by the catalog database at the broker and never fan out;
// anything else (SELECT 1, range(), …) runs on the node's engine.
import type { QueryExecutor } from '../engine/query.ts';
import { leadingKeywords, tokenize, type Token } from './sql/lexer.ts';
import { staticResult, type BrokerResult } from './result.ts';
import { SessionSettings } from './session/settings.ts';
import { runReset, runSet, runShow } from './session/set-show.ts';
import { telemetryTableNames } from './catalog/catalog-objects.ts';
import { rewriteCatalogSql, type RewriteContext } from './catalog/rewrite.ts';
import { catalogNames } from './catalog/catalog-ddl.ts';
import type { CatalogDb } from './catalog/catalog-db.ts';
import { withPgColumnNames } from './column-names.ts';

export interface SessionStart {
  user: string;
  database: string;
  processId: number;
  /** StartupMessage parameters. */
  parameters: Record<string, string>;
  serverVersion?: string;
}

/** A QueryExecutor bound to one client session (settings, identity). */
export interface QuerySession extends QueryExecutor {
  query(sql: string, signal?: AbortSignal): Promise<BrokerResult>;
  readonly settings: SessionSettings;
}

/** Executors that keep per-session state implement this; the wire server opens one per connection. */
export interface SessionFactory {
  openSession(start: SessionStart): QuerySession;
}

export function isSessionFactory(x: unknown): x is SessionFactory {
  return typeof (x as SessionFactory | null)?.openSession === 'function';
}

/** True when the statement reads a telemetry table (so it must run where the rows are). */
export function readsTelemetry(tokens: Token[]): boolean {
  return tokens.some((t) => (t.kind === 'ident' || t.kind === 'qident') && telemetryTableNames.has(t.value));
}

/** True when the statement names a catalog table, information_schema, or a PostgreSQL catalog function. */
export function readsCatalog(tokens: Token[]): boolean {
  return tokens.some((t) => (t.kind === 'ident' || t.kind === 'qident') && catalogNames.has(t.value));
}

export class BrokerSession implements QuerySession {
  readonly settings: SessionSettings;
  private readonly rewriteContext: RewriteContext;

  constructor(
    private readonly node: QueryExecutor,
    private readonly catalog: () => Promise<CatalogDb>,
    start: SessionStart,
  ) {
    this.settings = new SessionSettings(start.user, start.parameters, (start.serverVersion ?? '16.0').split(' ')[0]);
    this.rewriteContext = {
      user: start.user,
      database: start.database,
      processId: start.processId,
      setting: (name) => this.settings.get(name),
      settings: () => this.settings.all().map(([name, value]) => [name, value]),
    };
  }

  async query(sql: string, signal?: AbortSignal): Promise<BrokerResult> {
    const tokens = tokenize(sql);
    const [w0, w1] = leadingKeywords(tokens, 2);
    switch (w0) {
      case 'SET':
        return runSet(tokens, this.settings);
      case 'SHOW':
        return runShow(tokens, this.settings);
      case 'RESET':
        return runReset(tokens, this.settings);
      case 'DISCARD': {
        const r = staticResult(`DISCARD ${w1 ?? 'ALL'}`, []);
        if (w1 === 'ALL') r.parameterStatus = this.settings.resetAll();
        return r;
      }
      case 'LISTEN':
      case 'UNLISTEN':
        return staticResult(w0, []); // no notifications are ever sent
    }
    // telemetry (and anything that is not about the catalog) runs where the rows are
    if (readsTelemetry(tokens) || !readsCatalog(tokens)) {
      return withPgColumnNames(await this.node.query(rewriteCatalogSql(sql, this.rewriteContext, true), signal, this.settings.queryOptions()));
    }
    const db = await this.catalog();
    return withPgColumnNames(await db.query(rewriteCatalogSql(sql, this.rewriteContext), signal));
  }
}
