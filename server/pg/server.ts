// wiretap's PostgreSQL wire protocol (v3) server.
//
// Clients (psql, node-pg, later Grafana/JDBC/psycopg2) connect as to a read-only PostgreSQL 16.
// This layer owns the protocol only: startup (SSLRequest/GSSENCRequest answered 'N'),
// authentication (trust on loopback, cleartext password when configured; strategies in
// auth.ts), the ParameterStatus preamble, CancelRequest, the simple query protocol with
// several statements per message, transaction-control no-ops, and text encoding of results.
// Every statement goes to the QueryExecutor (engine/query.ts); it alone decides what SQL
// means. Files: connection.ts (per-connection state machine), framing.ts (message framing),
// backend-messages.ts (encoding), text-format.ts + pg-types.ts (values), split-statements.ts.
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { randomBytes } from 'node:crypto';
import { SqlError, SqlState, type QueryExecutor } from '../../engine/query.ts';
import { createSecureContext, type SecureContext } from 'node:tls';
import { cleartextPasswordAuth, trustAuth, type AuthStrategy } from './auth.ts';
import { md5PasswordAuth, scramSha256Auth, type PasswordLookup } from './password-auth.ts';
import { PgConnection, type ConnectionHost } from './connection.ts';
import { defaultFramerLimits, type FramerLimits } from './framing.ts';
import { silentLogger, type Logger } from './logger.ts';
import { defaultServerVersion } from './session-parameters.ts';

export interface PgServerOptions {
  executor: QueryExecutor;
  /** Address to bind; default 127.0.0.1. */
  host?: string;
  /** Port; 0 picks a free one. Default 5433. */
  port?: number;
  logger?: Logger;
  /** Sessions allowed at once; more get 53300. Default 100. */
  maxConnections?: number;
  /** When set, clients must send this password (any user name, unless `users` lists the user). */
  password?: string;
  /** Per-user passwords; a user not listed falls back to `password` (if set). */
  users?: ReadonlyMap<string, string>;
  /** How passwords are checked: SCRAM-SHA-256 (default, as PostgreSQL), md5, or cleartext ('password'). */
  authMethod?: PasswordAuthMethod;
  /** PEM certificate and key: SSLRequest is answered 'S' and the socket upgraded to TLS. */
  tls?: { cert: string | Buffer; key: string | Buffer };
  /**
   * Explicit authentication strategy (overrides `password`). Without one and without a
   * password, trust is used, and only on a loopback address: listen() refuses otherwise.
   */
  auth?: AuthStrategy;
  /** Largest frontend message in bytes; larger → FATAL 08P01 and close. Default 64 MiB. */
  maxMessageSize?: number;
  /** Time allowed from connect to end of authentication. Default 60 s (PG: authentication_timeout). */
  startupTimeoutMs?: number;
  /** server_version reported to clients. */
  serverVersion?: string;
}

export interface PgServerAddress {
  host: string;
  port: number;
  family: string;
}

/** Sockets beyond maxConnections still accepted so they can get a proper 53300 or cancel. */
const EXTRA_SOCKETS = 64;

export class PgServer {
  private readonly executor: QueryExecutor;
  private readonly logger: Logger;
  private readonly maxConnections: number;
  private readonly auth: AuthStrategy;
  private readonly authExplicit: boolean;
  private readonly framerLimits: FramerLimits;
  private readonly net: Server;
  private readonly sockets = new Set<PgConnection>();
  /** Admitted sessions by process id (BackendKeyData), for CancelRequest and the limit. */
  private readonly sessions = new Map<number, PgConnection>();
  private nextProcessId = 1000 + Math.floor(Math.random() * 30_000);
  private closing = false;
  private readonly host: ConnectionHost;
  private readonly tls: SecureContext | null;

  constructor(private readonly options: PgServerOptions) {
    this.executor = options.executor;
    this.logger = options.logger ?? silentLogger;
    this.maxConnections = options.maxConnections ?? 100;
    const hasPasswords = options.password !== undefined || (options.users?.size ?? 0) > 0;
    this.authExplicit = options.auth !== undefined || hasPasswords;
    this.auth = options.auth ?? (hasPasswords ? passwordAuth(options.authMethod ?? 'scram-sha-256', (user) => options.users?.get(user) ?? options.password) : trustAuth);
    this.tls = options.tls ? createSecureContext({ cert: options.tls.cert, key: options.tls.key }) : null;
    this.framerLimits = { ...defaultFramerLimits, maxMessageSize: options.maxMessageSize ?? defaultFramerLimits.maxMessageSize };
    this.host = this.makeHost();
    this.net = createServer((socket) => this.accept(socket));
    this.net.on('error', (err) => this.logger.error({ err }, 'pg server error'));
  }

