// Table-wide codes for the strings of one text column, so that a GROUP BY on the column groups
// integers (group-codes.ts rewrites the statement; the scan emits the codes as a hidden UBIGINT
// column). DuckDB's hash aggregate otherwise hashes and compares every row's string: a resident
// table's dictionary-compressed segments let it hash each distinct string once per segment, which
// the C API cannot give our vectors. A sealed batch is immutable, so its dictionary is interned
// once (natively, into a CodeDict) and its remap (batch dictionary id → code) kept beside it; the
// hot batch is interned per query (≤ one batch of entries; repeats hit existing codes).
import type { ScanBatch } from '../store/decoded.ts';
import type { SealedBatch } from '../store/sealed-batch.ts';
import { nativeEncoded, utf8Entries } from './scan-plan.ts';
import type { ScanRegistry } from './scan-function.ts';
import type { NativeEncodedColumn } from '../../native/duck.ts';

/** A dictionary is replaced when it holds more than `factor` × the live batches' entries + `slack`. */
export const defaultRetire = { factor: 4, slack: 1 << 20 };

/** What one scan reads: the dictionary's id (the codes' high 32 bits) and a remap per batch. */
export interface CodeLease {
  dict: number;
  remaps: Uint32Array[];
  release(): void;
}

export class TextCodes {
  private dict = 0;
  private remaps = new WeakMap<SealedBatch, Uint32Array>();
  /** Scans holding each dictionary (a retired one is dropped when its last scan releases it). */
  private readonly users = new Map<number, number>();
  private readonly retired = new Set<number>();

  constructor(private readonly scans: ScanRegistry, readonly column: number, private readonly retireAt = defaultRetire) {}

  /** Remaps for a scan's batches; the dictionary stays until `release()`. */
  lease(batches: readonly ScanBatch[], sealed: ReadonlyMap<ScanBatch, SealedBatch>): CodeLease {
    let live = 0;
    for (const b of batches) {
      const e = sealed.get(b)?.encoded(this.column);
      live += e?.kind === 'text' ? e.dictSize : b.rows;
    }
    // Codes of expired batches stay in the dictionary: start over once it is mostly dead.
    if (this.dict !== 0 && this.scans.codesInfo(this.dict).entries > this.retireAt.factor * live + this.retireAt.slack) this.retire();
    if (this.dict === 0) this.dict = this.scans.codesCreate();
    const dict = this.dict;
    const remaps = batches.map((b) => {
      const s = sealed.get(b);
      const e = s?.encoded(this.column);
      if (s && e?.kind === 'text') {
        let r = this.remaps.get(s);
        if (!r) this.remaps.set(s, (r = this.scans.codesRemap(dict, nativeEncoded(e) as { encoded: NativeEncodedColumn })));
        return r;
      }
      const c = b.column(this.column);
      if (c.kind !== 'text') throw new Error(`TextCodes: column ${this.column} is not text`);
      return this.scans.codesRemap(dict, utf8Entries(c.dict));
    });
    this.users.set(dict, (this.users.get(dict) ?? 0) + 1);
    let released = false;
    return {
      dict,
      remaps,
      release: () => {
        if (released) return;
        released = true;
        const n = this.users.get(dict)! - 1;
        if (n > 0) return void this.users.set(dict, n);
        this.users.delete(dict);
        if (this.retired.delete(dict)) this.scans.codesDrop(dict);
      },
    };
  }

  /** Entries and bytes of the current dictionary (outside the store's budget). */
  info(): { entries: number; bytes: number } {
    return this.dict === 0 ? { entries: 0, bytes: 0 } : this.scans.codesInfo(this.dict);
  }

  private retire(): void {
    if (this.users.has(this.dict)) this.retired.add(this.dict);
    else this.scans.codesDrop(this.dict);
    this.dict = 0;
    this.remaps = new WeakMap();
  }
}
