// Table schemas: one place for column names, order and types (DESIGN.md "Tables").
// Names follow Pixie's well-known schemas so existing knowledge carries over.
import type { Upid } from './upid.ts';
import { kafkaOwnColumns, type KafkaEventRow } from './tables/kafka.ts';
import { mysqlOwnColumns, type MysqlEventRow } from './tables/mysql.ts';

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
  reqHeaders: string;
  reqMethod: string;
  reqPath: string;
  reqBody: string;
  reqBodySize: number;
  respHeaders: string;
  respStatus: number;
  respMessage: string;
  respBody: string;
  respBodySize: number;
  /** Nanoseconds. */
  latencyNs: bigint;
}

/** Row object type of each table (keys are the columns' `field`s). */
export interface RowTypes {
  http_events: HttpEventRow;
  mysql_events: MysqlEventRow;
  kafka_events: KafkaEventRow;
}

/**
 * Where the collector delivers finished rows; the engine implements it. Value conventions per
 * column type: timestamptz bigint ns since the epoch; uuid (upid) a Upid; int2/int4 number;
 * int8 bigint or number; float number; bool boolean; text/json string.
 */
export interface RowSink {
  append<T extends TableName>(table: T, row: RowTypes[T]): void;
}
