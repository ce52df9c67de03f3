// kafka_events: own columns and row type (DESIGN.md "Tables"); composed in ../schema.ts.
import type { ColumnDef, EventRowBase } from '../schema.ts';

export const kafkaOwnColumns: ColumnDef[] = [
  { name: 'req_cmd', field: 'reqCmd', type: 'int4', duck: 'INTEGER', doc: 'API key (0 Produce, 1 Fetch, 3 Metadata, …)' },
  { name: 'client_id', field: 'clientId', type: 'text', duck: 'VARCHAR', doc: 'client id from the request header' },
  { name: 'req_body', field: 'reqBody', type: 'text', duck: 'VARCHAR', doc: 'JSON summary: api, version, topics, partitions, record counts' },
  { name: 'resp', field: 'resp', type: 'text', duck: 'VARCHAR', doc: 'JSON summary: error codes, offsets' },
];

export interface KafkaEventRow extends EventRowBase {
  reqCmd: number;
  clientId: string;
  reqBody: string;
  resp: string;
  /** Nanoseconds (0 when the request gets no response, e.g. Produce with acks=0). */
  latencyNs: bigint;
}
