// UPID: 128 bits = ASID (32) | PID (32) | process start time in clock ticks (64). DESIGN.md.

export interface Upid {
  asid: number;
  pid: number;
  startTicks: bigint;
}

export function upidToBigInt(u: Upid): bigint {
  return (BigInt(u.asid >>> 0) << 96n) | (BigInt(u.pid >>> 0) << 64n) | (u.startTicks & 0xffff_ffff_ffff_ffffn);
}

export function upidFromBigInt(v: bigint): Upid {
  return {
    asid: Number((v >> 96n) & 0xffff_ffffn),
    pid: Number((v >> 64n) & 0xffff_ffffn),
    startTicks: v & 0xffff_ffff_ffff_ffffn,
  };
}

/** The canonical uuid text of a UPID, as `upid` shows in query results. */
export function upidToString(u: Upid): string {
  const hex = upidToBigInt(u).toString(16).padStart(32, '0');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
