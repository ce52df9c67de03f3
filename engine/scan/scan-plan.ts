// One table scan of one query: the snapshot's batches left after pruning and, per column, how it
// is handed to DuckDB. String columns the query reads become ENUMs over a query-wide dictionary
// merged from the batches' dictionaries, so their rows cross as fixed-width ids. `nativePlan()`
// decodes the columns the query reads into the buffers the native scan (native/src/duck/scan.cc)
// reads on DuckDB's threads.
import type { ColumnDef } from '../schema.ts';
import type { DecodedColumn, ScanBatch } from '../store/decoded.ts';
import type { Upid } from '../upid.ts';
import type { NativeScanColumn, NativeScanPlan, NativeScanType } from '../../native/duck.ts';

/** Above this many dictionary entries (summed over batches) a string column goes as VARCHAR. */
export const defaultMaxEnumEntries = 1 << 20;

/** Rows per DuckDB thread a scan asks for (small scans stay on one thread, in store order). */
export const defaultRowsPerThread = 1 << 17;

export interface ColumnOutput {
  type: NativeScanType;
  /** ENUM columns: the query-wide dictionary. */
  members?: string[];
  /** ENUM columns: per batch, batch dictionary id → query-wide id. */
  remaps?: Uint32Array[];
  /** ENUM columns are cast back to VARCHAR in the table's view. */
  cast: boolean;
}

function baseType(c: ColumnDef): NativeScanType {
  switch (c.type) {
    case 'int2': return 'smallint';
    case 'int4': return 'integer';
    case 'int8': return 'bigint';
    case 'float4': return 'float';
    case 'float8': return 'double';
    case 'timestamptz': return 'timestamptz';
    case 'timestamp': return 'timestamp';
    case 'bool': return 'boolean';
    case 'uuid': return 'uuid';
    default: return 'varchar';
  }
}

/** Words of a UPID as DuckDB's UUID hugeint, little-endian (upper half with its top bit flipped). */
export function uuidWords(u: Upid): [number, number, number, number] {
  const ticks = u.startTicks & 0xffff_ffff_ffff_ffffn;
  return [Number(ticks & 0xffff_ffffn), Number(ticks >> 32n), u.pid >>> 0, ((u.asid >>> 0) ^ 0x8000_0000) >>> 0];
}

/** A dictionary (or plain strings in row order) as UTF-8 with entry offsets. */
function utf8Entries(dict: readonly string[]): { utf8: Uint8Array; offsets: Uint32Array } {
  let chars = 0;
  for (const s of dict) chars += s.length;
  const utf8 = Buffer.allocUnsafe(chars * 3);
  const offsets = new Uint32Array(dict.length + 1);
  let at = 0;
  for (let i = 0; i < dict.length; i++) {
    at += utf8.write(dict[i]!, at);
    offsets[i + 1] = at;
  }
  return { utf8: utf8.subarray(0, at), offsets };
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
    const type = baseType(d);
    const plain = { type, cast: false };
    if (type !== 'varchar' || !this.needed.has(d.name)) return plain;
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
    return { type: 'enum', members, remaps, cast: true };
  }

  /**
   * What the native scan reads: the needed columns of every batch decoded (sealed batches are
   * decompressed here, on the JS thread), the others null. The typed arrays are pinned by the
   * native plan until DuckDB and the registry both let go of it.
   */
  nativePlan(rowsPerThread = defaultRowsPerThread): NativeScanPlan {
    const columns = this.defs.map((d, i) => ({ name: d.name, type: this.outputs[i]!.type, members: this.outputs[i]!.members }));
    const batches = this.batches.map((b, bi) => ({
      rows: b.rows,
      columns: this.defs.map((d, i) => (this.needed.has(d.name) && b.rows > 0 ? this.nativeColumn(b.column(i), i, bi) : null)),
    }));
    return { columns, batches, maxThreads: Math.max(1, Math.floor(this.rows / Math.max(1, rowsPerThread))) };
  }

  private nativeColumn(c: DecodedColumn, i: number, batch: number): NativeScanColumn {
    const o = this.outputs[i]!;
    switch (c.kind) {
      case 'i32':
      case 'f64':
      case 'time':
      case 'bool':
        return { values: c.values, nulls: c.nulls };
      case 'upid': {
        const upids = new Uint32Array(c.upids.length * 4);
        c.upids.forEach((u, k) => upids.set(uuidWords(u), k * 4));
        return { idx: c.idx, upids, nulls: c.nulls };
      }
      case 'text':
        if (o.type === 'enum') return { idx: c.idx, remap: o.remaps![batch]!, nulls: c.nulls };
        return { idx: c.idx, nulls: c.nulls, ...utf8Entries(c.dict) };
    }
  }
}
