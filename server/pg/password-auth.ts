// md5 and SCRAM-SHA-256 password authentication (RFC 5802/7677 as PostgreSQL speaks it), against
// passwords looked up per user. SCRAM never sends the password; md5 is kept for old clients.
import { createHash, createHmac, pbkdf2Sync, randomBytes, timingSafeEqual } from 'node:crypto';
import { ProtocolViolation } from './framing.ts';
import { AuthCode, passwordFailed, secretsEqual, type AuthStrategy } from './auth.ts';

export type PasswordLookup = (user: string) => string | undefined;

/** AuthenticationMD5Password: the client answers md5(md5(password + user) + salt). */
export function md5PasswordAuth(lookup: PasswordLookup): AuthStrategy {
  return {
    method: 'md5',
    async authenticate(user, exchange) {
      const salt = randomBytes(4);
      exchange.request(AuthCode.md5Password, salt);
      const body = await exchange.response();
      const nul = body.indexOf(0);
      const given = body.toString('utf8', 0, nul === -1 ? body.length : nul);
      const password = lookup(user);
      const inner = createHash('md5').update((password ?? '\0no-such-user') + user).digest('hex');
      const expected = 'md5' + createHash('md5').update(inner).update(salt).digest('hex');
      if (!secretsEqual(given, expected) || password === undefined) throw passwordFailed(user);
    },
  };
}

const ITERATIONS = 4096;
const hmac = (key: Buffer, data: string): Buffer => createHmac('sha256', key).update(data).digest();
const sha256 = (data: Buffer): Buffer => createHash('sha256').update(data).digest();

interface ScramSecret {
  salt: Buffer;
  storedKey: Buffer;
  serverKey: Buffer;
}

function scramSecret(password: string, salt: Buffer): ScramSecret {
  // PostgreSQL SASLprep-normalises the password; NFKC covers what matters for common passwords
  const salted = pbkdf2Sync(password.normalize('NFKC'), salt, ITERATIONS, 32, 'sha256');
  return { salt, storedKey: sha256(hmac(salted, 'Client Key')), serverKey: hmac(salted, 'Server Key') };
}

/** Parses "a=1,b=2" SCRAM attributes (values may contain '='). */
function attributes(s: string): Map<string, string> {
  const m = new Map<string, string>();
  for (const part of s.split(',')) {
    const eq = part.indexOf('=');
    if (eq === 1) m.set(part[0]!, part.slice(2));
  }
  return m;
}

/** AuthenticationSASL with SCRAM-SHA-256 (no channel binding is offered). */
export function scramSha256Auth(lookup: PasswordLookup): AuthStrategy {
  // PBKDF2 per login is the expensive part; a secret per user and password is computed once
  const secrets = new Map<string, ScramSecret>();
  const unknownUserSecret = scramSecret(randomBytes(16).toString('hex'), randomBytes(16));
  const secretFor = (user: string): ScramSecret | undefined => {
    const password = lookup(user);
    if (password === undefined) return undefined;
    const key = `${user}\0${password}`;
    let s = secrets.get(key);
    if (!s) secrets.set(key, (s = scramSecret(password, randomBytes(16))));
    return s;
  };
  return {
    method: 'scram-sha-256',
    async authenticate(user, exchange) {
      exchange.request(AuthCode.sasl, Buffer.from('SCRAM-SHA-256\0\0'));
      const initial = await exchange.response();
      const mechEnd = initial.indexOf(0);
      if (mechEnd === -1 || initial.length < mechEnd + 5) throw new ProtocolViolation('malformed SASLInitialResponse');
      const mechanism = initial.toString('utf8', 0, mechEnd);
      if (mechanism !== 'SCRAM-SHA-256') throw new ProtocolViolation(`client selected an invalid SASL authentication mechanism "${mechanism}"`);
      const len = initial.readInt32BE(mechEnd + 1);
      const clientFirst = initial.toString('utf8', mechEnd + 5, mechEnd + 5 + Math.max(0, len));
      // gs2 header: n,, (no channel binding) or y,, (client could but we do not offer it)
      const m = /^([ny]),(a=[^,]*)?,(.*)$/.exec(clientFirst);
      if (!m) throw new ProtocolViolation('malformed SCRAM client-first-message');
      const gs2Header = clientFirst.slice(0, clientFirst.length - m[3]!.length);
      const clientFirstBare = m[3]!;
      const clientNonce = attributes(clientFirstBare).get('r');
      if (!clientNonce) throw new ProtocolViolation('SCRAM client-first-message without a nonce');
      const secret = secretFor(user);
      const s = secret ?? unknownUserSecret; // go through the motions so unknown users look the same
      const nonce = clientNonce + randomBytes(18).toString('base64');
      const serverFirst = `r=${nonce},s=${s.salt.toString('base64')},i=${ITERATIONS}`;
      exchange.request(AuthCode.saslContinue, Buffer.from(serverFirst));
      const clientFinal = (await exchange.response()).toString('utf8');
      const proofAt = clientFinal.lastIndexOf(',p=');
      if (proofAt === -1) throw new ProtocolViolation('SCRAM client-final-message without a proof');
      const withoutProof = clientFinal.slice(0, proofAt);
      const attrs = attributes(withoutProof);
      if (attrs.get('r') !== nonce) throw new ProtocolViolation('SCRAM nonce mismatch');
      if (attrs.get('c') !== Buffer.from(gs2Header).toString('base64')) throw new ProtocolViolation('SCRAM channel binding check failed');
      const proof = Buffer.from(clientFinal.slice(proofAt + 3), 'base64');
      const authMessage = `${clientFirstBare},${serverFirst},${withoutProof}`;
      const signature = hmac(s.storedKey, authMessage);
      if (proof.length !== signature.length) throw passwordFailed(user);
      const clientKey = Buffer.alloc(proof.length);
      for (let i = 0; i < proof.length; i++) clientKey[i] = proof[i]! ^ signature[i]!;
      if (!timingSafeEqual(sha256(clientKey), s.storedKey) || !secret) throw passwordFailed(user);
      exchange.request(AuthCode.saslFinal, Buffer.from(`v=${hmac(s.serverKey, authMessage).toString('base64')}`));
    },
  };
}

/** Users from "alice:secret,bob:other" (WIRETAP_USERS); a password may contain ':' but not ','. */
export function parseUsers(spec: string): Map<string, string> {
  const users = new Map<string, string>();
  for (const entry of spec.split(',').map((e) => e.trim()).filter(Boolean)) {
    const colon = entry.indexOf(':');
    if (colon <= 0) throw new Error(`invalid user entry "${entry}": expected name:password`);
    users.set(entry.slice(0, colon), entry.slice(colon + 1));
  }
  return users;
}
