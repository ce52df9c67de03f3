// Typed loader for wiretap_duck.node: native hot paths over @duckdb/node-api's DuckDB
// (native/src/duck). Loaded lazily so processes that never query do not map it.
import { builtAddonPath, loadAddon } from './built.ts';
import type { DuckDBConnection } from '@duckdb/node-api';

export const duckAddonPath = builtAddonPath('wiretap_duck');

export interface DuckAddon {
  /** Runs `select 42` through the C API on the connection's DuckDB: proves the bridge works. */
  probe(connection: unknown): { version: string; answer: number };
  /**
   * Registers the native scan table function `name(id BIGINT)` on the connection's database and,
   * when `decoder` is given, the scalar `decoder(code UBIGINT) → VARCHAR` of code columns.
   */
  ScanRegistry: new (connection: unknown, name: string, decoder?: string) => NativeScanRegistry;
}

/** Output types of the native scan (DuckDB SMALLINT … ENUM). */
export type NativeScanType =
  | 'smallint' | 'integer' | 'bigint' | 'float' | 'double' | 'boolean' | 'timestamptz' | 'timestamp'
  | 'uuid' | 'varchar' | 'enum' | 'code';

/**
 * One column of one batch. smallint/integer: `values` Int32Array; bigint/float/double/timestamps:
 * Float64Array (timestamps in µs); boolean: Uint8Array. uuid: `idx` + `upids` (4 little-endian
 * words of DuckDB's UUID hugeint per UPID). enum: `remap` (batch id → member) over `idx`, or
 * over rows when `idx` is null. varchar: `utf8` + `offsets` (entries + 1) over `idx` or rows.
 * code (UBIGINT, a text column as table-wide codes): `remap` (batch id → code of the plan
 * column's `dict`) over `idx` or rows, or an `encoded` text column (its ids only) + `remap`.
 * `nulls[i] = 1` marks row i NULL.
 */
export interface NativeScanColumn {
  values?: Int32Array | Float64Array | Uint8Array;
  nulls: Uint8Array | null;
  idx?: Uint8Array | Uint16Array | Uint32Array | null;
  remap?: Uint32Array;
  upids?: Uint32Array;
  utf8?: Uint8Array;
  offsets?: Uint32Array;
  /** A sealed column still compressed (engine/store/sealed-batch.ts layout), decoded by DuckDB threads. */
  encoded?: NativeEncodedColumn;
  /** Integer/time columns: every row is this value (sent as a DuckDB constant vector; no buffers). */
  constant?: number;
}

/** zstd frames of engine/store/sealed-batch.ts; widths are the packed integers' bytes. */
export type NativeEncodedColumn =
  | { kind: 'i32'; base: number; ints: Uint8Array; width: number; nulls: Uint8Array | null }
  | { kind: 'f64'; mode: 'offset' | 'delta' | 'raw'; base: number; ints: Uint8Array | null; width: number; raw: Uint8Array | null; nulls: Uint8Array | null }
  | { kind: 'bool'; data: Uint8Array; nulls: Uint8Array | null }
  | { kind: 'upid'; idx: Uint8Array; idxWidth: number; upids: Uint32Array; nulls: Uint8Array | null }
  | { kind: 'text'; dictSize: number; dictUtf8: Uint8Array; lengths: Uint8Array; lengthsWidth: number; chars: boolean; idx: Uint8Array | null; idxWidth: number; nulls: Uint8Array | null };

export interface NativeScanPlan {
  columns: { name: string; type: NativeScanType; members?: string[]; dict?: number }[];
  /** Per batch, one entry per column; null: not read by this query (projecting it is an error). */
  batches: { rows: number; columns: (NativeScanColumn | null)[]; inside?: boolean[] }[];
  /**
   * Inclusive bounds on integer/time columns (µs): only rows inside all of them are emitted
   * (NULL fails). Per batch, `inside[k]`: its zone map puts every non-NULL value in range k.
   */
  ranges?: { column: number; lo: number; hi: number }[];
  /** DuckDB threads that may scan it (at most one per batch). */
  maxThreads: number;
}

export interface NativeScanRegistry {
  /** Pins the plan's buffers and returns the id `name(id)` scans. */
  add(plan: NativeScanPlan): number;
  /** Drops the registry's hold; the buffers go when DuckDB's bound plans are gone too. */
  remove(id: number): void;
  /**
   * Runs a statement that returns no rows (CREATE VIEW …) synchronously on the JS thread, on a
   * connection's external (`connectionExternal`); throws DuckDB's error message.
   */
  run(connection: unknown, sql: string): void;
  /**
   * The plan `name(-1 - slot)` binds on this DuckDB connection (id 0: none, and then such a bind
   * fails): a pooled connection's persistent view reads its current query's scan through it.
   */
  setCurrent(connection: unknown, slot: number, id: number): void;
  /** A new, empty code dictionary (text → table-wide code); its id goes in the high 32 bits of codes. */
  codesCreate(): number;
  /** Drops a code dictionary (decoding its codes fails afterwards). */
  codesDrop(id: number): void;
  /** Interns one batch dictionary (sealed text column, or UTF-8 + offsets): code per entry. */
  codesRemap(id: number, column: { encoded: NativeEncodedColumn } | { utf8: Uint8Array; offsets: Uint32Array }): Uint32Array;
  codesInfo(id: number): { entries: number; bytes: number };
  readonly size: number;
  /** Plans not yet freed (registered, or still held by a DuckDB plan). */
  readonly livePlans: number;
}

let addon: DuckAddon | undefined;

export function duckAddon(): DuckAddon {
  addon ??= loadAddon<DuckAddon>(duckAddonPath);
  return addon;
}

/** The bindings-level external behind a DuckDBConnection (what the addon's functions take). */
export function connectionExternal(conn: DuckDBConnection): unknown {
  return (conn as unknown as { connection: unknown }).connection;
}
