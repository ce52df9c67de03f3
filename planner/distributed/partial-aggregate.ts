// Partial aggregation: count/sum/min/max/avg split into a per-node GROUP BY producing partial
// states and a broker GROUP BY merging them (count → sum of counts, avg → sum of sums / sum of
// counts). Applies when every output column is a group key, one such aggregate, or an expression
// over group keys and such aggregates (an error rate, avg(latency) / 1e6), and ORDER BY names
// output columns; anything else returns null and a shipping strategy takes over.
// approx_count_distinct and approx_quantile become mergeable sketches (sketches.ts): the node
// query reduces each sketch to text in an outer SELECT, the merge finalizes it in an outer SELECT.
// approx_quantile takes one q or a list ([q1, …] / ARRAY[…]), over a numeric or timestamp
// expression whose DuckDB type the split can infer (quantileType); calls over the same argument
// share one sketch.
import { calledName, columnName, contains, exprSql, quoteIdent, type Ast } from './sql-ast.ts';
import { nextSignificant, tokenize, type Token } from '../sql/lexer.ts';
import { partsTable, type ShippedInput } from './plan.ts';
import { mergeOrderLimit, outputName } from './output-columns.ts';
import {
  ddNodeAggregate, ddNodeReduce, ddQuantilesByGroup, ddTimeNodeAggregate, ddTimeNodeReduce, ddTimeQuantilesByGroup, ddTimeSeparator,
  hllByGroup, hllNodeAggregate, hllNodeReduce,
} from './sketches.ts';
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

/** Index of the call's first top-level comma (between its parentheses open…close), or close. */
function firstComma(tokens: Token[], open: number, close: number): number {
  for (let j = open + 1, depth = 0; j < close; j++) {
    if (tokens[j]!.kind !== 'punct') continue;
    const c = tokens[j]!.text;
    if (c === '(' || c === '[') depth++;
    else if (c === ')' || c === ']') depth--;
    else if (c === ',' && depth === 0) return j;
  }
  return close;
}

/** `approx_quantile(x, [q1, q2])` → `approx_quantile(x, ARRAY[q1, q2])`: the parser has no list literal. */
function quantileListsAsArrays(sql: string): string {
  if (!sql.includes('[')) return sql;
  const t = tokenize(sql);
  const at = new Set<number>();
  for (let i = 0; i < t.length; i++) {
    const open = nextSignificant(t, i + 1);
    if (!(t[i]!.kind === 'ident' && t[i]!.value === 'approx_quantile' && t[open]?.text === '(')) continue;
    const close = closing(t, open);
    const comma = close > 0 ? firstComma(t, open, close) : -1;
    const second = comma > 0 && comma < close ? nextSignificant(t, comma + 1) : -1;
    if (second > 0 && t[second]!.kind === 'punct' && t[second]!.text === '[') at.add(second);
  }
  return at.size ? t.map((x, i) => (at.has(i) ? `ARRAY${x.text}` : x.text)).join('') : sql;
}

/**
 * Sketch calls the parser cannot read as written: a list of quantiles becomes ARRAY[…], and
 * `approx_count_distinct(x) FILTER (WHERE c)` → `approx_count_distinct(CASE WHEN c THEN x END)`, and
 * the same for approx_quantile's value: the parser rejects FILTER on functions it does not know as
 * aggregates, and both ignore NULLs, so the rewrite means the same rows (a NULL condition drops the
 * row as FILTER does). The sketch then runs over the filtered rows on the nodes.
 */
export function sketchFiltersAsArguments(sql: string): string {
  sql = quantileListsAsArrays(sql);
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
    const comma = firstComma(t, open, close);
    out.push(`${t[i]!.text}(CASE WHEN ${text(where + 1, end).trim()} THEN ${text(open + 1, comma).trim()} END${text(comma, close)})`);
    i = end;
  }
  return out.join('');
}

