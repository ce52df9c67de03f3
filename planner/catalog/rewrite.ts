// PostgreSQL catalog SQL → SQL the catalog DuckDB runs. Token edits only (string literals,
// quoted identifiers and comments are never touched):
//   pg_catalog.x → x (our tables and macros in `main` shadow DuckDB's own pg_catalog)
//   information_schema.x → wt_information_schema.x;  public.x → x
//   OPERATOR(pg_catalog.~) → ~;  COLLATE pg_catalog.default / "C" → (dropped)
//   'name'::regclass → its oid;  expr::regclass → its name (also regtype, regnamespace)
//   current_setting('x'), current_user, current_database(), pg_backend_pid() → the session's values
//   to_char(value, 'format literal') → strftime and date parts (../sql/to-char.ts)
import { nextSignificant, prevSignificant, quoteLiteral, tokenize, type Token } from '../sql/lexer.ts';
import { toCharSql } from '../sql/to-char.ts';
import { infoSchemaName } from './catalog-ddl.ts';

export interface RewriteContext {
  user: string;
  database: string;
  processId: number;
  /** Current value of a setting, or undefined if unknown. */
  setting(name: string): string | undefined;
  /** Every setting with its current value (name, value), for pg_settings as this session sees it. */
  settings?(): Array<[string, string]>;
}

const blank = (t: Token): void => {
  t.text = '';
  t.kind = 'space';
};
const isPunct = (t: Token | undefined, p: string): boolean => t !== undefined && (t.kind === 'punct' || t.kind === 'op') && t.text === p;
const isName = (t: Token | undefined, name: string): boolean => t !== undefined && (t.kind === 'ident' || t.kind === 'qident') && t.value === name;

const castRewrites: Record<string, { literal: string; expr: string }> = {
  regclass: { literal: 'wt_regclass_oid', expr: 'wt_regclass_name' },
  regtype: { literal: 'wt_regtype_oid', expr: 'wt_regtype_name' },
  regnamespace: { literal: 'wt_regnamespace_name', expr: 'wt_regnamespace_name' },
};

