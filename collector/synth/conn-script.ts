// Builds SocketEvents for one side of a connection, tracking stream positions, so tests and the
// demo source can describe traffic as "send these bytes, receive those" instead of raw events.
import type { HttpEventRow, RowSink, RowTypes, TableName } from '../../engine/schema.ts';
import { textRow, type Stringified } from '../../engine/utf8-text.ts';
import { Direction, EventKind, type DirectionValue, type SocketEvent } from '../events.ts';

export interface Endpoint {
  tgid: number;
  startTicks: bigint;
  fd: number;
  connGen: bigint;
  role: 0 | 1 | 2;
  localAddr: string;
  localPort: number;
  remoteAddr: string;
  remotePort: number;
}

export class ConnScript {
  private pos: [number, number] = [0, 0];
  private encrypted = false;

  constructor(readonly ep: Endpoint) {}

  private base(kind: 1 | 2 | 3, timeNs: bigint, direction: DirectionValue): SocketEvent {
    const e = this.ep;
    return {
      kind, timeNs, tgid: e.tgid, startTicks: e.startTicks, fd: e.fd, connGen: e.connGen, role: e.role,
      direction, family: 4, localAddr: e.localAddr, localPort: e.localPort, remoteAddr: e.remoteAddr,
      remotePort: e.remotePort, pos: 0n, size: 0, payload: EMPTY,
    };
  }

  open(timeNs: bigint): SocketEvent {
    return this.base(EventKind.open, timeNs, Direction.send);
  }

  close(timeNs: bigint): SocketEvent {
    return this.base(EventKind.close, timeNs, Direction.send);
  }

  /** One data event; `cap` limits the captured payload (the rest becomes a known gap). */
  data(direction: DirectionValue, bytes: Buffer | string, timeNs: bigint, cap = Infinity): SocketEvent {
    const buf = typeof bytes === 'string' ? Buffer.from(bytes, 'latin1') : bytes;
    const ev = this.base(EventKind.data, timeNs, direction);
    ev.pos = BigInt(this.pos[direction]);
    ev.size = buf.length;
    ev.payload = buf.length > cap ? buf.subarray(0, cap) : buf;
    this.pos[direction] += buf.length;
    if (this.encrypted) ev.encrypted = true;
    return ev;
  }

  /** From now on events carry a TLS library's plaintext: their own positions, from 0. */
  startTls(): void {
    this.encrypted = true;
    this.pos = [0, 0];
  }

  send(bytes: Buffer | string, timeNs: bigint, cap = Infinity): SocketEvent {
    return this.data(Direction.send, bytes, timeNs, cap);
  }

  recv(bytes: Buffer | string, timeNs: bigint, cap = Infinity): SocketEvent {
    return this.data(Direction.recv, bytes, timeNs, cap);
  }

  /** Advances a direction past bytes no event carries (an event the ring buffer lost). */
  lose(direction: DirectionValue, n: number): void {
    this.pos[direction] += n;
  }
}

const EMPTY = Buffer.alloc(0);

/** The plain array sink tests use. */
/** Keeps http_events rows, text as strings (the parser may hand over UTF-8 bytes). */
export class ArraySink implements RowSink {
  readonly rows: Stringified<HttpEventRow>[] = [];
  append<T extends TableName>(table: T, row: RowTypes[T]): void {
    if (table === 'http_events') this.rows.push(textRow(row as HttpEventRow));
  }
}

export function endpoint(overrides: Partial<Endpoint> = {}): Endpoint {
  return {
    tgid: 100, startTicks: 5000n, fd: 7, connGen: 1n, role: 2,
    localAddr: '127.0.0.1', localPort: 8080, remoteAddr: '127.0.0.1', remotePort: 40000,
    ...overrides,
  };
}
