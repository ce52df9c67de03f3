// Appending collector rows to DuckDB: one writer per column, chosen once from the column type.
import { DuckDBTimestampTZValue, DuckDBUUIDValue, type DuckDBAppender } from '@duckdb/node-api';
import type { ColumnDef } from './schema.ts';
import { upidToBigInt, type Upid } from './upid.ts';

type ColumnWriter = (a: DuckDBAppender, v: unknown) => void;

function writerFor(c: ColumnDef): ColumnWriter {
  switch (c.type) {
    case 'timestamptz': return (a, v) => a.appendTimestampTZ(new DuckDBTimestampTZValue((v as bigint) / 1000n));
    case 'uuid': return (a, v) => a.appendUUID(DuckDBUUIDValue.fromUint128(upidToBigInt(v as Upid)));
    case 'bool': return (a, v) => a.appendBoolean(v as boolean);
    case 'int2': return (a, v) => a.appendSmallInt(v as number);
    case 'int4': return (a, v) => a.appendInteger(v as number);
    case 'int8': return (a, v) => a.appendBigInt(typeof v === 'bigint' ? v : BigInt(v as number));
    case 'float4': return (a, v) => a.appendFloat(v as number);
    case 'float8': return (a, v) => a.appendDouble(v as number);
    case 'text':
    case 'json': return (a, v) => a.appendVarchar(v as string);
    default: throw new Error(`no appender for column ${c.name} of type ${c.type}`);
  }
}

/** Returns a function appending one row object (keyed by column `field`) to the appender. */
export function rowAppender(columns: readonly ColumnDef[]): (a: DuckDBAppender, row: object) => void {
  const fields = columns.map((c) => c.field);
  const writers = columns.map(writerFor);
  return (a, row) => {
    const r = row as Record<string, unknown>;
    for (let i = 0; i < writers.length; i++) {
      const v = r[fields[i]!];
      if (v === null || v === undefined) a.appendNull();
      else writers[i]!(a, v);
    }
    a.endRow();
  };
}
