// The objects the PostgreSQL catalog describes, generated from engine/schema.ts: one database,
// the public schema with one table per telemetry table, and the built-in types our columns use.
// OIDs follow PostgreSQL's where PostgreSQL fixes them (types, pg_catalog, public).
import { engineViews, tables, visibleColumns, type ColumnDef, type ColumnType, type TableName } from '../../engine/schema.ts';

export const databaseName = 'wiretap';
export const databaseOid = 16_383;
export const ownerOid = 10;
export const ownerName = 'wiretap';

export const namespaces = [
  { oid: 11, name: 'pg_catalog', comment: 'system catalog schema' },
  { oid: 2200, name: 'public', comment: 'wiretap telemetry tables' },
  { oid: 13_000, name: 'information_schema', comment: '' },
] as const;
export const publicNamespaceOid = 2200;

export interface CatalogType {
  oid: number;
  name: string;
  /** format_type() spelling. */
  display: string;
  len: number;
  category: string;
  /** Array type oid (0 if none) / element type oid (for array types). */
  array: number;
  elem: number;
  /** information_schema.columns.data_type. */
  sqlName: string;
}

const t = (oid: number, name: string, display: string, len: number, category: string, array: number, sqlName = display): CatalogType =>
  ({ oid, name, display, len, category, array, elem: 0, sqlName });

export const baseTypes: CatalogType[] = [
  t(16, 'bool', 'boolean', 1, 'B', 1000),
  t(17, 'bytea', 'bytea', -1, 'U', 1001),
  t(18, 'char', '"char"', 1, 'Z', 1002, '"char"'),
  t(19, 'name', 'name', 64, 'S', 1003),
  t(20, 'int8', 'bigint', 8, 'N', 1016),
  t(21, 'int2', 'smallint', 2, 'N', 1005),
  t(23, 'int4', 'integer', 4, 'N', 1007),
  t(24, 'regproc', 'regproc', 4, 'N', 1008),
  t(25, 'text', 'text', -1, 'S', 1009),
  t(26, 'oid', 'oid', 4, 'N', 1028),
  t(114, 'json', 'json', -1, 'U', 199),
  t(700, 'float4', 'real', 4, 'N', 1021),
  t(701, 'float8', 'double precision', 8, 'N', 1022),
  t(705, 'unknown', 'unknown', -2, 'X', 0),
  t(1043, 'varchar', 'character varying', -1, 'S', 1015),
  t(1082, 'date', 'date', 4, 'D', 1182),
  t(1083, 'time', 'time without time zone', 8, 'D', 1183),
  t(1114, 'timestamp', 'timestamp without time zone', 8, 'D', 1115),
  t(1184, 'timestamptz', 'timestamp with time zone', 8, 'D', 1185),
  t(1186, 'interval', 'interval', 16, 'T', 1187),
  t(1700, 'numeric', 'numeric', -1, 'N', 1231),
  t(2205, 'regclass', 'regclass', 4, 'N', 2210),
  t(2206, 'regtype', 'regtype', 4, 'N', 2211),
  t(2950, 'uuid', 'uuid', 16, 'U', 2951),
  t(3802, 'jsonb', 'jsonb', -1, 'U', 3807),
];

/** Base types plus their array types (_int4, …), as pg_type lists them. */
export const allTypes: CatalogType[] = [
  ...baseTypes,
  ...baseTypes.filter((b) => b.array !== 0).map((b) => ({
    oid: b.array, name: `_${b.name}`, display: `${b.display}[]`, len: -1, category: 'A', array: 0, elem: b.oid, sqlName: 'ARRAY',
  })),
];

const typeByColumnType: Record<ColumnType, string> = {
  bool: 'bool', int2: 'int2', int4: 'int4', int8: 'int8', float4: 'float4', float8: 'float8', numeric: 'numeric',
  text: 'text', bytea: 'bytea', json: 'json', uuid: 'uuid', timestamptz: 'timestamptz', timestamp: 'timestamp',
  date: 'date', time: 'time', interval: 'interval',
};

export function typeOf(column: ColumnType): CatalogType {
  return baseTypes.find((b) => b.name === typeByColumnType[column])!;
}

export interface CatalogRelation {
  oid: number;
  name: string;
  /** Row type oid (pg_type entry of kind 'c'). */
  rowType: number;
  columns: readonly ColumnDef[];
  /** pg_class.relkind: 'r' telemetry table, 'v' engine view (wiretap_tables). */
  kind: 'r' | 'v';
}

/**
 * One relation per telemetry table (stored then hydrated columns, as queries see them) and per
 * engine view, in schema.ts order; oids from 16384, as in a fresh PostgreSQL.
 */
export const relations: CatalogRelation[] = [
  ...Object.keys(tables).map((name) => ({ name, columns: visibleColumns(name as TableName), kind: 'r' as const })),
  ...Object.entries(engineViews).map(([name, columns]) => ({ name, columns: columns as readonly ColumnDef[], kind: 'v' as const })),
].map((r, i) => ({ ...r, oid: 16_384 + i * 2, rowType: 16_385 + i * 2 }));

/** Relations whose rows live on the nodes: statements naming one run there. */
export const telemetryTableNames = new Set(relations.map((r) => r.name));

export const tableDocs: Record<string, string> = {
  http_events: 'HTTP/1.x requests and responses captured with eBPF',
  mysql_events: 'MySQL commands and responses captured with eBPF',
  kafka_events: 'Kafka requests and responses captured with eBPF',
  conn_stats: 'per-connection traffic counters per interval',
  process_stats: 'per-process resource usage per second',
  wiretap_stats: "wiretap's own counters",
  wiretap_tables: "wiretap's table store: rows, batches and bytes per table",
};
