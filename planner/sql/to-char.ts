// PostgreSQL's to_char(timestamp|timestamptz|date, 'format') as a DuckDB expression. DuckDB has
// no to_char; its strftime (ICU: in the connection's TimeZone, which is the session's) covers
// most fields, and the rest are computed from date parts. The format must be a literal: it is
// translated once, here. Semantics follow PostgreSQL 15's formatting.c: case-sensitive keywords
// (longest match), FM and TM (no padding of names) prefixes, TH/th/SP suffixes, "quoted text", \" for a quote, and every
// other character copied. Month/day names are padded to 9 characters unless FM, as PostgreSQL does.
import { SqlError, SqlState } from '../../engine/query.ts';
import { quoteLiteral } from './lexer.ts';

/** A strftime fragment, or an SQL expression over the value (`$x`). */
type Piece = { strf: string } | { sql: string };

/** A numeric field: its integer value, zero-padded width, and the strftime code for it if any. */
interface NumericField {
  value: string;
  width: number;
  strf?: string;
  /** strftime code without padding (FM). */
  strfFm?: string;
  /** Zero-padded even under FM. */
  fixed?: boolean;
}

const us = '(microsecond($x) % 1000000)';
const year = 'year($x)';

const numeric: Record<string, NumericField> = {
  HH24: { value: 'hour($x)', width: 2, strf: '%H', strfFm: '%-H' },
  HH12: { value: '((hour($x) + 11) % 12 + 1)', width: 2, strf: '%I', strfFm: '%-I' },
  HH: { value: '((hour($x) + 11) % 12 + 1)', width: 2, strf: '%I', strfFm: '%-I' },
  MI: { value: 'minute($x)', width: 2, strf: '%M', strfFm: '%-M' },
  SS: { value: 'second($x)', width: 2, strf: '%S', strfFm: '%-S' },
  // fractions keep their width under FM, as in PostgreSQL
  MS: { value: `(${us} // 1000)`, width: 3, strf: '%g', strfFm: '%g' },
  US: { value: us, width: 6, strf: '%f', strfFm: '%f' },
  FF1: { value: `(${us} // 100000)`, width: 1, fixed: true },
  FF2: { value: `(${us} // 10000)`, width: 2, fixed: true },
  FF3: { value: `(${us} // 1000)`, width: 3, strf: '%g', strfFm: '%g' },
  FF4: { value: `(${us} // 100)`, width: 4, fixed: true },
  FF5: { value: `(${us} // 10)`, width: 5, fixed: true },
  FF6: { value: us, width: 6, strf: '%f', strfFm: '%f' },
  SSSS: { value: '(hour($x) * 3600 + minute($x) * 60 + second($x))', width: 0 },
  SSSSS: { value: '(hour($x) * 3600 + minute($x) * 60 + second($x))', width: 0 },
  YYYY: { value: year, width: 4, strf: '%Y' },
  YYY: { value: `(${year} % 1000)`, width: 3 },
  YY: { value: `(${year} % 100)`, width: 2, strf: '%y', strfFm: '%-y' },
  Y: { value: `(${year} % 10)`, width: 1 },
  IYYY: { value: 'isoyear($x)', width: 4, strf: '%G' },
  IYY: { value: '(isoyear($x) % 1000)', width: 3 },
  IY: { value: '(isoyear($x) % 100)', width: 2 },
  I: { value: '(isoyear($x) % 10)', width: 1 },
  MM: { value: 'month($x)', width: 2, strf: '%m', strfFm: '%-m' },
  DD: { value: 'day($x)', width: 2, strf: '%d', strfFm: '%-d' },
  DDD: { value: 'dayofyear($x)', width: 3, strf: '%j', strfFm: '%-j' },
  IDDD: { value: '((week($x) - 1) * 7 + isodow($x))', width: 3 },
  D: { value: '(dayofweek($x) + 1)', width: 0 },
  ID: { value: 'isodow($x)', width: 0 },
  W: { value: '((day($x) - 1) // 7 + 1)', width: 0 },
  WW: { value: '((dayofyear($x) - 1) // 7 + 1)', width: 2 },
  IW: { value: 'week($x)', width: 2, strf: '%V' },
  Q: { value: 'quarter($x)', width: 0 },
  CC: { value: `(CASE WHEN ${year} > 0 THEN (${year} + 99) // 100 ELSE ${year} // 100 - 1 END)`, width: 2 },
  J: { value: 'CAST(julian(CAST($x AS DATE)) AS BIGINT)', width: 0 },
};

