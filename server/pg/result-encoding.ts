// Shared pieces of answering a statement: RowDescription fields, command tags, common errors.
import { SqlError, SqlState, type QueryResult } from '../../engine/query.ts';
import type { FieldDescription } from './backend-messages.ts';
import { pgTypes } from './pg-types.ts';

/** 25P02: any statement but COMMIT/ROLLBACK in a failed transaction block. */
export function abortedTransactionError(): SqlError {
  return new SqlError('25P02', 'current transaction is aborted, commands ignored until end of transaction block');
}

/** Abort reason used when statement_timeout fires (a CancelRequest aborts without one). */
export const STATEMENT_TIMEOUT = 'statement timeout';

/** 57014, worded as PostgreSQL words it for a cancel or for statement_timeout. */
export function canceledError(signal?: AbortSignal): SqlError {
  const why = signal?.reason === STATEMENT_TIMEOUT ? 'statement timeout' : 'user request';
  return new SqlError(SqlState.queryCanceled, `canceling statement due to ${why}`);
}

/** Aborts after statement_timeout (0 = never); returns the disarm function. */
export function armStatementTimeout(abort: AbortController, ms: number): () => void {
  if (!(ms > 0)) return () => {};
  const timer = setTimeout(() => abort.abort(STATEMENT_TIMEOUT), ms);
  timer.unref();
  return () => clearTimeout(timer);
}

/** RowDescription fields for result columns (text unless formats say binary), no table/column identity. */
export function fieldDescriptions(columns: QueryResult['columns'], formats?: number[]): FieldDescription[] {
  return columns.map((c, i) => {
    const t = pgTypes[c.type];
    if (!t) throw new Error(`column "${c.name}" has unknown type ${String(c.type)}`);
    return { name: c.name, tableOid: 0, columnAttr: 0, typeOid: t.oid, typeLen: t.len, typeMod: -1, format: formats?.[i] ?? 0 };
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
