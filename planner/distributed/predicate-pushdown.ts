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
 */
export function timeFilterOf(where: Ast, table: string): TimeFilter | null {
  const lower: string[] = [];
  const upper: string[] = [];
  for (const c of conjuncts(where)) {
    if (c?.type !== 'binary_expr') continue;
    if (c.operator === 'BETWEEN' && columnName(c.left) === 'time_' && c.right?.type === 'expr_list' && c.right.value.length === 2 && c.right.value.every(constant)) {
      lower.push(exprSql(c.right.value[0]));
      upper.push(exprSql(c.right.value[1]));
      continue;
    }
    let op: string | undefined = c.operator;
    let bound: Ast;
    if (columnName(c.left) === 'time_' && constant(c.right)) bound = c.right;
    else if (columnName(c.right) === 'time_' && constant(c.left)) { bound = c.left; op = flipped[op!]; }
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