type DuckType = 'TINYINT' | 'SMALLINT' | 'INTEGER' | 'BIGINT' | 'HUGEINT' | 'DECIMAL' | 'DOUBLE' | 'TIMESTAMP' | 'TIMESTAMPTZ';
const intRank: Partial<Record<DuckType, number>> = { TINYINT: 1, SMALLINT: 2, INTEGER: 3, BIGINT: 4, HUGEINT: 5 };
const castTypes: Record<string, DuckType> = {
  SMALLINT: 'SMALLINT', INT2: 'SMALLINT', INTEGER: 'INTEGER', INT: 'INTEGER', INT4: 'INTEGER', BIGINT: 'BIGINT', INT8: 'BIGINT',
  DOUBLE: 'DOUBLE', 'DOUBLE PRECISION': 'DOUBLE', FLOAT8: 'DOUBLE', TIMESTAMP: 'TIMESTAMP', TIMESTAMPTZ: 'TIMESTAMPTZ', 'TIMESTAMP WITH TIME ZONE': 'TIMESTAMPTZ',
};
/** approx_quantile's result types that equal its input type in both forms (DuckDB 1.x: FLOAT, DECIMAL, TINYINT differ). */
const isTime = (t: DuckType) => t === 'TIMESTAMP' || t === 'TIMESTAMPTZ';
const sketchable = new Set<DuckType>(['SMALLINT', 'INTEGER', 'BIGINT', 'DOUBLE', 'TIMESTAMP', 'TIMESTAMPTZ']);

/** An integer literal's type: the smallest that holds it (DuckDB widens `int_col + 3000000000` to BIGINT). */
function integerLiteralType(v: bigint): DuckType {
  const fits = (bits: number) => v >= -(1n << BigInt(bits - 1)) && v < 1n << BigInt(bits - 1);
  return fits(8) ? 'TINYINT' : fits(16) ? 'SMALLINT' : fits(32) ? 'INTEGER' : fits(64) ? 'BIGINT' : 'HUGEINT';
}

/**
 * The DuckDB type of a numeric/timestamp value expression, for the few forms the split models
 * (columns, number literals, + − * / %, unary −, abs, CAST/::, a FILTER's CASE); null otherwise.
 * `test: quantile types` in split.test.ts checks it against DuckDB's own binder.
 */
function valueType(e: Ast, table: string): DuckType | null {
  if (e?.type === 'case' && !e.expr && e.args?.length === 1 && e.args[0]?.type === 'when') return valueType(e.args[0].result, table);
  const col = columnName(e);
  if (col) {
    const def = table in tables ? visibleColumns(table as TableName).find((c) => c.name === col) : undefined;
    return def && (def.duck in intRank || def.duck === 'DOUBLE' || def.duck === 'TIMESTAMPTZ' || def.duck === 'TIMESTAMP') ? (def.duck as DuckType) : null;
  }
  if (e?.type === 'number' || e?.type === 'bigint') {
    const text = String(e.value);
    if (/^\d+$/.test(text)) return integerLiteralType(BigInt(text));
    return /e/i.test(text) ? 'DOUBLE' : /^\d*\.\d*$/.test(text) ? 'DECIMAL' : null;
  }
  if (e?.type === 'unary_expr' && e.operator === '-') {
    const t = valueType(e.expr, table);
    return t && !isTime(t) ? t : null;
  }
  if (e?.type === 'function' && e.args?.type === 'expr_list' && e.args.value?.length === 1 && !e.over) {
    const n = e.name?.name;
    const t = Array.isArray(n) && n.length === 1 && String(n[0]?.value).toLowerCase() === 'abs' ? valueType(e.args.value[0], table) : null;
    return t && (t in intRank || t === 'DOUBLE') ? t : null;
  }
  if (e?.type === 'cast' && e.target?.length === 1) {
    const target = e.target[0];
    // FLOAT(8) is float8; FLOAT alone is DuckDB's 4-byte FLOAT; "timestamp with time zone" comes as a suffix
    const name = [target.dataType, ...(target.suffix ?? [])].join(' ').toUpperCase();
    const to = target.length === 8 && name === 'FLOAT' ? 'DOUBLE' : target.length === undefined ? castTypes[name] : undefined;
    const from = valueType(e.expr, table);
    if (!to || !from) return null;
    // a timestamp only from a timestamp (the session's time zone applies on the nodes as at the broker)
    return isTime(to) === isTime(from) ? to : null;
  }
  if (e?.type === 'binary_expr' && ['+', '-', '*', '/', '%'].includes(e.operator)) {
    const l = valueType(e.left, table);
    const r = valueType(e.right, table);
    if (!l || !r || isTime(l) || isTime(r)) return null;
    if (e.operator === '/') return 'DOUBLE';
    if (l === 'DOUBLE' || r === 'DOUBLE') return e.operator === '%' ? null : 'DOUBLE';
    if (l === 'DECIMAL' || r === 'DECIMAL') return 'DECIMAL';
    return intRank[l]! >= intRank[r]! ? l : r;
  }
  return null;
}