type Case = 'upper' | 'initcap' | 'lower';
const caseOf = (k: string): Case => (k === k.toUpperCase() ? 'upper' : k[1] === k[1]!.toLowerCase() && k[0] !== k[0]!.toLowerCase() ? 'initcap' : 'lower');
const cased = (sql: string, c: Case): string => (c === 'upper' ? `upper(${sql})` : c === 'lower' ? `lower(${sql})` : sql);

const romanMonths = "['I', 'II', 'III', 'IV', 'V', 'VI', 'VII', 'VIII', 'IX', 'X', 'XI', 'XII']";

/** Keywords that are not plain numbers, by exact spelling. */
const textual: Record<string, (fm: boolean) => Piece> = {};
for (const k of ['MONTH', 'Month', 'month', 'DAY', 'Day', 'day']) {
  const code = k.toLowerCase() === 'month' ? '%B' : '%A';
  textual[k] = (fm) => {
    const name = `strftime($x, '${code}')`;
    if (fm && caseOf(k) === 'initcap') return { strf: code };
    return { sql: cased(fm ? name : `rpad(${name}, 9, ' ')`, caseOf(k)) };
  };
}
for (const k of ['MON', 'Mon', 'mon', 'DY', 'Dy', 'dy']) {
  const code = k.toLowerCase() === 'mon' ? '%b' : '%a';
  textual[k] = () => (caseOf(k) === 'initcap' ? { strf: code } : { sql: cased(`strftime($x, '${code}')`, caseOf(k)) });
}
for (const [am, pm] of [['AM', 'PM'], ['am', 'pm'], ['A.M.', 'P.M.'], ['a.m.', 'p.m.']] as const) {
  const piece = (): Piece => ({ sql: `(CASE WHEN hour($x) < 12 THEN '${am}' ELSE '${pm}' END)` });
  textual[am] = piece;
  textual[pm] = piece;
}
for (const [ad, bc] of [['AD', 'BC'], ['ad', 'bc'], ['A.D.', 'B.C.'], ['a.d.', 'b.c.']] as const) {
  const piece = (): Piece => ({ sql: `(CASE WHEN ${year} > 0 THEN '${ad}' ELSE '${bc}' END)` });
  textual[ad] = piece;
  textual[bc] = piece;
}
for (const k of ['RM', 'rm']) {
  textual[k] = (fm) => {
    const name = `${romanMonths}[month($x)]`;
    return { sql: cased(fm ? name : `rpad(${name}, 4, ' ')`, k === 'rm' ? 'lower' : 'upper') };
  };
}
// The UTC offset: strftime's %z prints it as PostgreSQL's OF does (+05, -03:30).
const offsetSeconds = 'CAST(round(epoch(CAST($x AS TIMESTAMP)) - epoch($x)) AS BIGINT)';
textual.OF = () => ({ strf: '%z' });
textual.TZH = () => ({ sql: `(CASE WHEN ${offsetSeconds} < 0 THEN '-' ELSE '+' END || lpad(CAST(abs(${offsetSeconds}) // 3600 AS VARCHAR), 2, '0'))` });
textual.TZM = () => ({ sql: `lpad(CAST(abs(${offsetSeconds}) // 60 % 60 AS VARCHAR), 2, '0')` });
textual['Y,YYY'] = () => ({ sql: `printf('%d,%03d', ${year} // 1000, ${year} % 1000)` });

const unsupported: Record<string, string> = {
  TZ: 'the time zone abbreviation (TZ) is not supported by to_char here; OF gives the UTC offset',
  tz: 'the time zone abbreviation (tz) is not supported by to_char here; OF gives the UTC offset',
};

/** Every keyword spelling PostgreSQL accepts; lower-case spellings of numeric fields mean the same. */
const keywords: string[] = [
  ...Object.keys(numeric),
  ...Object.keys(numeric).map((k) => k.toLowerCase()),
  ...Object.keys(textual),
  'tzh', 'tzm', 'of', 'y,yyy',
  ...Object.keys(unsupported),
].filter((k, i, all) => all.indexOf(k) === i).sort((a, b) => b.length - a.length);

const lowerAlias: Record<string, string> = { tzh: 'TZH', tzm: 'TZM', of: 'OF', 'y,yyy': 'Y,YYY' };

