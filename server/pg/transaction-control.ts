// Recognises transaction-control statements. The service is read-only, so transactions are
// bookkeeping only: the server answers them itself (tags and ReadyForQuery status) and never
// sends them to the executor.
import { skipSpaceAndComments } from './split-statements.ts';

export type TxCommand =
  | { kind: 'begin' } // BEGIN, START TRANSACTION
  | { kind: 'commit' } // COMMIT, END
  | { kind: 'rollback' } // ROLLBACK, ABORT
  | { kind: 'savepoint' }
  | { kind: 'release' }
  | { kind: 'rollbackTo' };

/** Up to n leading bare words of a statement, upper-cased, skipping comments. */
export function leadingWords(sql: string, n: number): string[] {
  const words: string[] = [];
  let i = 0;
  while (words.length < n) {
    i = skipSpaceAndComments(sql, i);
    const m = /^[A-Za-z_][A-Za-z0-9_$]*/.exec(sql.slice(i, i + 64));
    if (!m) break;
    words.push(m[0].toUpperCase());
    i += m[0].length;
  }
  return words;
}

export function classifyTransactionCommand(sql: string): TxCommand | null {
  const [w0, w1, w2] = leadingWords(sql, 3);
  switch (w0) {
    case 'BEGIN':
      return { kind: 'begin' };
    case 'START':
      return w1 === 'TRANSACTION' ? { kind: 'begin' } : null;
    case 'COMMIT':
    case 'END':
      // COMMIT PREPARED is two-phase commit, which a read-only service does not have
      return w1 === 'PREPARED' ? null : { kind: 'commit' };
    case 'ABORT':
      return { kind: 'rollback' };
    case 'ROLLBACK':
      if (w1 === 'PREPARED') return null;
      if (w1 === 'TO' || ((w1 === 'WORK' || w1 === 'TRANSACTION') && w2 === 'TO')) return { kind: 'rollbackTo' };
      return { kind: 'rollback' };
    case 'SAVEPOINT':
      return { kind: 'savepoint' };
    case 'RELEASE':
      return { kind: 'release' };
    default:
      return null;
  }
}