/** The quantiles of approx_quantile's second argument: one number, or ARRAY[…] of numbers, each in [0, 1]. */
function quantilesOf(arg: Ast): { qs: number[]; list: boolean } | null {
  const num = (a: Ast) => (a?.type === 'number' || a?.type === 'bigint') && /^[\d.e+-]+$/i.test(String(a.value)) ? Number(a.value) : NaN;
  const ok = (qs: number[]) => qs.length > 0 && qs.every((q) => q >= 0 && q <= 1);
  if (arg?.type === 'array' && arg.expr_list?.type === 'expr_list') {
    const qs = (arg.expr_list.value as Ast[]).map(num);
    return ok(qs) ? { qs, list: true } : null;
  }
  const q = num(arg);
  return ok([q]) ? { qs: [q], list: false } : null;
}

type Sketch =
  | { kind: 'hll'; arg: string }
  | { kind: 'quantile'; arg: string; qs: number[]; list: boolean; duck: DuckType };

/** approx_count_distinct(x) / approx_quantile(x, q or [q…]) as a sketch; null when it is neither or has parts we do not split. */
function sketch(expr: Ast, table: string): Sketch | null {
  if (expr?.type !== 'function' || Object.entries(expr).some(([k, v]) => !functionKeys.has(k) && v !== null && v !== undefined) || expr.over || expr.suffix) return null;
  const n = expr.name?.name;
  const name = String(Array.isArray(n) && n.length === 1 ? n[0]?.value : '').toLowerCase();
  const args: Ast[] = expr.args?.type === 'expr_list' ? expr.args.value : [];
  if (args.some((a) => contains(a, 'aggr_func') || contains(a, 'select'))) return null;
  if (name === 'approx_count_distinct' && args.length === 1 && args[0]?.type !== 'star') return { kind: 'hll', arg: exprSql(args[0]) };
  if (name === 'approx_quantile' && args.length === 2) {
    const qs = quantilesOf(args[1]);
    // the estimate gets the argument's type back, as DuckDB's approx_quantile does
    const duck = valueType(args[0], table);
    if (!qs || !duck || !sketchable.has(duck)) return null;
    return { kind: 'quantile', arg: exprSql(args[0]), ...qs, duck };
  }
  return null;
}


/** The cast of a quantile estimate (DOUBLE, or epoch µs for timestamps) back to the argument's type. */
function estimateElement(duck: DuckType): (v: string) => string {
  if (isTime(duck)) return (v) => `${duck === 'TIMESTAMP' ? 'make_timestamp' : 'make_timestamptz'}(${v})`;
  return (v) => (duck === 'DOUBLE' ? v : `CAST(round(${v}) AS ${duck})`);
}

/** ROLLUP(…) / CUBE(…) / GROUPING SETS: several groupings per row, not one key. */
function groupingFunction(g: Ast): boolean {
  const name = g?.type === 'function' ? calledName(g) : null;
  return name !== null && /^(rollup|cube|grouping sets|grouping_sets)$/.test(name);
}

export interface PartialAggregate { input: ShippedInput; mergeSql: string }