export function rewriteCatalogSql(sql: string, ctx: RewriteContext, forEngine = false): string {
  const tokens = tokenize(sql);
  const sig = (i: number): number => nextSignificant(tokens, i);
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]!;
    if (t.kind === 'space' || t.kind === 'comment') continue;
    const n1 = sig(i + 1);
    const next = tokens[n1];
    const prev = tokens[prevSignificant(tokens, i)];
    const qualified = isPunct(prev, '.');
    // schema qualifiers
    if ((isName(t, 'pg_catalog') || isName(t, 'public')) && isPunct(next, '.') && !qualified) {
      blank(t);
      blank(next!);
      continue;
    }
    if (isName(t, 'information_schema') && isPunct(next, '.') && !qualified && !forEngine) {
      t.text = infoSchemaName;
      continue;
    }
    if (t.kind === 'ident' && t.value === 'operator' && isPunct(next, '(')) {
      // OPERATOR(pg_catalog.~) → ~
      let j = sig(n1 + 1);
      const parts: number[] = [];
      while (j < tokens.length && !isPunct(tokens[j], ')')) {
        parts.push(j);
        j = sig(j + 1);
      }
      const op = parts.map((k) => tokens[k]!).filter((x) => x.kind === 'op');
      if (op.length === 1 && j < tokens.length) {
        t.text = ` ${op[0]!.text} `;
        for (let k = i + 1; k <= j; k++) blank(tokens[k]!);
      }
      continue;
    }
    if (t.kind === 'ident' && t.value === 'collate') {
      // COLLATE "C" / pg_catalog.default: DuckDB collations differ and our text compares bytewise anyway
      let j = n1;
      while (j < tokens.length && (tokens[j]!.kind === 'ident' || tokens[j]!.kind === 'qident' || isPunct(tokens[j], '.') || tokens[j]!.kind === 'space')) {
        const done = (tokens[j]!.kind === 'ident' || tokens[j]!.kind === 'qident') && !isPunct(tokens[sig(j + 1)], '.');
        blank(tokens[j]!);
        if (done) break;
        j++;
      }
      blank(t);
      continue;
    }
    if (t.kind === 'op' && t.text === '::') {
      const cast = castTarget(tokens, n1);
      const literal = tokens[prevSignificant(tokens, i)];
      if (cast && literal?.kind === 'string' && isPunct(tokens[nextSignificant(tokens, cast.end + 1)], '[')) {
        // '{a,b}'::text[] (PostgreSQL array text; pgjdbc's getSQLKeywords sends one) → ['a','b']::text[]
        const items = parsePgArrayLiteral(literal.value);
        if (items) literal.text = `[${items.map((x) => (x === null ? 'NULL' : quoteLiteral(x))).join(', ')}]`;
        continue;
      }
      const rw = cast ? castRewrites[cast.name] : undefined;
      if (rw && cast) {
        const p = prevSignificant(tokens, i);
        const start = expressionStart(tokens, p);
        if (start >= 0) {
          const isLiteral = start === p && tokens[p]!.kind === 'string';
          tokens[start]!.text = `${isLiteral ? rw.literal : rw.expr}(${tokens[start]!.text}`;
          tokens[p]!.text += ')';
          blank(t);
          for (let k = i + 1; k <= cast.end; k++) blank(tokens[k]!);
        }
      }
      continue;
    }
    if (t.kind !== 'ident' || qualified) continue;
    if (t.value === 'pg_settings' && ctx.settings && !forEngine && !isPunct(next, '(') && !isPunct(next, '.') && inFromClause(tokens, i)) {
      // the table holds the defaults; the session's SET values replace them
      const values = ctx.settings().map(([n, v]) => `(${quoteLiteral(n.toLowerCase())}, ${quoteLiteral(v)})`).join(', ');
      const aliased = next !== undefined && (isName(next, 'as') || ((next.kind === 'ident' || next.kind === 'qident') && !clauseWords.has(next.value)));
      t.text = `(SELECT wt_p.* REPLACE (coalesce(wt_s.v, wt_p.setting) AS setting) FROM main.pg_settings wt_p LEFT JOIN (VALUES ${values}) wt_s(n, v) ON wt_s.n = lower(wt_p.name))${aliased ? '' : ' AS pg_settings'}`;
      continue;
    }
    const called = isPunct(next, '(');
    if (called && (t.value === 'any' || t.value === 'some') && isPunct(prev, '=')) {
      rewriteEqualsAny(tokens, i, n1);
      continue;
    }
    if (called && arrayValuedInFrom.has(t.value) && inFromClause(tokens, i)) {
      wrapScalarInFrom(tokens, i, n1);
      continue;
    }
    if (called && setReturning.has(t.value)) {
      if (inFromClause(tokens, i)) aliasSetReturningColumn(tokens, n1);
      else if (t.value === 'generate_subscripts') {
        // in a select list: unnest(wt_subscripts(a, d)) (DuckDB table functions cannot stand there)
        t.text = 'unnest(wt_subscripts';
        tokens[matchingParen(tokens, n1)]!.text += ')';
      }
    }
    if (called && t.value === 'cast') {
      rewriteCastCall(tokens, i, n1);
      continue;
    }
    if (called && t.value === 'format' && !forEngine) {
      rewriteFormat(tokens, i, n1);
      continue;
    }
    if (called && renamedFunctions[t.value]) t.text = renamedFunctions[t.value]!;
    switch (t.value) {
      case 'current_user':
      case 'session_user':
      case 'current_role':
      case 'user':
        if (!called && !isPunct(next, '.') && !isName(prev, 'as')) t.text = quoteLiteral(ctx.user);
        break;
      case 'current_catalog':
        if (!called) t.text = quoteLiteral(ctx.database);
        break;
      case 'current_schema':
        if (!called) t.text = "'public'";
        break;
      case 'current_database':
      case 'pg_backend_pid':
        if (called && isPunct(tokens[sig(n1 + 1)], ')')) {
          t.text = t.value === 'current_database' ? quoteLiteral(ctx.database) : String(ctx.processId);
          const close = sig(n1 + 1);
          for (let k = i + 1; k <= close; k++) blank(tokens[k]!);
        }
        break;
      case 'current_setting': {
        // current_setting('name'[, missing_ok]) with a literal name → the session's value
        const a = sig(n1 + 1);
        if (!called || tokens[a]?.kind !== 'string') break;
        let close = sig(a + 1);
        let missingOk = false;
        if (isPunct(tokens[close], ',')) {
          const flag = sig(close + 1);
          missingOk = isName(tokens[flag], 'true');
          close = sig(flag + 1);
        }
        if (!isPunct(tokens[close], ')')) break;
        const value = ctx.setting(tokens[a]!.value);
        if (value === undefined && !missingOk) break; // the macro reports nothing; leave it
        t.text = value === undefined ? 'NULL::VARCHAR' : quoteLiteral(value);
        for (let k = i + 1; k <= close; k++) blank(tokens[k]!);
        break;
      }
    }
  }
  // innermost first: an outer call's argument text then already holds the inner one's rewrite
  for (let i = tokens.length - 1; i >= 0; i--) {
    if (isName(tokens[i], 'to_char') && tokens[i]!.kind === 'ident' && isPunct(tokens[nextSignificant(tokens, i + 1)], '(')) rewriteToChar(tokens, i);
  }
  return tokens.map((x) => x.text).join('');
}

