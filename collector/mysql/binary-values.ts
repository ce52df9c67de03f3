// COM_STMT_EXECUTE parameters: decodes the binary protocol values and binds them into the
// prepared statement's text, as SQL literals of the right type (numbers bare, strings quoted and
// escaped, dates quoted, NULL), so the recorded statement reads like the query that ran.

/** Parameter types (from the execute request, reused when a later one does not resend them). */
export type ParamTypes = Uint16Array;

const T = {
  decimal: 0x00, tiny: 0x01, short: 0x02, long: 0x03, float: 0x04, double: 0x05, null: 0x06,
  timestamp: 0x07, longlong: 0x08, int24: 0x09, date: 0x0a, time: 0x0b, datetime: 0x0c, year: 0x0d,
} as const;

class Cursor {
  constructor(readonly b: Buffer, public i: number) {}
  need(n: number): void {
    if (this.i + n > this.b.length) throw new RangeError('truncated');
  }
  u8(): number {
    this.need(1);
    return this.b[this.i++]!;
  }
  lenenc(): number {
    const c = this.u8();
    if (c < 0xfb) return c;
    if (c === 0xfc) return this.fixed(2);
    if (c === 0xfd) return this.fixed(3);
    if (c === 0xfe) return this.fixed(8);
    throw new RangeError('bad length');
  }
  fixed(n: number): number {
    this.need(n);
    let v = 0;
    for (let k = n - 1; k >= 0; k--) v = v * 256 + this.b[this.i + k]!;
    this.i += n;
    return v;
  }
}

function pad(n: number, w = 2): string {
  return String(n).padStart(w, '0');
}

/** A string literal MySQL would accept: quotes and backslashes escaped, binary as hex. */
export function quoteString(b: Buffer): string {
  const s = b.toString('utf8');
  if (s.includes('\uFFFD')) return `X'${b.toString('hex')}'`;
  return `'${s.replace(/[\\'\0\n\r\x1a]/g, (c) => ESC[c]!)}'`;
}
const ESC: Record<string, string> = { '\\': '\\\\', "'": "\\'", '\0': '\\0', '\n': '\\n', '\r': '\\r', '\x1a': '\\Z' };

function value(c: Cursor, type: number, unsigned: boolean, maxString: number): string {
  switch (type) {
    case T.null:
      return 'NULL';
    case T.tiny: {
      c.need(1);
      const v = unsigned ? c.b.readUInt8(c.i) : c.b.readInt8(c.i);
      c.i += 1;
      return String(v);
    }
    case T.short:
    case T.year: {
      c.need(2);
      const v = unsigned || type === T.year ? c.b.readUInt16LE(c.i) : c.b.readInt16LE(c.i);
      c.i += 2;
      return String(v);
    }
    case T.long:
    case T.int24: {
      c.need(4);
      const v = unsigned ? c.b.readUInt32LE(c.i) : c.b.readInt32LE(c.i);
      c.i += 4;
      return String(v);
    }
    case T.longlong: {
      c.need(8);
      const v = unsigned ? c.b.readBigUInt64LE(c.i) : c.b.readBigInt64LE(c.i);
      c.i += 8;
      return String(v);
    }
    case T.float: {
      c.need(4);
      const v = c.b.readFloatLE(c.i);
      c.i += 4;
      return Number.isFinite(v) ? String(+v.toPrecision(7)) : 'NULL';
    }
    case T.double: {
      c.need(8);
      const v = c.b.readDoubleLE(c.i);
      c.i += 8;
      return Number.isFinite(v) ? String(v) : 'NULL';
    }
    case T.date:
    case T.datetime:
    case T.timestamp: {
      const n = c.u8();
      c.need(n);
      const b = c.b;
      const i = c.i;
      c.i += n;
      if (n === 0) return "'0000-00-00 00:00:00'";
      const date = `${pad(b.readUInt16LE(i), 4)}-${pad(b[i + 2]!)}-${pad(b[i + 3]!)}`;
      if (n < 7) return type === T.date ? `'${date}'` : `'${date} 00:00:00'`;
      const time = `${pad(b[i + 4]!)}:${pad(b[i + 5]!)}:${pad(b[i + 6]!)}`;
      const micro = n >= 11 ? `.${pad(b.readUInt32LE(i + 7), 6)}` : '';
      return `'${date} ${time}${micro}'`;
    }
    case T.time: {
      const n = c.u8();
      c.need(n);
      const b = c.b;
      const i = c.i;
      c.i += n;
      if (n === 0) return "'00:00:00'";
      const hours = b.readUInt32LE(i + 1) * 24 + b[i + 5]!;
      const micro = n >= 12 ? `.${pad(b.readUInt32LE(i + 8), 6)}` : '';
      return `'${b[i] ? '-' : ''}${pad(hours)}:${pad(b[i + 6]!)}:${pad(b[i + 7]!)}${micro}'`;
    }
    default: {
      // Strings, decimals, blobs, JSON, enums, bits: length-encoded bytes.
      const n = c.lenenc();
      c.need(n);
      const raw = c.b.subarray(c.i, c.i + n);
      c.i += n;
      if (type === T.decimal || type === 0xf6) return raw.toString('latin1');
      const shown = raw.length > maxString ? raw.subarray(0, maxString) : raw;
      return quoteString(shown);
    }
  }
}

