// The session's TimeZone: which names and offsets SET TimeZone accepts (as PostgreSQL reads
// them) and the UTC offset of a zone at an instant, which the wire server's text output of
// timestamptz uses (binary output is UTC by definition). IANA names go through Intl (ICU's tz
// data); fixed offsets are computed here. Offsets are cached per UTC day, and per hour inside a
// day whose start and end differ. This assumes a zone never changes its offset and back within
// one day (nor twice within an hour) — true of DST rules; a span whose ends agree is constant.
import { SqlError } from '../../engine/query.ts';

export interface TimeZone {
  /** The spelling SHOW TimeZone and ParameterStatus report. */
  readonly name: string;
  /** True when the offset is always 0 (UTC, Etc/UTC, GMT, '0', …): output is `+00`. */
  readonly utc: boolean;
  /** Offset east of UTC, in seconds, at the instant `utcSeconds` (seconds since the epoch). */
  offsetAt(utcSeconds: number): number;
  /**
   * The ICU zone id DuckDB's date/time functions run in (`SET TimeZone` on the statement's
   * connection): the tz database name, or Etc/GMT∓h for a whole-hour fixed offset. Null when
   * DuckDB has no zone for it (fixed offsets that are not whole hours: its ICU refuses custom
   * GMT+hh:mm ids) — those statements run in UTC.
   */
  readonly engineId: string | null;
  /**
   * The offset if it is the same at every instant of [fromSeconds, toSeconds], else null (the
   * span crosses a change, or is longer than this checks: 62 days, or 48 hours around a change).
   */
  constantOffset(fromSeconds: number, toSeconds: number): number | null;
}

const HOUR = 3600;
const DAY = 86_400;
/** Intl works in ms within ±8.64e15; instants beyond use the offset at the edge. */
const MAX_SECONDS = 8.64e12 - DAY;

class FixedZone implements TimeZone {
  constructor(readonly name: string, private readonly offset: number) {}
  get utc(): boolean {
    return this.offset === 0;
  }
  get engineId(): string | null {
    const h = this.offset / HOUR;
    // Etc/GMT zones are POSIX-signed (Etc/GMT+3 is UTC−3) and span UTC−12 … UTC+14
    if (!Number.isInteger(h) || h < -12 || h > 14) return null;
    return h === 0 ? 'UTC' : `Etc/GMT${h > 0 ? '-' : '+'}${Math.abs(h)}`;
  }
  offsetAt(): number {
    return this.offset;
  }
  constantOffset(): number {
    return this.offset;
  }
}

class IanaZone implements TimeZone {
  private readonly fmt: Intl.DateTimeFormat;
  /** UTC day / hour → offset for all of it, or null when it changes inside. */
  private readonly days = new Map<number, number | null>();
  private readonly hours = new Map<number, number | null>();
  readonly utc: boolean;
  readonly engineId: string;

  constructor(readonly name: string, id: string) {
    this.fmt = new Intl.DateTimeFormat('en-US', {
      timeZone: id, hourCycle: 'h23', era: 'short', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric',
    });
    this.engineId = this.fmt.resolvedOptions().timeZone;
    this.utc = this.engineId === 'UTC';
  }

  offsetAt(utcSeconds: number): number {
    if (this.utc) return 0;
    const s = Math.max(-MAX_SECONDS, Math.min(MAX_SECONDS, Math.floor(utcSeconds)));
    const day = Math.floor(s / DAY);
    const daily = this.known(this.days, day, DAY);
    if (daily !== null) return daily;
    return this.known(this.hours, Math.floor(s / HOUR), HOUR) ?? this.exactOffset(s);
  }

  constantOffset(fromSeconds: number, toSeconds: number): number | null {
    if (this.utc) return 0;
    if (!(fromSeconds <= toSeconds) || fromSeconds < -MAX_SECONDS || toSeconds > MAX_SECONDS) return null;
    // whole UTC days (or, inside one day that has a change, whole hours) with one offset each,
    // all equal: the offset cannot change between them either
    for (const [cache, size, most] of [[this.days, DAY, 62], [this.hours, HOUR, 48]] as const) {
      const first = Math.floor(fromSeconds / size);
      const last = Math.floor(toSeconds / size);
      if (last - first >= most) continue;
      let offset: number | null = this.known(cache, first, size);
      for (let k = first + 1; k <= last && offset !== null; k++) if (this.known(cache, k, size) !== offset) offset = null;
      if (offset !== null) return offset;
    }
    return null;
  }

