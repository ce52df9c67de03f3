// One client connection: startup and authentication, then the message loop. Messages are
// handled strictly one at a time; query results are pulled chunk by chunk and the next chunk
// is only requested once the socket has drained (a slow client never makes us buffer a
// whole result). A connection that closes aborts its running query.
import type { Socket } from 'node:net';
import { TLSSocket, type SecureContext } from 'node:tls';
import { SqlError, SqlState, type QueryExecutor, type QueryResult, type Value } from '../../engine/query.ts';
import type { ColumnType } from '../../engine/schema.ts';
import { AuthCode, type AuthExchange, type AuthStrategy } from './auth.ts';
import { BackendWriter, TransactionStatus, type ErrorFields, type TransactionStatusValue } from './backend-messages.ts';
import { MessageFramer, ProtocolViolation, type Frame, type FramerLimits } from './framing.ts';
import type { Logger } from './logger.ts';
import { initialParameterStatus } from './session-parameters.ts';
import { splitStatements } from './split-statements.ts';
import { formatValue } from './text-format.ts';
import { resolveTimeZone, type TimeZone } from '../../planner/session/time-zone.ts';
import { encodeBinary } from './binary-format.ts';
import { batchLength, batchValues, nativeDataRows, resultBatches, type RowBatch } from './row-batches.ts';
import { parseCursorCommand, SqlCursors } from './sql-cursors.ts';
import { parseSessionCommand } from './session-commands.ts';
import { classifyTransactionCommand, type TxCommand } from './transaction-control.ts';
import { decodeBind, decodeExecute, decodeParse, decodeTarget } from './extended-messages.ts';
import { ExtendedQuery, type StatementRunner } from './extended-query.ts';
import { abortedTransactionError, armStatementTimeout, canceledError, commandTag, fieldDescriptions } from './result-encoding.ts';
import { isSessionFactory, type QuerySession } from '../../planner/broker-session.ts';
import type { BrokerResult } from '../../planner/result.ts';

/** Startup-packet codes (the int32 after the length in the untyped first packet). */
const SSL_REQUEST = 80877103;
const GSSENC_REQUEST = 80877104;
const CANCEL_REQUEST = 80877102;

/** Output is handed to the socket once this much is encoded, even mid-chunk. */
const OUTPUT_FLUSH_BYTES = 256 * 1024;
/** Inbound bytes buffered while busy before we stop reading from the socket. */
const INBOUND_PAUSE_BYTES = 4 * 1024 * 1024;

/** What a connection needs from its server. */
export interface ConnectionHost {
  executor: QueryExecutor;
  logger: Logger;
  auth: AuthStrategy;
  /** Offered on SSLRequest when set. */
  tls: SecureContext | null;
  framerLimits: FramerLimits;
  serverVersion: string;
  startupTimeoutMs: number;
  /** Registers the session for cancel and connection limits; returns an error if refused. */
  admit(conn: PgConnection): SqlError | null;
  /** Handles a CancelRequest received on some connection. */
  cancel(processId: number, secretKey: number): void;
  /** Called once when the socket has closed. */
  closed(conn: PgConnection): void;
}

/** Thrown inside the loop when the peer went away; ends the loop quietly. */
class ConnectionClosed extends Error {}

export interface SessionInfo {
  user: string;
  database: string;
  applicationName: string;
  /** All startup parameters as sent (unknown ones are kept but ignored). */
  parameters: Record<string, string>;
}

export class PgConnection {
  readonly remote: string;
  session: SessionInfo | null = null;

  private readonly framer: MessageFramer;
  private readonly out = new BackendWriter();
  private isClosed = false;
  private wake: (() => void) | null = null;
  private txStatus: TransactionStatusValue = TransactionStatus.idle;
  /** After an error in extended-protocol messages, everything is discarded until Sync. */
  private ignoreTillSync = false;
  private running: AbortController | null = null;
  private readonly closedPromise: Promise<void>;
  /** Extended query protocol state (statements and portals). */
  private readonly extendedQuery: ExtendedQuery;
  /** Where statements go: the broker session (settings, catalog) or the plain executor. */
  private exec: QueryExecutor;
  private brokerSession: QuerySession | null = null;
  /** DECLARE/FETCH/MOVE/CLOSE cursors of this session. */
  private readonly sqlCursors: SqlCursors;

