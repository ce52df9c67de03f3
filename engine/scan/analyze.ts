// What a statement needs from the store, found before it runs: which tables and columns it may
// read (a conservative token scan), and which WHERE conjuncts can prune batches — time ranges on
// the time column, and conditions on upid/metadata columns (turned into UPID sets). Parsing uses
// DuckDB's own parser (json_serialize_sql), so what is pruned is exactly what DuckDB will run.
import type { DuckDBConnection } from '@duckdb/node-api';
import { literal } from '../sql-text.ts';

/** Lower-cased identifiers in the text, and whether a `*` other than `count(*)` appears. */
export function referencedNames(sql: string): { names: Set<string>; star: boolean } {
  const names = new Set<string>();
  const text = sql.replace(/'(?:[^']|'')*'/g, "''"); // string literals name nothing
  for (const m of text.matchAll(/"((?:[^"]|"")+)"|([A-Za-z_][A-Za-z0-9_$]*)/g)) {
    names.add((m[1] !== undefined ? m[1].replace(/""/g, '"') : m[2]!).toLowerCase());
  }
  const star = /(^|[^(\s])\s*\*/.test(text.replace(/\(\s*\*\s*\)/g, '()'));
  return { names, star };
}

type Json = Record<string, unknown>;

type Op = '>' | '>=' | '<' | '<=' | '=';

/** A conjunct whose columns are all in a set: its JSON (for DuckDB to evaluate) by kind. */
export interface Pushdown {
  /** Comparisons of a range column (time, integers) with a constant expression. */
  ranges: Array<{ column: string; op: Op; expr: Json }>;
  /** Conjuncts that read only upid/metadata columns (qualifiers stripped). */
  meta: Json[];
  /**
   * Range columns the statement reads nowhere but in `ranges` (every reference to them is the
   * column side of one of those comparisons; no `*`, no reference to the whole row): DuckDB uses
   * their values for those comparisons alone, so in a batch whose every row satisfies them any
   * value that satisfies them too gives the same result (the scan sends a constant).
   */
  rangeOnly: Set<string>;
}

const compareOps: Record<string, Op> = {
  COMPARE_GREATERTHAN: '>',
  COMPARE_GREATERTHANOREQUALTO: '>=',
  COMPARE_LESSTHAN: '<',
  COMPARE_LESSTHANOREQUALTO: '<=',
  COMPARE_EQUAL: '=',
};
const flipped: Record<string, Op> = { '>': '<', '>=': '<=', '<': '>', '<=': '>=', '=': '=' };

/** Longer texts are not kept: 256 of them could hold hundreds of MB. */
const maxCachedKey = 64 * 1024;

/** A Map that forgets its least recently used entry beyond `max`. */
export class Lru<K, V> {
  private readonly map = new Map<K, V>();
  constructor(readonly max: number) {}
  get size(): number {
    return this.map.size;
  }
  get(key: K): V | undefined {
    const v = this.map.get(key);
    if (v !== undefined) {
      this.map.delete(key);
      this.map.set(key, v);
    }
    return v;
  }
  set(key: K, value: V): void {
    if (typeof key === 'string' && key.length > maxCachedKey) return;
    this.map.delete(key);
    this.map.set(key, value);
    if (this.map.size > this.max) this.map.delete(this.map.keys().next().value as K);
  }
}

/**
 * Parser results by text (json_serialize_sql / json_deserialize_sql depend on the text alone,
 * never on data or time): dashboards resend the same statement, and each saves a round trip
 * (~1 ms each at low load). Values are texts, parsed per use, so no caller sees another's edits.
 */
export const parseCache = new Lru<string, string>(256);

