// Session settings (GUCs) as a client sees them: SET/SHOW/RESET are answered here, at the
// broker, and never reach a node. Values a client may change freely are stored and reported;
// values that would change how we encode results (client_encoding, DateStyle's ISO) are
// refused when we cannot honour them, so a client never misreads what we send.
import { SqlError, SqlState, type QueryOptions } from '../../engine/query.ts';
import { resolveTimeZone } from './time-zone.ts';

interface SettingDef {
  /** Canonical spelling (SHOW ALL, ParameterStatus). */
  name: string;
  value: string;
  /** PostgreSQL sends ParameterStatus when this changes (GUC_REPORT). */
  report?: boolean;
  readOnly?: boolean;
  description: string;
  /** Normalises or refuses a new value. */
  check?: (v: string) => string;
}

const defs: SettingDef[] = [
  { name: 'application_name', value: '', report: true, description: 'Sets the application name to be reported in statistics and logs.' },
  { name: 'client_encoding', value: 'UTF8', report: true, description: "Sets the client's character set encoding.", check: checkEncoding },
  { name: 'DateStyle', value: 'ISO, MDY', report: true, description: 'Sets the display format for date and time values.', check: checkDateStyle },
  { name: 'IntervalStyle', value: 'postgres', report: true, description: 'Sets the display format for interval values.', check: checkIntervalStyle },
  { name: 'TimeZone', value: 'UTC', report: true, description: 'Sets the time zone for displaying and interpreting time stamps.', check: checkTimeZone },
  { name: 'search_path', value: '"$user", public', description: 'Sets the schema search order for names that are not schema-qualified.' },
  { name: 'extra_float_digits', value: '1', description: 'Sets the number of digits displayed for floating-point values.', check: checkInt },
  { name: 'statement_timeout', value: '0', description: 'Sets the maximum allowed duration of any statement.', check: checkDuration },
  { name: 'lock_timeout', value: '0', description: 'Sets the maximum allowed duration of any wait for a lock.', check: checkDuration },
  { name: 'idle_in_transaction_session_timeout', value: '0', description: 'Sets the maximum allowed idle time between queries, when in a transaction.', check: checkDuration },
  { name: 'standard_conforming_strings', value: 'on', report: true, readOnly: true, description: "Causes '...' strings to treat backslashes literally." },
  { name: 'integer_datetimes', value: 'on', report: true, readOnly: true, description: 'Shows whether datetimes are integer based.' },
  { name: 'server_version', value: '16.0', report: true, readOnly: true, description: 'Shows the server version.' },
  { name: 'server_version_num', value: '160000', readOnly: true, description: 'Shows the server version as an integer.' },
  { name: 'server_encoding', value: 'UTF8', report: true, readOnly: true, description: 'Shows the server (database) character set encoding.' },
  { name: 'default_transaction_read_only', value: 'on', report: true, description: 'Sets the default read-only status of new transactions.', check: checkReadOnly },
  { name: 'transaction_read_only', value: 'on', description: 'Sets the current transaction\'s read-only status.', check: checkReadOnly },
  { name: 'transaction_isolation', value: 'read committed', description: "Sets the current transaction's isolation level." },
  { name: 'default_transaction_isolation', value: 'read committed', description: 'Sets the transaction isolation level of each new transaction.' },
  { name: 'in_hot_standby', value: 'off', report: true, readOnly: true, description: 'Shows whether hot standby is currently active.' },
  { name: 'is_superuser', value: 'off', report: true, readOnly: true, description: 'Shows whether the current user is a superuser.' },
  { name: 'session_authorization', value: '', report: true, readOnly: true, description: 'Sets the session user name.' },
  { name: 'scram_iterations', value: '4096', report: true, readOnly: true, description: 'Sets the iteration count for SCRAM secret generation.' },
  { name: 'max_identifier_length', value: '63', readOnly: true, description: 'Shows the maximum identifier length.' },
  { name: 'max_index_keys', value: '32', readOnly: true, description: 'Shows the maximum number of index keys.' },
  { name: 'max_connections', value: '100', readOnly: true, description: 'Sets the maximum number of concurrent connections.' },
  { name: 'bytea_output', value: 'hex', description: 'Sets the output format for bytea.', check: (v) => { if (v.toLowerCase() !== 'hex') throw unsupported('bytea_output', v); return 'hex'; } },
  { name: 'client_min_messages', value: 'notice', description: 'Sets the message levels that are sent to the client.' },
  { name: 'lc_messages', value: 'C.UTF-8', description: 'Sets the language in which messages are displayed.' },
  { name: 'lc_monetary', value: 'C.UTF-8', description: 'Sets the locale for formatting monetary amounts.' },
  { name: 'lc_numeric', value: 'C.UTF-8', description: 'Sets the locale for formatting numbers.' },
  { name: 'lc_time', value: 'C.UTF-8', description: 'Sets the locale for formatting date and time values.' },
  { name: 'lc_collate', value: 'C.UTF-8', readOnly: true, description: 'Shows the collation order locale.' },
  { name: 'lc_ctype', value: 'C.UTF-8', readOnly: true, description: 'Shows the character classification and case conversion locale.' },
  { name: 'jit', value: 'off', description: 'Allow JIT compilation.' },
  { name: 'work_mem', value: '4MB', description: 'Sets the maximum memory to be used for query workspaces.' },
  { name: 'block_size', value: '8192', readOnly: true, description: 'Shows the size of a disk block.' },
  { name: 'data_directory_mode', value: '0700', readOnly: true, description: 'Shows the mode of the data directory.' },
  { name: 'password_encryption', value: 'scram-sha-256', description: 'Chooses the algorithm for encrypting passwords.' },
  { name: 'row_security', value: 'on', description: 'Enable row security.' },
  { name: 'synchronous_commit', value: 'on', description: "Sets the current transaction's synchronization level." },
  { name: 'timezone_abbreviations', value: 'Default', description: 'Selects a file of time zone abbreviations.' },
  { name: 'geqo', value: 'on', description: 'Enables genetic query optimization.' },
];

