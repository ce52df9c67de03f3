// One tracked connection: identity, endpoints, role, two byte streams (send, recv) and the
// protocol state once inference picked one. The tracker reuses released ones (init()), so every
// field is set in init and the streams are reset, not made anew.
import type { TraceRoleValue } from '../../engine/schema.ts';
import { Direction, type SocketEvent } from '../events.ts';
import type { ConnectionInfo, Protocol, ProtocolConnection } from '../protocol.ts';
import type { CollectorStats } from '../stats.ts';
import { ByteStream } from './byte-stream.ts';

export type Upid = { readonly asid: number; readonly pid: number; readonly startTicks: bigint };

export class Connection implements ConnectionInfo {
  key = 0;
  /** Shared by the connections of one process (rows keep it: never mutated). */
  upid: Upid = NO_UPID;
  startTicks = 0n;
  connGen = 0n;
  fd = 0;
  localAddr = '';
  localPort = 0;
  remoteAddr = '';
  remotePort = 0;
  role: TraceRoleValue = 0;
  /** Indexed by Direction (send 0, recv 1); each also holds the parse driver's state of its direction. */
  readonly streams: [ByteStream, ByteStream];
  proto: Protocol | null = null;
  pc: ProtocolConnection | null = null;
  lastActivityNs = 0n;
  /** Queued for parsing at the end of the current batch. */
  dirty = false;
  /** Seen from its open event (so both streams start at byte 0). */
  sawOpen = false;
  released = false;
  /** Its bytes came from a TLS library (eBPF uprobes): rows are encrypted. */
  encrypted = false;
  /** Parse failures since the last row this connection produced. */
  parseFailuresInARow = 0;
  /** Too many parse failures in a row: its bytes are ignored from now on. */
  gaveUp = false;
  /** The tracker's onDisable hook ran for this connection. */
  disableReported = false;

  constructor(stats: CollectorStats, reorderWindow: number) {
    this.streams = [new ByteStream(stats, reorderWindow), new ByteStream(stats, reorderWindow)];
  }

  /** Becomes the connection `ev` belongs to (new, or released and reused: state reset). */
  init(key: number, ev: SocketEvent, upid: Upid): void {
    this.key = key;
    this.upid = upid;
    this.startTicks = ev.startTicks;
    this.connGen = ev.connGen;
    this.fd = ev.fd;
    this.localAddr = ev.localAddr;
    this.localPort = ev.localPort;
    this.remoteAddr = ev.remoteAddr;
    this.remotePort = ev.remotePort;
    this.role = ev.role;
    this.lastActivityNs = ev.timeNs;
    this.proto = null;
    this.pc = null;
    // `dirty` is left alone: a connection released and reused within a batch may still be in
    // the tracker's dirty list, and is then parsed (as its new self) once, as it should be.
    this.sawOpen = false;
    this.released = false;
    this.encrypted = false;
    this.parseFailuresInARow = 0;
    this.gaveUp = false;
    this.disableReported = false;
  }

  /** Released: drop bytes and parser state so a pooled connection holds nothing. */
  clear(): void {
    this.streams[0].reset();
    this.streams[1].reset();
    this.proto = null;
    this.pc = null;
    this.upid = NO_UPID;
  }

  /** Later events may know endpoints the first one did not (e.g. pre-existing connections). */
  learnEndpoints(ev: SocketEvent): void {
    if (ev.encrypted) this.encrypted = true;
    if (this.remotePort === 0 && ev.remotePort !== 0) {
      this.remoteAddr = ev.remoteAddr;
      this.remotePort = ev.remotePort;
    }
    if (this.localPort === 0 && ev.localPort !== 0) {
      this.localAddr = ev.localAddr;
      this.localPort = ev.localPort;
    }
  }

  /** Direction carrying requests: a client sends them, a server receives them. */
  requestDirection(): 0 | 1 {
    return this.role === 1 ? Direction.send : Direction.recv;
  }

  heldEvents(): number {
    return this.streams[0].heldCount() + this.streams[1].heldCount();
  }
}

const NO_UPID: Upid = { asid: 0, pid: 0, startTicks: 0n };
