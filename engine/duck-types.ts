// DuckDB result types → wire column types and values (engine/query.ts Value conventions).
import {
  DuckDBTypeId,
  type DuckDBType,
  type DuckDBValue,
  DuckDBBlobValue,
  DuckDBDateValue,
  DuckDBIntervalValue,
  DuckDBTimestampTZValue,
  DuckDBTimestampValue,
  DuckDBTimestampNanosecondsValue,
  DuckDBTimestampMillisecondsValue,
  DuckDBTimestampSecondsValue,
  DuckDBTimeValue,
} from '@duckdb/node-api';
import type { ColumnType } from './schema.ts';
import type { Value } from './query.ts';

export function columnTypeOf(type: DuckDBType): ColumnType {
  if (type.alias === 'JSON') return 'json';
  switch (type.typeId) {
    case DuckDBTypeId.BOOLEAN: return 'bool';
    case DuckDBTypeId.TINYINT:
    case DuckDBTypeId.SMALLINT:
    case DuckDBTypeId.UTINYINT: return 'int2';
    case DuckDBTypeId.INTEGER:
    case DuckDBTypeId.USMALLINT: return 'int4';
    case DuckDBTypeId.BIGINT:
    case DuckDBTypeId.UINTEGER: return 'int8';
    case DuckDBTypeId.UBIGINT:
    case DuckDBTypeId.HUGEINT:
    case DuckDBTypeId.UHUGEINT:
    case DuckDBTypeId.DECIMAL:
    case DuckDBTypeId.BIGNUM: return 'numeric';
    case DuckDBTypeId.FLOAT: return 'float4';
    case DuckDBTypeId.DOUBLE: return 'float8';
    case DuckDBTypeId.BLOB: return 'bytea';
    case DuckDBTypeId.DATE: return 'date';
    case DuckDBTypeId.TIME: return 'time';
    case DuckDBTypeId.TIMESTAMP:
    case DuckDBTypeId.TIMESTAMP_S:
    case DuckDBTypeId.TIMESTAMP_MS:
    case DuckDBTypeId.TIMESTAMP_NS: return 'timestamp';
    case DuckDBTypeId.TIMESTAMP_TZ: return 'timestamptz';
    case DuckDBTypeId.INTERVAL: return 'interval';
    case DuckDBTypeId.UUID: return 'uuid';
    default: return 'text'; // VARCHAR, ENUM, LIST, STRUCT, MAP, …: their text form
  }
}

/** Converts one DuckDB value to the wire layer's Value for the given column type. */
export function toValue(v: DuckDBValue, type: ColumnType): Value {
  if (v === null || v === undefined) return null;
  switch (type) {
    case 'bool': return Boolean(v);
    case 'int2':
    case 'int4': return typeof v === 'number' ? v : Number(v);
    case 'int8': return typeof v === 'bigint' ? v : BigInt(v as number);
    case 'float4':
    case 'float8': return v as number;
    case 'bytea': return v instanceof DuckDBBlobValue ? v.bytes : new TextEncoder().encode(String(v));
    case 'date': return (v as DuckDBDateValue).days;
    case 'time': return (v as DuckDBTimeValue).micros;
    case 'timestamptz': return (v as DuckDBTimestampTZValue).micros;
    case 'timestamp': return timestampMicros(v);
    case 'interval': {
      const i = v as DuckDBIntervalValue;
      return { months: i.months, days: i.days, micros: i.micros };
    }
    case 'text':
      return typeof v === 'string' ? v : String(v);
    default:
      return String(v); // numeric, uuid, json
  }
}

function timestampMicros(v: DuckDBValue): bigint {
  if (v instanceof DuckDBTimestampValue) return v.micros;
  if (v instanceof DuckDBTimestampNanosecondsValue) return v.nanos / 1000n;
  if (v instanceof DuckDBTimestampMillisecondsValue) return v.millis * 1000n;
  if (v instanceof DuckDBTimestampSecondsValue) return v.seconds * 1_000_000n;
  return 0n;
}