  constructor(
    private socket: Socket,
    private readonly host: ConnectionHost,
    readonly processId: number,
    readonly secretKey: number,
  ) {
    this.remote = `${socket.remoteAddress}:${socket.remotePort}`;
    this.framer = new MessageFramer(host.framerLimits);
    this.exec = host.executor;
    this.sqlCursors = new SqlCursors(this.statementRunner());
    this.extendedQuery = new ExtendedQuery(this.statementRunner(), this.sqlCursors);
    socket.setNoDelay(true);
    socket.setKeepAlive(true, 60_000);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', (err) => host.logger.debug({ remote: this.remote, err: err.message }, 'pg socket error'));
    this.closedPromise = new Promise((resolve) =>
      socket.once('close', () => {
        this.isClosed = true;
        this.running?.abort();
        this.wakeLoop();
        host.closed(this);
        resolve();
      }),
    );
  }

  get closed(): boolean {
    return this.isClosed;
  }

  /** Resolves when the socket has closed. */
  whenClosed(): Promise<void> {
    return this.closedPromise;
  }

  /** Runs the connection until it closes; never rejects. */
  async run(): Promise<void> {
    try {
      if (await this.startup()) {
        for (;;) {
          const frame = await this.nextFrame();
          if (!frame || !(await this.handleMessage(frame))) break;
        }
      }
    } catch (err) {
      if (err instanceof ConnectionClosed) {
        // peer went away: nothing to tell it
      } else if (err instanceof ProtocolViolation) {
        this.host.logger.warn({ remote: this.remote, err: err.message }, 'pg protocol violation');
        this.fatal(SqlState.protocolViolation, err.message);
      } else {
        this.host.logger.error({ remote: this.remote, err }, 'pg connection failed');
        this.fatal(SqlState.internalError, `internal error: ${errorMessage(err)}`);
      }
    } finally {
      this.endSocket();
      await this.extendedQuery.release(true);
      await this.sqlCursors.closeAll();
    }
  }

  /** Aborts the running query, if any (CancelRequest). */
  cancelRunningQuery(): void {
    this.running?.abort();
  }

  /** Server shutdown: abort, tell the client why, close. */
  terminate(): void {
    this.running?.abort();
    if (!this.isClosed) this.fatal('57P01', 'terminating connection due to administrator command');
    this.endSocket();
  }

  // ---- input ------------------------------------------------------------------------------

  private onData(chunk: Buffer): void {
    this.framer.push(chunk);
    // Busy (nobody waiting for input) and a pile-up of pipelined input: stop reading.
    if (!this.wake && this.framer.buffered > INBOUND_PAUSE_BYTES) this.socket.pause();
    this.wakeLoop();
  }

  private wakeLoop(): void {
    const w = this.wake;
    this.wake = null;
    w?.();
  }

  /** The next whole message, or null once the socket has closed. */
  private async nextFrame(): Promise<Frame | null> {
    for (;;) {
      if (this.isClosed) return null;
      const frame = this.framer.next();
      if (frame) return frame;
      if (this.socket.isPaused()) this.socket.resume();
      await new Promise<void>((resolve) => (this.wake = resolve));
    }
  }

  // ---- output -----------------------------------------------------------------------------

  /**
   * Hands encoded messages (then `more`, already encoded DataRows) to the socket in one write;
   * false when the socket wants us to wait.
   */
  private flush(more?: Buffer): boolean {
    if (this.out.size === 0 && !more) return true;
    const bytes = this.out.size > 0 ? this.out.take() : null;
    if (this.isClosed || this.socket.writableEnded) return true;
    if (!bytes || !more) return this.socket.write((bytes ?? more)!);
    this.socket.cork();
    this.socket.write(bytes);
    const ok = this.socket.write(more);
    this.socket.uncork();
    return ok;
  }

