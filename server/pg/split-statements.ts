// Splits a simple-query string into statements at top-level semicolons, the way PostgreSQL's
// lexer sees them: semicolons inside '…' (with '' escapes), E'…' (backslash escapes), "…"
// identifiers, $tag$…$tag$ bodies and -- / nested /* */ comments do not split.

export interface SplitStatement {
  /** Statement text without the terminating semicolon, surrounding whitespace trimmed. */
  text: string;
  /** Highest $n parameter referenced outside quotes and comments (0 if none). */
  maxParam: number;
}

export interface SplitResult {
  statements: SplitStatement[];
  /** Set when the input ends inside a quote or comment (PostgreSQL: 42601). */
  error?: string;
}

const isIdentStart = (c: number): boolean =>
  (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || c === 95 || c >= 128;
const isIdentChar = (c: number): boolean => isIdentStart(c) || (c >= 48 && c <= 57) || c === 36;
const isSpace = (c: number): boolean => c === 32 || c === 9 || c === 10 || c === 13 || c === 12 || c === 11;

/** Index just past a -- or nested /* comment starting at i, or -1 if unterminated (block only). */
function skipComment(s: string, i: number): number {
  if (s.charCodeAt(i) === 45 /* - */) {
    const nl = s.indexOf('\n', i);
    return nl === -1 ? s.length : nl + 1;
  }
  let depth = 0;
  while (i < s.length) {
    if (s.startsWith('/*', i)) {
      depth++;
      i += 2;
    } else if (s.startsWith('*/', i)) {
      depth--;
      i += 2;
      if (depth === 0) return i;
    } else {
      i++;
    }
  }
  return -1;
}

const startsComment = (s: string, i: number): boolean => s.startsWith('--', i) || s.startsWith('/*', i);

/** Index of the first character that is neither whitespace nor inside a comment. */
export function skipSpaceAndComments(s: string, i = 0): number {
  while (i < s.length) {
    const c = s.charCodeAt(i);
    if (isSpace(c)) i++;
    else if (startsComment(s, i)) {
      const j = skipComment(s, i);
      if (j === -1) return s.length;
      i = j;
    } else break;
  }
  return i;
}

/** The dollar-quote delimiter starting at i ('$$' or '$tag$'), or null. */
function dollarTag(s: string, i: number): string | null {
  let j = i + 1;
  if (j < s.length && s.charCodeAt(j) === 36) return '$$';
  if (j >= s.length || !isIdentStart(s.charCodeAt(j))) return null;
  while (j < s.length && isIdentChar(s.charCodeAt(j)) && s.charCodeAt(j) !== 36) j++;
  return j < s.length && s.charCodeAt(j) === 36 ? s.slice(i, j + 1) : null;
}

/** End index (past the closing quote) of a quoted run starting at the quote at i, or -1. */
function skipQuoted(s: string, i: number, quote: number, backslashEscapes: boolean): number {
  i++;
  while (i < s.length) {
    const c = s.charCodeAt(i);
    if (backslashEscapes && c === 92 /* \ */) {
      i += 2;
    } else if (c === quote) {
      if (s.charCodeAt(i + 1) === quote) i += 2; // doubled quote is an escaped quote
      else return i + 1;
    } else {
      i++;
    }
  }
  return -1;
}

export function splitStatements(sql: string): SplitResult {
  const statements: SplitStatement[] = [];
  let start = 0;
  let hasContent = false; // anything but whitespace/comments since start
  let maxParam = 0;
  let i = 0;
  const cut = (end: number): void => {
    if (hasContent) statements.push({ text: sql.slice(start, end).trim(), maxParam });
    start = end + 1;
    hasContent = false;
    maxParam = 0;
  };
  while (i < sql.length) {
    const c = sql.charCodeAt(i);
    if (isSpace(c)) {
      i++;
      continue;
    }
    if (startsComment(sql, i)) {
      const j = skipComment(sql, i);
      if (j === -1) return { statements, error: 'unterminated /* comment' };
      i = j;
      continue;
    }
    if (c === 59 /* ; */) {
      cut(i);
      i++;
      continue;
    }
    hasContent = true;
    if (c === 39 /* ' */) {
      // E'…' takes backslash escapes, but only when E starts a token (not "somee'…'").
      const prev = i > 0 ? sql.charCodeAt(i - 1) : 0;
      const ePrefix = (prev === 69 || prev === 101) && !(i > 1 && isIdentChar(sql.charCodeAt(i - 2)));
      const j = skipQuoted(sql, i, 39, ePrefix);
      if (j === -1) return { statements, error: 'unterminated quoted string' };
      i = j;
    } else if (c === 34 /* " */) {
      const j = skipQuoted(sql, i, 34, false);
      if (j === -1) return { statements, error: 'unterminated quoted identifier' };
      i = j;
    } else if (c === 36 /* $ */) {
      const tag = dollarTag(sql, i);
      if (tag === null) {
        // $1 parameter or a lone $
        let j = i + 1;
        while (j < sql.length && sql.charCodeAt(j) >= 48 && sql.charCodeAt(j) <= 57) j++;
        if (j > i + 1) maxParam = Math.max(maxParam, Number(sql.slice(i + 1, j)));
        i = j;
      } else {
        const close = sql.indexOf(tag, i + tag.length);
        if (close === -1) return { statements, error: 'unterminated dollar-quoted string' };
        i = close + tag.length;
      }
    } else if (isIdentChar(c)) {
      // consume a whole word so a '$' inside an identifier (foo$bar$) is not a dollar quote
      while (i < sql.length && isIdentChar(sql.charCodeAt(i))) i++;
    } else {
      i++;
    }
  }
  cut(sql.length);
  return { statements };
}
