// Values → PostgreSQL text output format, byte-for-byte what PostgreSQL 16 prints with the
// settings we report (DateStyle ISO, IntervalStyle postgres, extra_float_digits 1; timestamptz
// in the session's TimeZone), so clients' type parsers and psql output behave as with a real server.
import type { ColumnType } from '../../engine/schema.ts';
import type { Value } from '../../engine/query.ts';
import { formatUtcOffset, type TimeZone } from '../../planner/session/time-zone.ts';

type Interval = { months: number; days: number; micros: bigint };

const INT64_MAX = 9223372036854775807n;
const INT64_MIN = -9223372036854775808n;
const INT32_MAX = 2147483647;

/**
 * Text for one value of the given column type; null stays null (SQL NULL). timestamptz is shown
 * in `zone` (the session's TimeZone; null or omitted = UTC).
 */
export function formatValue(type: ColumnType, v: Value, zone?: TimeZone | null): string | null {
  if (v === null || v === undefined) return null;
  switch (type) {
    case 'bool':
      return v === true || v === 1 || v === 't' ? 't' : v === false || v === 0 || v === 'f' ? 'f' : String(v);
    case 'int2':
    case 'int4':
    case 'int8':
      return typeof v === 'number' && !Number.isInteger(v) ? String(Math.trunc(v)) : String(v);
    case 'float4':
      return typeof v === 'number' ? formatFloat4(v) : String(v);
    case 'float8':
      return typeof v === 'number' ? formatFloat8(v) : String(v);
    case 'bytea':
      return v instanceof Uint8Array ? formatBytea(v) : String(v);
    case 'timestamptz':
      return typeof v === 'bigint' || typeof v === 'number' ? formatTimestamptz(BigInt(v), zone) : String(v);
    case 'timestamp':
      return typeof v === 'bigint' || typeof v === 'number' ? formatTimestamp(BigInt(v), false) : String(v);
    case 'date':
      return typeof v === 'number' || typeof v === 'bigint' ? formatDate(Number(v)) : String(v);
    case 'time':
      return typeof v === 'bigint' || typeof v === 'number' ? formatTime(BigInt(v)) : String(v);
    case 'interval':
      return isInterval(v) ? formatInterval(v) : String(v);
    case 'numeric':
    case 'text':
    case 'json':
    case 'uuid':
      return v instanceof Uint8Array ? Buffer.from(v).toString('utf8') : String(v);
  }
}

function isInterval(v: Value): v is Interval {
  return typeof v === 'object' && v !== null && !(v instanceof Uint8Array) && 'months' in v;
}

// ---- floats ---------------------------------------------------------------------------------

/** float8 out: shortest round-trip digits, exponent form outside 1e-4 <= |x| < 1e15 (PG12+). */
export function formatFloat8(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return 'Infinity';
  if (v === -Infinity) return '-Infinity';
  if (v === 0) return Object.is(v, -0) ? '-0' : '0'; // toExponential drops the sign of -0
  return shortestToPg(v.toExponential(), 15);
}

/** float4 out: shortest digits that round-trip through float32, exponent form from 1e6. */
export function formatFloat4(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return 'Infinity';
  if (v === -Infinity) return '-Infinity';
  const f = Math.fround(v);
  if (f === 0) return Object.is(f, -0) ? '-0' : '0';
  let s = f.toExponential(8);
  for (let p = 0; p <= 8; p++) {
    const cand = f.toExponential(p);
    if (Math.fround(Number(cand)) === f) {
      s = cand;
      break;
    }
  }
  return shortestToPg(s, 6);
}

/**
 * Lays out digits from JS exponential notation ("-1.2345e+2") like PostgreSQL's Ryu-based
 * output: fixed notation when -4 <= exponent < maxFixedExp, else d.ddde±XX (2+ digit exponent).
 */
function shortestToPg(expForm: string, maxFixedExp: number): string {
  const m = /^(-?)(\d)(?:\.(\d+))?e([+-]\d+)$/.exec(expForm);
  if (!m) return expForm;
  const sign = m[1]!;
  const digits = (m[2]! + (m[3] ?? '')).replace(/0+$/, '') || '0';
  const exp = Number(m[4]);
  if (exp < -4 || exp >= maxFixedExp) {
    const mant = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
    const e = Math.abs(exp);
    return `${sign}${mant}e${exp < 0 ? '-' : '+'}${e < 10 ? '0' : ''}${e}`;
  }
  if (exp < 0) return `${sign}0.${'0'.repeat(-exp - 1)}${digits}`;
  if (digits.length <= exp + 1) return sign + digits + '0'.repeat(exp + 1 - digits.length);
  return `${sign}${digits.slice(0, exp + 1)}.${digits.slice(exp + 1)}`;
}

// ---- bytea ----------------------------------------------------------------------------------

export function formatBytea(v: Uint8Array): string {
  return '\\x' + Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('hex');
}

// ---- date / time ----------------------------------------------------------------------------

const pad2 = (n: number): string => (n < 10 ? '0' : '') + n;

/** Civil date from days since 1970-01-01 (proleptic Gregorian; H. Hinnant's algorithm). */
function civilFromDays(days: number): { y: number; m: number; d: number } {
  const z = days + 719468;
  const era = Math.floor(z / 146097);
  const doe = z - era * 146097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const d = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const m = mp < 10 ? mp + 3 : mp - 9;
  return { y: era * 400 + yoe + (m <= 2 ? 1 : 0), m, d };
}

