// Decodes the native addon's batch Buffers into SocketEvents. Pure and allocation-light:
// fixed-offset reads, payload is a view into the batch (no copy). The collector's path
// (eachRecord) decodes every record into one reused event object: no object per event.
// Batch framing: repeated [u32 LE record length][record]. Record layout (bpf/README.md,
// bpf/socket_tracer.h struct wt_event), little endian:
//   0 kind u8 · 1 direction u8 · 2 role u8 · 3 family u8 · 4 fd u32 · 8 tgid u32 · 12 tid u32
//  16 start_ticks u64 · 24 gen u64 · 32 ts_enter u64 · 40 ts_exit u64 · 48 pos u64
//  56 size u32 · 60 captured u32 · 64 lport u16 · 66 rport u16 · 68 syscall u16 · 70 proto u8
//  71 flags u8 · 72 laddr[16] · 88 raddr[16] · 104 aux u64 · 112 payload[captured]
// Kinds 1-3 are socket events; 4 EXEC and 5 EXIT are process lifecycle (ProcessEvent).
import { Direction, EventKind, type ProcessEvent, type SocketEvent } from '../events.ts';

export const HEADER_SIZE = 112;

export const Off = {
  kind: 0,
  direction: 1,
  role: 2,
  family: 3,
  fd: 4,
  tgid: 8,
  tid: 12,
  startTicks: 16,
  gen: 24,
  tsEnter: 32,
  tsExit: 40,
  pos: 48,
  size: 56,
  captured: 60,
  lport: 64,
  rport: 66,
  syscall: 68,
  proto: 70,
  flags: 71,
  laddr: 72,
  raddr: 88,
  aux: 104,
} as const;

const EMPTY = Buffer.alloc(0);

export interface DecodeStats {
  /** Records skipped because their framing or header was inconsistent. */
  malformed: number;
}

/** Address text is built once per distinct address (a handful per host), not per event. */
const v4Cache = new Map<number, string>();

/** IPv4 dotted quad from 4 bytes at `o`. */
export function ipv4(b: Buffer, o: number): string {
  // Signed: a small integer key for every address (an unsigned one above 2^31 would be a boxed double).
  const key = b[o]! | (b[o + 1]! << 8) | (b[o + 2]! << 16) | (b[o + 3]! << 24);
  // A burst of events repeats one local and one remote address: the last two without a Map
  // lookup.
  if (key === v4Key0) return v4Text0;
  if (key === v4Key1) return v4Text1;
  let s = v4Cache.get(key);
  if (s === undefined) {
    s = `${b[o]}.${b[o + 1]}.${b[o + 2]}.${b[o + 3]}`;
    if (v4Cache.size > 65536) v4Cache.clear();
    v4Cache.set(key, s);
  }
  v4Key1 = v4Key0;
  v4Text1 = v4Text0;
  v4Key0 = key;
  v4Text0 = s;
  return s;
}
let v4Key0 = 0;
let v4Text0 = '0.0.0.0';
let v4Key1 = 0;
let v4Text1 = '0.0.0.0';

// Fixed fields are read through a DataView of the batch (one per batch): TurboFan turns its
// getters into plain loads, and getBigUint64 makes a BigInt ~3x faster than BigInt(number).
let dvBuf: Buffer | null = null;
let dv: DataView<ArrayBufferLike> = new DataView(new ArrayBuffer(0));

function viewOf(buf: Buffer): DataView<ArrayBufferLike> {
  if (buf !== dvBuf) {
    dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    dvBuf = buf;
  }
  return dv;
}

// Process start ticks and connection generations repeat from event to event (one process, one
// connection's burst): the last value's BigInt is reused instead of made again.
class RepeatedU64 {
  private lo = -1;
  private hi = -1;
  private last = 0n;

  at(v: DataView<ArrayBufferLike>, o: number): bigint {
    const lo = v.getUint32(o, true);
    const hi = v.getUint32(o + 4, true);
    if (lo !== this.lo || hi !== this.hi) {
      this.last = v.getBigUint64(o, true);
      this.lo = lo;
      this.hi = hi;
    }
    return this.last;
  }
}
const startTicks = new RepeatedU64();
const generations = new RepeatedU64();

/** IPv6 text (RFC 5952: lowercase, longest zero run compressed) from 16 bytes at `o`;
 *  v4-mapped addresses (::ffff:a.b.c.d) come back as dotted IPv4. */
export function ipv6(b: Buffer, o: number): string {
  if (isV4Mapped(b, o)) return ipv4(b, o + 12);
  // The last few addresses' text, found by their four 32-bit words (formatting costs ~1 µs).
  const w0 = b.readInt32LE(o);
  const w1 = b.readInt32LE(o + 4);
  const w2 = b.readInt32LE(o + 8);
  const w3 = b.readInt32LE(o + 12);
  for (let k = 0; k < V6_CACHE; k++) {
    const at = k * 4;
    if (v6Words[at] === w0 && v6Words[at + 1] === w1 && v6Words[at + 2] === w2 && v6Words[at + 3] === w3 && v6Text[k] !== '') {
      return v6Text[k]!;
    }
  }
  const text = formatIpv6(b, o);
  const at = v6Next * 4;
  v6Words[at] = w0;
  v6Words[at + 1] = w1;
  v6Words[at + 2] = w2;
  v6Words[at + 3] = w3;
  v6Text[v6Next] = text;
  v6Next = (v6Next + 1) % V6_CACHE;
  return text;
}

