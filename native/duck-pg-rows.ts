// Typed access to the DataRow encoder of wiretap_duck.node (native/src/duck/pg-rows.cc). Null when
// the addon is not built, so the wire server falls back to its JS encoders.
import { duckAddon } from './duck.ts';

export interface PgRowEncoder {
  /**
   * Rows [start, end) of a chunk as DataRow messages (chunk: a DuckDBDataChunk's `chunk` external);
   * timestamptz text at `utcOffset` seconds east of UTC (default 0: '+00').
   */
  encode(chunk: unknown, start: number, end: number, utcOffset?: number): Buffer;
  /**
   * [min, max] seconds since the epoch of the finite timestamptz values those rows write as text
   * (±Infinity beyond Intl's range), null if none. Absent in builds before it (then no offsets).
   */
  timestamptzSpan?(chunk: unknown, start: number, end: number): [number, number] | null;
}

export interface PgRowsAddon {
  /** formats: per column, 0 text or 1 binary. */
  PgRowEncoder: new (formats: Uint8Array) => PgRowEncoder;
  /** Whether the encoder handles columns of this DuckDB type id (DuckDBTypeId). */
  pgRowTypeSupported(typeId: number): boolean;
}

let loaded: PgRowsAddon | null | undefined;

export function pgRowsAddon(): PgRowsAddon | null {
  if (loaded === undefined) {
    try {
      const addon = duckAddon() as unknown as Partial<PgRowsAddon>;
      loaded = typeof addon.PgRowEncoder === 'function' ? (addon as PgRowsAddon) : null;
    } catch {
      loaded = null; // not built here: JS encoding
    }
  }
  return loaded;
}
