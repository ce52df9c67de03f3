// Decoding the server's generic packets: OK, ERR, EOF (and the OK that replaces EOF when
// CLIENT_DEPRECATE_EOF is on), and length-encoded integers.
import { MAX_PACKET } from './packet-reader.ts';

/** Server status flags we act on. */
export const ServerStatus = { moreResultsExist: 0x0008, cursorExists: 0x0040 } as const;

/** Length-encoded integer at `i`: [value, bytes used], or null if truncated or invalid. */
export function lenenc(b: Buffer, i: number): [number, number] | null {
  const c = b[i];
  if (c === undefined) return null;
  if (c < 0xfb) return [c, 1];
  const n = c === 0xfc ? 2 : c === 0xfd ? 3 : c === 0xfe ? 8 : 0;
  if (n === 0 || i + 1 + n > b.length) return null;
  let v = 0;
  for (let k = n; k >= 1; k--) v = v * 256 + b[i + k]!;
  return [v, 1 + n];
}

export interface OkInfo {
  affectedRows: number;
  lastInsertId: number;
  status: number;
  warnings: number;
}

/** OK packet (header 0x00 or 0xFE) body; missing fields read as 0. */
export function parseOk(data: Buffer): OkInfo {
  const a = lenenc(data, 1);
  const affectedRows = a ? a[0] : 0;
  const at = 1 + (a ? a[1] : 1);
  const l = lenenc(data, at);
  const st = at + (l ? l[1] : 1);
  return {
    affectedRows,
    lastInsertId: l ? l[0] : 0,
    status: st + 2 <= data.length ? data.readUInt16LE(st) : 0,
    warnings: st + 4 <= data.length ? data.readUInt16LE(st + 2) : 0,
  };
}

/** "ERROR 1064 (42000): message" from an ERR packet. */
export function errText(data: Buffer, maxLen: number): string {
  const code = data.length >= 3 ? data.readUInt16LE(1) : 0;
  let state = '';
  let at = 3;
  if (data[3] === 0x23 /* # */ && data.length >= 9) {
    state = ` (${data.toString('latin1', 4, 9)})`;
    at = 9;
  }
  const msg = data.toString('utf8', at, Math.min(data.length, at + maxLen));
  return `ERROR ${code}${state}: ${msg}`;
}

/** EOF packet: 0xFE and shorter than 9 bytes (a row starting with 0xFE is at least 9). */
export function isEof(first: number, length: number): boolean {
  return first === 0xfe && length < 9;
}

/** A result-set terminator: EOF, or OK with header 0xFE (CLIENT_DEPRECATE_EOF). */
export function isTerminator(first: number, length: number): boolean {
  return first === 0xfe && length < MAX_PACKET;
}

/** Status flags of a terminator packet (EOF or OK-with-0xFE). */
export function terminatorStatus(data: Buffer, length: number): number {
  if (length === 5) return data.length >= 5 ? data.readUInt16LE(3) : 0;
  return parseOk(data).status;
}
