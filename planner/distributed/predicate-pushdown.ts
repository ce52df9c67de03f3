// Predicate pushdown and node pruning: a single-table WHERE runs on the nodes as a whole (every
// node has the same schema, so any predicate is local); its top-level conjuncts on pod /
// namespace / service (= literal, IN literals) also name the nodes that can hold matches.
import { columnName, conjuncts, exprSql, type Ast } from './sql-ast.ts';
import type { PodFilter } from './plan.ts';

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
