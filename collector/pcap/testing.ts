// Builders for capture files in tests: Ethernet/IPv4/TCP and raw IPv6/TCP frames, written as pcap
// or pcapng.
export interface FrameSpec {
  src: string;
  sport: number;
  dst: string;
  dport: number;
  seq: number;
  flags: number;
  payload?: Buffer | string;
  timeUs: number;
}

function ip4(a: string): Buffer {
  return Buffer.from(a.split('.').map(Number));
}

function tcp(f: FrameSpec): Buffer {
  const payload = typeof f.payload === 'string' ? Buffer.from(f.payload) : f.payload ?? Buffer.alloc(0);
  const h = Buffer.alloc(20);
  h.writeUInt16BE(f.sport, 0);
  h.writeUInt16BE(f.dport, 2);
  h.writeUInt32BE(f.seq >>> 0, 4);
  h[12] = 5 << 4;
  h[13] = f.flags;
  h.writeUInt16BE(65535, 14);
  return Buffer.concat([h, payload]);
}

/** Ethernet + IPv4 + TCP (+ 2 bytes of Ethernet padding, which must not become payload). */
export function ethernetFrame(f: FrameSpec): Buffer {
  const t = tcp(f);
  const ip = Buffer.alloc(20);
  ip[0] = 0x45;
  ip.writeUInt16BE(20 + t.length, 2);
  ip[8] = 64;
  ip[9] = 6;
  ip4(f.src).copy(ip, 12);
  ip4(f.dst).copy(ip, 16);
  const eth = Buffer.alloc(14);
  eth.writeUInt16BE(0x0800, 12);
  return Buffer.concat([eth, ip, t, Buffer.alloc(2)]);
}

/** Raw IPv6 + TCP (link type 101); addresses are given as 16-byte hex. */
export function ipv6Frame(f: FrameSpec): Buffer {
  const t = tcp(f);
  const ip = Buffer.alloc(40);
  ip[0] = 0x60;
  ip.writeUInt16BE(t.length, 4);
  ip[6] = 6;
  ip[7] = 64;
  Buffer.from(f.src, 'hex').copy(ip, 8);
  Buffer.from(f.dst, 'hex').copy(ip, 24);
  return Buffer.concat([ip, t]);
}

export function pcapFile(linkType: number, frames: { timeUs: number; data: Buffer }[]): Buffer {
  const h = Buffer.alloc(24);
  h.writeUInt32LE(0xa1b2c3d4, 0);
  h.writeUInt16LE(2, 4);
  h.writeUInt16LE(4, 6);
  h.writeUInt32LE(65535, 16);
  h.writeUInt32LE(linkType, 20);
  const recs = frames.map((f) => {
    const r = Buffer.alloc(16);
    r.writeUInt32LE(Math.floor(f.timeUs / 1e6), 0);
    r.writeUInt32LE(f.timeUs % 1e6, 4);
    r.writeUInt32LE(f.data.length, 8);
    r.writeUInt32LE(f.data.length, 12);
    return Buffer.concat([r, f.data]);
  });
  return Buffer.concat([h, ...recs]);
}

function block(type: number, body: Buffer): Buffer {
  const pad = Buffer.alloc((4 - (body.length % 4)) % 4);
  const len = 12 + body.length + pad.length;
  const h = Buffer.alloc(8);
  h.writeUInt32LE(type, 0);
  h.writeUInt32LE(len, 4);
  const t = Buffer.alloc(4);
  t.writeUInt32LE(len, 0);
  return Buffer.concat([h, body, pad, t]);
}

/** pcapng with one interface whose timestamps are in nanoseconds (if_tsresol = 9). */
export function pcapngFile(linkType: number, frames: { timeUs: number; data: Buffer }[]): Buffer {
  const shb = Buffer.alloc(16);
  shb.writeUInt32LE(0x1a2b3c4d, 0);
  shb.writeUInt16LE(1, 4);
  shb.writeBigInt64LE(-1n, 8);
  const idb = Buffer.alloc(16);
  idb.writeUInt16LE(linkType, 0);
  idb.writeUInt32LE(65535, 4);
  idb.writeUInt16LE(9, 8); // if_tsresol
  idb.writeUInt16LE(1, 10);
  idb[12] = 9;
  const epbs = frames.map((f) => {
    const b = Buffer.alloc(20);
    const ticks = BigInt(f.timeUs) * 1000n;
    b.writeUInt32LE(0, 0);
    b.writeUInt32LE(Number(ticks >> 32n), 4);
    b.writeUInt32LE(Number(ticks & 0xffffffffn), 8);
    b.writeUInt32LE(f.data.length, 12);
    b.writeUInt32LE(f.data.length, 16);
    return block(6, Buffer.concat([b, f.data]));
  });
  return Buffer.concat([block(0x0a0d0d0a, shb), block(1, idb), ...epbs]);
}
