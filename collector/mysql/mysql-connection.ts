// Per-connection MySQL state: a packet reader per direction, the command queue, the response
// state machine (OK / ERR / EOF / result sets / prepare replies), prepared statements, and the
// FIFO stitcher (MySQL answers commands in order). Handshake and auth packets are skipped by
// their sequence ids; a client that asks for TLS turns the connection off (marked `tls`).
import type { RowSink } from '../../engine/schema.ts';
import { MysqlRespStatus, type MysqlEventRow } from '../../engine/tables/mysql.ts';
import {
  ParseStatus, type ConnectionInfo, type MessageType, type ParseStatusValue, type ProtocolConnection,
  type StreamReader,
} from '../protocol.ts';
import type { CollectorStats } from '../stats.ts';
import { bindParams, decodeExecuteParams, type ParamTypes } from './binary-values.ts';
import { Com, MAX_COMMAND, hasResponse, isTextCommand } from './commands.ts';
import type { MysqlOptions } from './options.ts';
import { MAX_PACKET, PacketReader, type MysqlPacket } from './packet-reader.ts';
import {
  ServerStatus, errText, isEof, isTerminator, lenenc, parseOk, terminatorStatus,
} from './responses.ts';

/** Request payload bytes kept (query text, execute parameters). */
const REQUEST_KEEP = 64 * 1024;
/** Response payload bytes kept (ERR messages, OK fields). */
const RESPONSE_KEEP = 1024;
const CLIENT_SSL = 0x0800;
const CLIENT_DEPRECATE_EOF = 1 << 24;

interface Command {
  cmd: number;
  startNs: bigint;
  endNs: bigint;
  /** Sequence id of the command's last packet: its response starts at the next one. */
  lastSeq: number;
  /** Text commands: the text; others: ''. */
  text: string;
  stmtId: number;
  /** COM_STMT_EXECUTE payload (bound at stitch time, when the PREPARE reply is known). */
  raw: Buffer | null;
  needsResponse: boolean;
  // Filled in by the response parser.
  answered: boolean;
  status: number;
  respBody: string;
  respEndNs: bigint;
}

interface Statement {
  sql: string;
  params: number;
  types: ParamTypes | null;
}

const enum Rs {
  idle, columns, afterColumns, rows, prepareParams, prepareColumns,
}

export class MysqlConnection implements ProtocolConnection {
  private readonly reqReader = new PacketReader();
  private readonly respReader = new PacketReader();
  private requests: Command[] = [];
  private readonly stmts = new Map<number, Statement>();
  /** Response state for `cur`. */
  private rs = Rs.idle;
  private cur: Command | null = null;
  private left = 0;
  private columns = 0;
  private rowCount = 0;
  /** Bytes of the current result set that were not captured (rows then unknown). */
  private lostBytes = 0;
  /** Summaries of earlier results of a multi-result reply. */
  private summary = '';
  private prepare: { stmtId: number; params: number; columns: number } | null = null;
  /** The client negotiated CLIENT_DEPRECATE_EOF: null until known. */
  private deprecateEof: boolean | null = null;
  private commandSeen = false;
  /** Reading a packet that answers nothing (handshake, auth, a reply older than its command). */
  private skipping = false;
  disabled = false;
  /** The client sent SSLRequest: the socket carries ciphertext until the TLS library's plaintext. */
  awaitingTls = false;
  /** The connection switched to TLS (its rows come from the TLS library's plaintext). */
  tls = false;

  constructor(
    private readonly opts: MysqlOptions,
    private readonly stats: CollectorStats,
  ) {}

  parseFrame(type: MessageType, stream: StreamReader): ParseStatusValue {
    return type === 'request' ? this.parseRequest(stream) : this.parseResponse(stream);
  }

  midFrame(type: MessageType): boolean {
    if (type === 'request') return this.reqReader.midPacket();
    // Inside a result set a gap (lost rows) is ours to handle: see skipLostRows.
    return this.respReader.midPacket() || this.rs === Rs.columns || this.rs === Rs.afterColumns || this.rs === Rs.rows;
  }

