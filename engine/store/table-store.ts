// One table's rows: a hot batch receiving appends, and sealed compressed batches, oldest first.
// The sealed list is replaced, never mutated, so a snapshot taken by a scan stays consistent while
// appends, seals and expiry go on; writers never wait for readers.
import type { ColumnDef } from '../schema.ts';
import type { ScanBatch } from './decoded.ts';
import { HotBatch } from './hot-batch.ts';
import { SealedBatch, type CompressionOptions } from './sealed-batch.ts';

export interface TableStoreOptions extends CompressionOptions {
  /** Bytes this table may hold (sealed + hot estimate); oldest batches expire beyond it. */
  budgetBytes: number;
  /** Rows this table may hold; oldest batches expire beyond it. */
  maxRows: number;
  /** A hot batch seals at this many rows… */
  batchRows: number;
  /** …or at this many estimated bytes (at most budgetBytes / 16: 3× is reserved for it). */
  batchBytes: number;
  /** Rows older than the newest time seen minus this are dropped (and counted) as too late. */
  lateWindowMs: number;
}

export interface TableCounters {
  rowsAppended: number;
  rowsExpired: number;
  batchesExpired: number;
  lateRowsDropped: number;
}

export interface TableStats extends TableCounters {
  table: string;
  rows: number;
  batches: number;
  hotRows: number;
  bytes: number;
  budgetBytes: number;
  /** µs since the epoch; NaN when empty. */
  oldestTime: number;
  newestTime: number;
}

/** What one scan reads: immutable batches, oldest first (the hot batch's rows so far last). */
export interface TableSnapshot {
  readonly batches: readonly ScanBatch[];
}

export class TableStore {
  private hot: HotBatch;
  private sealed: readonly SealedBatch[] = [];
  private sealedBytes = 0;
  private sealedRows = 0;
  private newestUs = -Infinity;
  readonly counters: TableCounters = { rowsAppended: 0, rowsExpired: 0, batchesExpired: 0, lateRowsDropped: 0 };
  private readonly o: TableStoreOptions;
  /** Per column: keep text plain (too distinct for a dictionary), learned from sealed batches. */
  private readonly plainText: boolean[];
  private seals = 0;

  constructor(readonly name: string, readonly defs: readonly ColumnDef[], options: TableStoreOptions) {
    // The hot batch must stay well inside the budget (3× batchBytes is reserved for it).
    this.o = { ...options, batchBytes: Math.max(1 << 14, Math.min(options.batchBytes, Math.floor(options.budgetBytes / 16))) };
    const o = this.o;
    this.plainText = defs.map(() => false);
    this.hot = new HotBatch(defs, o.batchRows, this.plainText);
  }

  append(row: object): void {
    const t = this.hot.timeOf(row);
    if (t > this.newestUs) this.newestUs = t;
    else if (t < this.newestUs - this.o.lateWindowMs * 1000) {
      this.counters.lateRowsDropped++;
      return;
    }
    const grew = this.hot.append(row, t);
    this.counters.rowsAppended++;
    if (this.hot.rows >= this.o.batchRows) this.seal();
    else if (grew || (this.hot.rows & 63) === 0) {
      const hotBytes = this.hot.bytes();
      if (hotBytes >= this.o.batchBytes) this.seal();
      else this.enforce(hotBytes);
    }
  }

  /** Seals the hot batch now (no-op when empty). */
  seal(): void {
    if (this.hot.rows === 0) return;
    this.hot.flush(); // the sealer reads the columns' arrays (pending rows are not in them yet)
    const batch = SealedBatch.seal(this.hot, this.o);
    this.learnTextModes(batch);
    this.hot.release(); // its arrays go to the next batches unless a snapshot holds them
    // After a full batch the next one starts at that size (same-size arrays come from the pool).
    // Not after one sealed by bytes: it crossed batchBytes when its arrays doubled, so a batch
    // starting at that size would seal at once — batches then alternated full and small (2049 and
    // 1216 rows at a 13 MiB share with bench/workload rows, 2049 and 64 in table-store.test.ts).
    this.hot = new HotBatch(this.defs, this.o.batchRows, this.plainText, batch.rows >= this.o.batchRows ? batch.rows : 0);
    this.sealed = [...this.sealed, batch];
    this.sealedBytes += batch.bytes;
    this.sealedRows += batch.rows;
    this.enforce();
  }

  /**
   * A text column whose batch dictionary held more than half distinct values goes plain in the
   * next batches (hashing every value costs more than the dictionary saves); every 8th batch
   * tries the dictionary again, so a column that becomes repetitive gets it back.
   */
  private learnTextModes(batch: SealedBatch): void {
    this.seals++;
    for (let i = 0; i < this.plainText.length; i++) {
      const ratio = batch.distinctRatio(i);
      if (!Number.isNaN(ratio)) this.plainText[i] = batch.rows >= 1024 && ratio > 0.5;
      else if (this.plainText[i] && this.seals % 8 === 0) this.plainText[i] = false;
    }
  }

  /** Seals the hot batch if it is older than ageMs. */
  sealIfOlder(ageMs: number, now = Date.now()): void {
    if (this.hot.rows > 0 && now - this.hot.createdAt >= ageMs) this.seal();
  }

  /**
   * Expires the oldest sealed batches until bytes and rows fit. Sealed batches may use the budget
   * minus a reserve for the hot batch: it seals at batchBytes, is checked every 64 rows, and its
   * arrays may double once before that check — so hot + sealed never passes the budget.
   */
  private enforce(hot = this.hot.bytes()): void {
    const hotBytes = Math.max(hot, 3 * this.o.batchBytes);
    const hotRows = this.hot.rows;
    let drop = 0;
    let bytes = this.sealedBytes;
    let rows = this.sealedRows;
    while (drop < this.sealed.length && (bytes + hotBytes > this.o.budgetBytes || rows + hotRows > this.o.maxRows)) {
      const b = this.sealed[drop]!;
      bytes -= b.bytes;
      rows -= b.rows;
      this.counters.rowsExpired += b.rows;
      this.counters.batchesExpired++;
      drop++;
    }
    if (drop === 0) return;
    this.sealed = this.sealed.slice(drop);
    this.sealedBytes = bytes;
    this.sealedRows = rows;
  }

  bytes(): number {
    return this.sealedBytes + this.hot.bytes();
  }

  snapshot(): TableSnapshot {
    const batches: ScanBatch[] = this.sealed.map((b) => b.open());
    if (this.hot.rows > 0) batches.push(this.hot.snapshot());
    return { batches };
  }

  /** Sealed batches, oldest first (benchmarks inspect their sizes). */
  sealedBatches(): readonly SealedBatch[] {
    return this.sealed;
  }

  stats(): TableStats {
    // Zone maps only: a snapshot would open every batch and keep the hot batch's arrays from
    // being recycled.
    const zones = this.sealed.map((b) => b.zone);
    if (this.hot.rows > 0) zones.push(this.hot.zone());
    let oldest = Infinity;
    let newest = -Infinity;
    for (const z of zones) {
      if (z.timeMin < oldest) oldest = z.timeMin;
      if (z.timeMax > newest) newest = z.timeMax;
    }
    return {
      table: this.name,
      rows: this.sealedRows + this.hot.rows,
      batches: this.sealed.length,
      hotRows: this.hot.rows,
      bytes: this.bytes(),
      budgetBytes: this.o.budgetBytes,
      oldestTime: oldest === Infinity ? NaN : oldest,
      newestTime: newest === -Infinity ? NaN : newest,
      ...this.counters,
    };
  }
}
