// The extended query protocol (Parse/Bind/Describe/Execute/Close): parameters (declared or
// inferred types, text or binary values; see bind-parameters.ts) and text or binary results. Statements and portals live here; running queries, encoding
// rows and transaction bookkeeping stay with the connection (StatementRunner). Errors are
// thrown as SqlError; the connection reports them and discards messages until Sync.
import { SqlError, SqlState, type QueryResult } from '../../engine/query.ts';
import type { ColumnType } from '../../engine/schema.ts';
import { TransactionStatus, type BackendWriter, type TransactionStatusValue } from './backend-messages.ts';
import type { BindMessage, ExecuteMessage, ParseMessage, TargetMessage } from './extended-messages.ts';
import { Portal, type PreparedStatement } from './portal.ts';
import { abortedTransactionError, armStatementTimeout, canceledError, commandTag, fieldDescriptions } from './result-encoding.ts';
import { inferParameterTypes, parameterLiteral, substituteParameters } from './bind-parameters.ts';
import { splitStatements } from './split-statements.ts';
import { classifyTransactionCommand, type TxCommand } from './transaction-control.ts';
import type { RowBatch } from './row-batches.ts';
import { parseCursorCommand, type CursorCommand, type FetchResult, type SqlCursors } from './sql-cursors.ts';

/** What the extended protocol needs from its connection. */
export interface StatementRunner {
  readonly out: BackendWriter;
  readonly txStatus: TransactionStatusValue;
  /** Runs a statement through the executor, cancellable while it runs. */
  startQuery(sql: string, abort: AbortController): Promise<QueryResult>;
  /** Encodes rows (per-column formats: 0 text, 1 binary) and waits for the socket to drain; returns the count. */
  sendRows(types: ColumnType[], rows: RowBatch, formats?: number[]): Promise<number>;
  /** The session's statement_timeout (0 = none). */
  statementTimeoutMs(): number;
  /** Answers BEGIN/COMMIT/…; false if it failed (the error is already written). */
  transactionCommand(tx: TxCommand): boolean;
  /** The controller a CancelRequest aborts while rows are being produced. */
  setRunning(abort: AbortController | null): void;
}

export class ExtendedQuery {
  /** Prepared statements and portals by name ('' = unnamed). */
  private readonly statements = new Map<string, PreparedStatement>();
  private readonly portals = new Map<string, Portal>();

  constructor(
    private readonly conn: StatementRunner,
    /** DECLARE/FETCH/MOVE/CLOSE statements go to the session's SQL cursors. */
    private readonly cursors: SqlCursors,
  ) {}

  async parse(m: ParseMessage): Promise<void> {
    if (m.statement !== '' && this.statements.has(m.statement)) {
      throw new SqlError('42P05', `prepared statement "${m.statement}" already exists`);
    }
    const { statements, error } = splitStatements(m.query);
    if (error) throw new SqlError(SqlState.syntaxError, `${error} at end of input`);
    if (statements.length > 1) throw new SqlError(SqlState.syntaxError, 'cannot insert multiple commands into a prepared statement');
    const stmt = statements[0];
    await this.closeStatement(m.statement);
    const sql = stmt?.text ?? '';
    const paramCount = Math.max(stmt?.maxParam ?? 0, m.paramTypes.length);
    this.statements.set(m.statement, {
      name: m.statement,
      sql,
      paramTypes: inferParameterTypes(sql, m.paramTypes, paramCount),
      tx: sql ? classifyTransactionCommand(sql) : null,
      cursor: sql ? (parseCursorCommand(sql)?.kind ?? null) : null,
      pending: null,
    });
    this.conn.out.parseComplete();
  }

