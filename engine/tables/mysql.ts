// mysql_events: own columns and row type (DESIGN.md "Tables"); composed in ../schema.ts.
import type { ColumnDef, EventRowBase } from '../schema.ts';

export const mysqlOwnColumns: ColumnDef[] = [
  { name: 'req_cmd', field: 'reqCmd', type: 'int4', duck: 'INTEGER', doc: 'command byte (COM_QUERY 3, COM_STMT_EXECUTE 23, …)' },
  { name: 'req_body', field: 'reqBody', type: 'text', duck: 'VARCHAR', doc: 'query text; prepared statements with their parameters bound' },
  { name: 'resp_status', field: 'respStatus', type: 'int4', duck: 'INTEGER', doc: '0 unknown, 1 none, 2 OK, 3 error' },
  { name: 'resp_body', field: 'respBody', type: 'text', duck: 'VARCHAR', doc: 'error message, or affected/returned rows summary' },
];

export const MysqlRespStatus = { unknown: 0, none: 1, ok: 2, error: 3 } as const;

export interface MysqlEventRow extends EventRowBase {
  reqCmd: number;
  reqBody: string;
  respStatus: number;
  respBody: string;
  /** Nanoseconds (0 when the command gets no response). */
  latencyNs: bigint;
}
