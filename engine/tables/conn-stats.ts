// conn_stats: per connection and interval, from the kernel's connection table (DESIGN.md
// "Tables"; Pixie's columns). Composed in ../schema.ts.
import type { ColumnDef, EventRowBase } from '../schema.ts';

export const connStatsOwnColumns: ColumnDef[] = [
  { name: 'protocol', field: 'protocol', type: 'text', duck: 'VARCHAR', doc: "kernel's guess from the first bytes: http, mysql, kafka, unknown" },
  { name: 'ssl', field: 'ssl', type: 'bool', duck: 'BOOLEAN', doc: 'TLS (same as encrypted; Pixie name)' },
  { name: 'conn_open', field: 'connOpen', type: 'int8', duck: 'BIGINT', doc: '1 if the connection was opened (or first seen) in this interval' },
  { name: 'conn_close', field: 'connClose', type: 'int8', duck: 'BIGINT', doc: '1 if it was closed in this interval' },
  { name: 'conn_active', field: 'connActive', type: 'int8', duck: 'BIGINT', doc: '1 if open at the end of the interval' },
  { name: 'bytes_sent', field: 'bytesSent', type: 'int8', duck: 'BIGINT', doc: 'bytes sent since first seen (cumulative)' },
  { name: 'bytes_recv', field: 'bytesRecv', type: 'int8', duck: 'BIGINT', doc: 'bytes received since first seen (cumulative)' },
];

export interface ConnStatsRow extends EventRowBase {
  protocol: string;
  ssl: boolean;
  connOpen: number;
  connClose: number;
  connActive: number;
  bytesSent: number;
  bytesRecv: number;
}
