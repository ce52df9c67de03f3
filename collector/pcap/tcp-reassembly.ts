// TCP reassembly for capture files: packets → per-connection, per-direction byte streams →
// SocketEvents, as the eBPF source would produce them from one side of the connection.
//
// - Each connection is seen from its server side (the SYN's receiver; without a SYN, the
//   endpoint with the lower port): role 2, local = server. One row per exchange, like a
//   network observer (eBPF on one host sees both sides as two processes).
// - Positions are sequence numbers relative to the ISN (SYN seen) or to the first segment seen,
//   unwrapped across 2^32. Retransmitted bytes are dropped; out-of-order segments wait for the
//   missing bytes (bounded); a hole never filled becomes a gap (a position jump).
// - No process is known: every server endpoint (address, port) becomes a synthetic process,
//   pid 0 with start ticks = a 63-bit hash of "addr:port", so its connections share one UPID.
//   fd and connGen are a per-file connection number.
import { Direction, EventKind, type SocketEvent } from '../events.ts';
import { TcpFlag, type TcpSegment } from './link.ts';

/** Out-of-order bytes held per direction before the hole is given up (declared a gap). */
const MAX_PENDING_BYTES = 4 * 1024 * 1024;
const MAX_PENDING_SEGMENTS = 1024;

export interface ReassemblyStats {
  packets: number;
  tcpSegments: number;
  retransmittedBytes: number;
  /** Bytes never captured (holes given up on). */
  holeBytes: number;
  connections: number;
}

interface Pending {
  pos: number;
  data: Buffer;
  timeNs: bigint;
}

class Direction1 {
  /** Sequence number of stream position 0 (ISN + 1), once known. */
  base = -1;
  /** Next expected stream position. */
  next = 0;
  /** The sequence number that corresponds to `next` (mod 2^32). */
  nextSeq = 0;
  pending: Pending[] = [];
  pendingBytes = 0;
  fin = false;

  /** Stream position of a sequence number, unwrapped around the expected one. */
  posOf(seq: number): number {
    return this.next + ((seq - this.nextSeq) | 0);
  }
}

class Conn {
  /** [from client/peer → server (recv), server → client (send)] */
  readonly dirs: [Direction1, Direction1] = [new Direction1(), new Direction1()];
  closed = false;

  constructor(
    readonly id: number,
    readonly serverAddr: string,
    readonly serverPort: number,
    readonly clientAddr: string,
    readonly clientPort: number,
    readonly family: 4 | 6,
    readonly startTicks: bigint,
    readonly sawSyn: boolean,
  ) {}
}

function key(a: string, ap: number, b: string, bp: number): string {
  return `${a}|${ap}|${b}|${bp}`;
}

/** 63-bit FNV-1a of a string: the synthetic process start time of a server endpoint. */
export function endpointTicks(addr: string, port: number): bigint {
  let h = 0xcbf29ce484222325n;
  for (const c of Buffer.from(`${addr}:${port}`)) {
    h ^= BigInt(c);
    h = (h * 0x100000001b3n) & 0xffffffffffffffffn;
  }
  return h & 0x7fffffffffffffffn;
}

export class TcpReassembler {
  private readonly conns = new Map<string, Conn>();
  private nextId = 1;
  readonly stats: ReassemblyStats = { packets: 0, tcpSegments: 0, retransmittedBytes: 0, holeBytes: 0, connections: 0 };

  constructor(private readonly emit: (ev: SocketEvent) => void) {}

  segment(s: TcpSegment, timeNs: bigint): void {
    this.stats.tcpSegments++;
    const fwd = this.conns.get(key(s.srcAddr, s.srcPort, s.dstAddr, s.dstPort));
    const rev = fwd === undefined ? this.conns.get(key(s.dstAddr, s.dstPort, s.srcAddr, s.srcPort)) : undefined;
    let c = fwd ?? rev;
    const syn = (s.flags & TcpFlag.syn) !== 0;
    const ack = (s.flags & TcpFlag.ack) !== 0;
    if (c !== undefined && c.closed) {
      // A new connection reusing the 4-tuple starts with a SYN; anything else is a late packet.
      if (!(syn && !ack)) return;
      this.conns.delete(c === fwd ? key(s.srcAddr, s.srcPort, s.dstAddr, s.dstPort) : key(s.dstAddr, s.dstPort, s.srcAddr, s.srcPort));
      c = undefined;
    }
    if (c === undefined) {
      if ((s.flags & TcpFlag.rst) !== 0 && s.payload.length === 0) return;
      c = this.open(s, timeNs);
    }
    // Direction 0: towards the server (the client's requests); 1: from the server.
    const fromServer = s.srcAddr === c.serverAddr && s.srcPort === c.serverPort;
    const d = c.dirs[fromServer ? 1 : 0];
    if (syn) {
      d.base = (s.seq + 1) >>> 0;
      d.nextSeq = d.base;
      d.next = 0;
      return;
    }
    if (d.base < 0) {
      // Joined mid-connection: this direction's positions start at its first segment.
      d.base = s.seq;
      d.nextSeq = s.seq;
    }
    if (s.payload.length > 0) this.data(c, fromServer, d, s.seq, Buffer.from(s.payload), timeNs);
    if ((s.flags & TcpFlag.fin) !== 0) d.fin = true;
    if ((s.flags & TcpFlag.rst) !== 0 || (c.dirs[0].fin && c.dirs[1].fin)) this.close(c, timeNs);
  }

