// conn_stats producer: one row per connection per interval, from the kernel's connection
// table (live connections, byte counters the tracer keeps for every TCP connection, payload
// shipped or not) plus the CLOSE events of the interval (connections already gone from it).
import type { ConnStatsRow } from '../../engine/tables/conn-stats.ts';
import type { RowSink, TraceRoleValue } from '../../engine/schema.ts';
import { EventKind, type SocketEvent } from '../events.ts';
import { ipv4, ipv6 } from '../sources/ebpf-decode.ts';

/** Layout of one `conns` map entry as native connections() returns it (bpf/socket_tracer.h). */
const KEY = 8;
const REC = KEY + 96;
const V = { gen: 0, sendPos: 16, recvPos: 24, startTicks: 32, role: 40, proto: 41, flags: 42, family: 43, lport: 44, rport: 46, laddr: 48, raddr: 64 };
const FLAG_TLS = 2;

const PROTO_NAMES: Record<number, string> = { 1: 'http', 2: 'mysql', 3: 'kafka' };

export function protocolName(guess: number): string {
  return PROTO_NAMES[guess] ?? 'unknown';
}

/** Identity of a connection: tgid, fd and generation. */
const idOf = (tgid: number, fd: number, gen: bigint) => `${tgid}:${fd}:${gen}`;

export class ConnStatsProducer {
  /** Connections present at the previous sample (so conn_open marks only new ones). */
  private known = new Set<string>();
  private closed: SocketEvent[] = [];

  constructor(
    private readonly sink: RowSink,
    private readonly asid = 0,
  ) {}

  /** Feed every decoded batch: CLOSE events carry the final counters of their connection. */
  observe(events: readonly SocketEvent[]): void {
    for (const e of events) this.observeEvent(e);
  }

  /** One event (the source may reuse the object: a CLOSE is copied). */
  observeEvent(e: SocketEvent): void {
    if (e.kind === EventKind.close) this.closed.push({ ...e });
  }

  /** One row per connection open now or closed since the last sample. */
  sample(table: Buffer, timeNs: bigint): number {
    const now = new Set<string>();
    let rows = 0;
    for (let o = 0; o + REC <= table.length; o += REC) {
      const tgid = table.readUInt32LE(o);
      const fd = table.readUInt32LE(o + 4);
      const v = o + KEY;
      const gen = table.readBigUInt64LE(v + V.gen);
      const id = idOf(tgid, fd, gen);
      now.add(id);
      const fam = table[v + V.family];
      const addr = (at: number) => (fam === 6 ? ipv6(table, at) : fam === 4 ? ipv4(table, at) : '');
      const role = table[v + V.role];
      const tls = (table[v + V.flags] & FLAG_TLS) !== 0;
      this.sink.append('conn_stats', this.row(timeNs, tgid, table.readBigUInt64LE(v + V.startTicks), {
        remoteAddr: addr(v + V.raddr),
        remotePort: table.readUInt16LE(v + V.rport),
        localAddr: addr(v + V.laddr),
        localPort: table.readUInt16LE(v + V.lport),
        traceRole: (role === 1 || role === 2 ? role : 0) as TraceRoleValue,
        encrypted: tls,
        ssl: tls,
        protocol: protocolName(table[v + V.proto]),
        connOpen: this.known.has(id) ? 0 : 1,
        connClose: 0,
        connActive: 1,
        bytesSent: Number(table.readBigUInt64LE(v + V.sendPos)),
        bytesRecv: Number(table.readBigUInt64LE(v + V.recvPos)),
      }));
      rows++;
    }
    for (const e of this.closed) {
      const id = idOf(e.tgid, e.fd, e.connGen);
      this.sink.append('conn_stats', this.row(timeNs, e.tgid, e.startTicks, {
        remoteAddr: e.remoteAddr,
        remotePort: e.remotePort,
        localAddr: e.localAddr,
        localPort: e.localPort,
        traceRole: e.role,
        encrypted: e.encrypted ?? false,
        ssl: e.encrypted ?? false,
        protocol: protocolName(e.protocolGuess ?? 0),
        connOpen: this.known.has(id) ? 0 : 1,
        connClose: 1,
        connActive: 0,
        bytesSent: e.bytesSent ?? 0,
        bytesRecv: e.bytesRecv ?? 0,
      }));
      now.delete(id);
      rows++;
    }
    this.closed = [];
    this.known = now;
    return rows;
  }

  private row(
    timeNs: bigint,
    pid: number,
    startTicks: bigint,
    r: Omit<ConnStatsRow, 'timeNs' | 'upid'>,
  ): ConnStatsRow {
    return { timeNs, upid: { asid: this.asid, pid, startTicks }, ...r };
  }
}