  /** Binds and starts accepting; resolves with the bound address (useful with port 0). */
  async listen(): Promise<PgServerAddress> {
    const host = this.options.host ?? '127.0.0.1';
    const port = this.options.port ?? 5433;
    await new Promise<void>((resolve, reject) => {
      const onError = (err: Error): void => reject(err);
      this.net.once('error', onError);
      this.net.listen({ host, port }, () => {
        this.net.off('error', onError);
        resolve();
      });
    });
    const addr = this.net.address() as AddressInfo;
    if (!this.authExplicit && !isLoopback(addr.address)) {
      await new Promise<void>((resolve) => this.net.close(() => resolve()));
      throw new Error(
        `refusing to serve without authentication on non-loopback address ${addr.address}: set a password (or bind 127.0.0.1)`,
      );
    }
    this.logger.info({ host: addr.address, port: addr.port, auth: this.auth.method, tls: this.tls !== null }, 'pg server listening');
    return { host: addr.address, port: addr.port, family: addr.family };
  }

  /** Stops accepting, aborts running queries, tells clients and closes their connections. */
  async close(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    const netClosed = new Promise<void>((resolve) => this.net.close(() => resolve()));
    const conns = [...this.sockets];
    for (const c of conns) c.terminate();
    await Promise.all(conns.map((c) => c.whenClosed()));
    await netClosed;
    this.logger.info({}, 'pg server closed');
  }

  /** Open sockets, including ones still in startup. */
  get connectionCount(): number {
    return this.sockets.size;
  }

  private accept(socket: Socket): void {
    if (this.closing || this.sockets.size >= this.maxConnections + EXTRA_SOCKETS) {
      this.logger.warn({ remote: socket.remoteAddress }, 'pg connection dropped: too many sockets');
      socket.destroy();
      return;
    }
    const conn = new PgConnection(socket, this.host, this.allocateProcessId(), randomBytes(4).readInt32BE(0));
    this.sockets.add(conn);
    // run() handles its own errors; this only guards against a bug escaping the connection
    conn.run().catch((err: unknown) => {
      this.logger.error({ err }, 'pg connection crashed');
      socket.destroy();
    });
  }

  private allocateProcessId(): number {
    do {
      this.nextProcessId = this.nextProcessId >= 0x7fff_fff0 ? 1000 : this.nextProcessId + 1;
    } while (this.sessions.has(this.nextProcessId));
    return this.nextProcessId;
  }

  private makeHost(): ConnectionHost {
    return {
      executor: this.executor,
      logger: this.logger,
      auth: this.auth,
      tls: this.tls,
      framerLimits: this.framerLimits,
      serverVersion: this.options.serverVersion ?? defaultServerVersion,
      startupTimeoutMs: this.options.startupTimeoutMs ?? 60_000,
      admit: (conn) => {
        if (this.closing) return new SqlError('57P03', 'the database system is shutting down');
        if (this.sessions.size >= this.maxConnections) {
          this.logger.warn({ remote: conn.remote, max: this.maxConnections }, 'pg connection refused: too many clients');
          return new SqlError(SqlState.tooManyConnections, 'sorry, too many clients already');
        }
        this.sessions.set(conn.processId, conn);
        return null;
      },
      cancel: (processId, secretKey) => {
        const conn = this.sessions.get(processId);
        if (conn && conn.secretKey === secretKey) {
          this.logger.info({ pid: processId }, 'pg cancel request');
          conn.cancelRunningQuery();
        } else {
          this.logger.debug({ pid: processId }, 'pg cancel request for unknown session ignored');
        }
      },
      closed: (conn) => {
        this.sockets.delete(conn);
        if (this.sessions.get(conn.processId) === conn) this.sessions.delete(conn.processId);
      },
    };
  }
}

export type PasswordAuthMethod = 'scram-sha-256' | 'md5' | 'password';

export function passwordAuth(method: PasswordAuthMethod, lookup: PasswordLookup): AuthStrategy {
  switch (method) {
    case 'scram-sha-256':
      return scramSha256Auth(lookup);
    case 'md5':
      return md5PasswordAuth(lookup);
    case 'password':
      return cleartextPasswordAuth(lookup);
  }
}

/** 127.0.0.0/8, ::1 and IPv4-mapped loopback. */
export function isLoopback(address: string): boolean {
  const v4 = address.startsWith('::ffff:') ? address.slice(7) : address;
  return v4.startsWith('127.') || address === '::1';
}
