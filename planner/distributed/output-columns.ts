// Output column names (as PostgreSQL names them) and ORDER BY / LIMIT over output columns, shared
// by the merge fragments.
import { calledName, columnName, exprSql, quoteIdent, type Ast } from './sql-ast.ts';

/** The name PostgreSQL gives an output column: alias, column name, function name, or ?column?. */
export function outputName(c: Ast): string {
  if (c.as) return String(c.as);
  const col = columnName(c.expr);
  if (col) return col;
  return calledName(c.expr) ?? '?column?';
}

/** LIMIT n and OFFSET m as numbers (null when absent); undefined when not plain integers. */
export function limitOffset(ast: Ast): { limit: number | null; offset: number | null } | undefined {
  const values: Ast[] = ast.limit?.value ?? [];
  if (values.some((v) => v.type !== 'number')) return undefined;
  if (values.length === 0) return { limit: null, offset: null };
  if (values.length === 1) return { limit: Number(values[0].value), offset: null };
  // node-sql-parser: "LIMIT a OFFSET b" → [a, b] with seperator 'offset'; "LIMIT b, a" → [b, a]
  return ast.limit.seperator === 'offset'
    ? { limit: Number(values[0].value), offset: Number(values[1].value) }
    : { limit: Number(values[1].value), offset: Number(values[0].value) };
}

export function orderDirection(o: Ast): string {
  return `${o.type === 'DESC' ? ' DESC' : ''}${o.nulls ? ` ${String(o.nulls).toUpperCase()}` : ''}`;
}

/**
 * ORDER BY (over output columns, by position, output name or the same expression) and LIMIT /
 * OFFSET for a merge fragment; null when an ORDER BY item is not an output column.
 */
export function mergeOrderLimit(ast: Ast, columns: Ast[]): string | null {
  const names = columns.map(outputName);
  const exprs = columns.map((c) => exprSql(c.expr));
  const order: string[] = [];
  for (const o of ast.orderby ?? []) {
    let i = -1;
    if (o.expr?.type === 'number') i = Number(o.expr.value) - 1;
    else if (columnName(o.expr) && names.includes(columnName(o.expr)!)) i = names.indexOf(columnName(o.expr)!);
    else i = exprs.indexOf(exprSql(o.expr));
    if (i < 0 || i >= columns.length) return null;
    order.push(`${quoteIdent(names[i]!)}${orderDirection(o)}`);
  }
  const lo = limitOffset(ast);
  if (!lo) return null;
  return `${order.length ? ` ORDER BY ${order.join(', ')}` : ''}${lo.limit !== null ? ` LIMIT ${lo.limit}` : ''}${lo.offset !== null ? ` OFFSET ${lo.offset}` : ''}`;
}
