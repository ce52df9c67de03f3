// node-sql-parser (PostgreSQL dialect) behind a narrow interface: parse one statement, print
// expressions and statements back. The AST is untyped JSON; the helpers here name what we use.
import pkg from 'node-sql-parser';

const { Parser } = pkg as unknown as { Parser: new () => SqlParser };
interface SqlParser {
  astify(sql: string, opt: object): unknown;
  sqlify(ast: unknown, opt: object): string;
  exprToSQL(expr: unknown, opt: object): string;
}

const parser = new Parser();
const opt = { database: 'postgresql' };

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Ast = any;

/** The statement's AST, or null when it is not exactly one statement the parser understands. */
export function parseOne(sql: string): Ast | null {
  try {
    const ast = parser.astify(sql, opt);
    if (Array.isArray(ast)) return ast.length === 1 ? ast[0] : null;
    return ast;
  } catch {
    return null;
  }
}

export function exprSql(expr: Ast): string {
  return parser.exprToSQL(expr, opt);
}

export function statementSql(ast: Ast): string {
  return parser.sqlify(ast, opt);
}

/** True when the expression (or anything inside it) contains a node of this type. */
export function contains(expr: Ast, type: string): boolean {
  if (expr === null || typeof expr !== 'object') return false;
  if (expr.type === type) return true;
  return Object.values(expr).some((v) => contains(v, type));
}

/** The column name of a plain column reference, else null. */
export function columnName(expr: Ast): string | null {
  if (expr?.type !== 'column_ref') return null;
  const c = expr.column;
  return typeof c === 'string' ? c : typeof c?.expr?.value === 'string' ? c.expr.value : null;
}

/** A top-level AND chain as its conjuncts. */
export function conjuncts(where: Ast): Ast[] {
  if (!where) return [];
  if (where.type === 'binary_expr' && where.operator === 'AND') return [...conjuncts(where.left), ...conjuncts(where.right)];
  return [where];
}

export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/** The name a call calls (the last part of a qualified name), lower-cased; null when not a call. */
export function calledName(node: Ast): string | null {
  if (node?.type === 'aggr_func') return String(node.name).toLowerCase();
  if (node?.type !== 'function') return null;
  const n = node.name?.name;
  const last = Array.isArray(n) ? n[n.length - 1]?.value : n;
  return typeof last === 'string' ? last.toLowerCase() : null;
}

/** True when the expression calls an aggregate: COUNT/SUM/… or any function named in `names`. */
export function hasAggregate(expr: Ast, names: ReadonlySet<string>): boolean {
  if (expr === null || typeof expr !== 'object') return false;
  if (expr.type === 'aggr_func') return true;
  const name = calledName(expr);
  if (name !== null && names.has(name)) return true;
  return Object.values(expr).some((v) => hasAggregate(v, names));
}
