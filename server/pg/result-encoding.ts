// Shared pieces of answering a statement: RowDescription fields, command tags, common errors.
import { SqlError, SqlState, type QueryResult } from '../../engine/query.ts';
import type { FieldDescription } from './backend-messages.ts';
import { pgTypes } from './pg-types.ts';

/** 25P02: any statement but COMMIT/ROLLBACK in a failed transaction block. */
export function abortedTransactionError(): SqlError {
  return new SqlError('25P02', 'current transaction is aborted, commands ignored until end of transaction block');
}

export function canceledError(): SqlError {
  return new SqlError(SqlState.queryCanceled, 'canceling statement due to user request');
}

/** RowDescription fields for result columns: text format, no table/column identity. */
export function fieldDescriptions(columns: QueryResult['columns']): FieldDescription[] {
  return columns.map((c) => {
    const t = pgTypes[c.type];
    if (!t) throw new Error(`column "${c.name}" has unknown type ${String(c.type)}`);
    return { name: c.name, tableOid: 0, columnAttr: 0, typeOid: t.oid, typeLen: t.len, typeMod: -1, format: 0 };
  });
}

/** CommandComplete tag: row counts where PostgreSQL gives them. */
export function commandTag(command: string, rows: number): string {
  switch (command) {
    case 'SELECT':
    case 'FETCH':
    case 'MOVE':
    case 'COPY':
    case 'UPDATE':
    case 'DELETE':
    case 'MERGE':
      return `${command} ${rows}`;
    case 'INSERT':
      return `INSERT 0 ${rows}`;
    default:
      return command;
  }
}
