// Partial aggregation: count/sum/min/max/avg split into a per-node GROUP BY producing partial
// states and a broker GROUP BY merging them (count → sum of counts, avg → sum of sums / sum of
// counts). Applies when every output column is a group key or one such aggregate and ORDER BY
// names output columns; anything else returns null and a shipping strategy takes over.
// approx_count_distinct and approx_quantile become mergeable sketches (sketches.ts): the node
// query reduces each sketch to text in an outer SELECT, the merge finalizes it in an outer SELECT.
import { columnName, contains, exprSql, quoteIdent, type Ast } from './sql-ast.ts';
import { nextSignificant, tokenize, type Token } from '../sql/lexer.ts';
import { partsTable, type ShippedInput } from './plan.ts';
import { mergeOrderLimit, outputName } from './output-columns.ts';
import { ddFinalize, ddNodeAggregate, ddNodeReduce, hllFinalize, hllNodeAggregate, hllNodeReduce } from './sketches.ts';
import { tables, visibleColumns, type TableName } from '../../engine/schema.ts';

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

const functionKeys = new Set(['type', 'name', 'args', 'over', 'loc', 'suffix']);
const numericDuck: Record<string, string> = { SMALLINT: 'SMALLINT', INTEGER: 'INTEGER', BIGINT: 'BIGINT', UBIGINT: 'UBIGINT', DOUBLE: 'DOUBLE', FLOAT: 'FLOAT' };

const sketchNames = new Set(['approx_count_distinct', 'approx_quantile']);

/** Index of the parenthesis closing the one at `open`, or -1. */
function closing(tokens: Token[], open: number): number {
  let depth = 0;
  for (let i = open; i < tokens.length; i++) {
    if (tokens[i]!.kind !== 'punct') continue;
    if (tokens[i]!.text === '(') depth++;
    else if (tokens[i]!.text === ')' && --depth === 0) return i;
  }
  return -1;
}

/**
 * `approx_count_distinct(x) FILTER (WHERE c)` → `approx_count_distinct(CASE WHEN c THEN x END)`, and
 * the same for approx_quantile's value: the parser rejects FILTER on functions it does not know as
 * aggregates, and both ignore NULLs, so the rewrite means the same rows (a NULL condition drops the
 * row as FILTER does). The sketch then runs over the filtered rows on the nodes.
 */
export function sketchFiltersAsArguments(sql: string): string {
  if (!/filter/i.test(sql)) return sql;
  const t = tokenize(sql);
  const text = (from: number, to: number) => t.slice(from, to).map((x) => x.text).join('');
  const out: string[] = [];
  for (let i = 0; i < t.length; i++) {
    const open = nextSignificant(t, i + 1);
    const close = t[i]!.kind === 'ident' && sketchNames.has(t[i]!.value) && t[open]?.text === '(' ? closing(t, open) : -1;
    const filter = close > 0 ? nextSignificant(t, close + 1) : -1;
    const paren = filter > 0 && t[filter]?.kind === 'ident' && t[filter]!.value === 'filter' ? nextSignificant(t, filter + 1) : -1;
    const where = paren > 0 && t[paren]?.text === '(' ? nextSignificant(t, paren + 1) : -1;
    const end = where > 0 && t[where]?.kind === 'ident' && t[where]!.value === 'where' ? closing(t, paren) : -1;
    if (end < 0) { out.push(t[i]!.text); continue; }
    // the first argument ends at the call's first top-level comma
    let comma = close;
    for (let j = open + 1, depth = 0; j < close; j++) {
      if (t[j]!.kind !== 'punct') continue;
      if (t[j]!.text === '(') depth++;
      else if (t[j]!.text === ')') depth--;
      else if (t[j]!.text === ',' && depth === 0) { comma = j; break; }
    }
    out.push(`${t[i]!.text}(CASE WHEN ${text(where + 1, end).trim()} THEN ${text(open + 1, comma).trim()} END${text(comma, close)})`);
    i = end;
  }
  return out.join('');
}

/** The column of `col` or of `CASE WHEN … THEN col END` (a FILTER rewritten), else null. */
function valueColumn(e: Ast): string | null {
  if (e?.type === 'case' && !e.expr && e.args?.length === 1 && e.args[0]?.type === 'when') return columnName(e.args[0].result);
  return columnName(e);
}