  endOfStream(type: MessageType): void {
    if (type === 'request') {
      this.reqReader.reset();
      return;
    }
    this.respReader.reset();
    this.skipping = false;
    // A reply whose optional trailing EOF never came (connection closed) is complete.
    if (this.cur !== null && (this.rs === Rs.prepareColumns || this.rs === Rs.prepareParams) && this.left === 0) this.finishPrepare();
    this.resetResponse();
  }

  onParseFailure(type: MessageType, timeNs: bigint): void {
    if (type === 'request') {
      this.reqReader.reset();
      return;
    }
    this.respReader.reset();
    this.skipping = false;
    // The reply being read (or the next one) was lost: its command must not take a later reply.
    const c = this.cur ?? this.nextUnanswered();
    if (c !== null && c.startNs <= timeNs) this.drop(c);
    this.resetResponse();
  }

  // ---- requests

  private parseRequest(stream: StreamReader): ParseStatusValue {
    const r = this.reqReader.read(stream, REQUEST_KEEP);
    if (r !== ParseStatus.frame) return r;
    const p = this.reqReader.packet;
    if (p.seq !== 0) {
      this.clientHandshakePacket(p);
      return ParseStatus.frame;
    }
    if (p.length === 0 || p.data[0]! > MAX_COMMAND) return ParseStatus.invalid;
    const cmd = p.data[0]!;
    this.commandSeen = true;
    const c: Command = {
      cmd, startNs: p.startNs, endNs: p.endNs, lastSeq: p.lastSeq, text: '', stmtId: 0, raw: null,
      needsResponse: hasResponse(cmd), answered: false, status: MysqlRespStatus.unknown, respBody: '',
      respEndNs: 0n,
    };
    if (isTextCommand(cmd)) {
      c.text = p.data.toString('utf8', 1, Math.min(p.data.length, this.opts.queryCap + 1));
    } else if (p.data.length >= 5 && cmd >= Com.stmtExecute && cmd <= Com.stmtFetch) {
      c.stmtId = p.data.readUInt32LE(1);
      if (cmd === Com.stmtExecute) c.raw = Buffer.from(p.data);
    }
    if (!c.needsResponse) c.status = MysqlRespStatus.none;
    this.requests.push(c);
    if (this.requests.length > this.opts.maxPendingRequests) {
      const old = this.requests.shift()!;
      if (old === this.cur) this.resetResponse();
      this.stats.expiredRequests++;
    }
    return ParseStatus.frame;
  }

  /** Client packets with seq ≠ 0 belong to the handshake / auth exchange. */
  private clientHandshakePacket(p: MysqlPacket): void {
    // The handshake response is seq 1, or seq 2 when it follows an SSLRequest inside TLS.
    if (this.commandSeen || p.seq !== (this.tls ? 2 : 1) || p.data.length < 4) return;
    const caps = p.data.readUInt32LE(0);
    this.deprecateEof = (caps & CLIENT_DEPRECATE_EOF) !== 0;
    if (p.length === 32 && (caps & CLIENT_SSL) !== 0) {
      // SSLRequest: a TLS handshake follows on the socket; the queries come back to us as the
      // TLS library's plaintext (uprobes), or never if the library is not traced.
      this.tls = true;
      this.awaitingTls = true;
    }
  }

  startTls(): boolean {
    if (!this.awaitingTls) return false;
    this.awaitingTls = false;
    this.reqReader.reset();
    this.respReader.reset();
    this.skipping = false;
    this.resetResponse();
    return true;
  }

  // ---- responses

  private nextUnanswered(): Command | null {
    const q = this.requests;
    for (let i = 0; i < q.length; i++) {
      const c = q[i]!;
      if (c.needsResponse && !c.answered) return c;
    }
    return null;
  }