  /** Flushes (with `more`, see flush) and waits until the socket drained (or closed). */
  private async flushAndDrain(more?: Buffer): Promise<void> {
    if (this.flush(more)) return;
    await new Promise<void>((resolve) => {
      const done = (): void => {
        this.socket.off('drain', done);
        this.socket.off('close', done);
        resolve();
      };
      this.socket.on('drain', done);
      this.socket.on('close', done);
    });
  }

  private fatal(code: string, message: string): void {
    this.out.error({ severity: 'FATAL', code, message });
    this.flush();
  }

  private endSocket(): void {
    if (this.isClosed) return;
    this.flush();
    this.socket.end();
    // a client that never closes its side must not keep the socket forever
    setTimeout(() => this.socket.destroy(), 2000).unref();
  }

  // ---- startup ----------------------------------------------------------------------------

  private tlsActive = false;

  /** Wraps the socket in TLS (server side); false if the handshake failed or the peer left. */
  private async upgradeToTls(context: SecureContext): Promise<boolean> {
    const raw = this.socket;
    raw.removeAllListeners('data');
    const secure = new TLSSocket(raw, { isServer: true, secureContext: context });
    this.socket = secure;
    this.tlsActive = true;
    secure.on('data', (chunk: Buffer) => this.onData(chunk));
    secure.on('error', (err) => this.host.logger.debug({ remote: this.remote, err: err.message }, 'pg tls error'));
    return new Promise<boolean>((resolve) => {
      secure.once('secure', () => resolve(true));
      secure.once('error', () => {
        raw.destroy();
        resolve(false);
      });
      secure.once('close', () => resolve(false));
    });
  }

  /** Startup packets, authentication and the session preamble; true once ready for queries. */
  private async startup(): Promise<boolean> {
    const timer = setTimeout(() => {
      this.host.logger.info({ remote: this.remote }, 'pg startup timed out');
      this.socket.destroy();
    }, this.host.startupTimeoutMs);
    timer.unref();
    try {
      for (;;) {
        const frame = await this.nextFrame();
        if (!frame) return false;
        const body = frame.body;
        const code = body.readInt32BE(0);
        if (code === SSL_REQUEST || code === GSSENC_REQUEST) {
          // Bytes sent before our answer could be injected by a man in the middle (CVE-2021-23222).
          if (this.framer.buffered > 0) throw new ProtocolViolation('received unencrypted data after SSL request');
          if (code === SSL_REQUEST && this.host.tls && !this.tlsActive) {
            this.out.rawByte('S');
            this.flush();
            if (!(await this.upgradeToTls(this.host.tls))) return false;
            continue;
          }
          this.out.rawByte('N'); // GSSAPI encryption is not offered; TLS only with a certificate
          this.flush();
          continue;
        }
        if (code === CANCEL_REQUEST) {
          if (body.length >= 12) this.host.cancel(body.readInt32BE(4), body.readInt32BE(8));
          return false; // a cancel connection gets no reply
        }
        return await this.acceptStartupMessage(code, body);
      }
    } finally {
      clearTimeout(timer);
    }
  }

