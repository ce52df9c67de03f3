// The node engine: rows go into the compressed table store (engine/store/); each query gets a
// fresh connection to a locked-down in-memory DuckDB in which every table it names is a view over
// the `wiretap_scan` table function reading a pruned snapshot of the store. Results stream.
import { DuckDBInstance, StatementType, type DuckDBConnection, type DuckDBPreparedStatement } from '@duckdb/node-api';
import type { RowSink, RowTypes, TableName } from './schema.ts';
import { SqlError, type QueryExecutor, type QueryOptions, type QueryResult, type Value } from './query.ts';
import { readOnlyError, toSqlError } from './duck-errors.ts';
import { applyQueryOptions, canceled, extractOne, prepareQuery, streamReadOnly } from './duck-result.ts';
import { Store, defaultStoreOptions, type StoreOptions } from './store/store.ts';
import type { TableStats } from './store/table-store.ts';
import { ScanRegistry } from './scan/scan-function.ts';
import type { TextCodes } from './scan/text-codes.ts';
import { createViews, type MetadataProvider, type PreparedScan } from './table-views.ts';
import { isOneRowAggregate } from './scan/analyze.ts';

export type { MetadataProvider } from './table-views.ts';

export interface DuckEngineOptions {
  /** Bytes the table store may hold, all tables together (default 1 GiB). */
  memoryBudget?: number;
  /** Fraction of the budget per table (default http_events 0.4; the rest split equally). */
  tableShares?: Partial<Record<string, number>>;
  /** Rows kept per table; the oldest batches expire beyond it. */
  maxRowsPerTable?: number;
  /** Rows per sealed batch (the hot batch seals when it holds this many). */
  flushRows?: number;
  /** A hot batch with rows seals after this long. */
  flushIntervalMs?: number;
  /** Out-of-order rows older than newest − this are refused (counted). */
  lateWindowMs?: number;
  /** zstd level for sealed batches. */
  compressionLevel?: number;
  /** DuckDB worker threads. */
  threads?: number;
  /** DuckDB memory limit for query execution, e.g. '1GB'. */
  memoryLimit?: string;
  /** Where hydrated columns (container, cmdline, …) come from. */
  metadata?: MetadataProvider | null;
  /** Strings with more distinct values than this (per query) go to DuckDB as VARCHAR, not ENUM. */
  maxEnumEntries?: number;
  /** Rows per DuckDB thread of a table scan (default 128Ki; tests lower it to scan in parallel). */
  scanRowsPerThread?: number;
}

export interface EngineStats {
  rowsAppended: number;
  rowsExpired: number;
  /** Rows in hot (not yet sealed) batches. */
  rowsBuffered: number;
  bytes: number;
}

/** Settings that make user SQL unable to touch files, the network, extensions or config. */
export function lockedDownConfig(threads: number, memoryLimit: string): Record<string, string> {
  return {
    enable_external_access: 'false',
    autoinstall_known_extensions: 'false',
    autoload_known_extensions: 'false',
    allow_community_extensions: 'false',
    allow_unsigned_extensions: 'false',
    threads: String(threads),
    memory_limit: memoryLimit,
  };
}