/**
 * to_char(value, 'format') → its DuckDB expression. Only a literal format is translated (others
 * are left for DuckDB to reject: it has no to_char). As a bare select-list item it keeps
 * PostgreSQL's column name, to_char.
 */
function rewriteToChar(tokens: Token[], at: number): void {
  const open = nextSignificant(tokens, at + 1);
  const close = matchingParen(tokens, open);
  const commas = atTopLevel(tokens, open, close, (t) => isPunct(t, ','));
  if (commas.length !== 1) return;
  const comma = commas[0]!;
  const fmt = tokens[nextSignificant(tokens, comma + 1)];
  if (fmt?.kind !== 'string' || nextSignificant(tokens, nextSignificant(tokens, comma + 1) + 1) !== close) return;
  const value = tokens.slice(open + 1, comma).map((x) => x.text).join('').trim();
  const next = tokens[nextSignificant(tokens, close + 1)];
  const prev = tokens[prevSignificant(tokens, at)];
  const startsItem = isPunct(prev, ',') || isName(prev, 'select') || isName(prev, 'distinct') || isName(prev, 'all');
  const bare = startsItem && inSelectList(tokens, at) && (next === undefined || isPunct(next, ',') || isPunct(next, ')') || isPunct(next, ';') || isName(next, 'from'));
  tokens[at]!.text = toCharSql(value, fmt.value) + (bare ? ' AS to_char' : '');
  for (let k = at + 1; k <= close; k++) blank(tokens[k]!);
}

/** True when token i is in a select list (not inside a call or another clause). */
function inSelectList(tokens: Token[], i: number): boolean {
  return enclosingClause(tokens, i) === 'select';
}

/**
 * CAST(x AS regclass|regtype|regnamespace) → the same macros as `x::regclass`. A text operand
 * (a literal, or built with format()/||/concat — Metabase's `CAST(FORMAT('%I.%I', s, t) AS REGCLASS)`)
 * names a relation and becomes its oid; anything else is an oid and becomes its name.
 */
function rewriteCastCall(tokens: Token[], at: number, open: number): void {
  const close = matchingParen(tokens, open);
  const asAt = atTopLevel(tokens, open, close, (t) => isName(t, 'as')).pop();
  if (asAt === undefined) return;
  const target = castTarget(tokens, nextSignificant(tokens, asAt + 1));
  const rw = target ? castRewrites[target.name] : undefined;
  if (!rw || !target || nextSignificant(tokens, target.end + 1) !== close) return;
  const operand = tokens.slice(open + 1, asAt);
  const isText = operand.some((x) => x.kind === 'string' || (x.kind === 'op' && x.text === '||') || isName(x, 'format') || isName(x, 'concat'));
  tokens[at]!.text = isText ? rw.literal : rw.expr;
  for (let k = prevSignificant(tokens, asAt) + 1; k < close; k++) blank(tokens[k]!);
}

/**
 * PostgreSQL's format('…%s…%I…%L…', args) → DuckDB's printf with %I/%L arguments wrapped in
 * quote_ident/quote_literal (catalog database only: those are its macros). DuckDB's own format()
 * uses {} placeholders, so a literal PostgreSQL format string would come back unchanged.
 */
function rewriteFormat(tokens: Token[], at: number, open: number): void {
  const close = matchingParen(tokens, open);
  const fmtAt = nextSignificant(tokens, open + 1);
  const fmt = tokens[fmtAt];
  if (fmt?.kind !== 'string' || !fmt.value.includes('%')) return;
  // the arguments after the format string: [first, last] significant token of each
  const args: Array<[number, number]> = [];
  let depth = 0;
  let first = -1;
  let last = -1;
  for (let k = fmtAt + 1; k < close; k++) {
    const tk = tokens[k]!;
    if (depth === 0 && isPunct(tk, ',')) {
      if (first >= 0) args.push([first, last]);
      first = -1;
      continue;
    }
    if (isPunct(tk, '(')) depth++;
    else if (isPunct(tk, ')')) depth--;
    if (tk.kind !== 'space' && tk.kind !== 'comment') {
      if (first < 0) first = k;
      last = k;
    }
  }
  if (first >= 0) args.push([first, last]);
  let argIndex = 0;
  let bad = false;
  const printfFormat = fmt.value.replace(/%(.)/g, (whole, spec: string) => {
    if (spec === '%') return '%%';
    const arg = args[argIndex++];
    if (!arg || !'sIL'.includes(spec)) {
      bad = true;
      return whole;
    }
    if (spec !== 's') {
      tokens[arg[0]]!.text = `${spec === 'I' ? 'quote_ident' : 'quote_literal'}(${tokens[arg[0]]!.text}`;
      tokens[arg[1]]!.text += ')';
    }
    return '%s';
  });
  if (bad) return;
  tokens[at]!.text = 'printf';
  fmt.text = quoteLiteral(printfFormat);
}