  private async acceptStartupMessage(version: number, body: Buffer): Promise<boolean> {
    const major = version >>> 16;
    const minor = version & 0xffff;
    if (major !== 3) {
      this.fatal(SqlState.featureNotSupported, `unsupported frontend protocol ${major}.${minor}: server supports 3.0 to 3.0`);
      return false;
    }
    const parameters = parseStartupParameters(body.subarray(4));
    this.framer.endStartupPhase();
    // Protocol extensions (_pq_.*) and minor versions above 3.0 are declined, as PG does.
    const pqOptions = Object.keys(parameters).filter((k) => k.startsWith('_pq_.'));
    if (minor > 0 || pqOptions.length > 0) this.out.negotiateProtocolVersion(0, pqOptions);

    const user = parameters.user;
    if (!user) {
      this.fatal('28000', 'no PostgreSQL user name specified in startup packet');
      return false;
    }
    this.session = {
      user,
      database: parameters.database || user,
      applicationName: parameters.application_name ?? parameters.fallback_application_name ?? '',
      parameters,
    };
    const refused = this.host.admit(this);
    if (refused) {
      this.fatal(refused.sqlstate, refused.message);
      return false;
    }
    try {
      await this.host.auth.authenticate(user, this.authExchange());
    } catch (err) {
      if (!(err instanceof SqlError)) throw err;
      this.host.logger.info({ remote: this.remote, user, method: this.host.auth.method }, 'pg authentication failed');
      this.fatal(err.sqlstate, err.message);
      return false;
    }
    this.out.authentication(AuthCode.ok);
    if (isSessionFactory(this.host.executor)) {
      this.brokerSession = this.host.executor.openSession({
        user, database: this.session.database, processId: this.processId, parameters, serverVersion: this.host.serverVersion,
      });
      this.exec = this.brokerSession;
    }
    for (const [name, value] of initialParameterStatus({
      user,
      applicationName: this.session.applicationName,
      serverVersion: this.host.serverVersion,
    })) {
      // a startup parameter the session accepted (TimeZone, application_name, …) is reported back
      this.out.parameterStatus(name, this.brokerSession?.settings.get(name) ?? value);
    }
    this.out.backendKeyData(this.processId, this.secretKey);
    this.out.readyForQuery(this.txStatus);
    this.flush();
    this.host.logger.debug({ remote: this.remote, user, database: this.session.database, pid: this.processId }, 'pg session started');
    return true;
  }

  private authExchange(): AuthExchange {
    return {
      request: (code, extra) => {
        this.out.authentication(code, extra);
        this.flush();
      },
      response: async () => {
        const frame = await this.nextFrame();
        if (!frame) throw new ConnectionClosed();
        if (frame.type !== 0x70 /* p */) {
          throw new ProtocolViolation(`expected password response, got message type ${frameTypeName(frame.type)}`);
        }
        return frame.body;
      },
    };
  }

  // ---- message loop -----------------------------------------------------------------------

  /** Handles one message; false ends the connection. */
  private async handleMessage(frame: Frame): Promise<boolean> {
    const type = String.fromCharCode(frame.type);
    if (this.ignoreTillSync && type !== 'S' && type !== 'X') return true;
    switch (type) {
      case 'Q':
        // a simple query drops the unnamed statement and portal, as in PostgreSQL
        await this.extendedQuery.closeStatement('');
        await this.extendedQuery.closePortal('');
        await this.simpleQuery(readCString(frame.body));
        return true;
      case 'X':
        return false;
      case 'S': // Sync: ends the implicit transaction of the extended messages before it
        this.ignoreTillSync = false;
        await this.extendedQuery.release(this.txStatus !== TransactionStatus.inBlock);
        this.out.readyForQuery(this.txStatus);
        await this.flushAndDrain();
        return true;
      case 'H': // Flush
        await this.flushAndDrain();
        return true;
      case 'P':
        await this.extended(() => this.extendedQuery.parse(decodeParse(frame.body)));
        return true;
      case 'B':
        await this.extended(() => this.extendedQuery.bind(decodeBind(frame.body)));
        return true;
      case 'D':
        await this.extended(() => this.extendedQuery.describe(decodeTarget(frame.body, 'Describe')));
        return true;
      case 'E':
        await this.extended(() => this.extendedQuery.execute(decodeExecute(frame.body)));
        return true;
      case 'C':
        await this.extended(() => this.extendedQuery.close(decodeTarget(frame.body, 'Close')));
        return true;
      case 'F':
        this.sendError({ severity: 'ERROR', code: SqlState.featureNotSupported, message: 'function call protocol not supported' });
        this.out.readyForQuery(this.txStatus);
        await this.flushAndDrain();
        return true;
      case 'd': // CopyData, CopyDone, CopyFail outside COPY: ignored, as PostgreSQL does
      case 'c':
      case 'f':
        return true;
      default:
        throw new ProtocolViolation(`invalid frontend message type ${frame.type}`);
    }
  }