/** Marks a merged value inside an output expression; replaced by its merge SQL after printing. */
const markPrefix = '__wt_merged_';

/**
 * An output expression over group keys and mergeable aggregates (count(*) FILTER (…)::float /
 * count(*), avg(latency) / 1e6, round(100.0 * sum(x) / count(*), 2), …): the same expression at
 * the broker with each aggregate replaced by its merge and each group key by its column; null when
 * it reads a column outside an aggregate and a group key, a window, a subquery, a sketch or an
 * aggregate the split cannot merge (by syntax or by name: `aggregateNames`).
 */
function mergedExpression(expr: Ast, groupSql: string[], merge: (agg: NonNullable<ReturnType<typeof aggregate>>) => string, aggregateNames: ReadonlySet<string>): string | null {
  const merged: string[] = [];
  let ok = true;
  const mark = (sql: string): Ast => {
    merged.push(sql);
    return { type: 'column_ref', table: null, column: `${markPrefix}${merged.length - 1}` };
  };
  const walk = (node: Ast): Ast => {
    if (!ok || node === null || typeof node !== 'object') return node;
    if (Array.isArray(node)) return node.map(walk);
    if (typeof node.type === 'string') {
      let sql: string | null = null;
      try { sql = exprSql(node); } catch { sql = null; }
      const key = sql === null ? -1 : groupSql.indexOf(sql);
      if (key >= 0) return mark(`_g${key}`);
      const name = calledName(node);
      if (node.type === 'aggr_func' || (name !== null && aggregateNames.has(name))) {
        const agg = aggregate(node);
        if (!agg) ok = false;
        return agg ? mark(merge(agg)) : node;
      }
      if (node.type === 'column_ref' || node.type === 'select' || node.type === 'star' || node.over) {
        ok = false;
        return node;
      }
    }
    return Object.fromEntries(Object.entries(node).map(([k, v]) => [k, walk(v)]));
  };
  const out = walk(expr);
  if (!ok || merged.length === 0) return null;
  let sql = exprSql(out);
  // each mark printed once as an identifier (quoted or not), replaced by its merge in parentheses
  for (let i = merged.length - 1; i >= 0; i--) {
    const m = new RegExp(`"?${markPrefix}${i}"?(?![0-9])`);
    if (!m.test(sql)) return null;
    sql = sql.replace(m, `(${merged[i]})`);
  }
  return sql;
}

