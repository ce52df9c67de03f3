// DEALLOCATE and DISCARD ALL, for the session objects the wire server owns: prepared statements
// (SQL DEALLOCATE and the protocol's named statements are one namespace in PostgreSQL) and SQL
// cursors. Poolers such as PgBouncer send DISCARD ALL between clients; without this, a WITH HOLD
// cursor or a prepared statement would outlive its client. Settings are reset by the broker
// session, which still answers DISCARD itself.
import { SqlError, SqlState } from '../../engine/query.ts';
import { nextSignificant, tokenize, type Token } from '../../planner/sql/lexer.ts';

export type SessionCommand =
  | { kind: 'deallocate'; name: string | null /* null = ALL */ }
  | { kind: 'discardAll' };

const word = (t: Token | undefined): string => (t?.kind === 'ident' ? t.value : '');

/** Recognises DEALLOCATE [PREPARE] name|ALL and DISCARD ALL; null for anything else. */
export function parseSessionCommand(sql: string): SessionCommand | null {
  const tokens = tokenize(sql);
  const sig: Token[] = [];
  for (let i = nextSignificant(tokens, 0); i < tokens.length; i = nextSignificant(tokens, i + 1)) {
    if (tokens[i]!.kind === 'punct' && tokens[i]!.text === ';') break;
    sig.push(tokens[i]!);
  }
  const head = word(sig[0]);
  if (head === 'discard') return word(sig[1]) === 'all' && sig.length === 2 ? { kind: 'discardAll' } : null;
  if (head !== 'deallocate') return null;
  let i = 1;
  if (word(sig[i]) === 'prepare') i++;
  const t = sig[i];
  if (!t || sig.length !== i + 1 || (t.kind !== 'ident' && t.kind !== 'qident')) {
    throw new SqlError(SqlState.syntaxError, t ? `syntax error at or near "${t.text}"` : 'syntax error at end of input');
  }
  return { kind: 'deallocate', name: t.kind === 'ident' && t.value === 'all' ? null : t.value };
}
