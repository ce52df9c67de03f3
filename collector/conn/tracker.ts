// Connection tracker: routes socket events to connections (identity tgid, startTicks, fd,
// connGen), infers the protocol and role, runs the parsers once per batch per touched
// connection, and releases closed and idle connections. Time only moves through `tick(nowNs)`,
// so behaviour is deterministic under test.
import type { RowSink } from '../../engine/schema.ts';
import { EventKind, type SocketEvent } from '../events.ts';
import type { HttpOptions } from '../http/options.ts';
import type { KafkaOptions } from '../kafka/options.ts';
import type { MysqlOptions } from '../mysql/options.ts';
import type { Protocol } from '../protocol.ts';
import { defaultProtocols } from '../protocols.ts';
import { newStats, type CollectorStats } from '../stats.ts';
import { ConnTable } from './conn-table.ts';
import { Connection, type Upid } from './connection.ts';
import { drainStream } from './parse-driver.ts';

export interface TrackerOptions {
  /** Node id placed in every UPID (0 in standalone mode). */
  asid: number;
  /** Connections with no event for this long are released. */
  idleTimeoutNs: bigint;
  /** Requests with no response for this long are expired (counted, no row). */
  requestTimeoutNs: bigint;
  /** Captured-but-unparsed bytes per stream before the buffer is dropped and resynced. */
  maxBufferedBytes: number;
  /** Out-of-order events held per stream before the missing bytes are declared a gap. */
  reorderWindow: number;
  /** Held events older than this (at tick) are released, the missing bytes declared a gap. */
  reorderTimeoutNs: bigint;
  http: Partial<HttpOptions>;
  mysql: Partial<MysqlOptions>;
  kafka: Partial<KafkaOptions>;
  /** Called once when a connection's parser gives up (the eBPF source then stops its
   *  payload in the kernel). tgid, fd, connGen identify it as in SocketEvent. */
  onDisable?: (tgid: number, fd: number, connGen: bigint) => void;
  /** Parse failures in a row (no row in between) after which a connection is given up:
   *  its bytes are ignored and, through onDisable, no longer shipped by the kernel. */
  maxParseFailures: number;
}

export const defaultTrackerOptions: TrackerOptions = {
  asid: 0,
  idleTimeoutNs: 120_000_000_000n,
  requestTimeoutNs: 30_000_000_000n,
  maxBufferedBytes: 256 * 1024,
  maxParseFailures: 16,
  reorderWindow: 16,
  reorderTimeoutNs: 500_000_000n,
  http: {},
  mysql: {},
  kafka: {},
};

/**
 * The connection's map key. Usually (fd < 256) below 2^30: a small integer, which V8 keeps
 * unboxed and hashes cheaply (a boxed double key costs an allocation and a slower hash per
 * lookup). Else above 2^30, exact as fd < 2^31 and tgid < 2^22 (Linux PID_MAX_LIMIT).
 */
function keyOf(tgid: number, fd: number): number {
  const f = fd >>> 0;
  return f < 256 ? tgid * 256 + f : 1073741824 + tgid * 2147483648 + f;
}

/** Released connections kept for reuse: enough for bursts of short connections per batch. */
const POOL_MAX = 256;

export class ConnectionTracker {
  readonly options: TrackerOptions;
  readonly stats: CollectorStats;
  private readonly protocols: Protocol[];
  private readonly conns = new ConnTable<Connection>();
  /** Connections to parse at the end of the batch: dirty[0, nDirty). Two lists swapped and kept
   *  at their size (setting length = 0 would trim the backing store, regrown every batch). */
  private dirty: (Connection | null)[] = [];
  private nDirty = 0;
  private spare: (Connection | null)[] = [];
  /** Released connections kept for reuse (two streams, their segment and mark arrays: most of
   *  what a short connection would allocate), at most POOL_MAX. */
  private pool: Connection[] = [];
  /** The last connection's UPID: the next connection is usually the same process's. */
  private lastUpid: Upid = { asid: -1, pid: -1, startTicks: -1n };

  constructor(
    private readonly sink: RowSink,
    options: Partial<TrackerOptions> = {},
    stats: CollectorStats = newStats(),
    protocols?: Protocol[],
  ) {
    this.options = { ...defaultTrackerOptions, ...options };
    this.stats = stats;
    this.protocols = protocols ?? defaultProtocols(stats, this.options);
  }

  get openConnections(): number {
    return this.conns.size;
  }

  /** Handles a batch of events, then parses and stitches every connection they touched. */
  handleBatch(events: readonly SocketEvent[]): void {
    for (let i = 0; i < events.length; i++) {
      const ev = events[i] as SocketEvent;
      this.handleEvent(ev, Number(ev.pos));
    }
    this.processDirty();
  }

