// Fuzzing the frontend side of the wire protocol: (1) in process, random and mutated bytes through
// the framer, every message decoder and the SQL lexers — only ProtocolViolation/SqlError may come
// out; (2) over sockets, a live PgServer gets startup packets and messages that are valid, mutated
// or random, then our side closes — the server must close too (no wedge) and stay healthy.
// Used by wire-fuzz.test.ts (short) and bench/pg-fuzz.ts (≥ 1M inputs).
import { connect } from 'node:net';
import { SqlError } from '../../engine/query.ts';
import { tokenize } from '../../planner/sql/lexer.ts';
import { ProtocolViolation, MessageFramer } from './framing.ts';
import { decodeBind, decodeExecute, decodeParse, decodeTarget } from './extended-messages.ts';
import { parseStartupParameters } from './connection.ts';
import { splitStatements } from './split-statements.ts';
import { parseCursorCommand } from './sql-cursors.ts';
import { parameterLiteral } from './bind-parameters.ts';
import { frontend } from './wire-test-client.ts';
import { mulberry32 } from '../../collector/synth/rng.ts';

/** Deterministic PRNG so a failing seed can be replayed. */
export const prng = mulberry32;

const validMessages = (): Buffer[] => [
  frontend.query('select 1'),
  frontend.parse('s', 'select $1::int, $2', [23, 0]),
  frontend.bind('p', 's', ['1', null], [1]),
  frontend.describe('S', 's'),
  frontend.describePortal(),
  frontend.execute('p', 3),
  frontend.sync(),
  frontend.query("declare c cursor with hold for select 1; fetch 2 from c; close c"),
  frontend.query('set statement_timeout = 5; show all; reset all'),
];
const typeBytes = 'QPBDECSHXFdcfp'.split('').map((c) => c.charCodeAt(0));

/** One fuzz input: valid, mutated (bit flips, truncation, bad lengths) or random bytes. */
export function fuzzBytes(rand: () => number): Buffer {
  const pick = <T>(xs: T[]): T => xs[Math.floor(rand() * xs.length)]!;
  const r = rand();
  if (r < 0.2) return pick(validMessages());
  if (r < 0.6) {
    const b = Buffer.from(pick(validMessages()));
    const flips = 1 + Math.floor(rand() * 4);
    for (let i = 0; i < flips; i++) b[Math.floor(rand() * b.length)] ^= 1 << Math.floor(rand() * 8);
    return rand() < 0.3 ? b.subarray(0, Math.floor(rand() * b.length)) : b;
  }
  const body = Buffer.alloc(Math.floor(rand() * 48));
  for (let i = 0; i < body.length; i++) body[i] = rand() < 0.3 ? 0 : Math.floor(rand() * 256);
  const head = Buffer.alloc(5);
  head[0] = rand() < 0.8 ? pick(typeBytes) : Math.floor(rand() * 256);
  head.writeInt32BE(rand() < 0.8 ? body.length + 4 : Math.floor(rand() * 2 ** 32) - 2 ** 31, 1);
  return Buffer.concat([head, body]);
}

const allowed = (err: unknown): boolean => err instanceof ProtocolViolation || err instanceof SqlError;

/** In-process fuzz of framer + decoders + lexers; throws on the first unexpected exception. */
export function fuzzDecoders(inputs: number, seed = 1): { inputs: number; frames: number; rejected: number } {
  const rand = prng(seed);
  let frames = 0;
  let rejected = 0;
  for (let n = 0; n < inputs; n++) {
    const bytes = fuzzBytes(rand);
    const framer = new MessageFramer();
    if (rand() < 0.9) framer.endStartupPhase();
    framer.push(bytes);
    try {
      for (let f = framer.next(); f; f = framer.next()) {
        frames++;
        const body = f.body;
        switch (String.fromCharCode(f.type)) {
          case '\0': parseStartupParameters(body.subarray(4)); break;
          case 'P': decodeParse(body); break;
          case 'B': {
            const m = decodeBind(body);
            m.params.forEach((p, i) => {
              try {
                parameterLiteral([16, 20, 21, 23, 700, 701, 1700, 17, 1114, 1184, 1186, 3802, 2950, 25][i % 14]!, m.paramFormats[0] ?? 1, p, i + 1);
              } catch (err) {
                if (!allowed(err)) throw err;
              }
            });
            break;
          }
          case 'D': case 'C': decodeTarget(body, 'Describe'); break;
          case 'E': decodeExecute(body); break;
          case 'Q': {
            const sql = body.toString('utf8');
            tokenize(sql);
            for (const st of splitStatements(sql).statements) {
              try {
                parseCursorCommand(st.text);
              } catch (err) {
                if (!allowed(err)) throw err;
              }
            }
            break;
          }
        }
      }
    } catch (err) {
      if (!allowed(err)) throw new Error(`fuzz input ${n} (seed ${seed}) ${bytes.toString('hex')}: ${(err as Error).stack}`);
      rejected++;
    }
  }
  return { inputs, frames, rejected };
}

/**
 * Socket fuzz: `cases` connections (up to `parallel` at once), each a startup (valid, or mutated)
 * then fuzz messages, then our side closes. Resolves with counts; a connection the server does not
 * close within `wedgeMs` after ours closed is a wedge.
 */
export async function fuzzConnections(port: number, cases: number, seed = 1, parallel = 8, wedgeMs = 10_000): Promise<{ cases: number; fatalErrors: number; wedged: number }> {
  const rand = prng(seed);
  let next = 0;
  let fatalErrors = 0;
  let wedged = 0;
  const one = (): Promise<void> => {
    const parts: Buffer[] = [];
    const startup = frontend.startup({ user: 'fuzz', database: 'wiretap' });
    if (rand() < 0.15) {
      const b = Buffer.from(startup);
      b[Math.floor(rand() * b.length)] ^= 1 << Math.floor(rand() * 8);
      parts.push(b);
    } else parts.push(startup);
    for (let k = 1 + Math.floor(rand() * 6); k > 0; k--) parts.push(fuzzBytes(rand));
    if (rand() < 0.5) parts.push(frontend.sync(), frontend.query('select 1'));
    const payload = Buffer.concat(parts);
    return new Promise<void>((resolve) => {
      const s = connect({ port, host: '127.0.0.1' });
      let got = Buffer.alloc(0);
      const timer = setTimeout(() => {
        wedged++;
        s.destroy();
      }, wedgeMs);
      s.on('data', (d: Buffer) => {
        if (got.length < 65536) got = Buffer.concat([got, d]);
      });
      s.on('error', () => {});
      s.on('close', () => {
        clearTimeout(timer);
        if (got.includes('FATAL')) fatalErrors++;
        resolve();
      });
      s.on('connect', () => s.end(payload));
    });
  };
  const workers = Array.from({ length: parallel }, async () => {
    while (next < cases) {
      next++;
      await one();
    }
  });
  await Promise.all(workers);
  return { cases, fatalErrors, wedged };
}
