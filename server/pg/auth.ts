// Authentication strategies. The connection drives one strategy per session through an
// AuthExchange, so multi-step methods (md5 with salt, SCRAM-SHA-256's SASL rounds) fit the
// same seam as trust and cleartext.
import { timingSafeEqual, createHash } from 'node:crypto';
import { SqlError, SqlState } from '../../engine/query.ts';

/** Authentication request codes (the int32 after 'R'). */
export const AuthCode = { ok: 0, cleartextPassword: 3, md5Password: 5, sasl: 10, saslContinue: 11, saslFinal: 12 } as const;

export interface AuthExchange {
  /** Sends an AuthenticationXxx request (code plus method-specific payload) and flushes it. */
  request(code: number, extra?: Buffer): void;
  /** Body of the client's next 'p' message (PasswordMessage, SASLInitialResponse, SASLResponse). */
  response(): Promise<Buffer>;
}

export interface AuthStrategy {
  readonly method: string;
  /** Resolves when the user is authenticated; rejects with SqlError (28P01, 28000) otherwise. */
  authenticate(user: string, exchange: AuthExchange): Promise<void>;
}

export const trustAuth: AuthStrategy = {
  method: 'trust',
  async authenticate() {},
};

export function passwordFailed(user: string): SqlError {
  return new SqlError(SqlState.invalidPassword, `password authentication failed for user "${user}"`);
}

/** Compares secrets in constant time (hashing first so lengths do not leak either). */
export function secretsEqual(a: string, b: string): boolean {
  const ha = createHash('sha256').update(a).digest();
  const hb = createHash('sha256').update(b).digest();
  return timingSafeEqual(ha, hb);
}

/** AuthenticationCleartextPassword against one shared password (or a per-user lookup). */
export function cleartextPasswordAuth(password: string | ((user: string) => string | undefined)): AuthStrategy {
  const lookup = typeof password === 'string' ? () => password : password;
  return {
    method: 'password',
    async authenticate(user, exchange) {
      exchange.request(AuthCode.cleartextPassword);
      const body = await exchange.response();
      const nul = body.indexOf(0);
      const given = body.subarray(0, nul === -1 ? body.length : nul).toString('utf8');
      const expected = lookup(user);
      // compare even for unknown users so timing does not reveal which users exist
      const ok = secretsEqual(given, expected ?? '\0no-such-user');
      if (!ok || expected === undefined) throw passwordFailed(user);
    },
  };
}
