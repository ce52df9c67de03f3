// Result column names as PostgreSQL would choose them: DuckDB names an unaliased expression by
// its text ("version"(), count_star(), 1); PostgreSQL uses the function name or ?column?.
// Clients that read columns by name (pandas, ORMs, Grafana) depend on this.
import type { QueryResult } from '../engine/query.ts';

export function pgColumnName(name: string): string {
  if (name === 'count_star()') return 'count';
  const call = /^"?([A-Za-z_][A-Za-z0-9_]*)"?\((.|\n)*\)$/.exec(name);
  if (call) return call[1]!.toLowerCase();
  if (/^(-?\d+(\.\d+)?|'.*'|NULL|TRUE|FALSE|CAST\(.*\))$/is.test(name)) return name.startsWith('CAST(') ? pgCastName(name) : '?column?';
  return name;
}

/** CAST(x AS T) → the column name PostgreSQL gives x::T: x's name if x is a column, else the type. */
function pgCastName(name: string): string {
  const m = /^CAST\((.*) AS ([A-Za-z_ ]+)(\[\])?\)$/is.exec(name);
  if (!m) return '?column?';
  const inner = m[1]!.trim();
  if (/^[a-z_][a-z0-9_]*(\.[a-z_][a-z0-9_]*)?$/.test(inner)) return inner.split('.').pop()!;
  return pgColumnName(inner) === '?column?' ? m[2]!.trim().toLowerCase().split(' ')[0]! : pgColumnName(inner);
}

/** Renames a result's columns in place to PostgreSQL's names. */
export function withPgColumnNames<T extends QueryResult>(result: T): T {
  for (const c of result.columns) c.name = pgColumnName(c.name);
  return result;
}
