// PostgreSQL binary send/receive formats for the types wiretap serves: values → binary result
// columns (format 1), and binary parameter values → JS values (numbers, strings, bytes).
import type { ColumnType } from '../../engine/schema.ts';
import type { Value } from '../../engine/query.ts';

/** Microseconds / days between the Unix epoch and PostgreSQL's epoch (2000-01-01). */
const PG_EPOCH_MICROS = 946_684_800_000_000n;
const PG_EPOCH_DAYS = 10_957;

/** One value in binary format; null stays null. */
export function encodeBinary(type: ColumnType, v: Value): Buffer | null {
  if (v === null || v === undefined) return null;
  switch (type) {
    case 'bool':
      return Buffer.from([v === true || v === 't' || v === 1 ? 1 : 0]);
    case 'int2': {
      const b = Buffer.allocUnsafe(2);
      b.writeInt16BE(Number(v));
      return b;
    }
    case 'int4': {
      const b = Buffer.allocUnsafe(4);
      b.writeInt32BE(Number(v));
      return b;
    }
    case 'int8': {
      const b = Buffer.allocUnsafe(8);
      b.writeBigInt64BE(typeof v === 'bigint' ? v : BigInt(Math.trunc(Number(v))));
      return b;
    }
    case 'float4': {
      const b = Buffer.allocUnsafe(4);
      b.writeFloatBE(Number(v));
      return b;
    }
    case 'float8': {
      const b = Buffer.allocUnsafe(8);
      b.writeDoubleBE(Number(v));
      return b;
    }
    case 'numeric':
      return encodeNumeric(String(v));
    case 'text':
    case 'json':
      return v instanceof Uint8Array ? Buffer.from(v) : Buffer.from(String(v), 'utf8');
    case 'bytea':
      return v instanceof Uint8Array ? Buffer.from(v.buffer, v.byteOffset, v.byteLength) : Buffer.from(String(v), 'utf8');
    case 'uuid':
      return Buffer.from(String(v).replace(/-/g, ''), 'hex');
    case 'timestamptz':
    case 'timestamp': {
      const b = Buffer.allocUnsafe(8);
      b.writeBigInt64BE(BigInt(v as bigint | number) - PG_EPOCH_MICROS);
      return b;
    }
    case 'date': {
      const b = Buffer.allocUnsafe(4);
      b.writeInt32BE(Number(v) - PG_EPOCH_DAYS);
      return b;
    }
    case 'time': {
      const b = Buffer.allocUnsafe(8);
      b.writeBigInt64BE(BigInt(v as bigint | number));
      return b;
    }
    case 'interval': {
      const i = v as { months: number; days: number; micros: bigint };
      const b = Buffer.allocUnsafe(16);
      b.writeBigInt64BE(i.micros, 0);
      b.writeInt32BE(i.days, 8);
      b.writeInt32BE(i.months, 12);
      return b;
    }
  }
}

/** numeric's binary form: ndigits, weight, sign, dscale, then base-10000 digits. */
export function encodeNumeric(text: string): Buffer {
  const s = text.trim();
  if (/^nan$/i.test(s)) return numericHeader(0, 0, 0xc000, 0, []);
  if (/^[+]?inf(inity)?$/i.test(s)) return numericHeader(0, 0, 0xd000, 0, []);
  if (/^-inf(inity)?$/i.test(s)) return numericHeader(0, 0, 0xf000, 0, []);
  const m = /^([+-]?)(\d*)(?:\.(\d*))?(?:e([+-]?\d+))?$/i.exec(s);
  if (!m) throw new Error(`invalid numeric "${text}"`);
  let intPart = m[2] ?? '';
  let frac = m[3] ?? '';
  const exp = Number(m[4] ?? 0);
  if (exp > 0) {
    const moved = frac.slice(0, exp).padEnd(exp, '0');
    intPart += moved;
    frac = frac.slice(exp);
  } else if (exp < 0) {
    const padded = intPart.padStart(-exp, '0');
    frac = padded.slice(padded.length + exp) + frac;
    intPart = padded.slice(0, padded.length + exp);
  }
  const dscale = frac.length;
  intPart = intPart.replace(/^0+/, '');
  // group into base-10000 digits aligned at the decimal point
  const intGroups: number[] = [];
  for (let end = intPart.length; end > 0; end -= 4) intGroups.unshift(Number(intPart.slice(Math.max(0, end - 4), end)));
  const fracGroups: number[] = [];
  for (let i = 0; i < frac.length; i += 4) fracGroups.push(Number(frac.slice(i, i + 4).padEnd(4, '0')));
  let digits = [...intGroups, ...fracGroups];
  let weight = intGroups.length - 1;
  while (digits.length > 0 && digits[0] === 0) {
    digits.shift();
    weight--;
  }
  while (digits.length > 0 && digits[digits.length - 1] === 0) digits.pop();
  if (digits.length === 0) weight = 0;
  return numericHeader(digits.length, weight, m[1] === '-' && digits.length > 0 ? 0x4000 : 0, dscale, digits);
}

function numericHeader(ndigits: number, weight: number, sign: number, dscale: number, digits: number[]): Buffer {
  const b = Buffer.allocUnsafe(8 + 2 * ndigits);
  b.writeInt16BE(ndigits, 0);
  b.writeInt16BE(weight, 2);
  b.writeUInt16BE(sign, 4);
  b.writeInt16BE(dscale, 6);
  digits.forEach((d, i) => b.writeInt16BE(d, 8 + 2 * i));
  return b;
}

/** numeric binary → decimal text. */
export function decodeNumeric(b: Buffer): string {
  const ndigits = b.readInt16BE(0);
  const weight = b.readInt16BE(2);
  const sign = b.readUInt16BE(4);
  const dscale = b.readInt16BE(6);
  if (sign === 0xc000) return 'NaN';
  if (sign === 0xd000) return 'Infinity';
  if (sign === 0xf000) return '-Infinity';
  const digits: number[] = [];
  for (let i = 0; i < ndigits; i++) digits.push(b.readInt16BE(8 + 2 * i));
  let int = '';
  for (let w = 0; w <= weight; w++) int += String(digits[w] ?? 0).padStart(4, '0');
  let frac = '';
  for (let w = Math.max(weight + 1, 0); w < ndigits; w++) frac += String(digits[w]).padStart(4, '0');
  if (weight < -1) frac = '0000'.repeat(-weight - 1) + frac;
  int = int.replace(/^0+/, '') || '0';
  frac = frac.padEnd(dscale, '0').slice(0, dscale);
  return `${sign === 0x4000 ? '-' : ''}${int}${dscale > 0 ? '.' + frac : ''}`;
}

/** Binary timestamp (µs since 2000-01-01) → ISO text DuckDB parses. */
export function pgMicrosToIso(pgMicros: bigint): string {
  const unixMicros = pgMicros + PG_EPOCH_MICROS;
  const ms = unixMicros / 1000n;
  const rest = Number(((unixMicros % 1000n) + 1000n) % 1000n);
  const d = new Date(Number(ms - (unixMicros < 0n && rest !== 0 ? 1n : 0n)));
  return d.toISOString().replace('T', ' ').replace('Z', '') + String(rest).padStart(3, '0');
}

export function pgDaysToIso(pgDays: number): string {
  return new Date((pgDays + PG_EPOCH_DAYS) * 86_400_000).toISOString().slice(0, 10);
}