function ordinalSuffix(value: string, upper: boolean): string {
  const s = (t: string) => `'${upper ? t.toUpperCase() : t}'`;
  return `(CASE WHEN ${value} % 100 BETWEEN 11 AND 13 THEN ${s('th')} WHEN ${value} % 10 = 1 THEN ${s('st')} ` +
    `WHEN ${value} % 10 = 2 THEN ${s('nd')} WHEN ${value} % 10 = 3 THEN ${s('rd')} ELSE ${s('th')} END)`;
}

function numericPiece(f: NumericField, fm: boolean, suffix: string | null): Piece[] {
  const pieces: Piece[] = [];
  const code = fm ? f.strfFm : f.strf;
  if (code !== undefined) pieces.push({ strf: code });
  else {
    const text = `CAST(${f.value} AS VARCHAR)`;
    pieces.push({ sql: (fm && !f.fixed) || f.width === 0 ? text : `lpad(${text}, ${f.width}, '0')` });
  }
  if (suffix) pieces.push({ sql: ordinalSuffix(f.value, suffix === 'TH') });
  return pieces;
}

/** A numeric template (to_char(number, '999D99')): not translated; said clearly. */
const numericTemplate = /^(FM)?[\s90.,DGSLVBPRMIE$+-]*$/i;

/** The pieces of a to_char format. */
export function toCharPieces(format: string): Piece[] {
  if (/[90]/.test(format) && numericTemplate.test(format)) {
    throw new SqlError(SqlState.featureNotSupported, 'to_char with a numeric format is not supported', undefined, 'Use printf or format for numbers, e.g. printf(\'%.2f\', x).');
  }
  const out: Piece[] = [];
  let i = 0;
  while (i < format.length) {
    let fm = false;
    let tm = false;
    for (;;) {
      const p = format.slice(i, i + 2);
      if (p === 'FM' || p === 'fm') fm = true;
      else if (p === 'TM' || p === 'tm') tm = true; // translated names (C locale: English), never padded
      else if (p !== 'FX' && p !== 'fx') break;
      i += 2;
    }
    const k = keywords.find((kw) => format.startsWith(kw, i));
    if (k === undefined) {
      i = literal(format, i, out);
      continue;
    }
    i += k.length;
    if (unsupported[k]) throw new SqlError(SqlState.featureNotSupported, unsupported[k]!);
    let suffix: string | null = null;
    const s = format.slice(i, i + 2);
    if (s === 'TH' || s === 'th') suffix = s;
    if (suffix || s === 'SP' || s === 'sp') i += 2; // SP (spell mode) is accepted and ignored, as PostgreSQL does
    const name = lowerAlias[k] ?? k;
    const num = numeric[name] ?? numeric[name.toUpperCase()];
    if (textual[name]) out.push(textual[name]!(fm || tm));
    else if (num) out.push(...numericPiece(num, fm, suffix));
  }
  return out;
}

/** Copies literal text at i into out; returns the next index. */
function literal(format: string, i: number, out: Piece[]): number {
  const c = format[i]!;
  if (c === '"') {
    let text = '';
    let j = i + 1;
    while (j < format.length && format[j] !== '"') {
      if (format[j] === '\\' && j + 1 < format.length) j++;
      text += format[j];
      j++;
    }
    out.push({ strf: text.replaceAll('%', '%%') });
    return j + 1;
  }
  if (c === '\\' && format[i + 1] === '"') {
    out.push({ strf: '"' });
    return i + 2;
  }
  out.push({ strf: c === '%' ? '%%' : c });
  return i + 1;
}

/** to_char(value, format) as DuckDB SQL; `value` is SQL text, repeated where the format needs it. */
export function toCharSql(value: string, format: string): string {
  const pieces = toCharPieces(format);
  if (pieces.length === 0) return 'CAST(NULL AS VARCHAR)'; // PostgreSQL: an empty format gives NULL
  const x = `(${value})`;
  const parts: string[] = [];
  let strf = '';
  const flush = () => {
    if (strf) parts.push(`strftime(${x}, ${quoteLiteral(strf)})`);
    strf = '';
  };
  for (const p of pieces) {
    if ('strf' in p) strf += p.strf;
    else {
      flush();
      parts.push(p.sql.replaceAll('$x', () => x));
    }
  }
  flush();
  return parts.length === 1 ? parts[0]! : `(${parts.join(' || ')})`;
}
