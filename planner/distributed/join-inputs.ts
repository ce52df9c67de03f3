// Filtered inputs for joins: each telemetry table of an inner join is shipped with the WHERE
// conjuncts that name only its columns (qualified by its alias or name), so a join ships what
// can match instead of whole tables. The broker still runs the whole statement, WHERE included.
// Only when every join is inner and each table is read once (a subquery reading the same table
// would see the filtered rows too); outer joins ship whole tables.
import { conjuncts, exprSql, type Ast } from './sql-ast.ts';
import type { ShippedInput } from './plan.ts';
import type { Projection } from './projection.ts';

function refs(expr: Ast, out: Ast[] = []): Ast[] {
  if (expr === null || typeof expr !== 'object') return out;
  if (expr.type === 'column_ref') out.push(expr);
  for (const v of Object.values(expr)) if (v && typeof v === 'object') refs(v, out);
  return out;
}

function unqualified(expr: Ast): Ast {
  const copy = structuredClone(expr);
  for (const r of refs(copy)) r.table = null;
  return copy;
}

/** Per-table pushed predicates for an inner join, or null when the statement is not one. */
export function joinInputs(ast: Ast, tables: string[], occurrences: Map<string, number>, isTelemetry: (t: string) => boolean, projection: Projection): { inputs: ShippedInput[]; pushed: string[] } | null {
  if (ast?.type !== 'select' || ast.with || ast._next || !Array.isArray(ast.from) || ast.from.length < 2) return null;
  const aliasOf = new Map<string, string>(); // alias or name → table
  for (const f of ast.from as Ast[]) {
    if (!f.table || f.expr || f.db || !isTelemetry(String(f.table))) return null;
    if (f.join && !/^(INNER )?JOIN$/i.test(String(f.join))) return null;
    if (occurrences.get(String(f.table)) !== 1) return null;
    aliasOf.set(String(f.as ?? f.table), String(f.table));
    aliasOf.set(String(f.table), String(f.table));
  }
  const perTable = new Map<string, string[]>(tables.map((t) => [t, []]));
  const pushed: string[] = [];
  for (const c of conjuncts(ast.where)) {
    if (JSON.stringify(c).includes('"type":"select"')) continue;
    const owners = new Set(refs(c).map((r) => (r.table ? aliasOf.get(String(r.table)) ?? '?' : '?')));
    if (owners.size !== 1 || owners.has('?')) continue;
    const table = [...owners][0]!;
    const sql = exprSql(unqualified(c));
    perTable.get(table)?.push(sql);
    pushed.push(exprSql(c));
  }
  return {
    inputs: tables.map((t) => {
      const preds = perTable.get(t) ?? [];
      return { name: t, nodeSql: `SELECT ${projection.listFor(t)} FROM ${t}${preds.length ? ` WHERE ${preds.map((p) => `(${p})`).join(' AND ')}` : ''}` };
    }),
    pushed,
  };
}
