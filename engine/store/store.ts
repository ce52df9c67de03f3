// The node's table store: one TableStore per table in schema.ts, sharing one memory budget.
import { tables, type ColumnDef, type TableName } from '../schema.ts';
import { TableStore, type TableSnapshot, type TableStats, type TableStoreOptions } from './table-store.ts';

export interface StoreOptions {
  /** Bytes all tables may hold together (default 1 GiB). */
  memoryBudget: number;
  /**
   * Fraction of the budget per table. Tables not named share what is left equally
   * (default: http_events 0.4).
   */
  shares: Partial<Record<string, number>>;
  /** Rows a table may hold, whatever its bytes. */
  maxRowsPerTable: number;
  batchRows: number;
  batchBytes: number;
  /** A hot batch with rows seals after this long, so recent rows get compressed too. */
  sealAfterMs: number;
  lateWindowMs: number;
  compressionLevel: number;
}

export const defaultStoreOptions: StoreOptions = {
  memoryBudget: 1 << 30,
  shares: { http_events: 0.4 },
  maxRowsPerTable: Number.MAX_SAFE_INTEGER,
  batchRows: 65_536,
  batchBytes: 32 << 20,
  sealAfterMs: 10_000,
  // Rows carry the request start: a long request (streaming, long poll) is emitted late.
  lateWindowMs: 60 * 60_000,
  // zstd 1: same size as 3 on these columns (bench/store-bytes), about half the CPU.
  compressionLevel: 1,
};

/** Per-table budget bytes: named shares first, the rest split equally among the others. */
export function tableBudgets(names: readonly string[], total: number, shares: StoreOptions['shares']): Map<string, number> {
  const named = names.filter((n) => shares[n] !== undefined);
  const usedShare = named.reduce((s, n) => s + shares[n]!, 0);
  if (usedShare > 1 + 1e-9) throw new Error(`table shares add up to ${usedShare}, more than the whole budget`);
  const others = names.filter((n) => shares[n] === undefined);
  const each = others.length ? Math.max(0, 1 - usedShare) / others.length : 0;
  return new Map(names.map((n) => [n, Math.floor(total * (shares[n] ?? each))]));
}

export class Store {
  readonly tables = new Map<string, TableStore>();
  private readonly timer: NodeJS.Timeout;

  constructor(readonly options: StoreOptions = defaultStoreOptions) {
    const defs = Object.entries(tables) as [TableName, readonly ColumnDef[]][];
    const budgets = tableBudgets(defs.map(([n]) => n), options.memoryBudget, options.shares);
    for (const [name, cols] of defs) {
      const budgetBytes = budgets.get(name)!;
      const o: TableStoreOptions = {
        budgetBytes,
        maxRows: options.maxRowsPerTable,
        batchRows: options.batchRows,
        batchBytes: options.batchBytes,
        lateWindowMs: options.lateWindowMs,
        level: options.compressionLevel,
      };
      this.tables.set(name, new TableStore(name, cols, o));
    }
    this.timer = setInterval(() => this.sealOlderThan(options.sealAfterMs), Math.max(50, Math.min(1000, options.sealAfterMs)));
    this.timer.unref();
  }

  // Rows come in runs of one table: the last table looked up is kept (a Map lookup per row was
  // ~2% of the store's CPU in bench/ingest).
  private lastName: string | undefined;
  private last: TableStore | undefined;

  append(table: string, row: object): void {
    if (table !== this.lastName) {
      this.last = this.tables.get(table);
      this.lastName = table;
    }
    this.last?.append(row);
  }

  sealAll(): void {
    for (const t of this.tables.values()) t.seal();
  }

  sealOlderThan(ageMs: number): void {
    const now = Date.now();
    for (const t of this.tables.values()) t.sealIfOlder(ageMs, now);
  }

  snapshot(table: string): TableSnapshot | undefined {
    return this.tables.get(table)?.snapshot();
  }

  stats(): TableStats[] {
    return [...this.tables.values()].map((t) => t.stats());
  }

  bytes(): number {
    let b = 0;
    for (const t of this.tables.values()) b += t.bytes();
    return b;
  }

  close(): void {
    clearInterval(this.timer);
  }
}
