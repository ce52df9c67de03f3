// Typed loader for wiretap_duck.node: native hot paths over @duckdb/node-api's DuckDB
// (native/src/duck). Loaded lazily so processes that never query do not map it.
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { DuckDBConnection } from '@duckdb/node-api';

export const duckAddonPath = join(dirname(fileURLToPath(import.meta.url)), 'build', 'Release', 'wiretap_duck.node');

export interface DuckAddon {
  /** Runs `select 42` through the C API on the connection's DuckDB: proves the bridge works. */
  probe(connection: unknown): { version: string; answer: number };
}

let addon: DuckAddon | undefined;

export function duckAddon(): DuckAddon {
  addon ??= createRequire(import.meta.url)(duckAddonPath) as DuckAddon;
  return addon;
}

/** The bindings-level external behind a DuckDBConnection (what the addon's functions take). */
export function connectionExternal(conn: DuckDBConnection): unknown {
  return (conn as unknown as { connection: unknown }).connection;
}