  /** End of the capture: every connection still open is flushed and closed. */
  finish(timeNs: bigint): void {
    for (const c of this.conns.values()) if (!c.closed) this.close(c, timeNs);
    this.conns.clear();
  }

  private open(s: TcpSegment, timeNs: bigint): Conn {
    const syn = (s.flags & TcpFlag.syn) !== 0;
    const ack = (s.flags & TcpFlag.ack) !== 0;
    // Server: the SYN's receiver (the SYN-ACK's sender); otherwise guess the lower port.
    let serverIsDst: boolean;
    if (syn) serverIsDst = !ack;
    else serverIsDst = s.dstPort <= s.srcPort;
    const [sa, sp, ca, cp] = serverIsDst ? [s.dstAddr, s.dstPort, s.srcAddr, s.srcPort] : [s.srcAddr, s.srcPort, s.dstAddr, s.dstPort];
    const c = new Conn(this.nextId++, sa, sp, ca, cp, s.family, endpointTicks(sa, sp), syn);
    this.conns.set(key(s.srcAddr, s.srcPort, s.dstAddr, s.dstPort), c);
    this.stats.connections++;
    if (syn) this.emit(this.event(c, EventKind.open, timeNs, Direction.send));
    return c;
  }

  private data(c: Conn, fromServer: boolean, d: Direction1, seq: number, data: Buffer, timeNs: bigint): void {
    let pos = d.posOf(seq);
    if (pos + data.length <= d.next) {
      this.stats.retransmittedBytes += data.length;
      return;
    }
    if (pos < d.next) {
      // Partly retransmitted: keep the new bytes only.
      this.stats.retransmittedBytes += d.next - pos;
      data = data.subarray(d.next - pos);
      pos = d.next;
    }
    if (pos > d.next) {
      this.hold(c, fromServer, d, { pos, data, timeNs });
      return;
    }
    this.deliver(c, fromServer, d, pos, data, timeNs);
    this.drain(c, fromServer, d);
  }

  private hold(c: Conn, fromServer: boolean, d: Direction1, p: Pending): void {
    let i = d.pending.length;
    while (i > 0 && d.pending[i - 1]!.pos > p.pos) i--;
    if (i > 0 && d.pending[i - 1]!.pos === p.pos && d.pending[i - 1]!.data.length >= p.data.length) {
      this.stats.retransmittedBytes += p.data.length;
      return;
    }
    d.pending.splice(i, 0, p);
    d.pendingBytes += p.data.length;
    // Bounded: give up on the hole, deliver from the first held segment (a gap).
    while (d.pending.length > MAX_PENDING_SEGMENTS || d.pendingBytes > MAX_PENDING_BYTES) {
      const first = d.pending[0]!;
      this.skipTo(d, first.pos);
      this.drain(c, fromServer, d);
    }
  }

  private skipTo(d: Direction1, pos: number): void {
    if (pos <= d.next) return;
    this.stats.holeBytes += pos - d.next;
    d.nextSeq = (d.nextSeq + (pos - d.next)) >>> 0;
    d.next = pos;
  }

  private drain(c: Conn, fromServer: boolean, d: Direction1): void {
    while (d.pending.length > 0 && d.pending[0]!.pos <= d.next) {
      const p = d.pending.shift()!;
      d.pendingBytes -= p.data.length;
      const end = p.pos + p.data.length;
      if (end <= d.next) {
        this.stats.retransmittedBytes += p.data.length;
        continue;
      }
      this.deliver(c, fromServer, d, d.next, p.data.subarray(d.next - p.pos), p.timeNs);
    }
  }

  private deliver(c: Conn, fromServer: boolean, d: Direction1, pos: number, data: Buffer, timeNs: bigint): void {
    const ev = this.event(c, EventKind.data, timeNs, fromServer ? Direction.send : Direction.recv);
    ev.pos = BigInt(pos);
    ev.size = data.length;
    ev.payload = data;
    this.emit(ev);
    d.next = pos + data.length;
    d.nextSeq = (d.nextSeq + data.length) >>> 0;
  }

  private close(c: Conn, timeNs: bigint): void {
    // Whatever still waits behind a hole goes out, the hole becoming a gap.
    for (let k = 0; k < 2; k++) {
      const d = c.dirs[k]!;
      while (d.pending.length > 0) {
        this.skipTo(d, d.pending[0]!.pos);
        this.drain(c, k === 1, d);
      }
    }
    c.closed = true;
    this.emit(this.event(c, EventKind.close, timeNs, Direction.send));
  }

  private event(c: Conn, kind: 1 | 2 | 3, timeNs: bigint, direction: 0 | 1): SocketEvent {
    return {
      kind, timeNs, tgid: 0, startTicks: c.startTicks, fd: c.id, connGen: BigInt(c.id), role: c.sawSyn ? 2 : 0,
      direction, family: c.family, localAddr: c.serverAddr, localPort: c.serverPort, remoteAddr: c.clientAddr,
      remotePort: c.clientPort, pos: 0n, size: 0, payload: EMPTY,
    };
  }
}

const EMPTY = Buffer.alloc(0);
