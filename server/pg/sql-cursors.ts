// SQL-level cursors: DECLARE … CURSOR [WITH HOLD] FOR query, FETCH, MOVE, CLOSE (psycopg2's
// named cursors, Tableau's WITH HOLD cursors; through Parse/Bind/Execute too: psycopg3, pgjdbc).
// A cursor owns a running result, pulled only as far as the client fetches, so a huge result is
// never buffered. Forward-only (NO SCROLL).
import { SqlError, SqlState, type QueryResult } from '../../engine/query.ts';
import { nextSignificant, tokenize, type Token } from '../../planner/sql/lexer.ts';
import { Portal } from './portal.ts';
import { canceledError, commandTag, fieldDescriptions } from './result-encoding.ts';
import type { StatementRunner } from './extended-query.ts';
import type { FieldDescription } from './backend-messages.ts';
import { batchLength, batchValues, type BatchedResult } from './row-batches.ts';

export type CursorCommand =
  | { kind: 'declare'; name: string; hold: boolean; binary: boolean; query: string }
  | { kind: 'fetch' | 'move'; name: string; count: number /* Infinity = ALL */ }
  | { kind: 'close'; name: string | null /* null = ALL */ };

const word = (t: Token | undefined): string => (t?.kind === 'ident' ? t.value : '');
const syntax = (t: Token | undefined): SqlError =>
  new SqlError(SqlState.syntaxError, t ? `syntax error at or near "${t.text}"` : 'syntax error at end of input');
const cursorName = (t: Token | undefined): string => {
  if (t?.kind === 'ident' || t?.kind === 'qident') return t.value;
  throw syntax(t);
};

/** Recognises DECLARE/FETCH/MOVE/CLOSE; null for any other statement. Throws 42601 on bad syntax. */
export function parseCursorCommand(sql: string): CursorCommand | null {
  const tokens = tokenize(sql);
  const sig: Token[] = [];
  for (let i = nextSignificant(tokens, 0); i < tokens.length; i = nextSignificant(tokens, i + 1)) sig.push(tokens[i]!);
  const head = word(sig[0]);
  if (head === 'declare') {
    let i = 2;
    let binary = false;
    let hold = false;
    for (; i < sig.length && word(sig[i]) !== 'cursor'; i++) {
      const w = word(sig[i]);
      if (w === 'binary') binary = true;
      else if (w === 'scroll' && word(sig[i - 1]) !== 'no') throw new SqlError(SqlState.featureNotSupported, 'wiretap cursors are NO SCROLL (forward only)');
      else if (!['insensitive', 'asensitive', 'no', 'scroll'].includes(w)) throw syntax(sig[i]);
    }
    i++; // CURSOR
    if (word(sig[i]) === 'with' || word(sig[i]) === 'without') {
      hold = word(sig[i]) === 'with';
      if (word(sig[i + 1]) !== 'hold') throw syntax(sig[i + 1]);
      i += 2;
    }
    if (word(sig[i]) !== 'for' || !sig[i + 1]) throw syntax(sig[i]);
    // the query is everything after FOR, verbatim
    const forToken = sig[i]!;
    let offset = 0;
    for (const t of tokens) {
      if (t === forToken) break;
      offset += t.text.length;
    }
    return { kind: 'declare', name: cursorName(sig[1]), hold, binary, query: sql.slice(offset + forToken.text.length).trim() };
  }
  if (head === 'fetch' || head === 'move') {
    let i = 1;
    let count = 1;
    const w = word(sig[i]);
    const num = (t: Token | undefined): number | null => (t?.kind === 'number' ? Number(t.text) : null);
    if (w === 'next') i++;
    else if (w === 'all') (count = Infinity), i++;
    else if (w === 'forward') {
      i++;
      if (word(sig[i]) === 'all') (count = Infinity), i++;
      else if (num(sig[i]) !== null) (count = num(sig[i])!), i++;
    } else if (['prior', 'first', 'last', 'absolute', 'relative', 'backward'].includes(w)) {
      throw new SqlError('55000', 'cursor can only scan forward', undefined, 'Declare it with SCROLL option to enable backward scan.');
    } else if (num(sig[i]) !== null) (count = num(sig[i])!), i++;
    else if (sig[i]?.kind === 'op' && sig[i]!.text === '-') throw new SqlError('55000', 'cursor can only scan forward');
    if (word(sig[i]) === 'from' || word(sig[i]) === 'in') i++;
    return { kind: head, name: cursorName(sig[i]), count };
  }
  if (head === 'close') {
    if (word(sig[1]) === 'all') return { kind: 'close', name: null };
    return { kind: 'close', name: cursorName(sig[1]) };
  }
  return null;
}