const byLowerName = new Map(defs.map((d) => [d.name.toLowerCase(), d]));
/** Aliases PostgreSQL accepts in SET/SHOW. */
const aliases: Record<string, string> = { 'time zone': 'timezone', names: 'client_encoding', 'transaction isolation level': 'transaction_isolation' };

function unsupported(name: string, value: string): SqlError {
  return new SqlError(SqlState.featureNotSupported, `wiretap does not support ${name} = '${value}'`);
}
function invalidValue(name: string, value: string): SqlError {
  return new SqlError('22023', `invalid value for parameter "${name}": "${value}"`);
}
function checkEncoding(v: string): string {
  if (!/^(utf-?8|unicode)$/i.test(v)) throw unsupported('client_encoding', v);
  return 'UTF8';
}
function checkDateStyle(v: string): string {
  // results are always ISO; the order part only matters for input, which DuckDB reads as ISO
  const parts = v.split(',').map((p) => p.trim().toUpperCase()).filter(Boolean);
  if (parts.some((p) => !['ISO', 'MDY', 'DMY', 'YMD', 'US', 'EURO', 'EUROPEAN', 'NONEURO', 'NONEUROPEAN'].includes(p))) {
    throw invalidValue('DateStyle', v);
  }
  if (parts.some((p) => ['SQL', 'POSTGRES', 'GERMAN'].includes(p))) throw unsupported('DateStyle', v);
  const order = parts.find((p) => p !== 'ISO') ?? 'MDY';
  return `ISO, ${order === 'DMY' || order === 'EURO' || order === 'EUROPEAN' ? 'DMY' : order === 'YMD' ? 'YMD' : 'MDY'}`;
}
function checkIntervalStyle(v: string): string {
  if (v.toLowerCase() !== 'postgres') throw unsupported('IntervalStyle', v);
  return 'postgres';
}
function checkInt(v: string): string {
  if (!/^-?\d+$/.test(v.trim())) throw new SqlError('22023', `invalid value for parameter: "${v}"`, undefined, 'an integer is required');
  return String(Number(v));
}
function checkTimeZone(v: string): string {
  return resolveTimeZone(v).name;
}
function checkReadOnly(v: string): string {
  if (/^(off|false|0|no)$/i.test(v)) {
    throw new SqlError(SqlState.readOnlySqlTransaction, 'wiretap is read-only: transactions cannot be made read-write');
  }
  return 'on';
}

const durationUnits: Record<string, number> = { us: 0.001, ms: 1, s: 1000, min: 60_000, h: 3_600_000, d: 86_400_000 };

/** Milliseconds of a duration setting ('5000', '5s', '1min'); throws 22023 if malformed. */
export function parseDurationMs(v: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(us|ms|s|min|h|d)?\s*$/i.exec(v);
  if (!m) throw new SqlError('22023', `invalid value for a duration: "${v}"`, undefined, 'Valid units are "us", "ms", "s", "min", "h", and "d".');
  return Math.round(Number(m[1]) * durationUnits[(m[2] ?? 'ms').toLowerCase()]!);
}
/** PostgreSQL's SHOW form of a millisecond duration ('0', '250ms', '5s', '2min'). */
function formatDurationMs(ms: number): string {
  if (ms === 0) return '0';
  for (const [unit, size] of [['d', 86_400_000], ['h', 3_600_000], ['min', 60_000], ['s', 1000]] as const) {
    if (ms % size === 0) return `${ms / size}${unit}`;
  }
  return `${ms}ms`;
}
function checkDuration(v: string): string {
  return formatDurationMs(parseDurationMs(v));
}

