// One tracked connection: identity, endpoints, role, two byte streams (send, recv) and the
// protocol state once inference picked one.
import type { TraceRoleValue } from '../../engine/schema.ts';
import { Direction, type SocketEvent } from '../events.ts';
import type { ConnectionInfo, Protocol, ProtocolConnection } from '../protocol.ts';
import type { CollectorStats } from '../stats.ts';
import { ByteStream } from './byte-stream.ts';

export class Connection implements ConnectionInfo {
  readonly upid: { asid: number; pid: number; startTicks: bigint };
  readonly startTicks: bigint;
  readonly connGen: bigint;
  readonly fd: number;
  localAddr: string;
  localPort: number;
  remoteAddr: string;
  remotePort: number;
  role: TraceRoleValue;
  /** Indexed by Direction (send 0, recv 1); each also holds the parse driver's state of its direction. */
  readonly streams: [ByteStream, ByteStream];
  proto: Protocol | null = null;
  pc: ProtocolConnection | null = null;
  lastActivityNs: bigint;
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

  constructor(
    readonly key: number,
    ev: SocketEvent,
    asid: number,
    stats: CollectorStats,
    reorderWindow: number,
  ) {
    this.upid = { asid, pid: ev.tgid, startTicks: ev.startTicks };
    this.startTicks = ev.startTicks;
    this.connGen = ev.connGen;
    this.fd = ev.fd;
    this.localAddr = ev.localAddr;
    this.localPort = ev.localPort;
    this.remoteAddr = ev.remoteAddr;
    this.remotePort = ev.remotePort;
    this.role = ev.role;
    this.lastActivityNs = ev.timeNs;
    this.streams = [new ByteStream(stats, reorderWindow), new ByteStream(stats, reorderWindow)];
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
