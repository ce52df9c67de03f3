// Projection and top-n pushdown for queries without aggregates: every node runs the projection,
// the filter and ORDER BY … LIMIT (limit + offset rows each); the broker re-sorts the union on the
// sort keys the nodes shipped as extra columns, then applies LIMIT/OFFSET.
import { columnName, quoteIdent, statementSql, type Ast } from './sql-ast.ts';
import { partsTable, type ShippedInput } from './plan.ts';
import { limitOffset, orderDirection } from './output-columns.ts';

export interface TopN { input: ShippedInput; mergeSql: string }

export function splitTopN(ast: Ast): TopN | null {
  // the caller has ruled out aggregates and window functions
  if (ast.distinct?.type || ast.having) return null;
  const lo = limitOffset(ast);
  if (!lo) return null;
  const columns: Ast[] = ast.columns;
  const hasStar = columns.some((c) => c.expr?.type === 'star' || columnName(c.expr) === '*');
  // each sort key as an expression the node can evaluate next to the projection
  const keys: Ast[] = [];
  for (const o of ast.orderby ?? []) {
    if (o.expr?.type === 'number') {
      if (hasStar) return null; // position unknown without the table's column list
      const c = columns[Number(o.expr.value) - 1];
      if (!c) return null;
      keys.push(c.expr);
      continue;
    }
    const aliased = columnName(o.expr) ? columns.find((c) => c.as === columnName(o.expr)) : undefined;
    keys.push(aliased ? aliased.expr : o.expr);
  }
  const node = structuredClone(ast);
  node.columns = [...columns, ...keys.map((k, i) => ({ type: 'expr', expr: k, as: `__wt_k${i}` }))];
  if (lo.limit !== null) node.limit = { seperator: '', value: [{ type: 'number', value: lo.limit + (lo.offset ?? 0) }] };
  else node.limit = null;
  const hidden = keys.map((_, i) => `__wt_k${i}`);
  const order = (ast.orderby ?? []).map((o: Ast, i: number) => `${quoteIdent(hidden[i]!)}${orderDirection(o)}`);
  const select = hidden.length ? `* EXCLUDE (${hidden.join(', ')})` : '*';
  return {
    input: { name: partsTable, nodeSql: statementSql(node) },
    mergeSql: `SELECT ${select} FROM ${partsTable}${order.length ? ` ORDER BY ${order.join(', ')}` : ''}`
      + `${lo.limit !== null ? ` LIMIT ${lo.limit}` : ''}${lo.offset !== null ? ` OFFSET ${lo.offset}` : ''}`,
  };
}