  private sendError(fields: ErrorFields): void {
    this.out.error(fields);
    if (this.txStatus === TransactionStatus.inBlock) this.txStatus = TransactionStatus.failed;
  }

  // ---- simple query -----------------------------------------------------------------------

  private async simpleQuery(sql: string): Promise<void> {
    const { statements, error } = splitStatements(sql);
    if (error) {
      // PostgreSQL lexes the whole string before running any of it
      this.sendError({ severity: 'ERROR', code: SqlState.syntaxError, message: `${error} at end of input` });
    } else if (statements.length === 0) {
      this.out.emptyQueryResponse();
    } else {
      for (const stmt of statements) {
        if (!(await this.runStatement(stmt.text))) break;
      }
    }
    // portals live until their transaction ends (a COMMIT/ROLLBACK in this string ends it)
    if (this.txStatus !== TransactionStatus.inBlock) await this.extendedQuery.release(true);
    this.out.readyForQuery(this.txStatus);
    await this.flushAndDrain();
  }

  /** Runs one statement and writes its response; false if it failed (skip the rest). */
  private async runStatement(sql: string): Promise<boolean> {
    const tx = classifyTransactionCommand(sql);
    if (tx) return this.transactionCommand(tx);
    if (this.txStatus === TransactionStatus.failed) {
      this.sendError(fieldsOf(abortedTransactionError()));
      return false;
    }
    const abort = new AbortController();
    const started = performance.now();
    const disarm = armStatementTimeout(abort, this.statementTimeoutMs());
    try {
      const session = parseSessionCommand(sql);
      if (session?.kind === 'deallocate') {
        await this.extendedQuery.deallocate(session.name);
        this.out.commandComplete(session.name === null ? 'DEALLOCATE ALL' : 'DEALLOCATE');
        return true;
      }
      if (session?.kind === 'discardAll') {
        if (this.txStatus === TransactionStatus.inBlock) throw new SqlError('25001', 'DISCARD ALL cannot run inside a transaction block');
        await this.sqlCursors.closeAll();
        await this.extendedQuery.deallocate(null);
        // the settings part goes on to the session (RESET ALL and its ParameterStatus)
      }
      const cursor = parseCursorCommand(sql);
      if (cursor) {
        await this.sqlCursors.run(cursor, this.txStatus === TransactionStatus.inBlock, abort.signal);
        return true;
      }
      const result = await this.startQuery(sql, abort);
      this.running = abort;
      const rows = await this.sendResult(result, abort.signal);
      this.host.logger.debug({ pid: this.processId, sql, rows, ms: Math.round(performance.now() - started) }, 'pg statement');
      return true;
    } catch (err) {
      if (err instanceof ConnectionClosed || this.isClosed) throw new ConnectionClosed();
      this.sendError(this.errorFields(err, sql));
      return false;
    } finally {
      disarm();
      this.running = null;
    }
  }

  /** The session's statement_timeout in ms (0 = none). */
  private statementTimeoutMs(): number {
    try {
      return this.brokerSession?.settings.statementTimeoutMs ?? 0;
    } catch {
      return 0;
    }
  }

  /** The session's TimeZone, in which timestamptz text is shown (null: UTC). */
  private timeZone(): TimeZone | null {
    const name = this.brokerSession?.settings.get('TimeZone');
    if (!name || name === 'UTC') return null;
    try {
      return resolveTimeZone(name);
    } catch {
      return null; // the setting was validated when set; never fail a result over it
    }
  }

  /** The session's settings, for how results are encoded (row-batches.ts). */
  private readonly outputSetting = (name: string): string | undefined => {
    try {
      return this.brokerSession?.settings.get(name);
    } catch {
      return undefined;
    }
  };