  async bind(m: BindMessage): Promise<void> {
    const st = this.statement(m.statement);
    if (m.params.length !== st.paramTypes.length) {
      throw new SqlError(SqlState.protocolViolation,
        `bind message supplies ${m.params.length} parameters, but prepared statement "${m.statement}" requires ${st.paramTypes.length}`);
    }
    if (m.paramFormats.length > 1 && m.paramFormats.length !== m.params.length) {
      throw new SqlError(SqlState.protocolViolation, `bind message has ${m.paramFormats.length} parameter formats but ${m.params.length} parameters`);
    }
    if ([...m.paramFormats, ...m.resultFormats].some((f) => f !== 0 && f !== 1)) {
      throw new SqlError(SqlState.protocolViolation, 'unsupported format code (only 0 text and 1 binary exist)');
    }
    const literals = m.params.map((raw, i) =>
      parameterLiteral(st.paramTypes[i]!, m.paramFormats.length === 1 ? m.paramFormats[0]! : (m.paramFormats[i] ?? 0), raw, i + 1));
    const sql = literals.length > 0 ? substituteParameters(st.sql, literals) : st.sql;
    if (m.portal !== '' && this.portals.has(m.portal)) throw new SqlError('42P03', `portal "${m.portal}" already exists`);
    if (this.conn.txStatus === TransactionStatus.failed && !st.tx) throw abortedTransactionError();
    await this.closePortal(m.portal);
    const pending = st.pending;
    st.pending = null;
    this.portals.set(m.portal, new Portal(m.portal, st, sql, m.resultFormats, pending?.result ?? null, pending?.abort ?? new AbortController()));
    this.conn.out.bindComplete();
  }

  async describe(m: TargetMessage): Promise<void> {
    if (m.kind === 'S') {
      const st = this.statement(m.name);
      this.conn.out.parameterDescription(st.paramTypes);
      if (!st.sql || st.tx) {
        this.conn.out.noData();
        return;
      }
      if (st.cursor) {
        this.describeCursorCommand(st.sql);
        return;
      }
      if (st.paramTypes.length > 0) {
        // values are not known yet: learn the columns from the statement with NULLs and no rows
        this.describeResult(await this.describeWithoutValues(st));
        return;
      }
      // The columns are only known by running the query; the result waits for the next Bind.
      if (!st.pending) {
        if (this.conn.txStatus === TransactionStatus.failed) throw abortedTransactionError();
        const abort = new AbortController();
        st.pending = { result: await this.conn.startQuery(st.sql, abort), abort };
      }
      this.describeResult(st.pending.result);
      return;
    }
    const cursorFields = this.portals.has(m.name) || !m.name ? null : this.cursors.describeCursor(m.name);
    if (cursorFields) {
      // DECLARE made a portal of the cursor's name, as in PostgreSQL (psycopg3 describes it after DECLARE)
      this.conn.out.rowDescription(cursorFields);
      return;
    }
    const portal = this.portal(m.name);
    if (!portal.statement.sql || portal.statement.tx) {
      this.conn.out.noData();
      return;
    }
    if (portal.statement.cursor) {
      this.describeCursorCommand(portal.sql, portal);
      return;
    }
    portal.result ??= await this.conn.startQuery(portal.sql, portal.abort);
    this.describeResult(portal.result, portal.formats(portal.result.columns.length));
  }

  /** FETCH describes as the cursor's columns (NoData if there is no such cursor, as in PostgreSQL); DECLARE/MOVE/CLOSE as NoData. */
  private describeCursorCommand(sql: string, portal?: Portal): void {
    const cmd = parseCursorCommand(sql);
    const columns = cmd?.kind === 'fetch' ? this.cursors.columnsOf(cmd.name) : null;
    if (!columns) {
      this.conn.out.noData();
      return;
    }
    this.conn.out.rowDescription(fieldDescriptions(columns, portal?.formats(columns.length)));
  }