  /**
   * One event of a batch (endBatch() after the last): for sources that decode into one reused
   * object (the eBPF source), so `ev` is not kept past the call. `pos` is ev.pos as a number
   * (such a source need not set ev.pos).
   */
  handleEvent(ev: SocketEvent, pos: number): void {
    try {
      this.handle(ev, pos);
    } catch {
      this.stats.errors++;
    }
  }

  /** Parses and stitches every connection the batch's events touched. */
  endBatch(): void {
    this.processDirty();
  }

  /** Advances time: releases stale reorder holds, expires requests, releases idle connections. */
  tick(nowNs: bigint): void {
    const o = this.options;
    const reorderBefore = nowNs - o.reorderTimeoutNs;
    const expireBefore = nowNs - o.requestTimeoutNs;
    const idleBefore = nowNs - o.idleTimeoutNs;
    for (const c of this.conns.list()) {
      if (c.lastActivityNs < idleBefore) {
        this.stats.idleReleased++;
        this.finish(c, false);
        continue;
      }
      if (c.heldEvents() > 0) {
        c.streams[0].releaseHeldOlderThan(reorderBefore);
        c.streams[1].releaseHeldOlderThan(reorderBefore);
        this.markDirty(c);
      }
      if (c.pc !== null) this.stats.expiredRequests += c.pc.expire(expireBefore);
    }
    this.processDirty();
  }

  /** Flushes and releases every connection (shutdown). */
  flushAll(): void {
    this.processDirty();
    for (const c of this.conns.list()) this.finish(c, true);
  }

  private handle(ev: SocketEvent, pos: number): void {
    this.stats.events++;
    const key = keyOf(ev.tgid, ev.fd);
    let c = this.conns.get(key);
    if (c !== undefined && (c.connGen !== ev.connGen || c.startTicks !== ev.startTicks)) {
      if (c.startTicks === ev.startTicks && ev.connGen < c.connGen) {
        this.stats.staleEvents++; // a late event of a connection already replaced
        return;
      }
      this.finish(c, true); // fd reused: the close was missed
      c = undefined;
    }
    switch (ev.kind) {
      case EventKind.open:
        if (c === undefined) {
          // A connection seen from its start: both streams begin at position 0.
          c = this.open(key, ev);
          c.sawOpen = true;
          c.streams[0].startAt(0);
          c.streams[1].startAt(0);
        } else if (c.role === 0) {
          c.role = ev.role;
        }
        return;
      case EventKind.data:
        if (c === undefined) c = this.open(key, ev);
        this.data(c, ev, pos);
        return;
      case EventKind.close:
        if (c !== undefined) {
          c.lastActivityNs = ev.timeNs;
          this.finish(c, true);
        }
        return;
    }
  }

  private open(key: number, ev: SocketEvent): Connection {
    const c = this.pool.pop() ?? new Connection(this.stats, this.options.reorderWindow);
    let upid = this.lastUpid;
    if (upid.pid !== ev.tgid || upid.startTicks !== ev.startTicks || upid.asid !== this.options.asid) {
      upid = this.lastUpid = { asid: this.options.asid, pid: ev.tgid, startTicks: ev.startTicks };
    }
    c.init(key, ev, upid);
    this.conns.set(key, c);
    this.stats.connectionsOpened++;
    this.stats.openConnections = this.conns.size;
    return c;
  }

  private data(c: Connection, ev: SocketEvent, pos: number): void {
    c.lastActivityNs = ev.timeNs;
    const tlsStarts = ev.encrypted === true && !c.encrypted;
    c.learnEndpoints(ev);
    if (tlsStarts) this.startTls(c);
    if (c.pc === null) {
      this.infer(c, ev, pos);
      return;
    }
    if (c.pc.disabled || c.gaveUp || c.pc.awaitingTls === true) {
      this.stats.ignoredBytes += ev.size;
      return;
    }
    c.streams[ev.direction].push(ev, pos);
    this.markDirty(c);
  }

  /**
   * The first bytes from the TLS library: its plaintext has its own stream positions (from 0),
   * so both streams start over. A connection that negotiated TLS in plaintext (STARTTLS-style,
   * e.g. MySQL) keeps its parser if the parser says so; anything else starts fresh.
   */
  private startTls(c: Connection): void {
    try {
      this.process(c); // what the plaintext streams still hold comes first
    } catch {
      this.stats.errors++;
    }
    for (let d = 0; d < 2; d++) {
      this.stats.ignoredBytes += c.streams[d]!.restart(0);
      c.streams[d]!.resyncing = false;
    }
    if (c.pc !== null && c.proto !== null && c.pc.startTls?.() !== true) {
      c.pc.release();
      c.pc = c.proto.newConnection();
    }
  }

