// Reading pcap and pcapng files (written here rather than taken from npm: the formats are small
// and stable, and the reader must be synchronous, streaming and bounded for large captures).
// Yields link-layer frames with their link type and timestamp; see link.ts for what is inside.
import { closeSync, openSync, readSync } from 'node:fs';

export interface CapturedFrame {
  /** Wall-clock ns since the epoch. */
  timeNs: bigint;
  linkType: number;
  data: Buffer;
}

/** Reads a file in chunks; `take(n)` returns the next n bytes (or fewer at the end). */
class ChunkedFile {
  private buf = Buffer.alloc(0);
  private at = 0;
  private eof = false;

  constructor(private readonly fd: number) {}

  take(n: number): Buffer {
    while (this.buf.length - this.at < n && !this.eof) {
      const chunk = Buffer.allocUnsafe(Math.max(1 << 20, n));
      const got = readSync(this.fd, chunk, 0, chunk.length, null);
      if (got === 0) this.eof = true;
      this.buf = Buffer.concat([this.buf.subarray(this.at), chunk.subarray(0, got)]);
      this.at = 0;
    }
    const out = this.buf.subarray(this.at, this.at + n);
    this.at += out.length;
    return out;
  }
}

export class CaptureFormatError extends Error {}

const PCAP_MAGIC_US = 0xa1b2c3d4;
const PCAP_MAGIC_NS = 0xa1b23c4d;
const PCAPNG_SHB = 0x0a0d0d0a;
const BYTE_ORDER_MAGIC = 0x1a2b3c4d;
/** Larger blocks or records are treated as corruption. */
const MAX_RECORD = 256 * 1024 * 1024;

/** Calls `onFrame` for every frame in a pcap or pcapng file, in file order. */
export function readCaptureFile(path: string, onFrame: (f: CapturedFrame) => void): void {
  const fd = openSync(path, 'r');
  try {
    const f = new ChunkedFile(fd);
    const head = f.take(4);
    if (head.length < 4) throw new CaptureFormatError('file too short for pcap or pcapng');
    const be = head.readUInt32BE(0);
    const le = head.readUInt32LE(0);
    if (be === PCAPNG_SHB) readPcapng(f, head, onFrame);
    else if ([be, le].some((m) => m === PCAP_MAGIC_US || m === PCAP_MAGIC_NS)) readPcap(f, be === PCAP_MAGIC_US || be === PCAP_MAGIC_NS, be === PCAP_MAGIC_NS || le === PCAP_MAGIC_NS, onFrame);
    else throw new CaptureFormatError('not a pcap or pcapng file (unknown magic)');
  } finally {
    closeSync(fd);
  }
}

function readPcap(f: ChunkedFile, bigEndian: boolean, nanos: boolean, onFrame: (f: CapturedFrame) => void): void {
  const h = f.take(20);
  if (h.length < 20) throw new CaptureFormatError('truncated pcap header');
  const u32 = (b: Buffer, o: number) => (bigEndian ? b.readUInt32BE(o) : b.readUInt32LE(o));
  const linkType = u32(h, 16) & 0x0fffffff;
  for (;;) {
    const r = f.take(16);
    if (r.length < 16) return; // end (a partial record at the end of a live capture is dropped)
    const sec = u32(r, 0);
    const frac = u32(r, 4);
    const incl = u32(r, 8);
    if (incl > MAX_RECORD) throw new CaptureFormatError(`implausible pcap record length ${incl}`);
    const data = f.take(incl);
    if (data.length < incl) return;
    onFrame({ timeNs: BigInt(sec) * 1_000_000_000n + BigInt(nanos ? frac : frac * 1000), linkType, data });
  }
}

interface Interface {
  linkType: number;
  /** Timestamp units per second. */
  unitsPerSec: bigint;
}

function readPcapng(f: ChunkedFile, first: Buffer, onFrame: (f: CapturedFrame) => void): void {
  let bigEndian = false;
  let ifaces: Interface[] = [];
  let lastTime = 0n;
  let type = first.readUInt32LE(0);
  let pendingType: Buffer | null = first;
  for (;;) {
    const t = pendingType ?? f.take(4);
    pendingType = null;
    if (t.length < 4) return;
    const lenBytes = f.take(4);
    if (lenBytes.length < 4) return;
    type = bigEndian ? t.readUInt32BE(0) : t.readUInt32LE(0);
    if (t.readUInt32BE(0) === PCAPNG_SHB) {
      // Section header: byte order from its magic; interfaces restart.
      const bom = f.take(4);
      if (bom.length < 4) return;
      bigEndian = bom.readUInt32BE(0) === BYTE_ORDER_MAGIC;
      if (!bigEndian && bom.readUInt32LE(0) !== BYTE_ORDER_MAGIC) throw new CaptureFormatError('bad pcapng byte-order magic');
      const total = bigEndian ? lenBytes.readUInt32BE(0) : lenBytes.readUInt32LE(0);
      if (total < 28 || total > MAX_RECORD) throw new CaptureFormatError('bad pcapng section header');
      f.take(total - 12);
      ifaces = [];
      continue;
    }
    const total = bigEndian ? lenBytes.readUInt32BE(0) : lenBytes.readUInt32LE(0);
    if (total < 12 || total > MAX_RECORD || total % 4 !== 0) throw new CaptureFormatError(`bad pcapng block length ${total}`);
    const body = f.take(total - 8);
    if (body.length < total - 8) return;
    const u32 = (o: number) => (bigEndian ? body.readUInt32BE(o) : body.readUInt32LE(o));
    const u16 = (o: number) => (bigEndian ? body.readUInt16BE(o) : body.readUInt16LE(o));
    const blockLen = total - 12; // body without the trailing length
    switch (type) {
      case 1: { // interface description
        ifaces.push({ linkType: u16(0), unitsPerSec: tsResolution(body, 8, blockLen, bigEndian) });
        break;
      }
      case 6: // enhanced packet
      case 2: { // obsolete packet block: the same layout with a 16-bit interface id
        const iface = ifaces[type === 6 ? u32(0) : u16(0)];
        const cap = u32(12);
        if (iface === undefined || 20 + cap > blockLen) break;
        const ticks = (BigInt(u32(4)) << 32n) | BigInt(u32(8));
        lastTime = (ticks * 1_000_000_000n) / iface.unitsPerSec;
        onFrame({ timeNs: lastTime, linkType: iface.linkType, data: body.subarray(20, 20 + cap) });
        break;
      }
      case 3: { // simple packet: no timestamp (the previous one is reused)
        const iface = ifaces[0];
        if (iface === undefined) break;
        const cap = Math.min(u32(0), blockLen - 4);
        onFrame({ timeNs: lastTime, linkType: iface.linkType, data: body.subarray(4, 4 + cap) });
        break;
      }
      default:
        break; // name resolution, statistics, custom blocks: not needed
    }
  }
}

/** if_tsresol (option 9) of an interface description block; default microseconds. */
function tsResolution(body: Buffer, at: number, end: number, bigEndian: boolean): bigint {
  let o = at;
  while (o + 4 <= end) {
    const code = bigEndian ? body.readUInt16BE(o) : body.readUInt16LE(o);
    const len = bigEndian ? body.readUInt16BE(o + 2) : body.readUInt16LE(o + 2);
    if (code === 0) break;
    if (code === 9 && len >= 1) {
      const v = body[o + 4]!;
      return v & 0x80 ? 1n << BigInt(v & 0x7f) : 10n ** BigInt(v);
    }
    o += 4 + ((len + 3) & ~3);
  }
  return 1_000_000n;
}
