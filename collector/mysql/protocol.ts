// MySQL as a `Protocol`: inference from a command packet (client) or the server greeting, frame
// boundaries for resync, per-connection state. Handshake/auth are skipped (see
// mysql-connection.ts); only the command phase produces rows.
import type { MessageType, Protocol, ProtocolConnection } from '../protocol.ts';
import type { CollectorStats } from '../stats.ts';
import { Com, isCommonCommand } from './commands.ts';
import { MysqlConnection } from './mysql-connection.ts';
import { defaultMysqlOptions, type MysqlOptions } from './options.ts';

/** Packets larger than this are not believed when inferring or resynchronising. */
const PLAUSIBLE_LENGTH = 1 << 24;

function len3(b: Buffer, i: number): number {
  return b[i]! | (b[i + 1]! << 8) | (b[i + 2]! << 16);
}

function printable(c: number | undefined): boolean {
  return c !== undefined && ((c >= 32 && c < 127) || c === 9 || c === 10 || c === 13 || c >= 0xc2);
}

/** A client command packet plausibly starts at i (seq 0, known command, sensible length). */
export function commandAt(b: Buffer, i: number): boolean {
  if (i + 5 > b.length || b[i + 3] !== 0) return false;
  const len = len3(b, i);
  const cmd = b[i + 4]!;
  if (len === 0 || len >= PLAUSIBLE_LENGTH || !isCommonCommand(cmd)) return false;
  switch (cmd) {
    case Com.quit: case Com.ping: case Com.statistics: case Com.debug: case Com.resetConnection:
      return len === 1;
    case Com.stmtClose: case Com.stmtReset:
      return len === 5;
    case Com.stmtExecute:
      return len >= 10;
    case Com.stmtFetch:
      return len === 9;
    case Com.setOption:
      return len === 3;
    case Com.query: case Com.stmtPrepare: case Com.initDb:
      return len >= 2 && (i + 5 >= b.length || printable(b[i + 5]));
    default:
      return len >= 2;
  }
}

/** The server greeting: seq 0, protocol 10, a printable version string ending in NUL. */
export function greetingAt(b: Buffer, i: number): boolean | 'needMore' {
  if (b.length - i < 6) return b.length - i < 4 || b[i + 3] === 0 ? 'needMore' : false;
  if (b[i + 3] !== 0 || b[i + 4] !== 0x0a) return false;
  const len = len3(b, i);
  if (len < 20 || len > 1024) return false;
  for (let k = i + 5; k < b.length && k < i + 5 + 64; k++) {
    if (b[k] === 0) return k > i + 5;
    if (b[k]! < 32 || b[k]! > 126) return false;
  }
  return b.length - i < 5 + 64 ? 'needMore' : false;
}

/** The first packet of a reply to a single-packet command (seq 1): OK, ERR or a column count. */
function replyAt(b: Buffer, i: number): boolean {
  if (i + 5 > b.length || b[i + 3] !== 1) return false;
  const len = len3(b, i);
  const first = b[i + 4]!;
  if (first === 0x00) return len >= 7 && len < 1 << 16;
  if (first === 0xff) return len >= 9 && len < 1 << 16 && b[i + 7] === 0x23;
  if (first >= 1 && first < 0xfb && (len === 1 || len === 2)) {
    // A column count is followed by a column definition (seq 2, catalog "def").
    const j = i + 4 + len;
    if (j + 8 > b.length) return true;
    return b[j + 3] === 2 && b[j + 4] === 3 && b[j + 5] === 0x64 && b[j + 6] === 0x65 && b[j + 7] === 0x66;
  }
  return false;
}

export function inferMysql(head: Buffer): MessageType | 'needMore' | null {
  if (head.length < 5) {
    if (head.length >= 4 && head[3] !== 0) return null;
    if (head.length >= 3 && len3(head, 0) === 0) return null;
    return 'needMore';
  }
  if (commandAt(head, 0)) {
    // The whole packet is usually in the first read; a longer head must start another packet.
    const len = len3(head, 0);
    if (head.length === 4 + len || head.length < 4 + len) return 'request';
    return head.length >= 4 + len + 4 ? 'request' : null;
  }
  const g = greetingAt(head, 0);
  if (g === true) return 'response';
  return g === 'needMore' ? 'needMore' : null;
}

export function findMysqlBoundary(type: MessageType, buf: Buffer, from: number): number {
  for (let i = from; i + 5 <= buf.length; i++) {
    if (type === 'request' ? commandAt(buf, i) : replyAt(buf, i)) return i;
  }
  return -1;
}

export class MysqlProtocol implements Protocol {
  readonly name = 'mysql';
  readonly maxMarkerLength = 13;
  readonly options: MysqlOptions;

  constructor(
    private readonly stats: CollectorStats,
    options: Partial<MysqlOptions> = {},
  ) {
    this.options = { ...defaultMysqlOptions, ...options };
  }

  infer(head: Buffer): MessageType | 'needMore' | null {
    return inferMysql(head);
  }

  findFrameBoundary(type: MessageType, buf: Buffer, from: number): number {
    return findMysqlBoundary(type, buf, from);
  }

  newConnection(): ProtocolConnection {
    return new MysqlConnection(this.options, this.stats);
  }
}
