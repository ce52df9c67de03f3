// PostgreSQL type OIDs and lengths (pg_type.oid / typlen) for the engine's column types.
import type { ColumnType } from '../../engine/schema.ts';

export interface PgTypeInfo {
  oid: number;
  /** pg_type.typlen: fixed size in bytes, -1 for varlena. */
  len: number;
  /** pg_type.typname, for messages. */
  name: string;
}

export const pgTypes: Record<ColumnType, PgTypeInfo> = {
  bool: { oid: 16, len: 1, name: 'bool' },
  int2: { oid: 21, len: 2, name: 'int2' },
  int4: { oid: 23, len: 4, name: 'int4' },
  int8: { oid: 20, len: 8, name: 'int8' },
  float4: { oid: 700, len: 4, name: 'float4' },
  float8: { oid: 701, len: 8, name: 'float8' },
  numeric: { oid: 1700, len: -1, name: 'numeric' },
  text: { oid: 25, len: -1, name: 'text' },
  bytea: { oid: 17, len: -1, name: 'bytea' },
  json: { oid: 114, len: -1, name: 'json' },
  uuid: { oid: 2950, len: 16, name: 'uuid' },
  timestamptz: { oid: 1184, len: 8, name: 'timestamptz' },
  timestamp: { oid: 1114, len: 8, name: 'timestamp' },
  date: { oid: 1082, len: 4, name: 'date' },
  time: { oid: 1083, len: 8, name: 'time' },
  interval: { oid: 1186, len: 16, name: 'interval' },
};