  private async describeWithoutValues(st: PreparedStatement): Promise<QueryResult> {
    const nulls = st.paramTypes.map(() => 'NULL');
    let sql = substituteParameters(st.sql, nulls);
    if (/^\s*(\(\s*)*(select|with|values|table)\b/i.test(sql)) sql = `SELECT * FROM (${sql}\n) AS wiretap_describe LIMIT 0`;
    const abort = new AbortController();
    const result = await this.conn.startQuery(sql, abort);
    await result.chunks[Symbol.asyncIterator]().return?.().catch(() => {});
    return { command: result.command, columns: result.columns, chunks: (async function* () {})() };
  }

  private describeResult(result: QueryResult, formats?: number[]): void {
    if (result.columns.length > 0 || result.command.toUpperCase() === 'SELECT') {
      this.conn.out.rowDescription(fieldDescriptions(result.columns, formats));
    } else {
      this.conn.out.noData();
    }
  }

  async execute(m: ExecuteMessage): Promise<boolean> {
    const portal = this.portal(m.portal);
    const st = portal.statement;
    if (!st.sql) {
      this.conn.out.emptyQueryResponse();
      return true;
    }
    if (st.tx) {
      return this.conn.transactionCommand(st.tx);
    }
    if (this.conn.txStatus === TransactionStatus.failed) throw abortedTransactionError();
    if (st.cursor && !portal.result) {
      const cmd: CursorCommand = parseCursorCommand(portal.sql)!;
      if (cmd.kind !== 'fetch') {
        // DECLARE/MOVE/CLOSE answer with their own CommandComplete
        await this.cursors.run(cmd, this.conn.txStatus === TransactionStatus.inBlock);
        return true;
      }
      portal.result = this.cursors.fetchResult(cmd, portal.abort.signal); // rows stream out under Execute's row limit
    }
    const disarm = armStatementTimeout(portal.abort, this.conn.statementTimeoutMs());
    try {
      const result = (portal.result ??= await this.conn.startQuery(portal.sql, portal.abort));
      const types = result.columns.map((c) => c.type);
      const formats = portal.formats(types.length);
      this.conn.setRunning(portal.abort);
      let rows = 0;
      for (;;) {
        if (portal.abort.signal.aborted) throw canceledError(portal.abort.signal);
        if (m.maxRows > 0 && rows >= m.maxRows) {
          this.conn.out.portalSuspended();
          return true;
        }
        const batch = await portal.nextBatch(m.maxRows > 0 ? m.maxRows - rows : 0);
        if (!batch) break;
        rows += await this.conn.sendRows(types, batch, formats);
      }
      const fetched = (result as Partial<FetchResult>).fetched?.();
      this.conn.out.commandComplete(commandTag(result.command.toUpperCase(), fetched ?? rows));
      return true;
    } catch (err) {
      await this.closePortal(m.portal);
      throw err;
    } finally {
      disarm();
      this.conn.setRunning(null);
    }
  }

  async close(m: TargetMessage): Promise<void> {
    if (m.kind === 'S') await this.closeStatement(m.name);
    else await this.closePortal(m.name);
    this.conn.out.closeComplete();
  }

  private statement(name: string): PreparedStatement {
    const st = this.statements.get(name);
    if (!st) throw new SqlError('26000', name ? `prepared statement "${name}" does not exist` : 'unnamed prepared statement does not exist');
    return st;
  }

  private portal(name: string): Portal {
    const p = this.portals.get(name);
    if (!p) throw new SqlError('34000', name ? `portal "${name}" does not exist` : 'unnamed portal does not exist');
    return p;
  }

  async closeStatement(name: string): Promise<void> {
    const st = this.statements.get(name);
    if (!st) return;
    this.statements.delete(name);
    await releasePending(st);
  }

  async closePortal(name: string): Promise<void> {
    const p = this.portals.get(name);
    if (!p) return;
    this.portals.delete(name);
    await p.close();
  }

  /** DEALLOCATE name (26000 if there is none) or, with null, DEALLOCATE ALL. */
  async deallocate(name: string | null): Promise<void> {
    if (name === null) {
      for (const n of [...this.statements.keys()]) await this.closeStatement(n);
      return;
    }
    this.statement(name); // throws 26000 when missing
    await this.closeStatement(name);
  }

  /** At Sync (and on close): results kept for Describe→Bind go; portals go at transaction end. */
  async release(portalsToo: boolean): Promise<void> {
    for (const st of this.statements.values()) await releasePending(st);
    if (portalsToo) for (const name of [...this.portals.keys()]) await this.closePortal(name);
  }
}

async function releasePending(st: PreparedStatement): Promise<void> {
  const pending = st.pending;
  st.pending = null;
  if (!pending) return;
  pending.abort.abort();
  await pending.result.chunks[Symbol.asyncIterator]().return?.().catch(() => {});
}