  private skipPacket(stream: StreamReader): ParseStatusValue {
    const r = this.respReader.read(stream, 0);
    this.skipping = r === ParseStatus.needMore && this.respReader.midPacket();
    return r;
  }

  private parseResponse(stream: StreamReader): ParseStatusValue {
    if (this.skipping) return this.skipPacket(stream);
    for (;;) {
      if (this.rs === Rs.idle && this.cur === null && !this.respReader.midPacket()) {
        const buf = stream.contiguous();
        if (buf.length < 4) return this.skipPacket(stream); // needMore or invalid
        const next = this.nextUnanswered();
        if (next === null) {
          // No command to answer: handshake/auth packets are skipped; a reply (seq 1) waits for
          // its command, which may be in a later batch.
          if (buf[3] === 1 && this.commandSeen) return ParseStatus.needMore;
          return this.skipPacket(stream);
        }
        // Handshake packets, or a reply that began before this command was sent (its own
        // command was lost): skipped packet by packet.
        if (buf[3] !== ((next.lastSeq + 1) & 0xff) || stream.timeAt(0) < next.startNs) {
          return this.skipPacket(stream);
        }
        this.cur = next;
      }
      if ((this.rs === Rs.prepareParams || this.rs === Rs.prepareColumns) && this.left === 0) {
        // Definitions done: an EOF follows unless CLIENT_DEPRECATE_EOF; look before consuming.
        const e = this.peekEof(stream);
        if (e === 'wait') return ParseStatus.needMore;
        if (e === 'eof') {
          const r = this.respReader.read(stream, 0);
          if (r !== ParseStatus.frame) return r;
          this.cur!.respEndNs = this.respReader.packet.endNs;
        }
        if (this.rs === Rs.prepareParams && this.prepare!.columns > 0) {
          this.rs = Rs.prepareColumns;
          this.left = this.prepare!.columns;
        } else {
          this.finishPrepare();
        }
        if (e === 'eof') return ParseStatus.frame;
        continue;
      }
      break;
    }
    if ((this.lostBytes > 0 || stream.headGap() > 0) && !this.respReader.midPacket()
      && (this.rs === Rs.columns || this.rs === Rs.afterColumns || this.rs === Rs.rows)) {
      return this.skipLostRows(stream);
    }
    if (this.rs === Rs.rows && !this.respReader.midPacket() && this.skipRows(stream)) return ParseStatus.frame;
    const r = this.respReader.read(stream, RESPONSE_KEEP);
    if (r !== ParseStatus.frame) return r;
    const p = this.respReader.packet;
    const c = this.cur;
    if (c === null) return ParseStatus.frame; // its command went away while it was being read
    const first = p.length > 0 ? p.data[0]! : -1;
    switch (this.rs) {
      case Rs.idle:
        return this.firstPacket(c, p, first);
      case Rs.columns:
        if (--this.left === 0) this.rs = Rs.afterColumns;
        return ParseStatus.frame;
      case Rs.afterColumns:
        if (p.length === 5 && first === 0xfe) {
          // Classic EOF between definitions and rows.
          this.deprecateEof = false;
          if ((terminatorStatus(p.data, p.length) & ServerStatus.cursorExists) !== 0) {
            return this.endResult(c, p, `columns=${this.columns} cursor`, 0);
          }
          this.rs = Rs.rows;
          return ParseStatus.frame;
        }
        this.rs = Rs.rows;
        return this.rowOrEnd(c, p, first);
      case Rs.rows:
        return this.rowOrEnd(c, p, first);
      case Rs.prepareParams:
      case Rs.prepareColumns:
        c.respEndNs = p.endNs;
        this.left--;
        return ParseStatus.frame;
    }
    return ParseStatus.invalid;
  }

