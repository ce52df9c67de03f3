// Query parameters ($1, $2, …) of the extended protocol. The executor takes SQL text, so bound
// values are spliced in as typed SQL literals at the parameter's token (never inside strings or
// comments). Types: the OIDs the client declared in Parse, else inferred from the statement
// (a comparison with a known column, LIMIT/OFFSET, an explicit cast), else unknown — which
// becomes an untyped string literal that DuckDB casts from context, like PostgreSQL's unknown.
import { SqlError, SqlState } from '../../engine/query.ts';
import { tables, type ColumnType } from '../../engine/schema.ts';
import { nextSignificant, prevSignificant, quoteLiteral, tokenize, type Token } from '../../planner/sql/lexer.ts';
import { decodeNumeric, pgDaysToIso, pgMicrosToIso } from './binary-format.ts';
import { pgTypes } from './pg-types.ts';

export const Oid = {
  unknown: 0, bool: 16, bytea: 17, name: 19, int8: 20, int2: 21, int4: 23, text: 25, oid: 26, json: 114, float4: 700, float8: 701,
  unknownType: 705, varchar: 1043, bpchar: 1042, date: 1082, time: 1083, timestamp: 1114, timestamptz: 1184, interval: 1186,
  numeric: 1700, uuid: 2950, jsonb: 3802,
} as const;

/** Column name → type, over every telemetry table (same name, same type across tables). */
const columnTypes = new Map<string, ColumnType>();
for (const cols of Object.values(tables)) for (const c of cols) columnTypes.set(c.name, c.type);

const castNames: Record<string, number> = {
  bool: Oid.bool, boolean: Oid.bool, bytea: Oid.bytea, int8: Oid.int8, bigint: Oid.int8, int2: Oid.int2, smallint: Oid.int2,
  int4: Oid.int4, int: Oid.int4, integer: Oid.int4, text: Oid.text, varchar: Oid.varchar, json: Oid.json, jsonb: Oid.jsonb,
  float4: Oid.float4, real: Oid.float4, float8: Oid.float8, double: Oid.float8, numeric: Oid.numeric, decimal: Oid.numeric,
  date: Oid.date, timestamp: Oid.timestamp, timestamptz: Oid.timestamptz, interval: Oid.interval, uuid: Oid.uuid, oid: Oid.oid,
};

const comparison = new Set(['=', '<', '>', '<=', '>=', '<>', '!=']);

/** Parameter type OIDs: declared ones kept, unspecified (0) ones inferred; text when nothing tells. */
export function inferParameterTypes(sql: string, declared: number[], count: number): number[] {
  const tokens = tokenize(sql);
  const inferred = new Array<number>(count).fill(0);
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]!;
    if (t.kind !== 'param') continue;
    const n = Number(t.value) - 1;
    if (n < 0 || n >= count || inferred[n]) continue;
    inferred[n] = inferAt(tokens, i);
  }
  return inferred.map((oid, i) => declared[i] || oid || Oid.text);
}

function inferAt(tokens: Token[], i: number): number {
  const next = nextSignificant(tokens, i + 1);
  if (tokens[next]?.text === '::') {
    const ty = tokens[nextSignificant(tokens, next + 1)];
    if (ty && castNames[ty.value]) return castNames[ty.value]!;
  }
  const p = prevSignificant(tokens, i);
  const prev = tokens[p];
  if (prev?.kind === 'ident' && (prev.value === 'limit' || prev.value === 'offset')) return Oid.int8;
  const columnOid = (k: number): number => {
    const c = tokens[k];
    const type = c && (c.kind === 'ident' || c.kind === 'qident') ? columnTypes.get(c.value) : undefined;
    return type ? pgTypes[type].oid : 0;
  };
  if (prev?.kind === 'op' && comparison.has(prev.text)) return columnOid(prevSignificant(tokens, p));
  if (tokens[next]?.kind === 'op' && comparison.has(tokens[next]!.text)) return columnOid(nextSignificant(tokens, next + 1));
  return 0;
}

function bindError(n: number, message: string): SqlError {
  return new SqlError('22P03', `incorrect binary data format in bind parameter ${n}`, message);
}

