// One table scan of one query: the snapshot's batches left after pruning and, per column, how it
// is handed to DuckDB. String columns the query reads become ENUMs over a query-wide dictionary
// merged from the batches' dictionaries, so their rows cross as fixed-width ids.
import {
  BIGINT, BOOLEAN, DOUBLE, ENUM, FLOAT, INTEGER, SMALLINT, TIMESTAMP, TIMESTAMPTZ, UUID, VARCHAR,
  type DuckDBType,
} from '@duckdb/node-api';
import type { ColumnDef } from '../schema.ts';
import type { ScanBatch } from '../store/decoded.ts';
import type { OutputMode } from './fill.ts';

/** Above this many dictionary entries (summed over batches) a string column goes as VARCHAR. */
export const defaultMaxEnumEntries = 1 << 20;

export interface ColumnOutput {
  type: DuckDBType;
  mode: OutputMode;
  /** ENUM columns: per batch, batch dictionary id → query-wide id. */
  remaps?: Uint32Array[];
  /** ENUM columns are cast back to VARCHAR in the table's view. */
  cast: boolean;
}

function baseOutput(c: ColumnDef): { type: DuckDBType; mode: OutputMode } {
  switch (c.type) {
    case 'int2': return { type: SMALLINT, mode: 'int16' };
    case 'int4': return { type: INTEGER, mode: 'int32' };
    case 'int8': return { type: BIGINT, mode: 'int64' };
    case 'float4': return { type: FLOAT, mode: 'float32' };
    case 'float8': return { type: DOUBLE, mode: 'float64' };
    case 'timestamptz': return { type: TIMESTAMPTZ, mode: 'int64' };
    case 'timestamp': return { type: TIMESTAMP, mode: 'int64' };
    case 'bool': return { type: BOOLEAN, mode: 'bool' };
    case 'uuid': return { type: UUID, mode: 'uuid' };
    default: return { type: VARCHAR, mode: 'varchar' };
  }
}

/**
 * The scan binds twice per query (CREATE VIEW, then the statement) and each bind converts the
 * type to a native logical type: for an ENUM of 100k members that is ~100 ms, so convert once.
 * (DuckDB copies the logical type when a result column is added.)
 */
function onceConverted(t: DuckDBType): DuckDBType {
  let logical: ReturnType<DuckDBType['toLogicalType']> | undefined;
  const convert = t.toLogicalType.bind(t);
  return Object.assign(Object.create(t) as DuckDBType, { toLogicalType: () => (logical ??= convert()) });
}

export class ScanPlan {
  readonly outputs: ColumnOutput[];
  readonly rows: number;

  constructor(
    readonly table: string,
    readonly defs: readonly ColumnDef[],
    readonly batches: readonly ScanBatch[],
    /** Columns the statement may read; the others are declared but never produced. */
    readonly needed: ReadonlySet<string>,
    private readonly maxEnumEntries = defaultMaxEnumEntries,
  ) {
    this.rows = batches.reduce((s, b) => s + b.rows, 0);
    this.outputs = defs.map((d, i) => this.outputFor(d, i));
  }

  private outputFor(d: ColumnDef, i: number): ColumnOutput {
    const base = baseOutput(d);
    const plain = { ...base, cast: false };
    if (base.mode !== 'varchar' || !this.needed.has(d.name)) return plain;
    let entries = 0;
    for (const b of this.batches) {
      const c = b.column(i);
      if (c.kind === 'text') entries += c.dict.length;
      if (entries > this.maxEnumEntries) return plain;
    }
    const ids = new Map<string, number>();
    const members: string[] = [];
    const remaps = this.batches.map((b) => {
      const c = b.column(i);
      if (c.kind !== 'text') throw new Error(`column ${d.name} is not text`);
      const remap = new Uint32Array(c.dict.length);
      for (let k = 0; k < c.dict.length; k++) {
        const s = c.dict[k]!;
        let id = ids.get(s);
        if (id === undefined) {
          id = members.length;
          members.push(s);
          ids.set(s, id);
        }
        remap[k] = id;
      }
      return remap;
    });
    if (members.length === 0) return plain;
    return { type: onceConverted(ENUM(members)), mode: { enumSize: members.length }, remaps, cast: true };
  }
}