/** Elements of a one-dimensional PostgreSQL array literal ('{a,"b c",NULL}'); null if it is not one. */
export function parsePgArrayLiteral(text: string): Array<string | null> | null {
  const s = text.trim();
  if (!s.startsWith('{') || !s.endsWith('}')) return null;
  const body = s.slice(1, -1);
  const items: Array<string | null> = [];
  if (body.trim() === '') return items;
  let i = 0;
  for (;;) {
    while (body[i] === ' ') i++;
    let item: string | null;
    if (body[i] === '"') {
      item = '';
      for (i++; i < body.length && body[i] !== '"'; i++) item += body[i] === '\\' ? body[++i] ?? '' : body[i];
      if (body[i] !== '"') return null;
      i++;
    } else {
      const end = body.indexOf(',', i);
      const raw = (end < 0 ? body.slice(i) : body.slice(i, end)).trim();
      if (/[{}"]/.test(raw)) return null; // nested arrays and stray quotes: not ours to guess
      item = /^null$/i.test(raw) ? null : raw;
      i = end < 0 ? body.length : end;
    }
    items.push(item);
    while (body[i] === ' ') i++;
    if (i >= body.length) return items;
    if (body[i] !== ',') return null;
    i++;
  }
}

/** PostgreSQL functions with a different name (and the same arguments) in DuckDB. */
const renamedFunctions: Record<string, string> = {
  json_build_object: 'json_object',
  jsonb_build_object: 'json_object',
  json_build_array: 'json_array',
  jsonb_build_array: 'json_array',
  json_agg: 'json_group_array',
  jsonb_agg: 'json_group_array',
  json_object_agg: 'json_group_object',
  jsonb_object_agg: 'json_group_object',
};

/** Words that can follow a table in FROM without being its alias. */
const clauseWords = new Set(['on', 'where', 'join', 'left', 'right', 'inner', 'cross', 'full', 'group', 'order', 'limit', 'union', 'natural',
  'lateral', 'having', 'window', 'offset', 'except', 'intersect', 'using', 'outer', 'fetch', 'for']);

/** Set-returning functions whose table alias PostgreSQL lets stand for the single column. */
const setReturning = new Set(['generate_series', 'unnest', 'generate_subscripts']);

/**
 * `x = ANY(array)` → `list_contains(array, x)`: DuckDB plans ANY over a list like a subquery,
 * which it cannot put in an outer join's ON clause (pgjdbc and SQLAlchemy do exactly that).
 */
function rewriteEqualsAny(tokens: Token[], anyAt: number, open: number): void {
  const first = tokens[nextSignificant(tokens, open + 1)];
  if (first?.kind === 'ident' && ['select', 'with', 'values'].includes(first.value)) return; // a real subquery
  const eq = prevSignificant(tokens, anyAt);
  const p = prevSignificant(tokens, eq);
  const start = expressionStart(tokens, p);
  if (start < 0) return;
  const operand = tokens.slice(start, p + 1).map((x) => x.text).join('');
  for (let k = start; k <= eq; k++) blank(tokens[k]!);
  tokens[anyAt]!.text = 'list_contains';
  const close = matchingParen(tokens, open);
  tokens[close]!.text = `, ${operand})`;
}

/** Scalar (array-valued) functions PostgreSQL lets stand in FROM as a one-row table. */
const arrayValuedInFrom = new Set(['string_to_array', 'parse_ident', 'current_schemas', 'regexp_split_to_array']);

/** `string_to_array(…) s` in FROM → `(SELECT string_to_array(…) AS s) AS s`. */
function wrapScalarInFrom(tokens: Token[], at: number, open: number): void {
  const close = matchingParen(tokens, open);
  let a = nextSignificant(tokens, close + 1);
  if (isName(tokens[a], 'as')) a = nextSignificant(tokens, a + 1);
  const alias = tokens[a];
  const name = alias && (alias.kind === 'ident' || alias.kind === 'qident') ? alias.text : tokens[at]!.text;
  tokens[at]!.text = `(SELECT ${tokens[at]!.text}`;
  tokens[close]!.text = `) AS ${name})`;
}

/** Indices of the tokens between the parentheses at open and close, outside nested ones, that match. */
function atTopLevel(tokens: Token[], open: number, close: number, match: (t: Token) => boolean): number[] {
  const found: number[] = [];
  let depth = 0;
  for (let k = open + 1; k < close; k++) {
    const t = tokens[k]!;
    if (isPunct(t, '(')) depth++;
    else if (isPunct(t, ')')) depth--;
    else if (depth === 0 && match(t)) found.push(k);
  }
  return found;
}

/** Index of the ')' closing the '(' at open. */
function matchingParen(tokens: Token[], open: number): number {
  let depth = 0;
  for (let k = open; k < tokens.length; k++) {
    if (isPunct(tokens[k], '(')) depth++;
    else if (isPunct(tokens[k], ')') && --depth === 0) return k;
  }
  return tokens.length - 1;
}

/** True when token i sits in a FROM clause (the nearest clause keyword at its depth is FROM/JOIN). */
function inFromClause(tokens: Token[], i: number): boolean {
  const c = enclosingClause(tokens, i);
  return c === 'from' || c === 'join' || c === 'lateral';
}

const clauseStarts = new Set(['select', 'from', 'join', 'lateral', 'where', 'group', 'order', 'having', 'on', 'limit', 'returning', 'set', 'values']);

/** The clause keyword token i belongs to at its own depth; null inside parentheses that start no clause. */
function enclosingClause(tokens: Token[], i: number): string | null {
  let depth = 0;
  for (let k = i - 1; k >= 0; k--) {
    const t = tokens[k]!;
    if (isPunct(t, ')')) depth++;
    else if (isPunct(t, '(')) {
      if (depth === 0) return null;
      depth--;
    } else if (depth === 0 && t.kind === 'ident' && clauseStarts.has(t.value)) return t.value;
  }
  return null;
}

/** `generate_series(…) s` → `generate_series(…) s(s)`: in DuckDB a bare alias names the row, not its column. */
function aliasSetReturningColumn(tokens: Token[], open: number): void {
  let depth = 0;
  let k = open;
  for (; k < tokens.length; k++) {
    if (isPunct(tokens[k], '(')) depth++;
    else if (isPunct(tokens[k], ')') && --depth === 0) break;
  }
  let a = nextSignificant(tokens, k + 1);
  if (isName(tokens[a], 'as')) a = nextSignificant(tokens, a + 1);
  const alias = tokens[a];
  if (!alias || (alias.kind !== 'ident' && alias.kind !== 'qident') || isPunct(tokens[nextSignificant(tokens, a + 1)], '(')) return;
  if (['on', 'where', 'join', 'left', 'right', 'inner', 'cross', 'full', 'group', 'order', 'limit', 'union', 'with', 'natural', 'lateral'].includes(alias.value)) return;
  alias.text = `${alias.text}(${alias.text})`;
}

/** The type named after '::' at i: its lower-cased name and the index of its last token. */
function castTarget(tokens: Token[], i: number): { name: string; end: number } | null {
  let j = i;
  let t = tokens[j];
  // pg_catalog.regclass (the qualifier may already be blanked)
  if (isName(t, 'pg_catalog') && isPunct(tokens[nextSignificant(tokens, j + 1)], '.')) {
    j = nextSignificant(tokens, nextSignificant(tokens, j + 1) + 1);
    t = tokens[j];
  }
  if (!t || (t.kind !== 'ident' && t.kind !== 'qident')) return null;
  return { name: t.value, end: j };
}

/** Start index of the operand ending at token p: a literal, a dotted name, or a (…) group with its function name. */
function expressionStart(tokens: Token[], p: number): number {
  const t = tokens[p];
  if (!t) return -1;
  if (t.kind === 'string' || t.kind === 'number' || t.kind === 'param') return p;
  if (t.kind === 'ident' || t.kind === 'qident') {
    let s = p;
    for (;;) {
      const dot = prevSignificant(tokens, s);
      if (!isPunct(tokens[dot], '.')) return s;
      const before = prevSignificant(tokens, dot);
      if (tokens[before]?.kind !== 'ident' && tokens[before]?.kind !== 'qident') return s;
      s = before;
    }
  }
  if (isPunct(t, ')')) {
    let depth = 0;
    for (let k = p; k >= 0; k--) {
      if (isPunct(tokens[k], ')')) depth++;
      else if (isPunct(tokens[k], '(')) {
        depth--;
        if (depth === 0) {
          const fn = prevSignificant(tokens, k);
          return tokens[fn]?.kind === 'ident' ? expressionStart(tokens, fn) : k;
        }
      }
    }
  }
  return -1;
}