/** aggregateNames: lower-case names of every aggregate function (the merge database's). */
export function splitPartialAggregate(ast: Ast, table: string, whereSql: string | null, aggregateNames: ReadonlySet<string> = new Set()): PartialAggregate | null {
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
  // expr null: an output that reads another's sketch (only when finals is non-empty)
  const mergeItems: Array<[expr: string | null, name: string]> = [];
  // sketch partials: reduced to text by an outer SELECT on the node, finalized by one at the broker
  const nodeReduce: string[] = [];
  // output position → its sketch call and the position whose merged text it reads (itself, or the first call sharing the sketch)
  const finals = new Map<number, { sk: Sketch; from: number }>();
  const sketches = new Map<string, number>();
  let p = 0;
  /** Node partials of one mergeable aggregate (pushed to nodeItems); the broker's merge of them. */
  const merge = (agg: NonNullable<ReturnType<typeof aggregate>>): string => {
    const arg = agg.arg?.type === 'star' ? '*' : exprSql(agg.arg);
    const at = p;
    switch (agg.fn) {
      case 'COUNT':
        nodeItems.push(`count(${arg})${agg.filter} AS _p${at}`);
        p += 1;
        return `CAST(coalesce(sum(_p${at}), 0) AS BIGINT)`;
      case 'AVG':
        nodeItems.push(`sum(${arg})${agg.filter} AS _p${at}`, `count(${arg})${agg.filter} AS _p${at + 1}`);
        p += 2;
        return `CAST(sum(_p${at}) AS DOUBLE) / nullif(sum(_p${at + 1}), 0)`;
      default: // SUM, MIN, MAX
        nodeItems.push(`${agg.fn.toLowerCase()}(${arg})${agg.filter} AS _p${at}`);
        p += 1;
        return `${agg.fn.toLowerCase()}(_p${at})`;
    }
  };
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
      // one sketch per kind and argument: approx_quantile(x, 0.5) and approx_quantile(x, [0.9, 0.99]) share x's
      const time = sk.kind === 'quantile' && isTime(sk.duck);
      const key = `${sk.kind === 'hll' ? 'hll' : time ? 'time' : 'dd'}:${sk.arg}`;
      const shared = sketches.get(key);
      finals.set(mergeItems.length, { sk, from: shared ?? mergeItems.length });
      if (shared !== undefined) {
        mergeItems.push([null, name]);
        continue;
      }
      sketches.set(key, mergeItems.length);
      const [aggregateSql, reduceSql] = sk.kind === 'hll' ? [hllNodeAggregate, hllNodeReduce] : time ? [ddTimeNodeAggregate, ddTimeNodeReduce] : [ddNodeAggregate, ddNodeReduce];
      nodeItems.push(`${aggregateSql(sk.arg)} AS _p${p}`);
      nodeReduce.push(`${reduceSql(`_p${p}`)} AS _p${p}`);
      mergeItems.push([`string_agg(_p${p}, '${time ? ddTimeSeparator : ','}')`, name]);
      p += 1;
      continue;
    }
    const agg = aggregate(c.expr);
    const merged = agg ? merge(agg) : mergedExpression(c.expr, groupSql, merge, aggregateNames);
    if (merged === null) return null;
    mergeItems.push([merged, name]);
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
    const inner = mergeItems.flatMap(([e], i) => (e === null ? [] : [`${e} AS _o${i}`]));
    // each sketch finalized for all groups in one flat query _sJ (rows _gid, r), joined to the
    // groups by _gid; a quantile sketch computes every quantile asked of it (in order of first appearance)
    const picks = new Map<number, { qs: number[]; duck: DuckType | null }>();
    for (const { sk, from } of finals.values()) {
      const pick = picks.get(from) ?? picks.set(from, { qs: [], duck: sk.kind === 'quantile' ? sk.duck : null }).get(from)!;
      if (sk.kind === 'quantile') for (const q of sk.qs) if (!pick.qs.includes(q)) pick.qs.push(q);
    }
    const outer = mergeItems.map(([, n], i) => {
      const f = finals.get(i);
      if (!f) return `_o${i} AS ${n}`;
      if (f.sk.kind === 'hll') return `coalesce(_s${f.from}.r, 0) AS ${n}`;
      const all = picks.get(f.from)!.qs;
      const at = f.sk.qs.map((q) => all.indexOf(q) + 1);
      const r = `_s${f.from}.r`;
      if (!f.sk.list) return `${r}[${at[0]}] AS ${n}`;
      const whole = at.length === all.length && at.every((k, j) => k === j + 1);
      return `${whole ? r : `CASE WHEN ${r} IS NULL THEN NULL ELSE [${at.map((k) => `${r}[${k}]`).join(', ')}] END`} AS ${n}`;
    });
    // MATERIALIZED: _m is read by every _sJ and the final join, and its row_number() must be one numbering
    const ctes = [...picks].map(([j, { qs, duck }]) => `, _s${j} AS (${duck === null ? hllByGroup('_m', `_o${j}`)
      : (isTime(duck) ? ddTimeQuantilesByGroup : ddQuantilesByGroup)('_m', `_o${j}`, qs, estimateElement(duck))})`);
    const joins = [...picks.keys()].map((j) => ` LEFT JOIN _s${j} USING (_gid)`);
    mergeSql = `WITH _m AS MATERIALIZED (SELECT row_number() OVER () AS _gid, ${inner.join(', ')} FROM ${partsTable}${groupBy})${ctes.join('')} `
      + `SELECT ${outer.join(', ')} FROM _m${joins.join('')}${orderLimit}`;
  }
  return { input: { name: partsTable, nodeSql }, mergeSql };
}