export interface FetchResult extends BatchedResult {
  /** Rows taken from the cursor so far. */
  fetched(): number;
}

interface Cursor {
  portal: Portal;
  hold: boolean;
  binary: boolean;
}

export class SqlCursors {
  private readonly cursors = new Map<string, Cursor>();

  constructor(private readonly conn: StatementRunner) {}

  /** Runs a cursor command and writes its response. */
  /**
   * signal: the statement's (statement_timeout, cancel). A FETCH/MOVE pulls the cursor's query, so
   * when it fires the cursor's query is interrupted and the cursor closed (57014).
   */
  async run(cmd: CursorCommand, inTransactionBlock: boolean, signal?: AbortSignal): Promise<void> {
    switch (cmd.kind) {
      case 'declare': {
        if (!cmd.hold && !inTransactionBlock) throw new SqlError('25P01', 'DECLARE CURSOR can only be used in transaction blocks');
        if (this.cursors.has(cmd.name)) throw new SqlError('42P03', `cursor "${cmd.name}" already exists`);
        const abort = new AbortController();
        const result: QueryResult = await this.conn.startQuery(cmd.query, abort);
        const statement = { name: '', sql: cmd.query, paramTypes: [], tx: null, cursor: null, pending: null };
        this.cursors.set(cmd.name, { portal: new Portal(cmd.name, statement, cmd.query, cmd.binary ? [1] : [], result, abort), hold: cmd.hold, binary: cmd.binary });
        this.conn.out.commandComplete('DECLARE CURSOR');
        return;
      }
      case 'fetch': {
        const cursor = this.cursor(cmd.name);
        const result = this.fetchResult(cmd);
        const types = result.columns.map((c) => c.type);
        const formats = cursor.portal.formats(types.length);
        this.conn.out.rowDescription(fieldDescriptions(result.columns, formats));
        let rows = 0;
        this.conn.setRunning(cursor.portal.abort);
        const unlink = linkAbort(signal, cursor.portal.abort);
        try {
          for await (const batch of result.batches) rows += await this.conn.sendRows(types, batch, formats);
        } catch (err) {
          throw await this.interrupted(cmd.name, signal, err);
        } finally {
          unlink();
          this.conn.setRunning(null);
        }
        this.conn.out.commandComplete(commandTag('FETCH', result.fetched()));
        return;
      }
      case 'move': {
        const { portal } = this.cursor(cmd.name);
        let rows = 0;
        this.conn.setRunning(portal.abort);
        const unlink = linkAbort(signal, portal.abort);
        try {
          while (rows < cmd.count) {
            const batch = await portal.nextBatch(cmd.count === Infinity ? 0 : cmd.count - rows);
            if (!batch) break;
            rows += batchLength(batch);
          }
        } catch (err) {
          throw await this.interrupted(cmd.name, signal, err);
        } finally {
          unlink();
          this.conn.setRunning(null);
        }
        this.conn.out.commandComplete(commandTag('MOVE', rows));
        return;
      }
      case 'close':
        if (cmd.name === null) await this.closeWhere(() => true);
        else {
          if (!this.cursors.has(cmd.name)) throw new SqlError('34000', `cursor "${cmd.name}" does not exist`);
          await this.closeWhere((name) => name === cmd.name);
        }
        this.conn.out.commandComplete(cmd.name === null ? 'CLOSE CURSOR ALL' : 'CLOSE CURSOR');
        return;
    }
  }