/** approx_count_distinct(x) / approx_quantile(col, q) as a sketch; null when it is neither or has parts we do not split. */
function sketch(expr: Ast, table: string): { kind: 'hll'; arg: string } | { kind: 'quantile'; arg: string; q: number; duck: string } | null {
  if (expr?.type !== 'function' || Object.entries(expr).some(([k, v]) => !functionKeys.has(k) && v !== null && v !== undefined) || expr.over || expr.suffix) return null;
  const n = expr.name?.name;
  const name = String(Array.isArray(n) && n.length === 1 ? n[0]?.value : '').toLowerCase();
  const args: Ast[] = expr.args?.type === 'expr_list' ? expr.args.value : [];
  if (args.some((a) => contains(a, 'aggr_func') || contains(a, 'select'))) return null;
  if (name === 'approx_count_distinct' && args.length === 1 && args[0]?.type !== 'star') return { kind: 'hll', arg: exprSql(args[0]) };
  if (name === 'approx_quantile' && args.length === 2 && args[1]?.type === 'number') {
    const q = Number(args[1].value);
    // a plain numeric column: the estimate gets its type back, as DuckDB's approx_quantile does
    const col = valueColumn(args[0]);
    const def = col && table in tables ? visibleColumns(table as TableName).find((c) => c.name === col) : undefined;
    const duck = def ? numericDuck[def.duck] : undefined;
    if (!(q >= 0 && q <= 1) || !duck) return null;
    return { kind: 'quantile', arg: exprSql(args[0]), q, duck };
  }
  return null;
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
  const mergeItems: Array<[expr: string, name: string]> = [];
  // sketch partials: reduced to text by an outer SELECT on the node, finalized by one at the broker
  const nodeReduce: string[] = [];
  const finals = new Map<number, (col: string) => string>();
  let p = 0;
  for (const c of columns) {
    const name = quoteIdent(outputName(c));
    const sql = exprSql(c.expr);
    const key = groupSql.indexOf(sql);
    if (key >= 0) {
      mergeItems.push([`_g${key}`, name]);
      continue;
    }
    const sk = sketch(c.expr, table);
    if (sk) {
      nodeItems.push(`${sk.kind === 'hll' ? hllNodeAggregate(sk.arg) : ddNodeAggregate(sk.arg)} AS _p${p}`);
      nodeReduce.push(`${sk.kind === 'hll' ? hllNodeReduce(`_p${p}`) : ddNodeReduce(`_p${p}`)} AS _p${p}`);
      finals.set(mergeItems.length, sk.kind === 'hll' ? hllFinalize
        : (col) => (/INT/.test(sk.duck) ? `CAST(round(${ddFinalize(col, sk.q)}) AS ${sk.duck})` : `CAST(${ddFinalize(col, sk.q)} AS ${sk.duck})`));
      mergeItems.push([`string_agg(_p${p}, ',')`, name]);
      p += 1;
      continue;
    }
    const agg = aggregate(c.expr);
    if (!agg) return null;
    const arg = agg.arg?.type === 'star' ? '*' : exprSql(agg.arg);
    switch (agg.fn) {
      case 'COUNT':
        nodeItems.push(`count(${arg})${agg.filter} AS _p${p}`);
        mergeItems.push([`CAST(coalesce(sum(_p${p}), 0) AS BIGINT)`, name]);
        p += 1;
        break;
      case 'SUM':
      case 'MIN':
      case 'MAX':
        nodeItems.push(`${agg.fn.toLowerCase()}(${arg})${agg.filter} AS _p${p}`);
        mergeItems.push([`${agg.fn.toLowerCase()}(_p${p})`, name]);
        p += 1;
        break;
      case 'AVG':
        nodeItems.push(`sum(${arg})${agg.filter} AS _p${p}`, `count(${arg})${agg.filter} AS _p${p + 1}`);
        mergeItems.push([`CAST(sum(_p${p}) AS DOUBLE) / nullif(sum(_p${p + 1}), 0)`, name]);
        p += 2;
        break;
    }
  }
  const orderLimit = mergeOrderLimit(ast, columns);
  if (orderLimit === null) return null;
  const groupBy = groupSql.length ? ` GROUP BY ${groupSql.map((_, i) => `_g${i}`).join(', ')}` : '';
  const nodeGroupBy = groupSql.length ? ` GROUP BY ${groupSql.join(', ')}` : '';
  let nodeSql = `SELECT ${nodeItems.join(', ')} FROM ${table}${whereSql ? ` WHERE ${whereSql}` : ''}${nodeGroupBy}`;
  let mergeSql = `SELECT ${mergeItems.map(([e, n]) => `${e} AS ${n}`).join(', ')} FROM ${partsTable}${groupBy}${orderLimit}`;
  if (finals.size) {
    nodeSql = `SELECT * REPLACE (${nodeReduce.join(', ')}) FROM (${nodeSql})`;
    // inner: one row per group with the nodes' sketch texts concatenated (positional names: output
    // names may repeat); outer: finalize, output names, ORDER BY / LIMIT
    const inner = mergeItems.map(([e], i) => `${e} AS _o${i}`);
    const outer = mergeItems.map(([, n], i) => `${finals.get(i)?.(`_o${i}`) ?? `_o${i}`} AS ${n}`);
    mergeSql = `SELECT ${outer.join(', ')} FROM (SELECT ${inner.join(', ')} FROM ${partsTable}${groupBy})${orderLimit}`;
  }
  return { input: { name: partsTable, nodeSql }, mergeSql };
}