export interface ExecuteParams {
  /** Literals in parameter order ('?' where a value could not be decoded). */
  values: string[];
  /** Types sent with this execute, or null if it reused earlier ones. */
  types: ParamTypes | null;
}

/**
 * Decodes COM_STMT_EXECUTE parameter values (payload including the command byte). `prevTypes`
 * are the types of the statement's previous execute, used when new_params_bound_flag is 0.
 */
export function decodeExecuteParams(payload: Buffer, numParams: number, prevTypes: ParamTypes | null, maxString = 256): ExecuteParams {
  const values: string[] = [];
  let types: ParamTypes | null = null;
  if (numParams <= 0) return { values, types };
  const c = new Cursor(payload, 10); // cmd(1) stmt_id(4) flags(1) iteration_count(4)
  try {
    const bitmapLen = (numParams + 7) >> 3;
    c.need(bitmapLen);
    const bitmap = c.i;
    c.i += bitmapLen;
    const bound = c.u8();
    let use = prevTypes;
    if (bound === 1) {
      c.need(numParams * 2);
      types = new Uint16Array(numParams);
      for (let k = 0; k < numParams; k++) types[k] = payload[c.i + 2 * k]! | (payload[c.i + 2 * k + 1]! << 8);
      c.i += numParams * 2;
      use = types;
    }
    for (let k = 0; k < numParams; k++) {
      if ((payload[bitmap + (k >> 3)]! >> (k & 7)) & 1) {
        values.push('NULL');
        continue;
      }
      if (use === null || use.length <= k) break; // types unknown: cannot decode further
      const t = use[k]!;
      values.push(value(c, t & 0xff, (t & 0x8000) !== 0, maxString));
    }
  } catch {
    // Truncated capture: keep what decoded.
  }
  return { values, types };
}

/** Replaces each `?` placeholder outside quotes and comments with the next value. */
export function bindParams(sql: string, values: readonly string[]): string {
  if (values.length === 0) return sql;
  let out = '';
  let last = 0;
  let v = 0;
  const n = sql.length;
  for (let i = 0; i < n && v < values.length; i++) {
    const ch = sql[i];
    if (ch === "'" || ch === '"' || ch === '`') {
      for (i++; i < n && sql[i] !== ch; i++) if (sql[i] === '\\' && ch !== '`') i++;
    } else if (ch === '#' || (ch === '-' && sql[i + 1] === '-')) {
      while (i < n && sql[i] !== '\n') i++;
    } else if (ch === '/' && sql[i + 1] === '*') {
      const end = sql.indexOf('*/', i + 2);
      i = end < 0 ? n : end + 1;
    } else if (ch === '?') {
      out += sql.slice(last, i) + values[v++];
      last = i + 1;
    }
  }
  return out + sql.slice(last);
}
