// Table schemas: one place for column names, order and types (DESIGN.md "Tables").
// Names follow Pixie's well-known schemas so existing knowledge carries over.
import type { Upid } from './upid.ts';
import type { Text } from './utf8-text.ts';
import { kafkaOwnColumns, type KafkaEventRow } from './tables/kafka.ts';
import { mysqlOwnColumns, type MysqlEventRow } from './tables/mysql.ts';
import { connStatsOwnColumns, type ConnStatsRow } from './tables/conn-stats.ts';
import { processStatsColumns, type ProcessStatsRow } from './tables/process-stats.ts';
import { wiretapStatsColumns, type WiretapStatsRow } from './tables/wiretap-stats.ts';

/** Column types as the query layer sees them; the server maps them to Postgres OIDs. */
export type ColumnType =
  | 'bool' | 'int2' | 'int4' | 'int8' | 'float4' | 'float8' | 'numeric'
  | 'text' | 'bytea' | 'json' | 'uuid'
  | 'timestamptz' | 'timestamp' | 'date' | 'time' | 'interval';

export interface ColumnDef {
  name: string;
  /** Key of this column's value in the row objects the collector produces. */
  field: string;
  type: ColumnType;
  /** DuckDB column type used by the store. */
  duck: string;
  doc: string;
}

export const TraceRole = { unknown: 0, client: 1, server: 2 } as const;
export type TraceRoleValue = (typeof TraceRole)[keyof typeof TraceRole];

/** Shared columns, in this order, at the head of every event table. */
export const sharedColumns: ColumnDef[] = [
  { name: 'time_', field: 'timeNs', type: 'timestamptz', duck: 'TIMESTAMPTZ', doc: 'when the request started (wall clock)' },
  { name: 'upid', field: 'upid', type: 'uuid', duck: 'UUID', doc: 'process identity: asid(32) | pid(32) | start time in clock ticks(64)' },
  { name: 'remote_addr', field: 'remoteAddr', type: 'text', duck: 'VARCHAR', doc: 'peer address' },
  { name: 'remote_port', field: 'remotePort', type: 'int4', duck: 'INTEGER', doc: 'peer port' },
  { name: 'local_addr', field: 'localAddr', type: 'text', duck: 'VARCHAR', doc: 'local address' },
  { name: 'local_port', field: 'localPort', type: 'int4', duck: 'INTEGER', doc: 'local port' },
  { name: 'trace_role', field: 'traceRole', type: 'int4', duck: 'INTEGER', doc: '1 client, 2 server, 0 unknown' },
  { name: 'encrypted', field: 'encrypted', type: 'bool', duck: 'BOOLEAN', doc: 'captured from a TLS library' },
];

export const httpOwnColumns: ColumnDef[] = [
  { name: 'major_version', field: 'majorVersion', type: 'int4', duck: 'INTEGER', doc: 'HTTP major version' },
  { name: 'minor_version', field: 'minorVersion', type: 'int4', duck: 'INTEGER', doc: 'HTTP minor version' },
  { name: 'content_type', field: 'contentType', type: 'int4', duck: 'INTEGER', doc: '0 unknown, 1 JSON, 2 gRPC (Pixie enum)' },
  { name: 'req_headers', field: 'reqHeaders', type: 'text', duck: 'VARCHAR', doc: 'request headers as a JSON object' },
  { name: 'req_method', field: 'reqMethod', type: 'text', duck: 'VARCHAR', doc: 'request method' },
  { name: 'req_path', field: 'reqPath', type: 'text', duck: 'VARCHAR', doc: 'request target' },
  { name: 'req_body', field: 'reqBody', type: 'text', duck: 'VARCHAR', doc: 'request body, up to the capture cap' },
  { name: 'req_body_size', field: 'reqBodySize', type: 'int8', duck: 'BIGINT', doc: 'original request body size' },
  { name: 'resp_headers', field: 'respHeaders', type: 'text', duck: 'VARCHAR', doc: 'response headers as a JSON object' },
  { name: 'resp_status', field: 'respStatus', type: 'int4', duck: 'INTEGER', doc: 'response status code' },
  { name: 'resp_message', field: 'respMessage', type: 'text', duck: 'VARCHAR', doc: 'response reason phrase' },
  { name: 'resp_body', field: 'respBody', type: 'text', duck: 'VARCHAR', doc: 'response body, up to the capture cap' },
  { name: 'resp_body_size', field: 'respBodySize', type: 'int8', duck: 'BIGINT', doc: 'original response body size' },
];

export const latencyColumn: ColumnDef = {
  name: 'latency', field: 'latencyNs', type: 'int8', duck: 'BIGINT', doc: 'response end − request start, ns',
};

export const tables = {
  http_events: [...sharedColumns, ...httpOwnColumns, latencyColumn],
  mysql_events: [...sharedColumns, ...mysqlOwnColumns, latencyColumn],
  kafka_events: [...sharedColumns, ...kafkaOwnColumns, latencyColumn],
  conn_stats: [...sharedColumns, ...connStatsOwnColumns],
  process_stats: processStatsColumns,
  wiretap_stats: wiretapStatsColumns,
} as const satisfies Record<string, ColumnDef[]>;