  private firstPacket(c: Command, p: MysqlPacket, first: number): ParseStatusValue {
    if (first === 0xff) return this.complete(c, p, MysqlRespStatus.error, errText(p.data, 512));
    if (c.cmd === Com.stmtFetch || c.cmd === Com.fieldList) {
      // Rows (or field definitions) straight away, no column count.
      this.columns = 0;
      this.rs = Rs.rows;
      return this.rowOrEnd(c, p, first);
    }
    if (c.cmd === Com.statistics) return this.complete(c, p, MysqlRespStatus.ok, p.data.toString('latin1'));
    if (first === 0x00 && p.length >= 7) {
      if (c.cmd === Com.stmtPrepare && p.data.length >= 12) {
        const prep = { stmtId: p.data.readUInt32LE(1), columns: p.data.readUInt16LE(5), params: p.data.readUInt16LE(7) };
        this.prepare = prep;
        this.remember(prep.stmtId, { sql: c.text, params: prep.params, types: null });
        c.respEndNs = p.endNs;
        this.beginPrepareDefinitions();
        return ParseStatus.frame;
      }
      const ok = parseOk(p.data);
      let s = `affected_rows=${ok.affectedRows}`;
      if (ok.lastInsertId !== 0) s += ` last_insert_id=${ok.lastInsertId}`;
      if (ok.warnings !== 0) s += ` warnings=${ok.warnings}`;
      return this.endResult(c, p, s, ok.status);
    }
    if (isEof(first, p.length)) return this.endResult(c, p, '', terminatorStatus(p.data, p.length));
    if (first === 0xfe) return this.complete(c, p, MysqlRespStatus.ok, 'auth switch'); // COM_CHANGE_USER
    if (first === 0xfb) return this.complete(c, p, MysqlRespStatus.ok, 'local infile');
    const n = lenenc(p.data, 0);
    // MariaDB with MARIADB_CLIENT_CACHE_METADATA adds a "metadata follows" byte; 0 means the
    // column definitions are not resent.
    if (n === null || n[0] === 0 || (n[1] !== p.length && n[1] + 1 !== p.length)) return ParseStatus.invalid;
    this.columns = n[0];
    this.left = n[0];
    this.rowCount = 0;
    this.rs = Rs.columns;
    if (n[1] + 1 === p.length && p.data[n[1]] === 0) {
      this.left = 0;
      this.rs = Rs.afterColumns;
    }
    return ParseStatus.frame;
  }

  /**
   * Part of a result set was not captured (a lost event, or a read larger than the capture cap):
   * packet boundaries inside it are unknown. Skip to the terminator, which ends the reply and so
   * the captured bytes: an EOF or OK(0xFE) packet that ends exactly where the data ends.
   */
  private skipLostRows(stream: StreamReader): ParseStatusValue {
    if (this.lostBytes === 0) this.stats.parseFailures++;
    for (;;) {
      const gap = stream.headGap();
      if (gap > 0) {
        this.lostBytes += gap;
        stream.consume(gap);
        continue;
      }
      const buf = stream.contiguous();
      if (buf.length === 0) return ParseStatus.needMore;
      // These bytes came after a later command was sent: the terminator was lost too.
      if (this.laterCommandBefore(stream.timeAt(0))) return ParseStatus.invalid;
      const at = terminatorAtEnd(buf);
      if (at >= 0) {
        this.stats.droppedBytes += at;
        this.lostBytes += at;
        stream.consume(at);
        const r = this.respReader.read(stream, RESPONSE_KEEP);
        if (r !== ParseStatus.frame) return r;
        const p = this.respReader.packet;
        const s = `columns=${this.columns} rows>=${this.rowCount} lost_bytes=${this.lostBytes}`;
        this.lostBytes = 0;
        return this.endResult(this.cur!, p, s, terminatorStatus(p.data, p.length));
      }
      // Keep a tail that may hold the start of the terminator; drop the rest.
      const keep = stream.gapFollows() || stream.ended ? 0 : Math.min(buf.length, 64);
      const drop = buf.length - keep;
      if (drop === 0) return ParseStatus.needMore;
      this.stats.droppedBytes += drop;
      this.lostBytes += drop;
      stream.consume(drop);
    }
  }