const V6_CACHE = 16;
const v6Words = new Int32Array(V6_CACHE * 4);
const v6Text: string[] = new Array<string>(V6_CACHE).fill('');
let v6Next = 0;

function formatIpv6(b: Buffer, o: number): string {
  const g: number[] = new Array(8);
  for (let i = 0; i < 8; i++) g[i] = (b[o + 2 * i] << 8) | b[o + 2 * i + 1];
  let bestAt = -1;
  let bestLen = 1; // a single zero group is not compressed
  for (let i = 0; i < 8; ) {
    if (g[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen) {
      bestAt = i;
      bestLen = j - i;
    }
    i = j;
  }
  if (bestAt < 0) return g.map((x) => x.toString(16)).join(':');
  const head = g.slice(0, bestAt).map((x) => x.toString(16)).join(':');
  const tail = g.slice(bestAt + bestLen).map((x) => x.toString(16)).join(':');
  return `${head}::${tail}`;
}

function isV4Mapped(b: Buffer, o: number): boolean {
  for (let i = 0; i < 10; i++) if (b[o + i] !== 0) return false;
  return b[o + 10] === 0xff && b[o + 11] === 0xff;
}

/**
 * Decodes one batch. `clockOffsetNs` turns kernel monotonic ns into epoch ns. Events are
 * appended to `out` in ring order. Time: send and close use the syscall's enter time,
 * recv and open its exit time (when the bytes / the connection were actually there).
 */
export function decodeBatch(
  buf: Buffer,
  clockOffsetNs: bigint,
  out: SocketEvent[] = [],
  stats?: DecodeStats,
  procOut?: ProcessEvent[],
): SocketEvent[] {
  walkRecords(buf, clockOffsetNs, stats, procOut, (o, len) => {
    const ev = decodeRecord(buf, o, len, clockOffsetNs);
    if (ev) out.push(ev);
    return ev !== null;
  });
  return out;
}

/**
 * The ring batch's framing: each record's length prefix checked, process records decoded into
 * `procOut`, each socket record's offset and length handed to `onSocket` (false: malformed,
 * counted). Returns how many socket records `onSocket` accepted.
 */
function walkRecords(
  buf: Buffer,
  clockOffsetNs: bigint,
  stats: DecodeStats | undefined,
  procOut: ProcessEvent[] | undefined,
  onSocket: (o: number, len: number) => boolean,
): number {
  const end = buf.length;
  let at = 0;
  let n = 0;
  while (at + 4 <= end) {
    const len = buf.readUInt32LE(at);
    const o = at + 4;
    at = o + len;
    if (len < HEADER_SIZE || at > end) {
      if (stats) stats.malformed++;
      break; // framing is broken: nothing after this can be trusted
    }
    const kind = buf[o + Off.kind];
    if (kind === KIND_EXEC || kind === KIND_EXIT) {
      procOut?.push(decodeProcess(buf, o, len, clockOffsetNs));
      continue;
    }
    if (onSocket(o, len)) n++;
    else if (stats) stats.malformed++;
  }
  return n;
}

const KIND_EXEC = 4;
const KIND_EXIT = 5;

/** An EXEC (payload: file name) or EXIT (aux: exit status) record. */
export function decodeProcess(buf: Buffer, o: number, len: number, clockOffsetNs: bigint): ProcessEvent {
  const exec = buf[o + Off.kind] === KIND_EXEC;
  const captured = Math.min(buf.readUInt32LE(o + Off.captured), len - HEADER_SIZE);
  return {
    kind: exec ? 'exec' : 'exit',
    timeNs: buf.readBigUInt64LE(o + Off.tsEnter) + clockOffsetNs,
    tgid: buf.readUInt32LE(o + Off.tgid),
    startTicks: buf.readBigUInt64LE(o + Off.startTicks),
    ppid: exec ? buf.readUInt32LE(o + Off.fd) : 0,
    filename: exec ? buf.toString('utf8', o + HEADER_SIZE, o + HEADER_SIZE + captured) : '',
    exitCode: exec ? 0 : Number(buf.readBigUInt64LE(o + Off.aux) & 0xffffffffn),
  };
}

/** Decodes the record of `len` bytes at `o`; null when the header is inconsistent. A new
 *  event of its own (eachRecord's is reused). */
export function decodeRecord(buf: Buffer, o: number, len: number, clockOffsetNs: bigint): SocketEvent | null {
  const d = shared;
  if (!d.decode(buf, o, len, clockOffsetNs)) return null;
  const ev = { ...d.ev };
  if (ev.kind === EventKind.data) ev.pos = viewOf(buf).getBigUint64(o + Off.pos, true);
  return ev;
}

/**
 * Decodes socket records into one reused event: `ev` is the last record decoded, valid until the
 * next. Its `pos` stays 0n: the stream position is `pos`, a number (exact below 2^53 bytes per
 * direction), so no BigInt is made for it.
 */
export class RecordDecoder {
  // Every field set in every record: one object shape (monomorphic access in the tracker); the
  // close-only fields are 0 on other events.
  readonly ev: SocketEvent = {
    kind: EventKind.data, timeNs: 0n, tgid: 0, startTicks: 0n, fd: 0, connGen: 0n, role: 0,
    direction: Direction.send, family: 0, localAddr: '', localPort: 0, remoteAddr: '', remotePort: 0,
    pos: 0n, size: 0, payload: EMPTY, encrypted: false, bytesSent: 0, bytesRecv: 0, protocolGuess: 0,
  };
  pos = 0;

  /** Decodes the record of `len` bytes at `o` into `ev`; false when the header is inconsistent. */
  decode(buf: Buffer, o: number, len: number, clockOffsetNs: bigint): boolean {
    const kind = buf[o + Off.kind];
    if (kind !== EventKind.open && kind !== EventKind.data && kind !== EventKind.close) return false;
    const v = viewOf(buf);
    const captured = v.getUint32(o + Off.captured, true);
    if (HEADER_SIZE + captured > len) return false;
    const ev = this.ev;
    const dir = buf[o + Off.direction] === Direction.recv ? Direction.recv : Direction.send;
    const role = buf[o + Off.role];
    const fam = buf[o + Off.family];
    if (fam === 4) {
      ev.family = 4;
      ev.localAddr = ipv4(buf, o + Off.laddr);
      ev.remoteAddr = ipv4(buf, o + Off.raddr);
    } else if (fam === 6) {
      ev.family = isV4Mapped(buf, o + Off.raddr) ? 4 : 6;
      ev.localAddr = ipv6(buf, o + Off.laddr);
      ev.remoteAddr = ipv6(buf, o + Off.raddr);
    } else {
      ev.family = 0;
      ev.localAddr = ev.remoteAddr = '';
    }
    // Time: send and close use the syscall's enter time, recv and open its exit time.
    const useEnter = kind === EventKind.close || (kind === EventKind.data && dir === Direction.send);
    const isData = kind === EventKind.data;
    const isClose = kind === EventKind.close;
    ev.kind = kind as SocketEvent['kind'];
    ev.timeNs = v.getBigUint64(o + (useEnter ? Off.tsEnter : Off.tsExit), true) + clockOffsetNs;
    ev.tgid = v.getUint32(o + Off.tgid, true);
    ev.startTicks = startTicks.at(v, o + Off.startTicks);
    ev.fd = v.getUint32(o + Off.fd, true);
    ev.connGen = generations.at(v, o + Off.gen);
    ev.role = role === 1 || role === 2 ? role : 0;
    ev.direction = dir;
    ev.localPort = v.getUint16(o + Off.lport, true);
    ev.remotePort = v.getUint16(o + Off.rport, true);
    this.pos = isData ? u64n(v, o + Off.pos) : 0;
    ev.size = isData ? v.getUint32(o + Off.size, true) : 0;
    ev.payload = captured > 0 ? buf.subarray(o + HEADER_SIZE, o + HEADER_SIZE + captured) : EMPTY;
    // Flag 2: the connection is TLS; its data events carry plaintext from the library.
    ev.encrypted = (buf[o + Off.flags]! & 2) !== 0;
    ev.bytesSent = isClose ? u64n(v, o + Off.pos) : 0;
    ev.bytesRecv = isClose ? u64n(v, o + Off.aux) : 0;
    ev.protocolGuess = isClose ? buf[o + Off.proto]! : 0;
    return true;
  }
}

const shared = new RecordDecoder();

/**
 * Walks one batch: each socket record decoded into `dec.ev` and handed to `onEvent(dec.ev,
 * dec.pos)` (the object is reused for the next record: copy what you keep), process records
 * appended to `procOut`. Returns the number of socket events.
 */
export function eachRecord(
  buf: Buffer,
  clockOffsetNs: bigint,
  dec: RecordDecoder,
  onEvent: (ev: SocketEvent, pos: number) => void,
  stats?: DecodeStats,
  procOut?: ProcessEvent[],
): number {
  return walkRecords(buf, clockOffsetNs, stats, procOut, (o, len) => {
    if (!dec.decode(buf, o, len, clockOffsetNs)) return false;
    onEvent(dec.ev, dec.pos);
    return true;
  });
}

/** u64 as a Number (byte counts). */
function u64n(v: DataView<ArrayBufferLike>, o: number): number {
  return v.getUint32(o + 4, true) * 4294967296 + v.getUint32(o, true);
}
