// Prepared statements and portals of the extended query protocol. A portal owns a running
// result and hands out rows in pieces, so Execute with a row limit can stop mid-chunk and
// continue later (PortalSuspended).
import { SqlError, SqlState, type QueryResult, type Value } from '../../engine/query.ts';
import type { TxCommand } from './transaction-control.ts';
import { batchLength, batchValues, resultBatches, sliceBatch, type RowBatch } from './row-batches.ts';
import type { CursorCommand } from './sql-cursors.ts';

export interface PreparedStatement {
  name: string;
  /** One statement, trimmed, without its terminating semicolon; '' for an empty query. */
  sql: string;
  /** Parameter type OIDs (declared in Parse, else inferred); its length is the parameter count. */
  paramTypes: number[];
  /** Transaction control is answered by the server, never executed. */
  tx: TxCommand | null;
  /** DECLARE/FETCH/MOVE/CLOSE: run by the session's SQL cursors, not the executor. */
  cursor: CursorCommand['kind'] | null;
  /**
   * A result produced by Describe (statement), handed to the next Bind of this statement so
   * describing and then executing runs the query once.
   */
  pending: { result: QueryResult; abort: AbortController } | null;
}

export class Portal {
  private iterator: AsyncIterator<RowBatch> | null = null;
  private buffered: RowBatch = [];
  private offset = 0;
  private exhausted = false;

  constructor(
    readonly name: string,
    readonly statement: PreparedStatement,
    /** The statement with its parameters bound (literals spliced in). */
    readonly sql: string,
    /** Bind's result-column format codes: none (all text), one (all columns), or one per column. */
    readonly resultFormats: number[],
    /** Set once the query has been run (at Describe, or at the first Execute). */
    public result: QueryResult | null,
    readonly abort: AbortController,
  ) {}

  /** Format code (0 text, 1 binary) of each of n result columns. */
  formats(n: number): number[] {
    const f = this.resultFormats;
    if (f.length > 1 && f.length !== n) {
      throw new SqlError(SqlState.protocolViolation, `bind message has ${f.length} result formats but query has ${n} columns`);
    }
    return Array.from({ length: n }, (_, i) => (f.length === 0 ? 0 : f.length === 1 ? f[0]! : f[i]!));
  }

  /** True once every row was handed out. */
  get done(): boolean {
    return this.exhausted;
  }

  /**
   * The next rows: whatever is left of the current chunk, or the next chunk, at most max
   * (0 = no limit), still undecoded if they come from DuckDB (row-batches.ts). null when the
   * result is exhausted.
   */
  async nextBatch(max: number): Promise<RowBatch | null> {
    if (!this.result) throw new Error('portal has not been executed');
    while (this.offset >= batchLength(this.buffered)) {
      if (this.exhausted) return null;
      this.iterator ??= resultBatches(this.result)[Symbol.asyncIterator]();
      const step = await this.iterator.next();
      if (step.done) {
        this.exhausted = true;
        return null;
      }
      this.buffered = step.value;
      this.offset = 0;
    }
    const length = batchLength(this.buffered);
    const end = max > 0 ? Math.min(length, this.offset + max) : length;
    const rows = this.offset === 0 && end === length ? this.buffered : sliceBatch(this.buffered, this.offset, end);
    this.offset = end;
    return rows;
  }

  /** nextBatch's rows as Values. */
  async next(max: number): Promise<Value[][] | null> {
    const batch = await this.nextBatch(max);
    return batch && batchValues(batch);
  }

  /** Releases the result (the executor's iterator finally-blocks run). */
  async close(): Promise<void> {
    this.abort.abort();
    this.buffered = [];
    this.exhausted = true;
    const it = this.iterator ?? this.result?.chunks[Symbol.asyncIterator]();
    this.iterator = null;
    this.result = null;
    await it?.return?.().catch(() => {});
  }
}