export async function serialize(conn: DuckDBConnection, sql: string): Promise<Json | null> {
  const key = `s:${sql}`;
  let text = parseCache.get(key);
  if (text === undefined) {
    // Inlined as a literal, not a parameter: a prepared statement costs two more round trips.
    const reader = await conn.runAndReadAll(`SELECT json_serialize_sql(${literal(sql)})`);
    // Positions can exceed 2^53 and would not survive JSON.parse; they mean nothing here.
    text = String(reader.getRows()[0]?.[0] ?? '').replace(/"query_location":\s*\d+/g, '"query_location":0');
    parseCache.set(key, text);
  }
  // Other integers beyond double precision would change meaning: then no pushdown at all.
  for (const m of text.matchAll(/[:[,]\s*(-?\d{16,})/g)) if (!Number.isSafeInteger(Number(m[1]))) return null;
  const parsed = JSON.parse(text) as Json;
  return parsed.error ? null : parsed;
}

function isObj(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Column names read by an expression, or null if it holds a subquery (never pushed down). */
function columnsOf(e: unknown, out: string[][] = []): string[][] | null {
  if (Array.isArray(e)) {
    for (const x of e) if (columnsOf(x, out) === null) return null;
    return out;
  }
  if (!isObj(e)) return out;
  if (e.class === 'SUBQUERY' || e.type === 'SUBQUERY') return null;
  if (e.class === 'COLUMN_REF') {
    out.push((e.column_names as string[]).map((s) => s.toLowerCase()));
    return out;
  }
  for (const v of Object.values(e)) if (columnsOf(v, out) === null) return null;
  return out;
}

function stripQualifiers(e: unknown): unknown {
  if (Array.isArray(e)) return e.map(stripQualifiers);
  if (!isObj(e)) return e;
  const copy: Json = {};
  for (const [k, v] of Object.entries(e)) copy[k] = stripQualifiers(v);
  if (e.class === 'COLUMN_REF') copy.column_names = [(e.column_names as string[]).at(-1)];
  return copy;
}

/** Strings anywhere in the statement (column references aside) that contain `name`. */
function mentions(e: unknown, name: string): number {
  if (typeof e === 'string') return e.toLowerCase().includes(name) ? 1 : 0;
  if (Array.isArray(e)) return e.reduce((s: number, x) => s + mentions(x, name), 0);
  if (!isObj(e) || e.class === 'COLUMN_REF') return 0;
  return Object.values(e).reduce((s: number, v) => s + mentions(v, name), 0);
}

function conjuncts(where: unknown): unknown[] {
  if (isObj(where) && where.type === 'CONJUNCTION_AND') return (where.children as unknown[]).flatMap(conjuncts);
  return where ? [where] : [];
}

/**
 * Pushdown for a single-table SELECT over `table`; null for anything else (joins, set
 * operations, CTEs: those scan the whole snapshot, which is always correct).
 */
export function pushdownFor(stmt: Json, table: string, rangeColumns: ReadonlySet<string>, metaColumns: ReadonlySet<string>): Pushdown | null {
  const statements = stmt.statements as Json[] | undefined;
  const node = statements?.[0]?.node as Json | undefined;
  if (!node || node.type !== 'SELECT_NODE') return null;
  const cte = node.cte_map as { map?: unknown[] } | undefined;
  if (cte?.map?.length) return null;
  const from = node.from_table as Json;
  if (from?.type !== 'BASE_TABLE' || String(from.table_name).toLowerCase() !== table) return null;
  if (from.schema_name && !['main', 'temp'].includes(String(from.schema_name).toLowerCase())) return null;
  // The view is shared by every reference to the table in the statement (a subquery in the
  // select list, EXISTS, a SQL string given to query()): pruned or prefiltered rows would be
  // missing there. Only a statement that names the table once gets pushdown.
  if (mentions(stmt, table) !== 1) return null;
  const qualifiers = new Set([table, String(from.alias ?? '').toLowerCase()].filter(Boolean));
  const mine = (names: string[]) => names.length === 1 || (names.length === 2 && qualifiers.has(names[0]!));
  const rangeName = (e: Json): string | null => {
    const n = (e.column_names as string[]).map((x) => x.toLowerCase());
    return mine(n) && rangeColumns.has(n.at(-1)!) ? n.at(-1)! : null;
  };
  const out: Pushdown = { ranges: [], meta: [], rangeOnly: new Set() };
  const rangeConjuncts: unknown[] = [];
  for (const c of conjuncts(node.where_clause)) {
    const cols = columnsOf(c);
    if (!cols || cols.length === 0 || !cols.every(mine)) continue;
    const names = new Set(cols.map((n) => n.at(-1)!));
    if ([...names].every((n) => metaColumns.has(n))) {
      out.meta.push(stripQualifiers(c) as Json);
      continue;
    }
    if (!isObj(c)) continue;
    const op = compareOps[String(c.type)];
    if (op) {
      const left = columnsOf(c.left)!;
      const right = columnsOf(c.right)!;
      const rangeColumn = (e: unknown) => (isObj(e) && e.class === 'COLUMN_REF' ? rangeName(e) : null);
      const l = rangeColumn(c.left);
      const r = rangeColumn(c.right);
      if (l && right.length === 0) out.ranges.push({ column: l, op, expr: c.right as Json });
      else if (r && left.length === 0) out.ranges.push({ column: r, op: flipped[op]!, expr: c.left as Json });
      else continue;
      rangeConjuncts.push(c);
    } else if (c.class === 'BETWEEN' && isObj(c.input) && c.input.class === 'COLUMN_REF' && rangeName(c.input)) {
      const column = rangeName(c.input)!;
      const lower = columnsOf(c.lower)!.length === 0;
      const upper = columnsOf(c.upper)!.length === 0;
      if (lower) out.ranges.push({ column, op: '>=', expr: c.lower as Json });
      if (upper) out.ranges.push({ column, op: '<=', expr: c.upper as Json });
      if (lower && upper) rangeConjuncts.push(c);
    }
  }
  const all = columnRefs(stmt);
  if (all && ![...qualifiers].some((q) => all.has(q))) {
    for (const [name, n] of columnRefs(rangeConjuncts)!) if (all.get(name) === n && rangeColumns.has(name)) out.rangeOnly.add(name);
  }
  return out;
}

/**
 * Whether the statement reads a whole row of `table` as a value (`SELECT h FROM http_events h`,
 * `row_to_json(h)`): a one-part column reference naming the table or one of its aliases that is
 * not also one of its columns. Such a statement needs every column, like `*`.
 */
export function readsWholeRow(stmt: Json, table: string, columns: ReadonlySet<string>): boolean {
  const qualifiers = new Set<string>();
  const refs: string[] = [];
  const walk = (e: unknown): void => {
    if (Array.isArray(e)) return e.forEach(walk);
    if (!isObj(e)) return;
    if (e.type === 'BASE_TABLE' && String(e.table_name).toLowerCase() === table) {
      qualifiers.add(table);
      if (e.alias) qualifiers.add(String(e.alias).toLowerCase());
    }
    if (e.class === 'COLUMN_REF' && (e.column_names as string[]).length === 1) refs.push(String((e.column_names as string[])[0]).toLowerCase());
    for (const v of Object.values(e)) walk(v);
  };
  walk(stmt);
  return refs.some((r) => qualifiers.has(r) && !columns.has(r));
}

/** References per column name (last part, lower-cased) in the tree; null if it holds a `*`/COLUMNS. */
function columnRefs(e: unknown, out = new Map<string, number>()): Map<string, number> | null {
  if (Array.isArray(e)) {
    for (const x of e) if (columnRefs(x, out) === null) return null;
    return out;
  }
  if (!isObj(e)) return out;
  if (e.class === 'STAR') return null;
  if (e.class === 'COLUMN_REF') {
    const name = String((e.column_names as string[]).at(-1)).toLowerCase();
    out.set(name, (out.get(name) ?? 0) + 1);
    return out;
  }
  for (const v of Object.values(e)) if (columnRefs(v, out) === null) return null;
  return out;
}

/** Aggregates: a SELECT whose every item is one of these, without GROUP BY, gives one row. */
const aggregates = new Set([
  'count_star', 'count', 'sum', 'avg', 'mean', 'min', 'max', 'median', 'quantile', 'quantile_cont', 'quantile_disc',
  'approx_quantile', 'approx_count_distinct', 'any_value', 'first', 'last', 'arg_min', 'arg_max', 'string_agg',
  'stddev', 'stddev_pop', 'stddev_samp', 'variance', 'var_pop', 'var_samp', 'bool_and', 'bool_or', 'mode',
]);

/**
 * The statement is a single SELECT of aggregate calls only (each item `agg(...)`, no GROUP BY,
 * no QUALIFY): its result is one row, so it can be materialized instead of streamed.
 */
export function isOneRowAggregate(stmt: Json | null): boolean {
  const statements = stmt?.statements as Json[] | undefined;
  const node = statements?.length === 1 ? (statements[0]!.node as Json | undefined) : undefined;
  if (!node || node.type !== 'SELECT_NODE' || node.qualify) return false;
  if ((node.group_expressions as unknown[] | undefined)?.length || (node.group_sets as unknown[] | undefined)?.length) return false;
  const items = node.select_list as unknown[] | undefined;
  return !!items?.length && items.every((e) => isObj(e) && e.class === 'FUNCTION' && !e.schema && !e.catalog && aggregates.has(String(e.function_name)));
}

/** Parsed templates by SQL text (a handful: one round trip saved per pushed-down conjunct). */
const templates = new Map<string, string>();

/** SQL text of `SELECT <expr>` / `SELECT upid FROM <table> WHERE <cond>` built from parsed pieces. */
export async function deserialize(conn: DuckDBConnection, template: string, patch: (node: Json) => void): Promise<string> {
  let text = templates.get(template);
  if (text === undefined) {
    const parsed = await serialize(conn, template);
    if (!parsed) throw new Error(`cannot serialize template ${template}`);
    templates.set(template, (text = JSON.stringify(parsed)));
  }
  const stmt = JSON.parse(text) as Json;
  patch((stmt.statements as Json[])[0]!.node as Json);
  return deserializeStatement(conn, stmt);
}

/**
 * JSON text of a parsed statement for json_deserialize_sql. As JSON.stringify, except that an
 * integral DOUBLE/FLOAT constant keeps its fraction: DuckDB wrote `1000000.0` for `1e6`, JSON.parse
 * made it the number 1000000, and DuckDB refuses `1000000` for a double ("property 'value'
 * expected type 'double', but got type: 'uint'").
 */
export function statementJson(v: unknown, doubleValue = false): string {
  if (typeof v === 'number') return doubleValue && Number.isInteger(v) && Math.abs(v) < 1e21 ? `${v}.0` : JSON.stringify(v);
  if (Array.isArray(v)) return `[${v.map((x) => statementJson(x)).join(',')}]`;
  if (isObj(v)) {
    const t = v.type;
    const double = isObj(t) && (t.id === 'DOUBLE' || t.id === 'FLOAT');
    const fields = Object.entries(v).filter(([, x]) => x !== undefined && typeof x !== 'function');
    return `{${fields.map(([k, x]) => `${JSON.stringify(k)}:${statementJson(x, double && k === 'value')}`).join(',')}}`;
  }
  return JSON.stringify(v) ?? 'null';
}

/** SQL text of a whole parsed statement (json_deserialize_sql), cached like `deserialize`'s. */
export async function deserializeStatement(conn: DuckDBConnection, stmt: Json): Promise<string> {
  const json = statementJson(stmt);
  const key = `d:${json}`;
  let out = parseCache.get(key);
  if (out === undefined) {
    const reader = await conn.runAndReadAll(`SELECT json_deserialize_sql(${literal(json)})`);
    out = String(reader.getRows()[0]?.[0]);
    parseCache.set(key, out);
  }
  return out;
}

/**
 * Inclusive, conservative [lo, hi] per range column implied by the conjuncts: time columns in µs
 * (the constant cast to TIMESTAMPTZ), others as numbers (cast to DOUBLE). A constant DuckDB
 * cannot evaluate on its own is skipped (the statement will report it when it runs).
 */
export async function rangeBounds(
  conn: DuckDBConnection, ranges: Pushdown['ranges'], isTime: (column: string) => boolean, timeZone = 'UTC',
): Promise<Map<string, Bound>> {
  // Literals, casts and pure functions of literals only: the same value on every run in the same
  // TimeZone (the connection's: '2025-11-21'::TIMESTAMPTZ is local midnight), so kept with the
  // text and the zone. Anything with a function (now(), current_timestamp, 1+2) is evaluated
  // again each time.
  const key = ranges.every((t) => isLiteral(t.expr)) ? `b:${timeZone}:${JSON.stringify(ranges.map((t) => [t.column, t.op, isTime(t.column), t.expr]))}` : null;
  const hit = key === null ? undefined : boundsCache.get(key);
  if (hit) return new Map(hit.map(([c, b]) => [c, { ...b }]));
  const out = await evaluateBounds(conn, ranges, isTime);
  if (key !== null) boundsCache.set(key, [...out].map(([c, b]) => [c, { ...b }]));
  return out;
}

const boundsCache = new Lru<string, Array<[string, Bound]>>(256);

/**
 * What the evaluated conjuncts on one column imply: every value they accept is in [lo, hi]
 * (outward by a slack for rounding); every value in [slo, shi] satisfies each of them (inward by
 * the same slack; empty for `=`). `terms`: conjuncts evaluated (one that fails is left out).
 */
export interface Bound {
  lo: number;
  hi: number;
  slo: number;
  shi: number;
  terms: number;
}

/** Built-in functions whose value depends on their arguments alone. */
const pureFunctions = new Set(['+', '-', '*', '/', 'make_timestamp', 'make_timestamptz', 'make_date', 'to_timestamp', 'epoch_ms']);

function isLiteral(e: unknown): boolean {
  if (Array.isArray(e)) return e.every(isLiteral);
  if (!isObj(e)) return true;
  if (e.class === 'FUNCTION') {
    if (!pureFunctions.has(String(e.function_name)) || e.schema || e.catalog) return false;
  } else if (typeof e.class === 'string' && e.class !== 'CONSTANT' && e.class !== 'CAST') return false;
  return Object.values(e).every(isLiteral);
}

async function evaluateBounds(
  conn: DuckDBConnection, ranges: Pushdown['ranges'], isTime: (column: string) => boolean,
): Promise<Map<string, Bound>> {
  const out = new Map<string, Bound>();
  const values = ranges.length > 1 ? await allBounds(conn, ranges, isTime) : null;
  for (const [k, t] of ranges.entries()) {
    let v: unknown;
    if (values) v = values[k];
    else {
      try {
        const select = (await deserialize(conn, 'SELECT 1', (n) => { (n.select_list as unknown[])[0] = t.expr; })).replace(/^SELECT /i, '');
        const sql = isTime(t.column) ? `SELECT epoch_us((${select})::TIMESTAMPTZ)` : `SELECT (${select})::DOUBLE`;
        v = (await conn.runAndReadAll(sql)).getRows()[0]?.[0];
      } catch {
        continue;
      }
    }
    if (v === null || v === undefined) continue;
    const x = Number(v);
    if (Number.isNaN(x)) continue;
    const slack = Math.max(1, Math.abs(x) * 1e-15);
    const b = out.get(t.column) ?? { lo: -Infinity, hi: Infinity, slo: -Infinity, shi: Infinity, terms: 0 };
    if (t.op === '>' || t.op === '>=' || t.op === '=') b.lo = Math.max(b.lo, x - slack);
    if (t.op === '<' || t.op === '<=' || t.op === '=') b.hi = Math.min(b.hi, x + slack);
    if (t.op === '>' || t.op === '>=') b.slo = Math.max(b.slo, x + slack);
    if (t.op === '<' || t.op === '<=') b.shi = Math.min(b.shi, x - slack);
    if (t.op === '=') b.slo = Infinity;
    b.terms++;
    out.set(t.column, b);
  }
  return out;
}

/** The first CONSTANT node of a parsed expression replaced by `expr` (a copy). */
function withConstant(node: unknown, expr: Json): unknown {
  let done = false;
  const walk = (n: unknown): unknown => {
    if (done) return n;
    if (Array.isArray(n)) return n.map(walk);
    if (!isObj(n)) return n;
    if (n.class === 'CONSTANT') {
      done = true;
      return expr;
    }
    return Object.fromEntries(Object.entries(n).map(([k, v]) => [k, walk(v)]));
  };
  return walk(node);
}

/**
 * Every bound in one statement (two round trips instead of two per conjunct: under load each
 * costs milliseconds). Null when any of them fails: then each is evaluated on its own.
 */
async function allBounds(conn: DuckDBConnection, ranges: Pushdown['ranges'], isTime: (column: string) => boolean): Promise<unknown[] | null> {
  try {
    const sql = await deserialize(conn, 'SELECT epoch_us(CAST(1 AS TIMESTAMPTZ)), CAST(1 AS DOUBLE)', (n) => {
      const [time, num] = n.select_list as unknown[];
      n.select_list = ranges.map((t) => withConstant(isTime(t.column) ? time : num, t.expr));
    });
    const row = (await conn.runAndReadAll(sql)).getRows()[0];
    return row && row.length === ranges.length ? row : null;
  } catch {
    return null;
  }
}
