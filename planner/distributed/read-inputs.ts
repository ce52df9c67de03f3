// Filtered inputs for statements that run at the broker over shipped tables (joins, subqueries,
// CTEs, set operations): each read of a telemetry table filters it by the WHERE conjuncts of the
// SELECT that reads it and the ON conjuncts of its own join, when they name only its columns. A
// table read once ships the rows its read's conjuncts keep; a table read several times (a
// self-join, a subquery over the same table) the rows any read keeps — the OR of the reads, or
// every row when one read has nothing to push. The broker still runs the whole statement, so a
// pushed conjunct is only ever applied twice, never lost. What a read does not push:
// - WHERE conjuncts on the nullable side of an outer join (they see the NULL rows the join adds);
//   its ON conjuncts on that side alone are pushed (a LEFT JOIN b ON … AND b.x > 5 = a LEFT JOIN
//   (b WHERE x > 5) ON …); RIGHT/FULL/NATURAL joins push nothing in their SELECT;
// - conjuncts with a subquery, or with a column that is not the table's own: another table's,
//   an outer query's (correlated), ambiguous, or unknown (an alias, a subquery's column).
import { columnName, conjuncts, exprSql, type Ast } from './sql-ast.ts';
import type { ShippedInput } from './plan.ts';
import { columnsOf, type Projection } from './projection.ts';

const columnSets = new Map([...columnsOf].map(([t, cs]) => [t, new Set(cs)]));

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

function qualifier(ref: Ast): string | null {
  const t = ref.table;
  if (t === null || t === undefined) return null;
  return String(typeof t === 'object' ? t.value : t).toLowerCase();
}

/** A pushed conjunct as the node runs it (unqualified) and as written (EXPLAIN). */
interface Conjunct { node: string; written: string }

/** One item of a SELECT's FROM: a telemetry table (columns known, its read's conjuncts) or anything else. */
interface FromItem { name: string; table: string | null; columns: Set<string> | null; join: string | null; on: Ast; read: Conjunct[] }

/** Per-table pushed conjuncts for a statement run at the broker over shipped tables. */
export function readInputs(ast: Ast, tables: string[], occurrences: Map<string, number>, isTelemetry: (t: string) => boolean, projection: Projection): { inputs: ShippedInput[]; pushed: string[] } {
  /** Per table: each read's pushed conjuncts (empty: the read needs every row). */
  const reads = new Map<string, Conjunct[][]>();
  let shadowed = false; // a CTE named like a telemetry table: names in FROM may be the CTE
  const visit = (node: Ast): void => {
    if (node === null || typeof node !== 'object') return;
    if (Array.isArray(node)) { node.forEach(visit); return; }
    for (const w of Array.isArray(node.with) ? node.with : []) if (isTelemetry(String(w?.name?.value ?? ''))) shadowed = true;
    if (node.type === 'select' && Array.isArray(node.from)) selectBlock(node);
    for (const v of Object.values(node)) if (v && typeof v === 'object') visit(v);
  };
  const selectBlock = (block: Ast): void => {
    const items: FromItem[] = (block.from as Ast[]).map((f) => {
      const telemetry = f?.table && !f.db && !f.expr && isTelemetry(String(f.table)) ? String(f.table) : null;
      const read: Conjunct[] = [];
      if (telemetry) reads.set(telemetry, [...(reads.get(telemetry) ?? []), read]);
      return {
        read,
        name: String(f?.as ?? f?.table ?? '').toLowerCase(), table: telemetry, columns: telemetry ? columnSets.get(telemetry) ?? null : null,
        join: f?.join ? String(f.join).toUpperCase() : null, on: f?.on ?? null,
      };
    });
    if (items.some((i) => i.join !== null && !/^((INNER |CROSS |LEFT |LEFT OUTER )?JOIN)$/.test(i.join))) return;
    // the one item a conjunct reads, when every column it names is that item's own
    const ownerOf = (c: Ast): FromItem | null => {
      if (JSON.stringify(c).includes('"type":"select"')) return null;
      let owner: FromItem | null = null;
      for (const r of refs(c)) {
        const q = qualifier(r);
        const col = columnName(r)?.toLowerCase();
        let item: FromItem | undefined;
        if (q !== null) item = items.find((i) => i.name === q);
        else {
          // unqualified: the one item with that column; unknown columns anywhere make it unsafe
          if (!col || items.some((i) => i.columns === null)) return null;
          const having = items.filter((i) => i.columns!.has(col));
          if (having.length !== 1) return null;
          item = having[0];
        }
        if (!item || !item.table || !col || !item.columns?.has(col) || (owner && owner !== item)) return null;
        owner = item;
      }
      return owner;
    };
    const push = (item: FromItem, c: Ast) => {
      item.read.push({ node: exprSql(unqualified(c)), written: exprSql(c) });
    };
    for (const c of conjuncts(block.where)) {
      const item = ownerOf(c);
      if (item && !item.join?.startsWith('LEFT')) push(item, c);
    }
    for (const item of items) {
      if (!item.table || !item.on) continue;
      for (const c of conjuncts(item.on)) if (ownerOf(c) === item) push(item, c);
    }
  };
  visit(ast);
  /** The table's shipped filter (node SQL, and as written for EXPLAIN), or null: every row. */
  const filterOf = (t: string): { node: string; written: string[] } | null => {
    const rs = reads.get(t) ?? [];
    if (shadowed || rs.length === 0 || rs.length !== occurrences.get(t) || rs.some((r) => r.length === 0)) return null;
    const and = (r: Conjunct[]) => r.map((c) => `(${c.node})`).join(' AND ');
    if (rs.length === 1) return { node: and(rs[0]!), written: rs[0]!.map((c) => c.written) };
    const node = rs.map((r) => (r.length === 1 ? and(r) : `(${and(r)})`)).join(' OR ');
    return { node, written: [node] };
  };
  const filters = new Map(tables.map((t) => [t, filterOf(t)]));
  return {
    inputs: tables.map((t) => {
      const f = filters.get(t);
      return { name: t, nodeSql: `SELECT ${projection.listFor(t)} FROM ${t}${f ? ` WHERE ${f.node}` : ''}` };
    }),
    pushed: tables.flatMap((t) => filters.get(t)?.written ?? []),
  };
}
