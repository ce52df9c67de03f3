// A PostgreSQL-flavoured SQL tokenizer that keeps every character: joining the tokens' text
// gives the input back, so rewrites (catalog names, parameters, PG-only syntax) are token
// edits that never touch string literals, quoted identifiers or comments.

export type TokenKind =
  | 'space' | 'comment' | 'ident' | 'qident' | 'string' | 'number' | 'param' | 'op' | 'punct';

export interface Token {
  kind: TokenKind;
  text: string;
  /** ident: lower-cased; qident: unquoted name; param: the number as a string; else text. */
  value: string;
}

const isIdentStart = (c: number): boolean => (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || c === 95 || c >= 128;
const isIdentChar = (c: number): boolean => isIdentStart(c) || (c >= 48 && c <= 57) || c === 36;
const isDigit = (c: number): boolean => c >= 48 && c <= 57;
const isSpace = (c: number): boolean => c === 32 || (c >= 9 && c <= 13);
const opChars = '+-*/<>=~!@#%^&|`?';

/** Tokens of sql; an unterminated quote or comment runs to the end (the splitter reports those). */
export function tokenize(sql: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  const push = (kind: TokenKind, end: number, value?: string): void => {
    const text = sql.slice(i, end);
    out.push({ kind, text, value: value ?? text });
    i = end;
  };
  while (i < sql.length) {
    const c = sql.charCodeAt(i);
    if (isSpace(c)) {
      let j = i + 1;
      while (j < sql.length && isSpace(sql.charCodeAt(j))) j++;
      push('space', j);
    } else if (sql.startsWith('--', i)) {
      const nl = sql.indexOf('\n', i);
      push('comment', nl === -1 ? sql.length : nl);
    } else if (sql.startsWith('/*', i)) {
      let depth = 0;
      let j = i;
      while (j < sql.length) {
        if (sql.startsWith('/*', j)) (depth++, (j += 2));
        else if (sql.startsWith('*/', j)) {
          depth--;
          j += 2;
          if (depth === 0) break;
        } else j++;
      }
      push('comment', j);
    } else if (c === 39 || ((c === 69 || c === 101) && sql.charCodeAt(i + 1) === 39)) {
      const escapes = c !== 39;
      const j = quotedEnd(sql, escapes ? i + 1 : i, 39, escapes);
      push('string', j, unquoteString(sql.slice(i, j)));
    } else if (c === 34) {
      const j = quotedEnd(sql, i, 34, false);
      push('qident', j, sql.slice(i + 1, j - 1).replace(/""/g, '"'));
    } else if (c === 36 && isDigit(sql.charCodeAt(i + 1))) {
      let j = i + 1;
      while (j < sql.length && isDigit(sql.charCodeAt(j))) j++;
      push('param', j, sql.slice(i + 1, j));
    } else if (c === 36) {
      const m = /^\$([A-Za-z_][A-Za-z0-9_]*)?\$/.exec(sql.slice(i, i + 64));
      if (m) {
        const close = sql.indexOf(m[0], i + m[0].length);
        const end = close === -1 ? sql.length : close + m[0].length;
        push('string', end, sql.slice(i + m[0].length, close === -1 ? sql.length : close));
      } else push('op', i + 1);
    } else if (isIdentStart(c)) {
      let j = i + 1;
      while (j < sql.length && isIdentChar(sql.charCodeAt(j))) j++;
      push('ident', j, sql.slice(i, j).toLowerCase());
    } else if (isDigit(c) || (c === 46 && isDigit(sql.charCodeAt(i + 1)))) {
      const m = /^(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?/.exec(sql.slice(i));
      push('number', i + m![0].length);
    } else if (opChars.includes(sql[i]!)) {
      let j = i + 1;
      while (j < sql.length && opChars.includes(sql[j]!) && !sql.startsWith('--', j) && !sql.startsWith('/*', j)) j++;
      push('op', j);
    } else if (c === 58 && sql.charCodeAt(i + 1) === 58) {
      push('op', i + 2);
    } else {
      push('punct', i + 1);
    }
  }
  return out;
}

function quotedEnd(s: string, i: number, quote: number, backslashEscapes: boolean): number {
  i++;
  while (i < s.length) {
    const c = s.charCodeAt(i);
    if (backslashEscapes && c === 92) i += 2;
    else if (c === quote) {
      if (s.charCodeAt(i + 1) === quote) i += 2;
      else return i + 1;
    } else i++;
  }
  return s.length;
}

function unquoteString(text: string): string {
  if (text[0] === "'") return text.slice(1, -1).replace(/''/g, "'");
  // E'…': the common escapes only (catalog rewrites read these values, never execute them)
  return text
    .slice(2, -1)
    .replace(/''/g, "'")
    .replace(/\\(.)/g, (_, ch: string) => ({ n: '\n', t: '\t', r: '\r' })[ch] ?? ch);
}

/** Index of the next token at or after i that is not space or comment (tokens.length if none). */
export function nextSignificant(tokens: Token[], i: number): number {
  while (i < tokens.length && (tokens[i]!.kind === 'space' || tokens[i]!.kind === 'comment')) i++;
  return i;
}

/** Index of the previous significant token before i (-1 if none). */
export function prevSignificant(tokens: Token[], i: number): number {
  i--;
  while (i >= 0 && (tokens[i]!.kind === 'space' || tokens[i]!.kind === 'comment')) i--;
  return i;
}

/** SQL string literal for a value. */
export function quoteLiteral(s: string): string {
  return `'${s.replace(/'/g, "''")}'`;
}

/** Identifier quoted only when needed (PostgreSQL quote_ident rules, simplified). */
export function quoteIdent(s: string): string {
  return /^[a-z_][a-z0-9_$]*$/.test(s) ? s : `"${s.replace(/"/g, '""')}"`;
}

/** Upper-cased leading words of a statement, skipping comments. */
export function leadingKeywords(tokens: Token[], n: number): string[] {
  const words: string[] = [];
  for (let i = nextSignificant(tokens, 0); i < tokens.length && words.length < n; i = nextSignificant(tokens, i + 1)) {
    const t = tokens[i]!;
    if (t.kind !== 'ident') break;
    words.push(t.value.toUpperCase());
  }
  return words;
}
