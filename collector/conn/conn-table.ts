// The tracker's open connections by numeric key (tracker keyOf: integers < 2^53): linear probing
// over a Float64Array of keys, backward-shift deletion, no tombstones. Replaces a Map because
// short connections churn it: a Map's delete calls into the runtime to shrink (and reallocate)
// its table whenever it falls below half full — on a node with few concurrent connections, at
// nearly every close — and a key ≥ 2^31 is a boxed number on every lookup. Grows at half full,
// never shrinks (16 bytes a slot at the peak of open connections).

export class ConnTable<V> {
  private keys: Float64Array;
  private vals: (V | undefined)[];
  private mask: number;
  /** 32 - log2(capacity): the hash's top bits pick the slot. */
  private shift: number;
  size = 0;

  constructor(capacity = 64) {
    let cap = 8;
    while (cap < capacity) cap *= 2;
    this.keys = new Float64Array(cap);
    this.vals = new Array<V | undefined>(cap).fill(undefined);
    this.mask = cap - 1;
    this.shift = 32 - Math.log2(cap);
  }

  get(key: number): V | undefined {
    const keys = this.keys;
    const vals = this.vals;
    const mask = this.mask;
    for (let i = this.slot(key); ; i = (i + 1) & mask) {
      const v = vals[i];
      if (v === undefined || keys[i] === key) return v;
    }
  }

  set(key: number, value: V): void {
    const keys = this.keys;
    const vals = this.vals;
    const mask = this.mask;
    let i = this.slot(key);
    while (vals[i] !== undefined) {
      if (keys[i] === key) {
        vals[i] = value;
        return;
      }
      i = (i + 1) & mask;
    }
    keys[i] = key;
    vals[i] = value;
    if (++this.size * 2 > mask + 1) this.grow();
  }

  delete(key: number): boolean {
    const keys = this.keys;
    const vals = this.vals;
    const mask = this.mask;
    let i = this.slot(key);
    for (;;) {
      if (vals[i] === undefined) return false;
      if (keys[i] === key) break;
      i = (i + 1) & mask;
    }
    vals[i] = undefined;
    this.size--;
    // Backward shift: pull later entries of the probe run into the hole when their home slot
    // is not between the hole and where they are, so lookups never stop early.
    for (let j = (i + 1) & mask; vals[j] !== undefined; j = (j + 1) & mask) {
      const home = this.slot(keys[j] as number);
      if (((j - home) & mask) >= ((j - i) & mask)) {
        keys[i] = keys[j] as number;
        vals[i] = vals[j];
        vals[j] = undefined;
        i = j;
      }
    }
    return true;
  }

  /** A snapshot of the values (safe to delete while walking it). */
  list(): V[] {
    const out: V[] = [];
    const vals = this.vals;
    for (let i = 0; i < vals.length; i++) {
      const v = vals[i];
      if (v !== undefined) out.push(v);
    }
    return out;
  }

  values(): IterableIterator<V> {
    return this.list().values();
  }

  private slot(key: number): number {
    // Both 32-bit halves mixed (keys above 2^32 differ in the high half), Fibonacci hashing.
    const lo = key >>> 0;
    const hi = (key / 4294967296) >>> 0;
    return Math.imul(lo ^ Math.imul(hi, 0x85ebca6b), 0x9e3779b1) >>> this.shift;
  }

  private grow(): void {
    const keys = this.keys;
    const vals = this.vals;
    const cap = (this.mask + 1) * 2;
    this.keys = new Float64Array(cap);
    this.vals = new Array<V | undefined>(cap).fill(undefined);
    this.mask = cap - 1;
    this.shift--;
    this.size = 0;
    for (let i = 0; i < vals.length; i++) {
      const v = vals[i];
      if (v !== undefined) this.set(keys[i] as number, v);
    }
  }
}
