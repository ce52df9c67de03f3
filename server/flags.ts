// Command-line flags, parsed and validated the same way by every subcommand's parser.
import { parseArgs, type ParseArgsConfig } from 'node:util';

/** node:util parseArgs, with an unknown or malformed flag reported as `makeError(message)`. */
export function parseFlags<T extends ParseArgsConfig>(config: T, makeError: (msg: string) => Error): ReturnType<typeof parseArgs<T>> {
  try {
    return parseArgs(config);
  } catch (err) {
    throw makeError((err as Error).message);
  }
}

/** Returns a parser for `--name N` values: the fallback when absent, else an integer in min..max. */
export function intFlag(makeError: (msg: string) => Error) {
  return (name: string, text: string | undefined, fallback: number, min: number, max: number): number => {
    if (text === undefined) return fallback;
    const n = Number(text);
    if (!Number.isInteger(n) || n < min || n > max) throw makeError(`--${name} must be an integer in ${min}..${max}, got "${text}"`);
    return n;
  };
}

export interface PgServerFlags {
  auth: 'scram-sha-256' | 'md5' | 'password';
  tlsCert?: string;
  tlsKey?: string;
}

/** The Postgres wire server's flags, shared by `start` and `broker`: --auth, --tls-cert with --tls-key. */
export function pgServerFlags(v: { auth?: string; 'tls-cert'?: string; 'tls-key'?: string }, makeError: (msg: string) => Error): PgServerFlags {
  const auth = v.auth ?? 'scram-sha-256';
  if (auth !== 'scram-sha-256' && auth !== 'md5' && auth !== 'password') throw makeError(`--auth must be scram-sha-256, md5 or password, got "${auth}"`);
  if ((v['tls-cert'] === undefined) !== (v['tls-key'] === undefined)) throw makeError('--tls-cert and --tls-key go together');
  return { auth, ...(v['tls-cert'] !== undefined ? { tlsCert: v['tls-cert'], tlsKey: v['tls-key'] } : {}) };
}