/** 'YYYY-MM-DD' with PG's BC convention (year 0 is 1 BC); returns [date, ' BC' or '']. */
function formatYmd(days: number): [string, string] {
  const { y, m, d } = civilFromDays(days);
  const bc = y <= 0;
  const year = bc ? 1 - y : y;
  const ys = String(year).padStart(4, '0');
  return [`${ys}-${pad2(m)}-${pad2(d)}`, bc ? ' BC' : ''];
}

/** HH:MM:SS plus .ffffff with trailing zeros trimmed (PG's AppendSeconds). */
function formatHms(hours: bigint, minutes: number, seconds: number, micros: number): string {
  const h = hours < 10n ? '0' + hours : String(hours);
  let s = `${h}:${pad2(minutes)}:${pad2(seconds)}`;
  if (micros !== 0) s += '.' + String(micros).padStart(6, '0').replace(/0+$/, '');
  return s;
}

let lastDays = Number.NaN;
let lastYmd: [string, string] = ['', ''];

/** Microseconds since epoch → 'YYYY-MM-DD HH:MM:SS[.ffffff][+00][ BC]' (in UTC). */
export function formatTimestamp(micros: bigint, withZone: boolean): string {
  if (micros >= INT64_MAX) return 'infinity';
  if (micros <= -INT64_MAX || micros === INT64_MIN) return '-infinity';
  return formatWallClock(micros, withZone ? '+00' : '');
}

/**
 * timestamptz text in a time zone, as PostgreSQL prints it with that TimeZone: local wall clock
 * and the offset in force at that instant ('2026-11-21 23:00:00+01', '…+05:30', '…-04:56:02').
 * UTC (or no zone) gives '+00'. The one rule every timestamptz text encoder must follow.
 */
export function formatTimestamptz(micros: bigint, zone?: TimeZone | null): string {
  if (micros >= INT64_MAX) return 'infinity';
  if (micros <= -INT64_MAX || micros === INT64_MIN) return '-infinity';
  if (!zone || zone.utc) return formatWallClock(micros, '+00');
  const seconds = Number(micros / 1_000_000n) - (micros % 1_000_000n < 0n ? 1 : 0);
  const offset = zone.offsetAt(seconds);
  return formatWallClock(micros + BigInt(offset) * 1_000_000n, formatUtcOffset(offset));
}

/** Wall-clock micros → 'YYYY-MM-DD HH:MM:SS[.ffffff]' + suffix + [' BC']. */
function formatWallClock(micros: bigint, suffix: string): string {
  const perDay = 86_400_000_000n;
  let days = micros / perDay;
  let rem = micros % perDay;
  if (rem < 0n) {
    rem += perDay;
    days -= 1n;
  }
  // rows in a result mostly share a day: reuse its date text
  const d = Number(days);
  if (d !== lastDays) {
    lastDays = d;
    lastYmd = formatYmd(d);
  }
  const [ymd, bc] = lastYmd;
  const r = Number(rem);
  const secs = Math.floor(r / 1e6);
  const hms = formatHms(BigInt(Math.floor(secs / 3600)), Math.floor(secs / 60) % 60, secs % 60, r % 1e6);
  return `${ymd} ${hms}${suffix}${bc}`;
}

/** Days since epoch → 'YYYY-MM-DD[ BC]'. */
export function formatDate(days: number): string {
  if (days >= INT32_MAX) return 'infinity';
  if (days <= -INT32_MAX) return '-infinity'; // DuckDB's -infinity is -(2^31 - 1)
  const [ymd, bc] = formatYmd(days);
  return ymd + bc;
}

/** Microseconds since midnight → 'HH:MM:SS[.ffffff]'. */
export function formatTime(micros: bigint): string {
  const secs = micros / 1_000_000n;
  const frac = Number(micros % 1_000_000n);
  return formatHms(secs / 3600n, Number((secs / 60n) % 60n), Number(secs % 60n), frac);
}

/** Interval in IntervalStyle 'postgres', following PG's EncodeInterval. */
export function formatInterval(v: Interval): string {
  const year = Math.trunc(v.months / 12);
  const mon = v.months % 12; // keeps the sign of months, like C
  const parts: string[] = [];
  let isBefore = false;
  let isZero = true;
  const add = (value: number, unit: string): void => {
    if (value === 0) return;
    parts.push(`${isBefore && value > 0 ? '+' : ''}${value} ${unit}${value !== 1 ? 's' : ''}`);
    isBefore = value < 0;
    isZero = false;
  };
  add(year, 'year');
  add(mon, 'mon');
  add(v.days, 'day');
  const t = v.micros;
  if (isZero || t !== 0n) {
    const neg = t < 0n;
    const a = neg ? -t : t;
    const secs = a / 1_000_000n;
    const hms = formatHms(secs / 3600n, Number((secs / 60n) % 60n), Number(secs % 60n), Number(a % 1_000_000n));
    parts.push(`${neg ? '-' : isBefore ? '+' : ''}${hms}`);
  }
  return parts.join(' ');
}
