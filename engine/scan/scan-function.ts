// The `wiretap_scan(id)` table function: a native table function (native/src/duck/scan.cc) that
// DuckDB's worker threads run in parallel over the decoded buffers of a registered ScanPlan, with
// projection pushdown. No JS runs during the scan, so queries never wait on the event loop.
import type { DuckDBConnection } from '@duckdb/node-api';
import { connectionExternal, duckAddon, type NativeEncodedColumn, type NativeScanRegistry } from '../../native/duck.ts';
import type { ScanPlan } from './scan-plan.ts';

export const scanFunctionName = 'wiretap_scan';
/** `wiretap_code_text(code UBIGINT) → VARCHAR`: the string behind a code column's value (group-codes.ts). */
export const codeTextFunctionName = 'wiretap_code_text';

/** The argument of a persistent view's scan: the connection's current plan for `slot` (setCurrent). */
export function currentScanArg(slot: number): number {
  return -1 - slot;
}

/** Plans of running queries by id; a query registers before binding and removes when done. */
export class ScanRegistry {
  private native: NativeScanRegistry | null = null;

  /** Rows per DuckDB thread (tests lower it to force parallel scans of small tables). */
  constructor(private readonly rowsPerThread?: number) {}

  /** Registers the table function on the connection's database (once per instance). */
  register(conn: DuckDBConnection): void {
    if (this.native) throw new Error('ScanRegistry: already registered');
    const { ScanRegistry: Native } = duckAddon();
    this.native = new Native(connectionExternal(conn), scanFunctionName, codeTextFunctionName);
  }

  private get registry(): NativeScanRegistry {
    if (!this.native) throw new Error('ScanRegistry: register() on a connection first');
    return this.native;
  }

  /** Decodes the plan's needed columns and pins them natively; returns the scan's id. */
  add(plan: ScanPlan): number {
    return this.registry.add(plan.nativePlan(this.rowsPerThread));
  }

  remove(id: number): void {
    this.registry.remove(id);
  }

  /**
   * A statement without rows (the query's views) run on the JS thread: binding a view costs DuckDB
   * ~0.1 ms, an awaited `conn.run` a thread-pool round trip besides (~1 ms, more under load).
   */
  run(conn: DuckDBConnection, sql: string): void {
    this.registry.run(connectionExternal(conn), sql);
  }

  /**
   * Makes `wiretap_scan(currentScanArg(slot))` on this connection bind scan `id` (0: none).
   * The slot is per DuckDB connection, so queries on other connections never see it; the query
   * clears it when it ends, and a removed scan is never found (a stale slot fails the bind).
   */
  setCurrent(conn: DuckDBConnection, slot: number, id: number): void {
    this.registry.setCurrent(connectionExternal(conn), slot, id);
  }

  /** Code dictionaries (text-codes.ts): create, drop, intern one batch dictionary, size. */
  codesCreate(): number {
    return this.registry.codesCreate();
  }

  codesDrop(id: number): void {
    this.registry.codesDrop(id);
  }

  codesRemap(id: number, column: { encoded: NativeEncodedColumn } | { utf8: Uint8Array; offsets: Uint32Array }): Uint32Array {
    return this.registry.codesRemap(id, column);
  }

  codesInfo(id: number): { entries: number; bytes: number } {
    return this.registry.codesInfo(id);
  }

  get size(): number {
    return this.registry.size;
  }

  /** Plans whose buffers are still pinned (registered, or held by a DuckDB plan not yet freed). */
  get livePlans(): number {
    return this.registry.livePlans;
  }
}
