// wiretap_stats: wiretap's own accounting per node and interval, so users can see in SQL
// what capture lost or left out. Counts are deltas over the interval. Composed in ../schema.ts.
import type { ColumnDef } from '../schema.ts';

export const wiretapStatsColumns: ColumnDef[] = [
  { name: 'time_', field: 'timeNs', type: 'timestamptz', duck: 'TIMESTAMPTZ', doc: 'end of the interval' },
  { name: 'node', field: 'node', type: 'text', duck: 'VARCHAR', doc: 'host name of the collector' },
  { name: 'interval_ns', field: 'intervalNs', type: 'int8', duck: 'BIGINT', doc: 'length of the interval' },
  { name: 'events', field: 'events', type: 'int8', duck: 'BIGINT', doc: 'records the kernel wrote to the ring buffer' },
  { name: 'event_bytes', field: 'eventBytes', type: 'int8', duck: 'BIGINT', doc: 'bytes the kernel wrote to the ring buffer' },
  { name: 'socket_bytes', field: 'socketBytes', type: 'int8', duck: 'BIGINT', doc: 'socket bytes moved by shipped data calls' },
  { name: 'ringbuf_drops', field: 'ringbufDrops', type: 'int8', duck: 'BIGINT', doc: 'records lost: ring buffer full (user space too slow)' },
  { name: 'user_drops', field: 'userDrops', type: 'int8', duck: 'BIGINT', doc: 'records lost: JS fell behind the poller thread' },
  { name: 'truncated', field: 'truncated', type: 'int8', duck: 'BIGINT', doc: 'data events whose payload was cut at the capture cap' },
  { name: 'unshipped_calls', field: 'unshippedCalls', type: 'int8', duck: 'BIGINT', doc: 'data calls counted only: no known protocol, or connection disabled' },
  { name: 'unshipped_bytes', field: 'unshippedBytes', type: 'int8', duck: 'BIGINT', doc: 'their bytes' },
  { name: 'gap_bytes', field: 'gapBytes', type: 'int8', duck: 'BIGINT', doc: 'bytes moved but not captured, seen as gaps by the parsers' },
  { name: 'parse_failures', field: 'parseFailures', type: 'int8', duck: 'BIGINT', doc: 'parser resynchronisations (all protocols)' },
  { name: 'parse_failures_by_protocol', field: 'parseFailuresByProtocol', type: 'text', duck: 'VARCHAR', doc: 'the same per protocol, JSON object e.g. {"http":3}' },
  { name: 'disabled_connections', field: 'disabledConnections', type: 'int8', duck: 'BIGINT', doc: 'connections whose payload the collector switched off in the kernel' },
  { name: 'records', field: 'records', type: 'int8', duck: 'BIGINT', doc: 'rows produced by the protocol parsers' },
  { name: 'expired_requests', field: 'expiredRequests', type: 'int8', duck: 'BIGINT', doc: 'requests that never got a response' },
  { name: 'tls_unmapped_calls', field: 'tlsUnmappedCalls', type: 'int8', duck: 'BIGINT', doc: 'SSL_read/SSL_write calls whose socket was not known yet: their plaintext was not captured' },
  { name: 'mmsg_lost', field: 'mmsgLost', type: 'int8', duck: 'BIGINT', doc: 'sendmmsg/recvmmsg messages beyond the per-call limit: payload lost, positions kept (gaps)' },
];

export interface WiretapStatsRow {
  timeNs: bigint;
  node: string;
  intervalNs: number;
  events: number;
  eventBytes: number;
  socketBytes: number;
  ringbufDrops: number;
  userDrops: number;
  truncated: number;
  unshippedCalls: number;
  unshippedBytes: number;
  gapBytes: number;
  parseFailures: number;
  /** JSON object: protocol name → failures in the interval. */
  parseFailuresByProtocol: string;
  disabledConnections: number;
  records: number;
  expiredRequests: number;
  tlsUnmappedCalls: number;
  mmsgLost: number;
}