  /** Runs a statement through the executor, cancellable while it runs. */
  private async startQuery(sql: string, abort: AbortController): Promise<QueryResult> {
    this.running = abort;
    try {
      const result: BrokerResult = await this.exec.query(sql, abort.signal);
      for (const [name, value] of result.parameterStatus ?? []) this.out.parameterStatus(name, value);
      for (const message of result.notices ?? []) this.out.error({ severity: 'NOTICE', code: '01000', message });
      return result;
    } catch (err) {
      // whatever an executor throws once its signal fired, the client asked for a cancel (or it timed out)
      if (abort.signal.aborted && (!(err instanceof SqlError) || err.sqlstate === SqlState.queryCanceled)) throw canceledError(abort.signal);
      throw err;
    } finally {
      this.running = null;
    }
  }

  /** Streams a result to the client; returns the row count. */
  private async sendResult(result: QueryResult, signal: AbortSignal): Promise<number> {
    const columns = result.columns;
    const command = result.command.toUpperCase();
    if (columns.length > 0 || command === 'SELECT') {
      try {
        this.out.rowDescription(fieldDescriptions(columns));
      } catch (err) {
        await result.chunks[Symbol.asyncIterator]().return?.(); // release what the executor holds
        throw err;
      }
    }
    const types = columns.map((c) => c.type);
    let rows = 0;
    for await (const chunk of resultBatches(result)) {
      if (signal.aborted) throw canceledError(signal);
      rows += await this.sendRows(types, chunk);
    }
    if (signal.aborted) throw canceledError(signal);
    this.out.commandComplete(commandTag(command, rows));
    return rows;
  }

  /**
   * Encodes rows as DataRows and hands them to the socket. Backpressure: returns only once the
   * socket has drained, so the caller pulls the next chunk only when the client keeps up.
   */
  private async sendRows(types: ColumnType[], batch: RowBatch, formats?: number[]): Promise<number> {
    const encoded = nativeDataRows(batch, formats ?? types.map(() => 0), this.outputSetting);
    if (encoded) {
      await this.flushAndDrain(encoded);
      if (this.isClosed) throw new ConnectionClosed();
      return batchLength(batch);
    }
    const chunk = batchValues(batch);
    const text: Array<string | Buffer | null> = new Array(types.length);
    const binary = formats?.some((f) => f === 1) ?? false;
    const zone = this.timeZone();
    for (const row of chunk) {
      if (row.length !== types.length) {
        throw new Error(`executor returned a row with ${row.length} values for ${types.length} columns`);
      }
      if (binary) {
        for (let i = 0; i < types.length; i++) text[i] = formats![i] === 1 ? encodeBinary(types[i]!, row[i]!) : formatValue(types[i]!, row[i]!, zone);
      } else {
        for (let i = 0; i < types.length; i++) text[i] = formatValue(types[i]!, row[i]!, zone);
      }
      this.out.dataRow(text);
      if (this.out.size >= OUTPUT_FLUSH_BYTES) await this.flushAndDrain();
    }
    await this.flushAndDrain();
    if (this.isClosed) throw new ConnectionClosed();
    return chunk.length;
  }

  // ---- extended query protocol (extended-query.ts) ----------------------------------------

  private statementRunner(): StatementRunner {
    const conn = this;
    return {
      out: this.out,
      get txStatus() {
        return conn.txStatus;
      },
      startQuery: (sql, abort) => this.startQuery(sql, abort),
      sendRows: (types, rows, formats) => this.sendRows(types, rows, formats),
      statementTimeoutMs: () => this.statementTimeoutMs(),
      transactionCommand: (tx) => this.transactionCommand(tx),
      setRunning: (abort) => {
        this.running = abort;
      },
    };
  }

  /** Runs one extended-protocol step; after an error, messages are discarded until Sync. */
  private async extended(step: () => Promise<boolean | void>): Promise<void> {
    try {
      if ((await step()) === false) this.ignoreTillSync = true;
    } catch (err) {
      if (err instanceof ProtocolViolation || err instanceof ConnectionClosed || this.isClosed) throw err;
      this.sendError(this.errorFields(err, ''));
      this.ignoreTillSync = true;
    }
  }