  /**
   * Hot path for result sets: counts and consumes every whole row packet at the head in one go
   * (no per-packet objects); stops before a terminator, an ERR or a multi-packet row, which the
   * packet reader handles. True if it consumed anything.
   */
  private skipRows(stream: StreamReader): boolean {
    const buf = stream.contiguous();
    const n = buf.length;
    const classic = this.deprecateEof === false;
    let o = 0;
    let rows = 0;
    while (o + 4 < n) {
      const len = buf[o]! | (buf[o + 1]! << 8) | (buf[o + 2]! << 16);
      if (len === 0 || len >= MAX_PACKET || o + 4 + len > n) break;
      const first = buf[o + 4]!;
      if (first === 0xff || (first === 0xfe && (len < 9 || !classic))) break;
      rows++;
      o += 4 + len;
    }
    if (rows === 0) return false;
    this.rowCount += rows;
    stream.consume(o);
    return true;
  }

  private laterCommandBefore(timeNs: bigint): boolean {
    const q = this.requests;
    for (let i = q.indexOf(this.cur!) + 1; i < q.length; i++) {
      const c = q[i]!;
      if (c.needsResponse && c.startNs <= timeNs) return true;
    }
    return false;
  }

  private rowOrEnd(c: Command, p: MysqlPacket, first: number): ParseStatusValue {
    if (first === 0xff) return this.complete(c, p, MysqlRespStatus.error, errText(p.data, 512));
    if (isTerminator(first, p.length) && (p.length < 9 || this.deprecateEof !== false)) {
      return this.endResult(c, p, `columns=${this.columns} rows=${this.rowCount}`, terminatorStatus(p.data, p.length));
    }
    this.rowCount++;
    return ParseStatus.frame;
  }

  /** One result finished; with SERVER_MORE_RESULTS_EXISTS another follows for the same command. */
  private endResult(c: Command, p: MysqlPacket, s: string, status: number): ParseStatusValue {
    if ((status & ServerStatus.moreResultsExist) !== 0) {
      this.summary += s + '; ';
      this.rs = Rs.idle;
      return ParseStatus.frame;
    }
    return this.complete(c, p, MysqlRespStatus.ok, s);
  }

  private beginPrepareDefinitions(): void {
    const prep = this.prepare!;
    if (prep.params === 0 && prep.columns === 0) {
      this.finishPrepare();
    } else if (prep.params > 0) {
      this.rs = Rs.prepareParams;
      this.left = prep.params;
    } else {
      this.rs = Rs.prepareColumns;
      this.left = prep.columns;
    }
  }

  private finishPrepare(): void {
    const c = this.cur!;
    const prep = this.prepare!;
    c.answered = true;
    c.status = MysqlRespStatus.ok;
    c.respBody = `stmt_id=${prep.stmtId} params=${prep.params} columns=${prep.columns}`;
    this.resetResponse();
  }

  /** 'eof' / 'other' for the packet at head, or 'wait' while that cannot be told yet. */
  private peekEof(stream: StreamReader): 'eof' | 'other' | 'wait' {
    if (this.deprecateEof === true) return 'other';
    if (stream.headGap() > 0) return 'other';
    const buf = stream.contiguous();
    // 'eof' only with the whole 9-byte packet at hand, so consuming it cannot stop half-way.
    if (buf.length < 9) return stream.ended || stream.gapFollows() ? 'other' : 'wait';
    const len = buf[0]! | (buf[1]! << 8) | (buf[2]! << 16);
    return len === 5 && buf[4] === 0xfe ? 'eof' : 'other';
  }

  private complete(c: Command, p: MysqlPacket, status: number, body: string): ParseStatusValue {
    c.answered = true;
    c.status = status;
    c.respBody = this.summary + body;
    c.respEndNs = p.endNs;
    this.resetResponse();
    return ParseStatus.frame;
  }

