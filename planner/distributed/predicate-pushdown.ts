// Predicate pushdown and node pruning: a single-table WHERE runs on the nodes as a whole (every
// node has the same schema, so any predicate is local); its top-level conjuncts on pod /
// namespace / service (= literal, IN literals) also name the nodes that can hold matches.
import { columnName, conjuncts, contains, exprSql, type Ast } from './sql-ast.ts';
import type { PodFilter, TimeFilter } from './plan.ts';

const metadataColumns = new Set(['pod', 'namespace', 'service']);

export function pushedPredicates(where: Ast): string[] {
  return conjuncts(where).map(exprSql);
}

function literals(expr: Ast): string[] | null {
  const one = (e: Ast) => (e?.type === 'single_quote_string' || e?.type === 'string' ? String(e.value) : null);
  if (expr?.type === 'expr_list') {
    const vs = (expr.value as Ast[]).map(one);
    return vs.every((v) => v !== null) ? (vs as string[]) : null;
  }
  const v = one(expr);
  return v === null ? null : [v];
}

const flipped: Record<string, string> = { '<': '>', '<=': '>=', '>': '<', '>=': '<=', '=': '=' };

/** An expression the broker can evaluate on its own: no columns, no subqueries. */
function constant(e: Ast): boolean {
  return e !== null && typeof e === 'object' && !contains(e, 'column_ref') && !contains(e, 'select');
}

/**
 * Lower and upper bounds on time_ from the top-level conjuncts (time_ >, >=, <, <=, = x;
 * time_ BETWEEN a AND b; either side). Bounds are treated as inclusive: pruning stays conservative.
 * `owner`: in a SELECT reading several tables, only `owner.name.time_` counts (a bare time_ only
 * when the SELECT reads that one table).
 */
export function timeFilterOf(where: Ast, table: string, owner?: { name: string; alone: boolean }): TimeFilter | null {
  const lower: string[] = [];
  const upper: string[] = [];
  const isTime = (e: Ast) => columnName(e) === 'time_' && (!owner || (e.table ? e.table === owner.name : owner.alone));
  for (const c of conjuncts(where)) {
    if (c?.type !== 'binary_expr') continue;
    if (c.operator === 'BETWEEN' && isTime(c.left) && c.right?.type === 'expr_list' && c.right.value.length === 2 && c.right.value.every(constant)) {
      lower.push(exprSql(c.right.value[0]));
      upper.push(exprSql(c.right.value[1]));
      continue;
    }
    let op: string | undefined = c.operator;
    let bound: Ast;
    if (isTime(c.left) && constant(c.right)) bound = c.right;
    else if (isTime(c.right) && constant(c.left)) { bound = c.left; op = flipped[op!]; }
    else continue;
    if (op === '>' || op === '>=' || op === '=') lower.push(exprSql(bound));
    if (op === '<' || op === '<=' || op === '=') upper.push(exprSql(bound));
  }
  return lower.length || upper.length ? { table, lower, upper } : null;
}

/** The metadata filter implied by the WHERE clause, or null when it names none. */
export function podFilterOf(where: Ast): PodFilter | null {
  const filter: PodFilter = {};
  for (const c of conjuncts(where)) {
    if (c.type !== 'binary_expr' || (c.operator !== '=' && c.operator !== 'IN')) continue;
    const col = columnName(c.left);
    if (!col || !metadataColumns.has(col)) continue;
    const values = literals(c.right);
    if (!values) continue;
    const key = col as keyof PodFilter;
    // two conjuncts on one column: the node must satisfy both, keep the intersection
    filter[key] = filter[key] ? filter[key]!.filter((v) => values.includes(v)) : values;
  }
  return Object.keys(filter).length > 0 ? filter : null;
}

/**
 * Joins, subqueries, CTEs: per telemetry table, the time_ bounds of every place the statement reads
 * it (each SELECT whose FROM names it: the WHERE conjuncts on its own time_). A node whose rows of
 * the table lie outside all of them holds nothing any read can use. Only WHERE conjuncts count, not
 * ON: a bound on time_ rejects NULL too, so it drops the same rows after any join (outer ones
 * included) whether or not the node was asked. A table is left out when one of its reads has no
 * bounds, or when the reads found differ from `occurrences` (names the walk does not see as reads).
 */
export function tableTimeFilters(ast: Ast, occurrences: Map<string, number>, isTelemetry: (t: string) => boolean): Map<string, TimeFilter[]> {
  const reads = new Map<string, Array<TimeFilter | null>>();
  let shadowed = false; // a CTE named like a telemetry table: its reads are not the table's
  const visit = (node: Ast): void => {
    if (node === null || typeof node !== 'object') return;
    if (Array.isArray(node)) { node.forEach(visit); return; }
    for (const w of Array.isArray(node.with) ? node.with : []) if (isTelemetry(String(w?.name?.value ?? ''))) shadowed = true;
    if (node.type === 'select' && Array.isArray(node.from)) {
      const from = node.from as Ast[];
      for (const f of from) {
        if (!f?.table || f.db || !isTelemetry(String(f.table))) continue;
        const table = String(f.table);
        const filter = timeFilterOf(node.where, table, { name: String(f.as ?? f.table), alone: from.length === 1 });
        reads.set(table, [...(reads.get(table) ?? []), filter]);
      }
    }
    for (const v of Object.values(node)) if (v && typeof v === 'object') visit(v);
  };
  visit(ast);
  const out = new Map<string, TimeFilter[]>();
  if (shadowed) return out;
  for (const [table, filters] of reads) {
    if (filters.length === occurrences.get(table) && filters.every((f) => f !== null)) out.set(table, filters as TimeFilter[]);
  }
  return out;
}
