// Typed loader for wiretap_store.node, the native interner (native/src/store/intern.cc).
// Optional: without the build the JS interner in engine/store/text-entries.ts runs; both produce
// the same entries and ids (engine/store/text-entries.test.ts compares them).
import { existsSync } from 'node:fs';
import { builtAddonPath, loadAddon } from './built.ts';

export interface StoreAddon {
  /** See intern.cc: interns rows of src into the dictionary arrays; state = [count, used]. */
  intern(
    src: Uint8Array, srcEnds: Uint32Array, chars: Uint32Array, n: number, nulls: Uint8Array | null, row0: number,
    idx: Uint32Array, utf8: Uint8Array, ends: Uint32Array, entryChars: Uint32Array, table: Int32Array, hashes: Uint32Array,
    state: Uint32Array,
  ): void;
  // Sealing (seal.cc; used by engine/store/sealed-batch.ts only). Outputs are zstd frames,
  // exactly sized; NULL rows (nulls[i] = 1) pack as the base.
  /** zstd of (values[i] - base) packed at `width` bytes each. */
  packZstd(values: Int32Array | Uint32Array | Float64Array, rows: number, base: number, width: 1 | 2 | 4, nulls: Uint8Array | null, level: number): Uint8Array;
  /** zstd of the zigzag deltas of integral values from `first` at the width put in width[0]; null when one does not fit 32 bits. */
  deltaZstd(values: Float64Array, rows: number, first: number, nulls: Uint8Array | null, level: number, width: Uint8Array): Uint8Array | null;
  /** Every non-NULL value of values[0, rows) is an integer. */
  integralF64(values: Float64Array, rows: number, nulls: Uint8Array | null): boolean;
  /** The largest of values[0, rows), 0 for none. */
  maxU32(values: Uint32Array, rows: number): number;
  /** zstd of bytes. */
  zstd(bytes: Uint8Array, level: number): Uint8Array;
}

const path = builtAddonPath('wiretap_store');

/** Why a present build could not be loaded (e.g. built for another Node ABI); null otherwise. */
export let storeAddonError: Error | null = null;

function load(): StoreAddon | null {
  if (process.env.WIRETAP_STORE_NATIVE === '0' || !existsSync(path)) return null;
  try {
    return loadAddon<StoreAddon>(path);
  } catch (e) {
    // An accelerator only: the JS interner gives the same results, so the store keeps working.
    storeAddonError = e as Error;
    return null;
  }
}

/** The addon, or null (not built, not loadable, or WIRETAP_STORE_NATIVE=0). */
export const storeAddon: StoreAddon | null = load();