export class SessionSettings {
  private readonly values = new Map<string, string>();
  private readonly defaults = new Map<string, string>();

  /** startup: the StartupMessage parameters (and `options` with -c name=value pairs). */
  constructor(user: string, startup: Record<string, string> = {}, serverVersion = '16.0') {
    for (const d of defs) this.defaults.set(d.name.toLowerCase(), d.value);
    this.defaults.set('session_authorization', user);
    this.defaults.set('server_version', serverVersion);
    const fromStartup: Record<string, string> = { ...startup };
    for (const m of (startup.options ?? '').matchAll(/(?:-c\s*|--)([A-Za-z_.]+)=((?:\\ |\S)+)/g)) fromStartup[m[1]!] = m[2]!.replace(/\\ /g, ' ');
    if (fromStartup.application_name === undefined && fromStartup.fallback_application_name !== undefined) {
      fromStartup.application_name = fromStartup.fallback_application_name;
    }
    for (const [name, value] of Object.entries(fromStartup)) {
      const d = byLowerName.get(name.toLowerCase());
      if (!d || d.readOnly) continue; // user, database, replication, unknown ones: ignored
      try {
        this.defaults.set(d.name.toLowerCase(), d.check ? d.check(value) : value);
      } catch {
        // a startup value we cannot honour keeps the default; the client learns it from ParameterStatus
      }
    }
  }

  /** Current value, or undefined for an unknown setting. */
  get(name: string): string | undefined {
    const key = resolveName(name);
    return this.values.get(key) ?? this.defaults.get(key) ?? (key.includes('.') ? '' : undefined);
  }

  /** statement_timeout in ms (0 = none). */
  get statementTimeoutMs(): number {
    return parseDurationMs(this.get('statement_timeout') ?? '0');
  }

  /** Sets a value; returns ParameterStatus pairs to send. Throws SqlError if refused. */
  set(name: string, value: string | null): Array<[string, string]> {
    const key = resolveName(name);
    const d = byLowerName.get(key);
    if (!d) {
      // custom (dotted) settings are allowed, as in PostgreSQL
      if (!key.includes('.')) throw new SqlError('42704', `unrecognized configuration parameter "${name}"`);
      if (value === null) this.values.delete(key);
      else this.values.set(key, value);
      return [];
    }
    if (d.readOnly) throw new SqlError('55P02', `parameter "${d.name}" cannot be changed`);
    if (value === null) this.values.delete(key);
    else this.values.set(key, d.check ? d.check(value) : value);
    return d.report ? [[d.name, this.get(key)!]] : [];
  }

  /** RESET ALL; returns ParameterStatus pairs for reported settings that changed. */
  resetAll(): Array<[string, string]> {
    const changed: Array<[string, string]> = [];
    for (const key of [...this.values.keys()]) {
      this.values.delete(key);
      const d = byLowerName.get(key);
      if (d?.report) changed.push([d.name, this.get(key)!]);
    }
    return changed;
  }

  /**
   * What a statement of this session carries to the engine: the TimeZone its date/time
   * functions run in (omitted for UTC, the engine's default, and for zones DuckDB cannot take).
   */
  queryOptions(): QueryOptions {
    const zone = resolveTimeZone(this.get('TimeZone') ?? 'UTC');
    return zone.utc || zone.engineId === null ? {} : { timeZone: zone.engineId };
  }

  /** SHOW ALL rows: name, setting, description. */
  all(): Array<[string, string, string]> {
    const rows = defs.map((d): [string, string, string] => [d.name, this.get(d.name)!, d.description]);
    for (const [k, v] of this.values) if (!byLowerName.has(k)) rows.push([k, v, '']);
    return rows.sort((a, b) => a[0].toLowerCase().localeCompare(b[0].toLowerCase()));
  }

  /** Canonical spelling of a known setting name (for SHOW's column header). */
  static canonicalName(name: string): string {
    const key = resolveName(name);
    return byLowerName.get(key)?.name ?? key;
  }
}

function resolveName(name: string): string {
  const lower = name.toLowerCase().trim();
  return aliases[lower] ?? lower;
}