  private transactionCommand(tx: TxCommand): boolean {
    const status = this.txStatus;
    const { idle, inBlock, failed } = TransactionStatus;
    if (status === failed && tx.kind !== 'commit' && tx.kind !== 'rollback' && tx.kind !== 'rollbackTo') {
      this.sendError(fieldsOf(abortedTransactionError()));
      return false;
    }
    const notInBlock = (what: string): boolean => {
      this.sendError({ severity: 'ERROR', code: '25P01', message: `${what} can only be used in transaction blocks` });
      return false;
    };
    const warnNoTransaction = (): void =>
      void this.out.error({ severity: 'WARNING', code: '25P01', message: 'there is no transaction in progress' });
    switch (tx.kind) {
      case 'begin':
        if (status !== idle) {
          this.out.error({ severity: 'WARNING', code: '25001', message: 'there is already a transaction in progress' });
        }
        this.txStatus = inBlock;
        this.out.commandComplete('BEGIN');
        return true;
      case 'commit':
        if (status === idle) warnNoTransaction();
        this.txStatus = idle;
        void this.sqlCursors.endTransaction(status !== failed);
        // committing a failed transaction rolls it back, and PostgreSQL says so in the tag
        this.out.commandComplete(status === failed ? 'ROLLBACK' : 'COMMIT');
        return true;
      case 'rollback':
        if (status === idle) warnNoTransaction();
        this.txStatus = idle;
        void this.sqlCursors.endTransaction(false);
        this.out.commandComplete('ROLLBACK');
        return true;
      case 'savepoint':
        if (status === idle) return notInBlock('SAVEPOINT');
        this.out.commandComplete('SAVEPOINT');
        return true;
      case 'release':
        if (status === idle) return notInBlock('RELEASE SAVEPOINT');
        this.out.commandComplete('RELEASE');
        return true;
      case 'rollbackTo':
        if (status === idle) return notInBlock('ROLLBACK TO SAVEPOINT');
        this.txStatus = inBlock;
        this.out.commandComplete('ROLLBACK');
        return true;
    }
  }

  private errorFields(err: unknown, sql: string): ErrorFields {
    if (err instanceof SqlError && /^[0-9A-Z]{5}$/.test(err.sqlstate)) {
      return { severity: 'ERROR', code: err.sqlstate, message: err.message, detail: err.detail, hint: err.hint };
    }
    this.host.logger.error({ remote: this.remote, err, sql }, 'pg query failed unexpectedly');
    return { severity: 'ERROR', code: SqlState.internalError, message: `internal error: ${errorMessage(err)}` };
  }
}

/** name=value pairs of a StartupMessage, each a NUL-terminated string, ended by an empty name. */
export function parseStartupParameters(buf: Buffer): Record<string, string> {
  const params: Record<string, string> = Object.create(null);
  let i = 0;
  for (;;) {
    const nameEnd = buf.indexOf(0, i);
    if (nameEnd === -1) throw new ProtocolViolation('invalid startup packet layout: expected terminator as last byte');
    if (nameEnd === i) return params;
    const valueEnd = buf.indexOf(0, nameEnd + 1);
    if (valueEnd === -1) throw new ProtocolViolation('invalid startup packet layout: expected terminator as last byte');
    params[buf.toString('utf8', i, nameEnd)] = buf.toString('utf8', nameEnd + 1, valueEnd);
    i = valueEnd + 1;
  }
}

function fieldsOf(err: SqlError): ErrorFields {
  return { severity: 'ERROR', code: err.sqlstate, message: err.message, detail: err.detail, hint: err.hint };
}

function readCString(buf: Buffer): string {
  const nul = buf.indexOf(0);
  return buf.toString('utf8', 0, nul === -1 ? buf.length : nul);
}

function frameTypeName(type: number): string {
  return type >= 32 && type < 127 ? `'${String.fromCharCode(type)}'` : String(type);
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
