// process_stats: per traced process and second, from /proc (DESIGN.md "Tables"; Pixie's
// columns). Composed in ../schema.ts.
import type { ColumnDef } from '../schema.ts';
import type { Upid } from '../upid.ts';

export const processStatsColumns: ColumnDef[] = [
  { name: 'time_', field: 'timeNs', type: 'timestamptz', duck: 'TIMESTAMPTZ', doc: 'when the sample was taken' },
  { name: 'upid', field: 'upid', type: 'uuid', duck: 'UUID', doc: 'process identity' },
  { name: 'major_faults', field: 'majorFaults', type: 'int8', duck: 'BIGINT', doc: 'cumulative major page faults' },
  { name: 'minor_faults', field: 'minorFaults', type: 'int8', duck: 'BIGINT', doc: 'cumulative minor page faults' },
  { name: 'cpu_utime_ns', field: 'cpuUtimeNs', type: 'int8', duck: 'BIGINT', doc: 'cumulative user CPU time, ns' },
  { name: 'cpu_ktime_ns', field: 'cpuKtimeNs', type: 'int8', duck: 'BIGINT', doc: 'cumulative kernel CPU time, ns' },
  { name: 'num_threads', field: 'numThreads', type: 'int8', duck: 'BIGINT', doc: 'threads now' },
  { name: 'vsize_bytes', field: 'vsizeBytes', type: 'int8', duck: 'BIGINT', doc: 'virtual memory size' },
  { name: 'rss_bytes', field: 'rssBytes', type: 'int8', duck: 'BIGINT', doc: 'resident set size' },
  { name: 'rchar_bytes', field: 'rcharBytes', type: 'int8', duck: 'BIGINT', doc: 'bytes read by read-like syscalls (/proc/PID/io rchar)' },
  { name: 'wchar_bytes', field: 'wcharBytes', type: 'int8', duck: 'BIGINT', doc: 'bytes written by write-like syscalls (wchar)' },
  { name: 'read_bytes', field: 'readBytes', type: 'int8', duck: 'BIGINT', doc: 'bytes fetched from storage (read_bytes)' },
  { name: 'write_bytes', field: 'writeBytes', type: 'int8', duck: 'BIGINT', doc: 'bytes sent to storage (write_bytes)' },
];

export interface ProcessStatsRow {
  timeNs: bigint;
  upid: Upid;
  majorFaults: number;
  minorFaults: number;
  cpuUtimeNs: number;
  cpuKtimeNs: number;
  numThreads: number;
  vsizeBytes: number;
  rssBytes: number;
  rcharBytes: number;
  wcharBytes: number;
  readBytes: number;
  writeBytes: number;
}