  /**
   * FETCH as a result: the cursor's columns, and rows pulled from the cursor only as the
   * consumer reads them (so the extended protocol's Execute row limit and backpressure apply).
   * signal (the FETCH's statement_timeout/cancel) interrupts a pull from the cursor (57014, cursor closed).
   * fetched() is the count for the FETCH tag (PostgreSQL's tag counts the whole FETCH, even when
   * Execute sent it in pieces). Throws 34000 if there is no such cursor.
   */
  fetchResult(cmd: { name: string; count: number }, signal?: AbortSignal): FetchResult {
    const { portal } = this.cursor(cmd.name);
    const columns = portal.result!.columns;
    let rows = 0;
    const interrupted = (err: unknown): Promise<unknown> => this.interrupted(cmd.name, signal, err);
    // rows stay undecoded DuckDB chunks (row-batches.ts) until the connection encodes them
    const batches = (async function* () {
      while (rows < cmd.count) {
        // linked only while pulling: the FETCH portal's own close must not end the cursor
        const unlink = linkAbort(signal, portal.abort);
        let batch;
        try {
          batch = await portal.nextBatch(cmd.count === Infinity ? 0 : cmd.count - rows);
        } catch (err) {
          throw await interrupted(err);
        } finally {
          unlink();
        }
        if (!batch) return;
        rows += batchLength(batch);
        yield batch;
      }
    })();
    return {
      command: 'FETCH',
      columns,
      fetched: () => rows,
      batches,
      chunks: (async function* () {
        for await (const batch of batches) yield batchValues(batch);
      })(),
    };
  }

  /** The cursor's columns for Describe of a FETCH; null when there is no such cursor (PostgreSQL then answers NoData). */
  columnsOf(name: string): QueryResult['columns'] | null {
    return this.cursors.get(name)?.portal.result?.columns ?? null;
  }

  /** RowDescription of a cursor as the portal DECLARE made (its own formats: DECLARE BINARY); null if none. */
  describeCursor(name: string): FieldDescription[] | null {
    const portal = this.cursors.get(name)?.portal;
    const columns = portal?.result?.columns;
    return portal && columns ? fieldDescriptions(columns, portal.formats(columns.length)) : null;
  }

  /** The error to report for a failed FETCH/MOVE: 57014 when the statement was timed out or canceled (its cursor is gone then). */
  private async interrupted(name: string, signal: AbortSignal | undefined, err: unknown): Promise<unknown> {
    const fired = signal?.aborted ? signal : this.cursors.get(name)?.portal.abort.signal; // statement_timeout, or a CancelRequest
    if (!fired?.aborted) return err;
    await this.closeWhere((n) => n === name);
    return canceledError(fired);
  }

  private cursor(name: string): Cursor {
    const cursor = this.cursors.get(name);
    if (!cursor) throw new SqlError('34000', `cursor "${name}" does not exist`);
    return cursor;
  }

  /** At transaction end: cursors without HOLD go (after a rollback, all of them). */
  async endTransaction(committed: boolean): Promise<void> {
    await this.closeWhere((_, c) => !c.hold || !committed);
  }

  async closeAll(): Promise<void> {
    await this.closeWhere(() => true);
  }

  private async closeWhere(pred: (name: string, c: Cursor) => boolean): Promise<void> {
    for (const [name, c] of [...this.cursors]) {
      if (!pred(name, c)) continue;
      this.cursors.delete(name);
      await c.portal.close();
    }
  }
}

/** Aborts `target` when `signal` fires (until the returned function unlinks them). */
function linkAbort(signal: AbortSignal | undefined, target: AbortController): () => void {
  if (!signal) return () => {};
  const onAbort = (): void => target.abort(signal.reason);
  if (signal.aborted) onAbort();
  else signal.addEventListener('abort', onAbort, { once: true });
  return () => signal.removeEventListener('abort', onAbort);
}