  /**
   * Until a protocol is known, a stream keeps only a short prefix that might still become a
   * message start; the first stream whose head a protocol recognises picks protocol and role.
   */
  private infer(c: Connection, ev: SocketEvent, pos: number): void {
    const dir = ev.direction;
    const s = c.streams[dir];
    s.push(ev, pos);
    if (s.buffered > this.options.maxBufferedBytes) {
      // Memory bound before any protocol is known (e.g. bytes piling up behind a gap).
      this.stats.ignoredBytes += s.dropAll();
      return;
    }
    const head = s.contiguous();
    // Earlier bytes may still arrive (reordered): wait for them before judging.
    if (head.length === 0 && s.heldCount() > 0) return;
    let wait = false;
    if (head.length > 0) {
      for (const proto of this.protocols) {
        const type = proto.infer(head);
        if (type === 'needMore') wait = true;
        if (type === null || type === 'needMore') continue;
        // Sending a request, or receiving a response, makes this side the client.
        const role = (type === 'request') === (dir === 0) ? 1 : 2;
        if (c.role === 0) c.role = role;
        else if (c.role !== role) continue;
        c.proto = proto;
        c.pc = proto.newConnection();
        // Joined mid-connection: the other direction may be mid-message, so it starts by
        // looking for a frame start (not a failure). Seen from open, both start at byte 0.
        if (!c.sawOpen) c.streams[dir === 0 ? 1 : 0].resyncing = true;
        this.markDirty(c);
        return;
      }
    }
    if (!wait || head.length > 64) this.stats.ignoredBytes += s.dropAll();
  }

  private markDirty(c: Connection): void {
    if (!c.dirty) {
      c.dirty = true;
      this.dirty[this.nDirty++] = c;
    }
  }

  private processDirty(): void {
    const n = this.nDirty;
    if (n === 0) return;
    const list = this.dirty;
    this.dirty = this.spare;
    this.nDirty = 0;
    this.spare = list;
    for (let i = 0; i < n; i++) {
      const c = list[i] as Connection;
      list[i] = null; // no released connection kept alive by the list
      c.dirty = false;
      if (c.released) continue;
      try {
        this.process(c);
      } catch {
        this.stats.errors++;
      }
    }
    this.stats.openConnections = this.conns.size;
  }

  /** Parses both streams (requests first, so a response knows which request it answers), stitches. */
  private process(c: Connection): void {
    const proto = c.proto;
    const pc = c.pc;
    if (proto === null || pc === null) return;
    const rq = c.requestDirection();
    const rs = rq === 0 ? 1 : 0;
    const failuresBefore = this.stats.parseFailures;
    const recordsBefore = this.stats.records;
    drainStream(proto, pc, 'request', c.streams[rq], this.stats);
    drainStream(proto, pc, 'response', c.streams[rs], this.stats);
    pc.stitch(c, this.sink, this.stats);
    const failed = this.stats.parseFailures - failuresBefore;
    if (failed > 0) {
      const by = this.stats.parseFailuresByProtocol;
      by[proto.name] = (by[proto.name] ?? 0) + failed;
    }
    // Failures in a row without a row produced: this is not (or no longer) that protocol.
    c.parseFailuresInARow = this.stats.records > recordsBefore ? 0 : c.parseFailuresInARow + failed;
    if (c.parseFailuresInARow >= this.options.maxParseFailures) c.gaveUp = true;
    for (let d = 0; d < 2; d++) {
      const s = c.streams[d] as (typeof c.streams)[0];
      if (pc.awaitingTls === true && !pc.disabled) {
        this.stats.ignoredBytes += s.dropAll(); // ciphertext until the TLS library's plaintext
      } else if (pc.disabled || c.gaveUp) {
        if (!c.disableReported) {
          c.disableReported = true;
          this.options.onDisable?.(c.upid.pid, c.fd, c.connGen);
        }
        this.stats.ignoredBytes += s.dropAll();
      } else if (s.buffered > this.options.maxBufferedBytes) {
        // Memory bound: drop what could not be parsed and resync from the next bytes.
        this.stats.bufferOverflows++;
        this.stats.droppedBytes += s.dropAll();
        pc.onParseFailure(d === rq ? 'request' : 'response', s.timeAt(0));
        s.resyncing = true;
      }
    }
  }

  /** Flushes a connection (optionally as closed: bodies delimited by close complete) and releases it. */
  private finish(c: Connection, closed: boolean): void {
    if (c.released) return;
    for (const s of c.streams) {
      s.flushHeld();
      if (closed) s.ended = true;
    }
    try {
      this.process(c);
    } catch {
      this.stats.errors++;
    }
    if (c.pc !== null) c.pc.release();
    c.released = true;
    this.conns.delete(c.key);
    this.stats.connectionsReleased++;
    this.stats.openConnections = this.conns.size;
    c.clear();
    if (this.pool.length < POOL_MAX) this.pool.push(c);
  }
}