  /** The offset for all of bucket `key` (of `size` seconds), or null when it changes inside it. */
  private known(cache: Map<number, number | null>, key: number, size: number): number | null {
    let known = cache.get(key);
    if (known === undefined) {
      const first = this.exactOffset(key * size);
      known = first === this.exactOffset(key * size + size - 1) ? first : null;
      if (cache.size >= 100_000) cache.clear();
      cache.set(key, known);
    }
    return known;
  }

  /** Local wall clock (as Intl prints it) minus UTC, in seconds. */
  private exactOffset(utcSeconds: number): number {
    let y = 0, mo = 0, d = 0, h = 0, mi = 0, sec = 0, bc = false;
    for (const p of this.fmt.formatToParts(utcSeconds * 1000)) {
      switch (p.type) {
        case 'year': y = Number(p.value); break;
        case 'month': mo = Number(p.value); break;
        case 'day': d = Number(p.value); break;
        case 'hour': h = Number(p.value); break;
        case 'minute': mi = Number(p.value); break;
        case 'second': sec = Number(p.value); break;
        case 'era': bc = p.value === 'BC'; break;
      }
    }
    const date = new Date(0);
    date.setUTCFullYear(bc ? 1 - y : y, mo - 1, d);
    date.setUTCHours(h, mi, sec, 0);
    return Math.round(date.getTime() / 1000) - utcSeconds;
  }
}

const utcZone = new FixedZone('UTC', 0);
const cache = new Map<string, TimeZone>([['UTC', utcZone]]);
let ianaByLowerName: Map<string, string> | null = null;

function invalid(value: string): SqlError {
  return new SqlError('22023', `invalid value for parameter "TimeZone": "${value}"`);
}

/** ±hh[:mm[:ss]] → seconds (sign as written). */
function hms(sign: string, h: string, m: string | undefined, s: string | undefined): number {
  const v = Number(h) * HOUR + Number(m ?? 0) * 60 + Number(s ?? 0);
  return sign === '-' ? -v : v;
}

/** '+05:30', '-07', '+00:19:32': PostgreSQL's spelling of an offset east of UTC. */
export function formatUtcOffset(seconds: number): string {
  const a = Math.abs(seconds);
  const hh = Math.floor(a / HOUR);
  const mm = Math.floor(a / 60) % 60;
  const ss = a % 60;
  let out = `${seconds < 0 ? '-' : '+'}${hh < 10 ? '0' : ''}${hh}`;
  if (mm !== 0 || ss !== 0) out += `:${mm < 10 ? '0' : ''}${mm}`;
  if (ss !== 0) out += `:${ss < 10 ? '0' : ''}${ss}`;
  return out;
}

/**
 * The zone a TimeZone value names, as PostgreSQL's check_timezone reads it: a number of hours
 * (ISO sign: '-7', '5.5'), a POSIX fixed-offset spec ('UTC+3', '<+05:30>-05:30', '+02:00' — POSIX
 * sign, west positive), or a tz database name ('Europe/Amsterdam', 'EST5EDT', any case).
 * Throws 22023 for anything else (POSIX specs with DST rules are not supported).
 */
export function resolveTimeZone(value: string): TimeZone {
  const hit = cache.get(value);
  if (hit) return hit;
  const zone = parseTimeZone(value.trim());
  if (cache.size >= 1000) cache.clear();
  cache.set(value, zone);
  return zone;
}

function parseTimeZone(v: string): TimeZone {
  if (/^[+-]?(\d+(\.\d*)?|\.\d+)$/.test(v)) {
    const seconds = Math.round(Number(v) * HOUR);
    if (Math.abs(seconds) > 15 * HOUR + 59 * 60) throw invalid(v);
    const east = formatUtcOffset(seconds);
    return new FixedZone(`<${east}>${formatUtcOffset(-seconds)}`, seconds);
  }
  const posix = /^(<[+\-\w:]*>|[A-Za-z]{3,})?([+-]?)(\d{1,2})(?::(\d{2}))?(?::(\d{2}))?$/.exec(v);
  if (posix) {
    const west = hms(posix[2]!, posix[3]!, posix[4], posix[5]);
    if (Math.abs(west) > 24 * HOUR) throw invalid(v);
    return new FixedZone(v, west === 0 ? 0 : -west);
  }
  if (!/^[A-Za-z0-9_+\-/]+$/.test(v)) throw invalid(v);
  let id: string;
  try {
    id = new Intl.DateTimeFormat('en-US', { timeZone: v }).resolvedOptions().timeZone;
  } catch {
    throw invalid(v);
  }
  ianaByLowerName ??= new Map([...Intl.supportedValuesOf('timeZone'), 'UTC'].map((n) => [n.toLowerCase(), n]));
  const name = ianaByLowerName.get(v.toLowerCase()) ?? (id.toLowerCase() === v.toLowerCase() ? id : v);
  return new IanaZone(name, v);
}