/** Statements that may read: optional comments/parentheses, then one of these keywords. */
const readOnlyStart = /^(\s|--[^\n]*\n|\/\*[\s\S]*?\*\/|\()*(select|with|values|table|from|explain)\b/i;

function storeOptions(o: DuckEngineOptions): StoreOptions {
  const d = defaultStoreOptions;
  return {
    memoryBudget: o.memoryBudget ?? d.memoryBudget,
    shares: o.tableShares ?? d.shares,
    maxRowsPerTable: o.maxRowsPerTable ?? d.maxRowsPerTable,
    batchRows: o.flushRows ?? d.batchRows,
    batchBytes: d.batchBytes,
    sealAfterMs: o.flushIntervalMs ?? d.sealAfterMs,
    lateWindowMs: o.lateWindowMs ?? d.lateWindowMs,
    compressionLevel: o.compressionLevel ?? d.compressionLevel,
  };
}

/** A connection kept between queries: its TimeZone and persistent table views (table-views.ts). */
interface PooledConnection {
  conn: DuckDBConnection;
  zone: string;
  views: Map<string, string>;
  /**
   * Prepared SELECTs by text, over persistent views whose scans' types the view text fixes
   * (table-views.ts `cacheable`): run again, each execution scans the plan its query set in the
   * slot (native Init), never the one it was prepared with. Dropped when a view or the zone changes.
   */
  statements: Map<string, DuckDBPreparedStatement>;
}

function dropStatements(p: PooledConnection): void {
  for (const s of p.statements.values()) s.destroySync();
  p.statements.clear();
}

const closingError = () => new SqlError('57P01', 'terminating connection due to administrator command');

/** How long close() waits for interrupted DuckDB calls to return (a bound: they stop within ms). */
const closeWaitMs = 10_000;

/** Prepared statements kept per pooled connection (dashboards resend a handful of texts). */
const maxStatementsPerConnection = 32;

/** Idle connections kept (each holds only its temp views; concurrent queries beyond open more). */
const maxIdleConnections = 8;

export class DuckEngine implements QueryExecutor, RowSink {
  private closed = false;
  private readonly open = new Set<DuckDBConnection>();
  /** Scans of the last query (tests check pruning with it). */
  lastScans: PreparedScan[] = [];

  private constructor(
    private readonly instance: DuckDBInstance,
    private readonly admin: DuckDBConnection,
    readonly store: Store,
    private readonly scans: ScanRegistry,
    private metadata: MetadataProvider | null,
    private readonly maxEnumEntries: number | undefined,
  ) {}

  /** Rows outside the WHERE's integer/time bounds are dropped in the native scan (false: A/B). */
  rowPrefilter = true;
  /** GROUP BY a text column groups its table-wide codes (scan/group-codes.ts; false: A/B). */
  groupByCodes = true;
  /** Table-wide text codes per `table.column`, kept across queries (scan/text-codes.ts). */
  private readonly textCodes = new Map<string, TextCodes>();
  /** The text the last query ran instead of its own (a GROUP BY rewrite), for tests. */
  lastRewrite: string | undefined;

  static async create(options: DuckEngineOptions = {}): Promise<DuckEngine> {
    const instance = await DuckDBInstance.create(':memory:', lockedDownConfig(options.threads ?? 2, options.memoryLimit ?? '2GB'));
    const admin = await instance.connect();
    // TimeZone belongs to the ICU extension, so it is set after start. Configuration is not
    // locked: each statement's connection is SET to its session's TimeZone (applyQueryOptions);
    // user SQL cannot SET (only SELECT/EXPLAIN of a query run: prepareQuery, streamReadOnly), and
    // external access and unsigned/community extensions cannot be re-enabled while DuckDB runs.
    await admin.run("SET GLOBAL TimeZone = 'UTC'");
    const scans = new ScanRegistry(options.scanRowsPerThread);
    scans.register(admin);
    return new DuckEngine(instance, admin, new Store(storeOptions(options)), scans, options.metadata ?? null, options.maxEnumEntries);
  }

  setMetadata(provider: MetadataProvider | null): void {
    this.metadata = provider;
  }

  append<T extends TableName>(table: T, row: RowTypes[T]): void {
    if (!this.closed) this.store.append(table, row);
  }

  /** Seals every hot batch (rows are queryable as soon as they are appended either way). */
  flush(): Promise<void> {
    this.store.sealAll();
    return Promise.resolve();
  }

  stats(): EngineStats {
    const t = this.store.stats();
    const sum = (f: (s: TableStats) => number) => t.reduce((a, s) => a + f(s), 0);
    return {
      rowsAppended: sum((s) => s.rowsAppended),
      rowsExpired: sum((s) => s.rowsExpired),
      rowsBuffered: sum((s) => s.hotRows),
      bytes: sum((s) => s.bytes),
    };
  }

  tableStats(): TableStats[] {
    return this.store.stats();
  }

  /** Table-wide text code dictionaries (`table.column`, entries, bytes: memory outside the store's budget). */
  textCodeStats(): { column: string; entries: number; bytes: number }[] {
    return [...this.textCodes].map(([column, c]) => ({ column, ...c.info() }));
  }

  /** Idle connections, most recently used last (queries reuse them: no connect, views kept). */
  private readonly idle: PooledConnection[] = [];
  /** false: a fresh connection per query with per-query views (the A/B of the pool). */
  poolConnections = true;

  /** Connections with DuckDB calls running on the thread pool, and how many (close() waits for them). */
  private readonly calls = new Map<DuckDBConnection, number>();
  private readonly enterCall = (conn: DuckDBConnection) => this.calls.set(conn, (this.calls.get(conn) ?? 0) + 1);
  private readonly exitCall = (conn: DuckDBConnection) => {
    const n = this.calls.get(conn)! - 1;
    if (n === 0) this.calls.delete(conn);
    else this.calls.set(conn, n);
  };

  async query(sql: string, signal?: AbortSignal, options?: QueryOptions): Promise<QueryResult> {
    if (this.closed) throw closingError();
    const pooled: PooledConnection = (this.poolConnections ? this.idle.pop() : undefined)
      ?? { conn: await this.instance.connect(), zone: 'UTC', views: new Map(), statements: new Map() };
    const conn = pooled.conn;
    if (this.closed) {
      conn.closeSync(); // closed while connecting
      throw closingError();
    }
    this.open.add(conn);
    this.enterCall(conn); // the setup below: views, options, prepare
    const cleanup: Array<() => void> = [];
    let aborted = false;
    const onAbort = () => {
      aborted = true;
      conn.interrupt();
    };
    let prepared: DuckDBPreparedStatement | undefined;
    let ownPrepared = true; // false: the connection's statement cache owns it
    // Reused only after a query that read all its rows, was never interrupted and created no
    // per-query objects: nothing of it (slots, statement, pending result) is left on the connection.
    let reusable = this.poolConnections;
    let released = false;
    const release = (complete = false) => {
      if (released) return;
      released = true;
      signal?.removeEventListener('abort', onAbort);
      // The prepared statement holds DuckDB's bound scans, which pin their decoded buffers:
      // free them now rather than when GC finds the statement.
      if (ownPrepared) prepared?.destroySync();
      prepared = undefined;
      for (const f of cleanup) f(); // also clears the connection's current-scan slots
      if (!this.open.has(conn)) return; // closed by close()
      if (complete && reusable && !aborted && !this.closed && this.idle.length < maxIdleConnections) {
        this.idle.push(pooled); // stays in `open`: close() closes it
      } else {
        this.open.delete(conn);
        dropStatements(pooled);
        conn.closeSync();
      }
    };
    try {
      // Refuse by leading keyword first: preparing e.g. COPY would already fail on file access
      // (a syntax error or several statements still get their own error). A query is split by
      // prepareQuery only if it fails to prepare: one round trip less.
      if (!readOnlyStart.test(sql)) {
        await extractOne(conn, sql);
        throw readOnlyError();
      }
      // Before the views: range bounds are evaluated in the zone. A failed SET leaves the zone as it was.
      const zone = options?.timeZone || 'UTC';
      if (zone !== pooled.zone) dropStatements(pooled); // literals were folded in the old zone
      await applyQueryOptions(conn, options, pooled.zone);
      pooled.zone = zone;
      const ctx = {
        store: this.store, scans: this.scans, metadata: this.metadata, maxEnumEntries: this.maxEnumEntries, prefilter: this.rowPrefilter,
        timeZone: options?.timeZone, textCodes: this.groupByCodes ? this.textCodes : undefined,
        views: this.poolConnections ? pooled.views : undefined,
      };
      const { scans, stmt, rewritten, reusable: keep, cacheable, viewsChanged } = await createViews(ctx, conn, sql, cleanup);
      reusable &&= keep;
      if (viewsChanged) dropStatements(pooled);
      this.lastScans = scans;
      this.lastRewrite = rewritten;
      if (rewritten !== undefined) {
        // A rewrite that does not prepare runs as written (so its error, if any, is the user's).
        prepared = await prepareQuery(conn, null, rewritten).catch(() => undefined);
        if (!prepared) this.lastRewrite = undefined;
      }
      if (!prepared && cacheable && rewritten === undefined) {
        prepared = pooled.statements.get(sql);
        if (prepared) {
          ownPrepared = false;
          pooled.statements.delete(sql); // most recently used last
          pooled.statements.set(sql, prepared);
        } else {
          prepared = await prepareQuery(conn, null, sql);
          if (prepared.statementType === StatementType.SELECT) {
            ownPrepared = false;
            pooled.statements.set(sql, prepared);
            for (const [text, old] of pooled.statements) {
              if (pooled.statements.size <= maxStatementsPerConnection) break;
              pooled.statements.delete(text);
              old.destroySync();
            }
          }
        }
      }
      prepared ??= await prepareQuery(conn, null, sql);
      const track = async <T>(call: () => Promise<T>): Promise<T> => {
        if (this.closed) throw closingError();
        this.enterCall(conn);
        try {
          return await call();
        } finally {
          this.exitCall(conn);
        }
      };
      const interrupted = () => (this.closed ? closingError() : aborted ? canceled() : null);
      return await streamReadOnly(prepared, signal, onAbort, release, { oneRow: isOneRowAggregate(stmt ?? null), track, interrupted });
    } catch (err) {
      release();
      throw toSqlError(err);
    } finally {
      this.exitCall(conn);
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const p of this.idle) dropStatements(p);
    this.idle.length = 0; // their connections are in `open`
    this.store.close();
    // A query may be inside a DuckDB call on the thread pool: closing its connection under it is a
    // use-after-free. Interrupt them all; each query closes its own connection as it unwinds (release).
    // Connections without a running call (idle, or a result nobody reads further) close at once.
    for (const c of this.open) c.interrupt();
    const deadline = Date.now() + closeWaitMs;
    while ([...this.open].some((c) => this.calls.has(c)) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    for (const c of this.open) c.closeSync();
    this.open.clear();
    this.admin.closeSync();
    this.instance.closeSync();
  }
}
