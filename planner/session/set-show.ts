// SET / SHOW / RESET statements, answered from the session's settings.
import { SqlError, SqlState } from '../../engine/query.ts';
import { nextSignificant, type Token } from '../sql/lexer.ts';
import { staticResult, type BrokerResult } from '../result.ts';
import { SessionSettings } from './settings.ts';

/** Significant tokens (no spaces/comments) of a statement. */
function words(tokens: Token[]): Token[] {
  const out: Token[] = [];
  for (let i = nextSignificant(tokens, 0); i < tokens.length; i = nextSignificant(tokens, i + 1)) out.push(tokens[i]!);
  return out;
}

const isWord = (t: Token | undefined, w: string): boolean => t?.kind === 'ident' && t.value === w;

function syntaxError(near: Token | undefined): SqlError {
  return new SqlError(SqlState.syntaxError, near ? `syntax error at or near "${near.text}"` : 'syntax error at end of input');
}

/** A setting's value from its tokens: 'str', ident, number, or a comma list of those. */
function valueOf(ts: Token[]): string {
  const parts: string[] = [];
  let expectValue = true;
  for (const t of ts) {
    if (t.kind === 'punct' && t.text === ';') break;
    if (!expectValue) {
      if (t.kind === 'punct' && t.text === ',') {
        expectValue = true;
        continue;
      }
      throw syntaxError(t);
    }
    if (t.kind === 'string' || t.kind === 'qident') parts.push(t.value);
    else if (t.kind === 'number') parts.push(t.text);
    else if (t.kind === 'op' && t.text === '-') {
      parts.push('-');
      continue;
    } else if (t.kind === 'ident') parts.push(t.text);
    else throw syntaxError(t);
    if (parts.length > 1 && parts[parts.length - 2] === '-') parts.splice(parts.length - 2, 2, `-${parts[parts.length - 1]}`);
    expectValue = false;
  }
  if (expectValue) throw syntaxError(undefined);
  return parts.join(', ');
}

export function runSet(tokens: Token[], settings: SessionSettings): BrokerResult {
  let w = words(tokens).slice(1);
  if (isWord(w[0], 'session') && isWord(w[1], 'characteristics')) return transactionMode(w.slice(4));
  if (isWord(w[0], 'transaction')) return transactionMode(w.slice(1));
  if (isWord(w[0], 'session') || isWord(w[0], 'local')) {
    if (isWord(w[1], 'authorization') || isWord(w[0], 'role')) throw roleError();
    w = w.slice(1);
  }
  if (isWord(w[0], 'role') || isWord(w[0], 'authorization')) throw roleError();
  let name: string;
  let rest: Token[];
  if (isWord(w[0], 'time') && isWord(w[1], 'zone')) {
    name = 'TimeZone';
    rest = w.slice(2);
    if (isWord(rest[0], 'local')) rest = [];
    if (isWord(rest[0], 'interval')) {
      // SET TIME ZONE INTERVAL '+05:30' HOUR TO MINUTE: an offset east of UTC, as a number of hours
      const m = rest[1]?.kind === 'string' ? /^\s*([+-]?)(\d{1,2})(?::(\d{2}))?\s*$/.exec(rest[1].value) : null;
      if (!m) throw syntaxError(rest[1]);
      const hours = (Number(m[2]) + Number(m[3] ?? 0) / 60) * (m[1] === '-' ? -1 : 1);
      const result = staticResult('SET', []);
      result.parameterStatus = settings.set(name, String(hours));
      return result;
    }
  } else if (isWord(w[0], 'names')) {
    name = 'client_encoding';
    rest = w.slice(1);
  } else {
    const nameTokens: string[] = [];
    let i = 0;
    while (w[i] && (w[i]!.kind === 'ident' || w[i]!.kind === 'qident')) {
      nameTokens.push(w[i]!.value);
      if (w[i + 1]?.text === '.') i += 2;
      else break;
    }
    if (nameTokens.length === 0) throw syntaxError(w[0]);
    name = nameTokens.join('.');
    const sep = w[i + 1];
    if (!(isWord(sep, 'to') || (sep?.kind === 'op' && sep.text === '='))) throw syntaxError(sep);
    rest = w.slice(i + 2);
  }
  const value = rest.length === 0 || isWord(rest[0], 'default') ? null : valueOf(rest);
  const result = staticResult('SET', []);
  result.parameterStatus = settings.set(name, value);
  return result;
}

function transactionMode(w: Token[]): BrokerResult {
  for (let i = 0; i + 1 < w.length; i++) {
    if (isWord(w[i], 'read') && isWord(w[i + 1], 'write')) {
      throw new SqlError(SqlState.readOnlySqlTransaction, 'wiretap is read-only: transactions cannot be made read-write');
    }
  }
  return staticResult('SET', []);
}

function roleError(): SqlError {
  return new SqlError(SqlState.insufficientPrivilege, 'permission denied to set role or session authorization');
}

export function runShow(tokens: Token[], settings: SessionSettings): BrokerResult {
  const w = words(tokens).slice(1).filter((t) => !(t.kind === 'punct' && t.text === ';'));
  if (w.length === 1 && isWord(w[0], 'all')) {
    return staticResult(
      'SHOW',
      [{ name: 'name', type: 'text' }, { name: 'setting', type: 'text' }, { name: 'description', type: 'text' }],
      settings.all(),
    );
  }
  const name = w.map((t) => (t.kind === 'ident' || t.kind === 'qident' ? t.value : t.text)).join(' ').replace(/ \. /g, '.');
  if (!name) throw syntaxError(undefined);
  const value = settings.get(name);
  if (value === undefined) throw new SqlError('42704', `unrecognized configuration parameter "${name}"`);
  return staticResult('SHOW', [{ name: SessionSettings.canonicalName(name), type: 'text' }], [[value]]);
}

export function runReset(tokens: Token[], settings: SessionSettings): BrokerResult {
  const w = words(tokens).slice(1).filter((t) => !(t.kind === 'punct' && t.text === ';'));
  const result = staticResult('RESET', []);
  if (w.length === 1 && isWord(w[0], 'all')) {
    result.parameterStatus = settings.resetAll();
    return result;
  }
  const name = w.map((t) => (t.kind === 'ident' || t.kind === 'qident' ? t.value : t.text)).join(' ').replace(/ \. /g, '.');
  if (!name) throw syntaxError(undefined);
  result.parameterStatus = settings.set(name, null);
  return result;
}
