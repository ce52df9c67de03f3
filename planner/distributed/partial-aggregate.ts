// Partial aggregation: count/sum/min/max/avg split into a per-node GROUP BY producing partial
// states and a broker GROUP BY merging them (count → sum of counts, avg → sum of sums / sum of
// counts). Applies when every output column is a group key or one such aggregate and ORDER BY
// names output columns; anything else returns null and a shipping strategy takes over.
import { columnName, contains, exprSql, quoteIdent, type Ast } from './sql-ast.ts';
import { partsTable, type ShippedInput } from './plan.ts';
import { mergeOrderLimit, outputName } from './output-columns.ts';

const mergeable = new Set(['COUNT', 'SUM', 'MIN', 'MAX', 'AVG']);

const knownKeys = new Set(['type', 'name', 'args', 'over', 'filter', 'loc']);

/** A mergeable aggregate call; null for anything with parts the split does not understand. */
function aggregate(expr: Ast): { fn: string; arg: Ast; filter: string } | null {
  if (expr?.type !== 'aggr_func' || expr.over || !mergeable.has(String(expr.name).toUpperCase())) return null;
  if (Object.entries(expr).some(([k, v]) => !knownKeys.has(k) && v !== null && v !== undefined)) return null;
  const args = expr.args ?? {};
  if (Object.entries(args).some(([k, v]) => k !== 'expr' && v !== null && v !== undefined && v !== false)) return null; // DISTINCT, ORDER BY, …
  if (contains(args.expr, 'aggr_func') || contains(expr.filter, 'select')) return null;
  // FILTER (WHERE …) applies on the nodes, to every partial of this aggregate
  const filter = expr.filter?.where ? ` FILTER (WHERE ${exprSql(expr.filter.where)})` : '';
  return { fn: String(expr.name).toUpperCase(), arg: args.expr, filter };
}

/** ROLLUP(…) / CUBE(…) / GROUPING SETS: several groupings per row, not one key. */
function groupingFunction(g: Ast): boolean {
  const n = g?.type === 'function' ? g.name?.name : null;
  const last = Array.isArray(n) ? n[n.length - 1]?.value : n;
  return typeof last === 'string' && /^(rollup|cube|grouping sets|grouping_sets)$/i.test(last);
}

export interface PartialAggregate { input: ShippedInput; mergeSql: string }

export function splitPartialAggregate(ast: Ast, table: string, whereSql: string | null): PartialAggregate | null {
  const columns: Ast[] = ast.columns;
  if (columns.some((c) => c.expr?.type === 'star' || columnName(c.expr) === '*')) return null;
  // group keys: expressions, output positions (GROUP BY 1) or output aliases
  const groupExprs: Ast[] = [];
  for (const g of ast.groupby?.columns ?? []) {
    if (g.type === 'number') {
      const c = columns[Number(g.value) - 1];
      if (!c) return null;
      groupExprs.push(c.expr);
      continue;
    }
    const aliased = columnName(g) ? columns.find((c) => c.as === columnName(g)) : undefined;
    groupExprs.push(aliased ? aliased.expr : g);
  }
  if (groupExprs.some((g) => contains(g, 'aggr_func') || groupingFunction(g))) return null;
  const groupSql = groupExprs.map(exprSql);

  const nodeItems = groupSql.map((g, i) => `${g} AS _g${i}`);
  const mergeItems: string[] = [];
  let p = 0;
  for (const c of columns) {
    const name = quoteIdent(outputName(c));
    const sql = exprSql(c.expr);
    const key = groupSql.indexOf(sql);
    if (key >= 0) {
      mergeItems.push(`_g${key} AS ${name}`);
      continue;
    }
    const agg = aggregate(c.expr);
    if (!agg) return null;
    const arg = agg.arg?.type === 'star' ? '*' : exprSql(agg.arg);
    switch (agg.fn) {
      case 'COUNT':
        nodeItems.push(`count(${arg})${agg.filter} AS _p${p}`);
        mergeItems.push(`CAST(coalesce(sum(_p${p}), 0) AS BIGINT) AS ${name}`);
        p += 1;
        break;
      case 'SUM':
      case 'MIN':
      case 'MAX':
        nodeItems.push(`${agg.fn.toLowerCase()}(${arg})${agg.filter} AS _p${p}`);
        mergeItems.push(`${agg.fn.toLowerCase()}(_p${p}) AS ${name}`);
        p += 1;
        break;
      case 'AVG':
        nodeItems.push(`sum(${arg})${agg.filter} AS _p${p}`, `count(${arg})${agg.filter} AS _p${p + 1}`);
        mergeItems.push(`CAST(sum(_p${p}) AS DOUBLE) / nullif(sum(_p${p + 1}), 0) AS ${name}`);
        p += 2;
        break;
    }
  }
  const orderLimit = mergeOrderLimit(ast, columns);
  if (orderLimit === null) return null;
  const groupBy = groupSql.length ? ` GROUP BY ${groupSql.map((_, i) => `_g${i}`).join(', ')}` : '';
  const nodeGroupBy = groupSql.length ? ` GROUP BY ${groupSql.join(', ')}` : '';
  return {
    input: { name: partsTable, nodeSql: `SELECT ${nodeItems.join(', ')} FROM ${table}${whereSql ? ` WHERE ${whereSql}` : ''}${nodeGroupBy}` },
    mergeSql: `SELECT ${mergeItems.join(', ')} FROM ${partsTable}${groupBy}${orderLimit}`,
  };
}