/** One bound value as a SQL literal. */
export function parameterLiteral(oid: number, format: number, raw: Buffer | null, n: number): string {
  if (raw === null) return 'NULL';
  if (format === 1) return binaryLiteral(oid, raw, n);
  const text = raw.toString('utf8');
  switch (oid) {
    case Oid.bool:
      return /^(t|true|y|yes|on|1)$/i.test(text.trim()) ? 'TRUE' : /^(f|false|n|no|off|0)$/i.test(text.trim()) ? 'FALSE' : `CAST(${quoteLiteral(text)} AS BOOLEAN)`;
    case Oid.int2:
      return `CAST(${quoteLiteral(text)} AS SMALLINT)`;
    case Oid.int4:
    case Oid.oid:
      return `CAST(${quoteLiteral(text)} AS INTEGER)`;
    case Oid.int8:
      return `CAST(${quoteLiteral(text)} AS BIGINT)`;
    case Oid.float4:
      return `CAST(${quoteLiteral(text)} AS REAL)`;
    case Oid.float8:
      return `CAST(${quoteLiteral(text)} AS DOUBLE)`;
    case Oid.numeric:
      return /^\s*[+-]?(\d+\.?\d*|\.\d+)\s*$/.test(text) ? `(${text.trim()})` : `CAST(${quoteLiteral(text)} AS DOUBLE)`;
    case Oid.bytea:
      return blobLiteral(text.startsWith('\\x') ? Buffer.from(text.slice(2), 'hex') : Buffer.from(text, 'utf8'));
    case Oid.date:
      return `CAST(${quoteLiteral(text)} AS DATE)`;
    case Oid.time:
      return `CAST(${quoteLiteral(text)} AS TIME)`;
    case Oid.timestamp:
      return `CAST(${quoteLiteral(text)} AS TIMESTAMP)`;
    case Oid.timestamptz:
      return `CAST(${quoteLiteral(text)} AS TIMESTAMPTZ)`;
    case Oid.interval:
      return `CAST(${quoteLiteral(text)} AS INTERVAL)`;
    case Oid.json:
    case Oid.jsonb:
      return `CAST(${quoteLiteral(text)} AS JSON)`;
    case Oid.uuid:
      return `CAST(${quoteLiteral(text)} AS UUID)`;
    default:
      return quoteLiteral(text); // text, varchar, name, unknown: an untyped literal
  }
}

function binaryLiteral(oid: number, b: Buffer, n: number): string {
  const need = (len: number): void => {
    if (b.length !== len) throw bindError(n, `expected ${len} bytes for type ${oid}, got ${b.length}`);
  };
  switch (oid) {
    case Oid.bool:
      need(1);
      return b[0] ? 'TRUE' : 'FALSE';
    case Oid.int2:
      need(2);
      return `CAST(${b.readInt16BE(0)} AS SMALLINT)`;
    case Oid.int4:
    case Oid.oid:
      need(4);
      return `CAST(${oid === Oid.oid ? b.readUInt32BE(0) : b.readInt32BE(0)} AS ${oid === Oid.oid ? 'BIGINT' : 'INTEGER'})`;
    case Oid.int8:
      need(8);
      return `CAST(${b.readBigInt64BE(0)} AS BIGINT)`;
    case Oid.float4:
      need(4);
      return `CAST('${b.readFloatBE(0)}' AS REAL)`;
    case Oid.float8:
      need(8);
      return `CAST('${b.readDoubleBE(0)}' AS DOUBLE)`;
    case Oid.numeric: {
      if (b.length < 8) throw bindError(n, 'numeric too short');
      const s = decodeNumeric(b);
      return /^-?\d/.test(s) ? `(${s})` : `CAST('${s}' AS DOUBLE)`;
    }
    case Oid.bytea:
      return blobLiteral(b);
    case Oid.date:
      need(4);
      return `CAST('${pgDaysToIso(b.readInt32BE(0))}' AS DATE)`;
    case Oid.time:
      need(8);
      return `CAST(${quoteLiteral(microsToTime(b.readBigInt64BE(0)))} AS TIME)`;
    case Oid.timestamp:
      need(8);
      return `CAST('${pgMicrosToIso(b.readBigInt64BE(0))}' AS TIMESTAMP)`;
    case Oid.timestamptz:
      need(8);
      return `CAST('${pgMicrosToIso(b.readBigInt64BE(0))}+00' AS TIMESTAMPTZ)`;
    case Oid.interval:
      need(16);
      return `(to_months(${b.readInt32BE(12)}) + to_days(${b.readInt32BE(8)}) + to_microseconds(${b.readBigInt64BE(0)}))`;
    case Oid.uuid: {
      need(16);
      const h = b.toString('hex');
      return `CAST('${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}' AS UUID)`;
    }
    case Oid.json:
      return `CAST(${quoteLiteral(b.toString('utf8'))} AS JSON)`;
    case Oid.jsonb:
      if (b[0] !== 1) throw bindError(n, 'unsupported jsonb version number');
      return `CAST(${quoteLiteral(b.subarray(1).toString('utf8'))} AS JSON)`;
    case Oid.text:
    case Oid.varchar:
    case Oid.name:
    case Oid.bpchar:
      return quoteLiteral(b.toString('utf8'));
    default:
      throw new SqlError(SqlState.featureNotSupported, `binary format for parameter ${n} of type ${oid} is not supported`);
  }
}

function microsToTime(us: bigint): string {
  const s = us / 1_000_000n;
  const pad = (x: bigint): string => String(x).padStart(2, '0');
  return `${pad(s / 3600n)}:${pad((s / 60n) % 60n)}:${pad(s % 60n)}.${String(us % 1_000_000n).padStart(6, '0')}`;
}

function blobLiteral(b: Buffer): string {
  let s = '';
  for (const byte of b) s += '\\x' + byte.toString(16).padStart(2, '0');
  return `CAST('${s}' AS BLOB)`;
}

/** The statement with each $n replaced by its literal. */
export function substituteParameters(sql: string, literals: string[]): string {
  return tokenize(sql)
    .map((t) => {
      if (t.kind !== 'param') return t.text;
      const lit = literals[Number(t.value) - 1];
      if (lit === undefined) throw new SqlError('42P02', `there is no parameter $${t.value}`);
      return lit;
    })
    .join('');
}