  private resetResponse(): void {
    // A packet half read for a reply no longer tracked (expired, dropped): skip its rest.
    if (this.respReader.midPacket()) this.skipping = true;
    this.rs = Rs.idle;
    this.cur = null;
    this.left = 0;
    this.columns = 0;
    this.rowCount = 0;
    this.lostBytes = 0;
    this.summary = '';
    this.prepare = null;
  }

  private remember(id: number, s: Statement): void {
    if (this.stmts.size >= this.opts.maxStatements && !this.stmts.has(id)) {
      this.stmts.delete(this.stmts.keys().next().value as number);
    }
    this.stmts.set(id, s);
  }

  private drop(c: Command): void {
    const i = this.requests.indexOf(c);
    if (i >= 0) {
      this.requests.splice(i, 1);
      this.stats.expiredRequests++;
    }
  }

  // ---- stitching

  stitch(conn: ConnectionInfo, sink: RowSink, stats: CollectorStats): void {
    const q = this.requests;
    while (q.length > 0) {
      const c = q[0]!;
      if (c.needsResponse && !c.answered) break;
      q.shift();
      sink.append('mysql_events', this.toRow(conn, c));
      stats.records++;
    }
  }

  private toRow(conn: ConnectionInfo, c: Command): MysqlEventRow {
    let body = c.text;
    if (c.cmd === Com.stmtExecute) body = this.boundStatement(c);
    else if (c.cmd >= Com.stmtSendLongData && c.cmd <= Com.stmtFetch) {
      const s = this.stmts.get(c.stmtId);
      body = s !== undefined ? s.sql : `stmt_id=${c.stmtId}`;
      if (c.cmd === Com.stmtClose) this.stmts.delete(c.stmtId);
    }
    let latency = c.needsResponse ? c.respEndNs - c.startNs : 0n;
    if (c.needsResponse && latency <= 0n) latency = 1n;
    return {
      timeNs: c.startNs,
      upid: conn.upid,
      remoteAddr: conn.remoteAddr,
      remotePort: conn.remotePort,
      localAddr: conn.localAddr,
      localPort: conn.localPort,
      traceRole: conn.role,
      encrypted: conn.encrypted === true,
      reqCmd: c.cmd,
      reqBody: body.length > this.opts.queryCap ? body.slice(0, this.opts.queryCap) : body,
      respStatus: c.status,
      respBody: c.respBody,
      latencyNs: latency,
    };
  }

  private boundStatement(c: Command): string {
    const s = this.stmts.get(c.stmtId);
    if (s === undefined || c.raw === null) return `EXECUTE stmt_id=${c.stmtId}`;
    const { values, types } = decodeExecuteParams(c.raw, s.params, s.types, this.opts.paramCap);
    if (types !== null) s.types = types;
    return bindParams(s.sql, values);
  }

  expire(beforeNs: bigint): number {
    let n = 0;
    const q = this.requests;
    while (q.length > 0 && q[0]!.startNs < beforeNs && q[0]!.needsResponse && !q[0]!.answered) {
      if (q[0] === this.cur) this.resetResponse();
      q.shift();
      n++;
    }
    return n;
  }

  pendingRequests(): number {
    return this.requests.length;
  }

  release(): void {
    for (const c of this.requests) if (c.needsResponse && !c.answered) this.stats.expiredRequests++;
    this.requests = [];
    this.stmts.clear();
  }
}


/** Offset of an EOF / OK(0xFE) packet that ends exactly at the end of buf, or -1. */
function terminatorAtEnd(buf: Buffer): number {
  const n = buf.length;
  for (let len = 5; len <= 64 && len + 4 <= n; len++) {
    const i = n - 4 - len;
    if (buf[i + 4] === 0xfe && buf[i] === len && buf[i + 1] === 0 && buf[i + 2] === 0 && (len === 5 || len >= 7)) return i;
  }
  return -1;
}
