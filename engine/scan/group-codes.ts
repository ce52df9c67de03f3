// GROUP BY a text column as GROUP BY its table-wide codes (text-codes.ts): DuckDB then hashes
// integers, not every row's string, and only the output rows are turned back into strings
// (`wiretap_code_text(code) AS <the column's name>` in the select list). The answer is the same
// because codes and strings correspond one to one (NULL stays NULL, its own group), and every
// other part of the statement still sees the string column (WHERE) or the decoded one (ORDER BY by
// position or output name). Only the shapes below are rewritten; anything else runs as written.
import { codeColumnName } from './scan-plan.ts';
import { codeTextFunctionName } from './scan-function.ts';

type Json = Record<string, unknown>;

function isObj(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Some node of the tree satisfies `f`. */
function some(e: unknown, f: (n: Json) => boolean): boolean {
  if (Array.isArray(e)) return e.some((x) => some(x, f));
  if (!isObj(e)) return false;
  if (f(e)) return true;
  return Object.values(e).some((v) => some(v, f));
}

const lower = (s: unknown) => String(s ?? '').toLowerCase();

/** A column reference whose last part is one of `names` (qualified or not). */
const refersTo = (names: ReadonlySet<string>) => (n: Json) =>
  n.class === 'COLUMN_REF' && names.has(lower((n.column_names as string[]).at(-1)));

/** Parts the rewrite cannot reason about: subqueries, `*`/COLUMNS, lambdas, window functions. */
const opaque = (n: Json) =>
  n.class === 'SUBQUERY' || n.type === 'SUBQUERY' || n.class === 'STAR' || n.class === 'LAMBDA' || n.class === 'WINDOW' ||
  n.class === 'COLUMNS';

const isIntConstant = (e: unknown): boolean =>
  isObj(e) && e.class === 'CONSTANT' && isObj(e.value) && !(e.value as Json).is_null && ['INTEGER', 'BIGINT'].includes(String(((e.value as Json).type as Json)?.id));

export interface GroupByCode {
  /** The grouped text column (schema name). */
  column: string;
  /** The statement with the group key and its select item replaced (serialize it back). */
  stmt: Json;
}

/**
 * The rewrite of a single SELECT over `table` grouped by one of its `textColumns`, or null:
 * FROM the table alone (optionally aliased, no sample), one plain GROUP BY key naming the column
 * (by name, or by position/alias of a select item that is the column), select items that are the
 * column itself (at most one) or expressions that never name it, a HAVING that never names it,
 * ORDER BY by position or output name only, constant LIMIT/OFFSET, no DISTINCT/QUALIFY/CTE.
 */
export function groupByCode(stmt: Json, table: string, columns: readonly string[], textColumns: ReadonlySet<string>): GroupByCode | null {
  const statements = stmt.statements as Json[] | undefined;
  if (statements?.length !== 1) return null;
  const node = statements[0]!.node as Json;
  if (!isObj(node) || node.type !== 'SELECT_NODE' || node.qualify || node.sample) return null;
  if ((node.cte_map as { map?: unknown[] } | undefined)?.map?.length) return null;
  const from = node.from_table as Json;
  if (!isObj(from) || from.type !== 'BASE_TABLE' || lower(from.table_name) !== table || from.sample || from.at_clause) return null;
  if (from.schema_name && !['main', 'temp'].includes(lower(from.schema_name))) return null;
  if (from.catalog_name || (from.column_name_alias as unknown[] | undefined)?.length) return null;
  if (node.aggregate_handling !== 'STANDARD_HANDLING') return null;
  const groups = node.group_expressions as unknown[];
  if (groups?.length !== 1 || JSON.stringify(node.group_sets) !== '[[0]]') return null;
  if (some(node, opaque)) return null;
  const modifiers = (node.modifiers as Json[] | undefined) ?? [];
  if (!modifiers.every((m) => m.type === 'ORDER_MODIFIER' || m.type === 'LIMIT_MODIFIER')) return null;

  const qualifiers = new Set([table, lower(from.alias)].filter(Boolean));
  const tableColumns = new Set(columns.map(lower));
  const asColumn = (e: unknown): string | null => {
    if (!isObj(e) || e.class !== 'COLUMN_REF') return null;
    const n = (e.column_names as string[]).map(lower);
    if (n.length === 2 && !qualifiers.has(n[0]!)) return null;
    return n.length <= 2 && textColumns.has(n.at(-1)!) ? n.at(-1)! : null;
  };
  const items = node.select_list as Json[];
  // The group key: the column, or the position / alias of a select item that is the column.
  const g = groups[0];
  let column = asColumn(g);
  if (!column && isIntConstant(g)) {
    const k = Number(((g as Json).value as Json).value);
    column = k >= 1 && k <= items.length ? asColumn(items[k - 1]) : null;
  }
  if (!column && isObj(g) && g.class === 'COLUMN_REF' && (g.column_names as string[]).length === 1) {
    const name = lower((g.column_names as string[])[0]);
    const item = tableColumns.has(name) ? undefined : items.find((it) => lower(it.alias) === name);
    column = item ? asColumn(item) : null;
  }
  if (!column) return null;
  const at = items.findIndex((it) => asColumn(it) === column);
  if (items.some((it, k) => k !== at && asColumn(it) === column)) return null;
  const alias = at >= 0 ? String(items[at]!.alias ?? '') : '';
  // The item's alias must not shadow a table column, nor be read anywhere but ORDER BY.
  if (alias && lower(alias) !== column && tableColumns.has(lower(alias))) return null;
  const names = new Set([column, ...(alias ? [lower(alias)] : [])]);
  if (items.some((it, k) => k !== at && some(it, refersTo(names)))) return null;
  if (some(node.having, refersTo(names))) return null;
  if (alias && lower(alias) !== column && some(node.where_clause, refersTo(new Set([lower(alias)])))) return null;
  // ORDER BY: positions, or names of output columns (which the outer binding resolves first).
  const outputs = new Set(items.map((it) => lower(it.alias) || (it.class === 'COLUMN_REF' ? lower((it.column_names as string[]).at(-1)) : '')).filter(Boolean));
  for (const m of modifiers) {
    if (m.type === 'LIMIT_MODIFIER') {
      if (![m.limit, m.offset].every((e) => e == null || (isObj(e) && e.class === 'CONSTANT'))) return null;
      continue;
    }
    for (const o of m.orders as Json[]) {
      const e = o.expression as Json;
      if (isIntConstant(e)) {
        const k = Number((e.value as Json).value);
        if (!(k >= 1 && k <= items.length)) return null;
      } else if (!(e.class === 'COLUMN_REF' && (e.column_names as string[]).length === 1 && outputs.has(lower((e.column_names as string[])[0])))) {
        return null;
      }
    }
  }

  const copy = JSON.parse(JSON.stringify(stmt)) as Json;
  const n = (copy.statements as Json[])[0]!.node as Json;
  const code = (): Json => ({ class: 'COLUMN_REF', type: 'COLUMN_REF', alias: '', query_location: 0, column_names: [codeColumnName(column)] });
  n.group_expressions = [code()];
  if (at >= 0) {
    // The output keeps the column's name: its alias, else the schema's name of the column.
    (n.select_list as Json[])[at] = {
      class: 'FUNCTION', type: 'FUNCTION', alias: alias || columns.find((c) => lower(c) === column)!, query_location: 0,
      function_name: codeTextFunctionName, schema: '', children: [code()], filter: null,
      order_bys: { type: 'ORDER_MODIFIER', orders: [] }, distinct: false, is_operator: false, export_state: false, catalog: '',
    };
  }
  return { column: columns.find((c) => lower(c) === column)!, stmt: copy };
}
