// ASID: the node's 32-bit id, the top bits of every UPID it produces. Derived from the node name
// (FNV-1a), so it is the same after a restart with no state file and the same on every broker;
// the registry refuses a second live node whose name hashes to an ASID already taken (collision).
// 0 is reserved for standalone mode.
export function asidFor(nodeName: string): number {
  let h = 0x811c9dc5;
  for (const b of new TextEncoder().encode(nodeName)) {
    h ^= b;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h === 0 ? 1 : h;
}
