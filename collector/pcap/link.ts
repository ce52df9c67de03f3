// Link layer → IPv4/IPv6 → TCP: the fields TCP reassembly needs from one captured frame.
import { ipv4, ipv6 } from '../sources/ebpf-decode.ts';

export interface TcpSegment {
  family: 4 | 6;
  srcAddr: string;
  srcPort: number;
  dstAddr: string;
  dstPort: number;
  seq: number;
  flags: number;
  payload: Buffer;
}

export const TcpFlag = { fin: 1, syn: 2, rst: 4, ack: 16 } as const;

/** Offset of the IP header in a frame of this link type, or -1 (not IP / unsupported link). */
function ipOffset(linkType: number, d: Buffer): number {
  switch (linkType) {
    case 1: { // Ethernet (what tshark/tcpdump write for -i lo), with VLAN tags
      let o = 12;
      let type = d.length >= 14 ? d.readUInt16BE(12) : 0;
      while ((type === 0x8100 || type === 0x88a8) && d.length >= o + 6) {
        o += 4;
        type = d.readUInt16BE(o);
      }
      return type === 0x0800 || type === 0x86dd ? o + 2 : -1;
    }
    case 0: // BSD loopback: 4-byte family in host byte order
    case 108: // OpenBSD loopback: big endian
      return d.length >= 4 ? 4 : -1;
    case 101: case 12: case 14: case 228: case 229: // raw IP
      return 0;
    case 113: // Linux cooked (SLL): protocol at 14
      return d.length >= 16 && (d.readUInt16BE(14) === 0x0800 || d.readUInt16BE(14) === 0x86dd) ? 16 : -1;
    case 276: // Linux cooked v2 (SLL2, tcpdump -i any): protocol at 0
      return d.length >= 20 && (d.readUInt16BE(0) === 0x0800 || d.readUInt16BE(0) === 0x86dd) ? 20 : -1;
    default:
      return -1;
  }
}

/** The TCP segment in a frame, or null (not TCP over IP, a fragment, or truncated headers). */
export function tcpSegment(linkType: number, d: Buffer): TcpSegment | null {
  const ip = ipOffset(linkType, d);
  if (ip < 0 || ip >= d.length) return null;
  const version = d[ip]! >> 4;
  let tcp: number;
  let end: number;
  let family: 4 | 6;
  let src: string;
  let dst: string;
  if (version === 4) {
    const ihl = (d[ip]! & 0x0f) * 4;
    if (ihl < 20 || ip + ihl > d.length || d[ip + 9] !== 6) return null;
    if ((d.readUInt16BE(ip + 6) & 0x3fff) !== 0) return null; // fragment: not reassembled
    end = Math.min(d.length, ip + d.readUInt16BE(ip + 2)); // Ethernet padding is not payload
    tcp = ip + ihl;
    family = 4;
    src = ipv4(d, ip + 12);
    dst = ipv4(d, ip + 16);
  } else if (version === 6) {
    if (ip + 40 > d.length) return null;
    let next = d[ip + 6]!;
    end = Math.min(d.length, ip + 40 + d.readUInt16BE(ip + 4));
    tcp = ip + 40;
    // Hop-by-hop, routing and destination options headers are skipped.
    while ((next === 0 || next === 43 || next === 60) && tcp + 8 <= end) {
      next = d[tcp]!;
      tcp += (d[tcp + 1]! + 1) * 8;
    }
    if (next !== 6) return null;
    family = 6;
    src = ipv6(d, ip + 8);
    dst = ipv6(d, ip + 24);
  } else {
    return null;
  }
  if (tcp + 20 > end) return null;
  const off = (d[tcp + 12]! >> 4) * 4;
  if (off < 20 || tcp + off > end) return null;
  return {
    family, srcAddr: src, dstAddr: dst,
    srcPort: d.readUInt16BE(tcp), dstPort: d.readUInt16BE(tcp + 2),
    seq: d.readUInt32BE(tcp + 4), flags: d[tcp + 13]!,
    payload: d.subarray(tcp + off, end),
  };
}