export type TableName = keyof typeof tables;

/** Fields shared by every event row, as the collector produces them. */
export interface EventRowBase {
  /** Wall-clock nanoseconds since the Unix epoch. */
  timeNs: bigint;
  /** 128-bit UPID: asid(32) | pid(32) | start ticks(64). */
  upid: Upid;
  remoteAddr: string;
  remotePort: number;
  localAddr: string;
  localPort: number;
  traceRole: TraceRoleValue;
  encrypted: boolean;
}

export interface HttpEventRow extends EventRowBase {
  majorVersion: number;
  minorVersion: number;
  contentType: number;
  reqHeaders: Text;
  reqMethod: string;
  reqPath: string;
  reqBody: Text;
  reqBodySize: number;
  respHeaders: Text;
  respStatus: number;
  respMessage: string;
  respBody: Text;
  respBodySize: number;
  /** Nanoseconds. */
  latencyNs: bigint;
}

/** Row object type of each table (keys are the columns' `field`s). */
export interface RowTypes {
  http_events: HttpEventRow;
  mysql_events: MysqlEventRow;
  kafka_events: KafkaEventRow;
  conn_stats: ConnStatsRow;
  process_stats: ProcessStatsRow;
  wiretap_stats: WiretapStatsRow;
}

/**
 * Where the collector delivers finished rows; the engine implements it. Value conventions per
 * column type: timestamptz bigint ns since the epoch; uuid (upid) a Upid; int2/int4 number;
 * int8 bigint or number; float number; bool boolean; text/json string (HTTP headers and bodies
 * string or Utf8Text: UTF-8 bytes the parser wrote, see utf8-text.ts).
 */
export interface RowSink {
  append<T extends TableName>(table: T, row: RowTypes[T]): void;
}

/**
 * Columns every event table exposes, hydrated at query time from the node's metadata store
 * (never stored per row). `field` is the key in ProcessMetadata. Standalone: container and
 * cmdline are filled, the Kubernetes ones are NULL. They follow the table's own columns.
 */
export const hydratedColumns: ColumnDef[] = [
  { name: 'pod', field: 'pod', type: 'text', duck: 'VARCHAR', doc: 'Kubernetes pod (namespace/name) of the process' },
  { name: 'namespace', field: 'namespace', type: 'text', duck: 'VARCHAR', doc: 'Kubernetes namespace' },
  { name: 'service', field: 'service', type: 'text', duck: 'VARCHAR', doc: 'Kubernetes service(s) selecting the pod' },
  { name: 'node', field: 'node', type: 'text', duck: 'VARCHAR', doc: 'node (host) name' },
  { name: 'container', field: 'container', type: 'text', duck: 'VARCHAR', doc: 'container id from the cgroup path' },
  { name: 'cmdline', field: 'cmdline', type: 'text', duck: 'VARCHAR', doc: 'process command line' },
];

/** What the metadata store knows about one process (keys are hydratedColumns' fields). */
export interface ProcessMetadata {
  pod?: string | null;
  namespace?: string | null;
  service?: string | null;
  node?: string | null;
  container?: string | null;
  cmdline?: string | null;
}

/** Every column a client sees for a table: stored columns, then hydrated ones. */
export function visibleColumns(table: TableName): ColumnDef[] {
  return [...tables[table], ...hydratedColumns];
}

/** Engine-level views (not event tables): per-table store statistics. Times are µs. */
export const engineViews = {
  wiretap_tables: [
    { name: 'table_name', field: 'table', type: 'text', duck: 'VARCHAR', doc: 'table' },
    { name: 'rows', field: 'rows', type: 'int8', duck: 'BIGINT', doc: 'rows held now (sealed + hot)' },
    { name: 'batches', field: 'batches', type: 'int8', duck: 'BIGINT', doc: 'sealed compressed batches' },
    { name: 'hot_rows', field: 'hotRows', type: 'int8', duck: 'BIGINT', doc: 'rows not yet sealed' },
    { name: 'bytes', field: 'bytes', type: 'int8', duck: 'BIGINT', doc: 'bytes held (sealed exact, hot estimated)' },
    { name: 'budget_bytes', field: 'budgetBytes', type: 'int8', duck: 'BIGINT', doc: "this table's share of the memory budget" },
    { name: 'rows_appended', field: 'rowsAppended', type: 'int8', duck: 'BIGINT', doc: 'rows ever appended' },
    { name: 'rows_expired', field: 'rowsExpired', type: 'int8', duck: 'BIGINT', doc: 'rows dropped by expiry (budget or max rows)' },
    { name: 'batches_expired', field: 'batchesExpired', type: 'int8', duck: 'BIGINT', doc: 'batches dropped by expiry' },
    { name: 'late_rows_dropped', field: 'lateRowsDropped', type: 'int8', duck: 'BIGINT', doc: 'rows older than the late window, refused' },
    { name: 'oldest_time', field: 'oldestTime', type: 'timestamptz', duck: 'TIMESTAMPTZ', doc: 'oldest time_ held' },
    { name: 'newest_time', field: 'newestTime', type: 'timestamptz', duck: 'TIMESTAMPTZ', doc: 'newest time_ held' },
  ],
} as const satisfies Record<string, ColumnDef[]>;
