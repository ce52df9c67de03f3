// Recycled ArrayBuffers for hot batches. A hot batch's typed arrays double from 64 rows and are
// all dropped at the seal (~29 MB per 64Ki-row http_events batch). ArrayBuffers are external
// memory that only a mark-compact frees, and V8 counts them towards starting one: that garbage
// made full GCs more frequent than the rows themselves did. A batch whose arrays no snapshot has
// seen hands them back here when they are replaced (growth) or when it seals, and later batches
// (every table's, same sizes) take them instead of allocating.
//
// Free buffers are outside the store's budget accounting: at most `poolMaxBytes` (an RSS overhead
// documented in engine/README.md). Arrays a snapshot may hold are never handed back: writers
// never block readers, and readers never see recycled bytes.

type Typed = Uint8Array | Int32Array | Uint32Array | Float64Array;
type TypedCtor<T extends Typed> = { new (buffer: ArrayBuffer): T; readonly BYTES_PER_ELEMENT: number };

/** Most bytes kept free for reuse; buffers given back beyond it are left to the GC. */
export const poolMaxBytes = 64 << 20;

const free = new Map<number, ArrayBuffer[]>();
let freeBytes = 0;

/** A zero-filled buffer of `bytes`: a free one when there is one, else a new one. */
function take(bytes: number, zeroFrom: number): ArrayBuffer {
  const b = free.get(bytes)?.pop();
  if (b === undefined) return new ArrayBuffer(bytes);
  freeBytes -= bytes;
  if (zeroFrom < bytes) new Uint8Array(b, zeroFrom).fill(0);
  return b;
}

function giveBack(a: Typed): void {
  const b = a.buffer as ArrayBuffer;
  // Only whole buffers this pool could have handed out (views and Node's pooled Buffers never).
  if (a.byteOffset !== 0 || a.byteLength !== b.byteLength || b.byteLength === 0) return;
  if (freeBytes + b.byteLength > poolMaxBytes) return;
  let list = free.get(b.byteLength);
  if (!list) free.set(b.byteLength, (list = []));
  list.push(b);
  freeBytes += b.byteLength;
}

/** Bytes currently free in the pool (tests, stats). */
export function pooledBytes(): number {
  return freeBytes;
}

/**
 * The arrays of one hot batch. Until `shared` is set (a snapshot was taken), arrays it replaces go
 * back to the pool; `releaseAll` at the seal returns the rest.
 */
export class ArrayLease {
  /** A reader may hold this batch's arrays: nothing of it is recycled any more. */
  shared: boolean;
  /** Counts allocations and releases: sizes of what this lease handed out can have changed. */
  changes = 0;
  private readonly held = new Set<Typed>();

  /** recycle false: a lease that never hands anything back (standalone builders in tests). */
  constructor(recycle = true) {
    this.shared = !recycle;
  }

  /** A zero-filled array of `length` elements. */
  alloc<T extends Typed>(ctor: TypedCtor<T>, length: number): T {
    const a = new ctor(take(length * ctor.BYTES_PER_ELEMENT, 0));
    this.changes++;
    if (!this.shared) this.held.add(a);
    return a;
  }

  /** A longer copy of `old` (the rest zero); `old` goes back to the pool. */
  grow<T extends Typed>(ctor: TypedCtor<T>, old: T, length: number): T {
    const a = new ctor(take(length * ctor.BYTES_PER_ELEMENT, old.byteLength));
    a.set(old as never);
    this.release(old);
    if (!this.shared) this.held.add(a);
    return a;
  }

  /** `a` is no longer used by this batch. */
  release(a: Typed): void {
    this.changes++;
    if (this.shared || !this.held.delete(a)) return;
    giveBack(a);
  }

  /** At the seal: every array this batch still holds goes back (none once it was shared). */
  releaseAll(): void {
    if (!this.shared) for (const a of this.held) giveBack(a);
    this.held.clear();
    this.shared = true;
  }
}
