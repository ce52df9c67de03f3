// The distributed planner's entry: SQL → DistributedPlan. Rules are tried from the cheapest to
// ship: partial aggregation, then projection/top-n pushdown, then shipping filtered rows of the
// one table, then shipping whole tables (joins, subqueries, unparsed SQL) — both of those only
// the columns the statement names (projection.ts). Every strategy is exact; the later ones ship more.
import { telemetryTableNames } from '../catalog/catalog-objects.ts';
import { tokenize } from '../sql/lexer.ts';
import { contains, exprSql, hasAggregate, parseOne, type Ast } from './sql-ast.ts';
import type { DistributedPlan } from './plan.ts';
import { podFilterOf, pushedPredicates, tableTimeFilters, timeFilterOf } from './predicate-pushdown.ts';
import { sketchFiltersAsArguments, splitPartialAggregate } from './partial-aggregate.ts';
import { splitTopN } from './top-n.ts';
import { readInputs } from './read-inputs.ts';
import { projectionOf, type Projection } from './projection.ts';

/** Telemetry tables the statement names (by token, so it works for SQL the parser rejects). */
export function telemetryTablesIn(sql: string): string[] {
  return [...telemetryOccurrences(sql).keys()].sort();
}

/** How often each telemetry table is named. */
function telemetryOccurrences(sql: string): Map<string, number> {
  const counts = new Map<string, number>();
  for (const t of tokenize(sql)) if ((t.kind === 'ident' || t.kind === 'qident') && telemetryTableNames.has(t.value)) counts.set(t.value, (counts.get(t.value) ?? 0) + 1);
  return counts;
}

/** projection: the columns each table ships (default: whole rows). */
export function shipTables(sql: string, tables: string[], reason: string, projection: Projection = projectionOf(sql, null)): DistributedPlan {
  if (tables.length === 0) return { strategy: 'broker-only', inputs: [], mergeSql: sql, pushedPredicates: [], podFilter: null };
  return {
    strategy: 'ship-tables',
    inputs: tables.map((t) => ({ name: t, nodeSql: `SELECT ${projection.listFor(t)} FROM ${t}` })),
    mergeSql: sql,
    pushedPredicates: [],
    podFilter: null,
    reason,
  };
}

const modelledClauses = new Set(['with', 'type', 'options', 'distinct', 'columns', 'into', 'from', 'where', 'groupby', 'having', 'orderby', 'limit', 'window', 'loc']);

/** The one telemetry table a simple SELECT reads, or null. */
function singleTable(ast: Ast): string | null {
  if (ast?.type !== 'select' || ast.with || ast.into?.position || ast._next || ast.set_op) return null;
  const from: Ast[] = ast.from ?? [];
  if (from.length !== 1 || from[0].join || from[0].expr || from[0].db) return null;
  const name = String(from[0].table ?? '');
  return telemetryTableNames.has(name) ? name : null;
}

/** aggregateNames: lower-case names of every aggregate function (DuckDB's duckdb_functions()). */
export function planDistributed(sql: string, aggregateNames: ReadonlySet<string>): DistributedPlan {
  const tables = telemetryTablesIn(sql);
  if (tables.length === 0) return shipTables(sql, tables, '');
  // a sketch's FILTER becomes part of its argument (the parser knows FILTER on built-in aggregates only)
  const ast = parseOne(sketchFiltersAsArguments(sql));
  if (!ast) return shipTables(sql, tables, 'the planner could not parse the statement');
  const table = singleTable(ast);
  const projection = projectionOf(sql, ast);
  if (!table || from0Alias(ast) || contains(ast.where, 'select') || contains(ast.columns, 'select')) {
    const occurrences = telemetryOccurrences(sql);
    const isTelemetry = (t: string) => telemetryTableNames.has(t);
    const read = readInputs(ast, tables, occurrences, isTelemetry, projection);
    const plan = { ...shipTables(sql, tables, 'joins, subqueries and CTEs run at the broker over shipped tables, each filtered by its own read'), inputs: read.inputs, pushedPredicates: read.pushed };
    // each table's nodes pruned by the time_ bounds of its own reads
    const times = tableTimeFilters(ast, occurrences, isTelemetry);
    return { ...plan, inputs: plan.inputs.map((i) => (times.has(i.name) ? { ...i, timeFilters: times.get(i.name)! } : i)) };
  }
  const whereSql = ast.where ? exprSql(ast.where) : null;
  const pushed = ast.where ? pushedPredicates(ast.where) : [];
  const podFilter = ast.where ? podFilterOf(ast.where) : null;
  const timeFilter = ast.where ? timeFilterOf(ast.where, table) : null;
  const hasWindow = JSON.stringify(ast.columns).includes('"over":{');
  // clauses the split rules do not model (named WINDOW, GROUP BY modifiers, anything newer) ship rows
  const modelled = !Object.entries(ast).some(([k, v]) => !modelledClauses.has(k) && v !== null && v !== undefined)
    && !ast.window && !(ast.groupby?.modifiers ?? []).some((m: unknown) => m);
  const aggregates = hasAggregate(ast.columns, aggregateNames) || hasAggregate(ast.orderby, aggregateNames) || (ast.groupby?.columns?.length ?? 0) > 0;
  if (modelled && aggregates && !hasWindow && !ast.having && !ast.distinct?.type) {
    const split = splitPartialAggregate(ast, table, whereSql, aggregateNames);
    if (split) return { strategy: 'partial-aggregate', inputs: [split.input], mergeSql: split.mergeSql, pushedPredicates: pushed, podFilter, timeFilter };
  }
  if (modelled && !aggregates && !hasWindow) {
    const split = splitTopN(ast);
    if (split) return { strategy: 'node-rows', inputs: [split.input], mergeSql: split.mergeSql, pushedPredicates: pushed, podFilter, timeFilter };
  }
  return {
    strategy: 'ship-rows',
    inputs: [{ name: table, nodeSql: `SELECT ${projection.listFor(table)} FROM ${table}${whereSql ? ` WHERE ${whereSql}` : ''}` }],
    mergeSql: sql,
    pushedPredicates: pushed,
    podFilter,
    timeFilter,
    reason: 'DISTINCT, HAVING, window functions, or aggregates / ORDER BY the merge rules cannot split run over all rows at the broker',
  };
}

/** A FROM alias (http_events h) would need renaming in the shipped-rows merge; keep it simple. */
function from0Alias(ast: Ast): boolean {
  return Boolean(ast.from?.[0]?.as);
}
