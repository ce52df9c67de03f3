// DuckDB error text → SQLSTATE, so clients see the codes PostgreSQL would send.
import { SqlError, SqlState } from './query.ts';

const rules: Array<[RegExp, string]> = [
  [/^Parser Error/i, SqlState.syntaxError],
  [/^Catalog Error: Table( Function)? with name/i, SqlState.undefinedTable],
  [/^Catalog Error: (Scalar|Aggregate|Table|Macro) Function/i, SqlState.undefinedFunction],
  [/^Catalog Error: (Schema|Type) with name/i, SqlState.undefinedTable],
  [/^Binder Error: (Referenced column|Values list|Table ".*" does not have a column)/i, SqlState.undefinedColumn],
  [/^Binder Error: No function matches/i, SqlState.undefinedFunction],
  [/^Binder Error/i, '42000'],
  [/^Permission Error/i, SqlState.insufficientPrivilege],
  [/^INTERRUPT Error/i, SqlState.queryCanceled],
  [/^Conversion Error/i, SqlState.invalidTextRepresentation],
  [/^Out of Range Error/i, '22003'],
  [/^Invalid Input Error/i, SqlState.dataException],
  [/^Not implemented Error/i, SqlState.featureNotSupported],
  [/^Out of Memory Error/i, '53200'],
];

/** Turns anything DuckDB threw into a SqlError with the closest PostgreSQL SQLSTATE. */
export function toSqlError(err: unknown): SqlError {
  if (err instanceof SqlError) return err;
  const raw = err instanceof Error ? err.message : String(err);
  const message = raw.replace(/^Failed to (extract statements|prepare statement|execute prepared statement): /i, '');
  for (const [pattern, state] of rules) {
    if (pattern.test(message)) {
      if (state === SqlState.queryCanceled) return new SqlError(state, 'canceling statement due to user request');
      if (state === SqlState.insufficientPrivilege) {
        return new SqlError(state, 'permission denied: wiretap queries cannot read files or the network', message);
      }
      return new SqlError(state, postgresWording(stripPrefix(message)), detailOf(message));
    }
  }
  return new SqlError(SqlState.internalError, stripPrefix(message), detailOf(message));
}

/** Clients and people know PostgreSQL's phrasing of the common errors. */
function postgresWording(m: string): string {
  const table = /^Table with name (\S+) does not exist!?/.exec(m);
  if (table) return `relation "${table[1]}" does not exist`;
  const column = /^Referenced column "([^"]+)" not found/.exec(m);
  if (column) return `column "${column[1]}" does not exist`;
  return m.replace(/!$/, '');
}

/** DuckDB's own text after the first line (candidates, caret position) as the detail. */
function detailOf(message: string): string | undefined {
  const rest = message.split('\n').slice(1).join('\n').trim();
  return rest || undefined;
}

/** "Catalog Error: Table with name x does not exist!\nDid you mean..." → first line without the class. */
function stripPrefix(message: string): string {
  const firstLine = message.split('\n')[0] ?? message;
  return firstLine.replace(/^[A-Za-z ]+ Error: /, '');
}

/** What any statement but a query gets: the service is read-only. */
export function readOnlyError(): SqlError {
  return new SqlError(
    SqlState.readOnlySqlTransaction,
    'cannot execute this statement: wiretap is read-only (only SELECT queries are allowed)',
  );
}
