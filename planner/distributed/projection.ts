// Projection pushdown for shipped tables: a node ships only the columns of a table the statement
// names, not SELECT * — headers and bodies are most of an http_events row's bytes, and e.g. an
// exact quantile or count(DISTINCT …) reads one column. The columns kept are every column of the
// table whose name occurs as an identifier anywhere in the statement's text: a superset of what
// it reads (aliases, other tables' columns and lambda parameters of the same name only add a
// column), so a reference the parser represents oddly can never be left out. Whole rows still
// ship when the statement can read columns it does not name: a star other than count(*),
// COLUMNS(…), NATURAL JOIN, or a table or alias used as a value (DuckDB makes the row a struct).
import { relations } from '../catalog/catalog-objects.ts';
import { tokenize } from '../sql/lexer.ts';
import { calledName, quoteIdent, type Ast } from './sql-ast.ts';

/** Each telemetry table's (and engine view's) column names as queries see them. */
export const columnsOf: ReadonlyMap<string, readonly string[]> = new Map(relations.map((r) => [r.name, r.columns.map((c) => c.name)]));

/** What a statement lets a node leave out of a shipped table. */
export interface Projection {
  /** The select list a node ships for `table`: its named columns, or '*'. */
  listFor(table: string): string;
}

const whole: Projection = { listFor: () => '*' };

/** The projection of `sql` (ast: its parse, null when the parser rejected it: whole rows). */
export function projectionOf(sql: string, ast: Ast | null): Projection {
  if (!ast) return whole;
  const tokens = tokenize(sql);
  if (tokens.some((t) => t.kind === 'ident' && t.value === 'natural')) return whole;
  if (readsUnnamed(ast, relationNames(ast))) return whole;
  const named = new Set(tokens.filter((t) => t.kind === 'ident' || t.kind === 'qident').map((t) => t.value.toLowerCase()));
  return {
    listFor(table) {
      const all = columnsOf.get(table);
      if (!all) return '*';
      const kept = all.filter((c) => named.has(c));
      // count(*) alone still needs the rows: the first column (time_ on the event tables) carries them
      return (kept.length ? kept : all.slice(0, 1)).map(quoteIdent).join(', ');
    },
  };
}

/** Table names and aliases in every FROM of the statement (subqueries and CTEs included). */
function relationNames(ast: Ast, out = new Set<string>()): Set<string> {
  if (ast === null || typeof ast !== 'object') return out;
  if (Array.isArray(ast.from)) {
    for (const f of ast.from as Ast[]) {
      if (typeof f?.table === 'string') out.add(f.table.toLowerCase());
      if (typeof f?.as === 'string') out.add(f.as.toLowerCase());
    }
  }
  for (const v of Object.values(ast)) if (v && typeof v === 'object') relationNames(v, out);
  return out;
}

/** The name a column reference reads, lower-cased ('*' for a star), or null when not plain. */
function refName(ref: Ast): string | null {
  const c = ref.column;
  if (typeof c === 'string') return c.toLowerCase();
  return typeof c?.expr?.value === 'string' ? c.expr.value.toLowerCase() : null;
}

/** True when the statement may read columns without naming them. */
function readsUnnamed(node: Ast, relations: Set<string>): boolean {
  if (node === null || typeof node !== 'object') return false;
  if (node.type === 'star') return true;
  if (node.type === 'column_ref') {
    const name = refName(node);
    if (name === null || name === '*' || relations.has(name)) return true;
  }
  if (node.type === 'function' && calledName(node) === 'columns') return true;
  for (const [k, v] of Object.entries(node)) {
    if (!v || typeof v !== 'object') continue;
    // count(*) counts rows, which every projection keeps
    if (k === 'args' && node.type === 'aggr_func' && String(node.name).toUpperCase() === 'COUNT' && (v as Ast).expr?.type === 'star') continue;
    if (readsUnnamed(v, relations)) return true;
  }
  return false;
}
