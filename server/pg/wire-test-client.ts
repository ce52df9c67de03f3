// A minimal raw protocol client for tests: encodes frontend messages byte by byte and decodes
// backend messages, so tests can send what real clients would not (split packets, garbage,
// CancelRequest, oversized messages) and see exactly what the server answers.
import { connect, type Socket } from 'node:net';

export interface BackendMessage {
  type: string;
  body: Buffer;
}

export const frontend = {
  startup(params: Record<string, string>, version = 196608): Buffer {
    const parts = [int32(version)];
    for (const [k, v] of Object.entries(params)) parts.push(cstr(k), cstr(v));
    parts.push(Buffer.from([0]));
    const body = Buffer.concat(parts);
    return Buffer.concat([int32(body.length + 4), body]);
  },
  sslRequest: (): Buffer => Buffer.concat([int32(8), int32(80877103)]),
  gssencRequest: (): Buffer => Buffer.concat([int32(8), int32(80877104)]),
  cancel: (pid: number, key: number): Buffer => Buffer.concat([int32(16), int32(80877102), int32(pid), int32(key)]),
  query: (sql: string): Buffer => typed('Q', cstr(sql)),
  password: (pw: string): Buffer => typed('p', cstr(pw)),
  parse: (name: string, sql: string, paramTypes: number[] = []): Buffer =>
    typed('P', Buffer.concat([cstr(name), cstr(sql), int16(paramTypes.length), ...paramTypes.map(int32)])),
  /** Bind with text parameters (no format codes = all text). */
  bind: (portal = '', statement = '', params: Array<string | null> = [], resultFormats: number[] = []): Buffer =>
    typed('B', Buffer.concat([
      cstr(portal), cstr(statement), int16(0), int16(params.length),
      ...params.map((p) => (p === null ? int32(-1) : Buffer.concat([int32(Buffer.byteLength(p)), Buffer.from(p)]))),
      int16(resultFormats.length), ...resultFormats.map(int16),
    ])),
  describe: (kind: 'S' | 'P', name = ''): Buffer => typed('D', Buffer.concat([Buffer.from(kind), cstr(name)])),
  describePortal: (): Buffer => typed('D', Buffer.concat([Buffer.from('P'), cstr('')])),
  execute: (portal = '', maxRows = 0): Buffer => typed('E', Buffer.concat([cstr(portal), int32(maxRows)])),
  close: (kind: 'S' | 'P', name = ''): Buffer => typed('C', Buffer.concat([Buffer.from(kind), cstr(name)])),
  sync: (): Buffer => typed('S', Buffer.alloc(0)),
  flush: (): Buffer => typed('H', Buffer.alloc(0)),
  terminate: (): Buffer => typed('X', Buffer.alloc(0)),
  typed,
};

function typed(type: string, body: Buffer): Buffer {
  return Buffer.concat([Buffer.from(type), int32(body.length + 4), body]);
}
function int32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeInt32BE(n);
  return b;
}
function int16(n: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeInt16BE(n);
  return b;
}
function cstr(s: string): Buffer {
  return Buffer.concat([Buffer.from(s, 'utf8'), Buffer.from([0])]);
}

/** Splits backend bytes into messages; the remainder stays buffered. */
export class BackendDecoder {
  private buf = Buffer.alloc(0);
  push(chunk: Buffer): BackendMessage[] {
    this.buf = Buffer.concat([this.buf, chunk]);
    const out: BackendMessage[] = [];
    while (this.buf.length >= 5) {
      const len = this.buf.readInt32BE(1);
      if (this.buf.length < len + 1) break;
      out.push({ type: String.fromCharCode(this.buf[0]!), body: this.buf.subarray(5, len + 1) });
      this.buf = this.buf.subarray(len + 1);
    }
    return out;
  }
}

/** Error/notice fields keyed by their one-letter codes. */
export function errorFields(body: Buffer): Record<string, string> {
  const out: Record<string, string> = {};
  let i = 0;
  while (i < body.length && body[i] !== 0) {
    const code = String.fromCharCode(body[i]!);
    const end = body.indexOf(0, i + 1);
    out[code] = body.toString('utf8', i + 1, end);
    i = end + 1;
  }
  return out;
}

/** DataRow values as strings (null for SQL NULL). */
export function dataRowValues(body: Buffer): Array<string | null> {
  const n = body.readInt16BE(0);
  const vals: Array<string | null> = [];
  let i = 2;
  for (let k = 0; k < n; k++) {
    const len = body.readInt32BE(i);
    i += 4;
    if (len === -1) vals.push(null);
    else {
      vals.push(body.toString('utf8', i, i + len));
      i += len;
    }
  }
  return vals;
}

/** RowDescription as {name, typeOid, typeLen}. */
export function rowDescription(body: Buffer): Array<{ name: string; typeOid: number; typeLen: number }> {
  const n = body.readInt16BE(0);
  const out = [];
  let i = 2;
  for (let k = 0; k < n; k++) {
    const end = body.indexOf(0, i);
    const name = body.toString('utf8', i, end);
    i = end + 1;
    const typeOid = body.readInt32BE(i + 6);
    const typeLen = body.readInt16BE(i + 10);
    i += 18;
    out.push({ name, typeOid, typeLen });
  }
  return out;
}

/** A connected raw client collecting backend messages. */
export class RawClient {
  readonly decoder = new BackendDecoder();
  private messages: BackendMessage[] = [];
  private waiters: Array<() => void> = [];
  private rawByteWanted: ((c: string) => void) | null = null;
  closed = false;

  private constructor(readonly socket: Socket) {
    socket.on('data', (c: Buffer) => {
      if (this.rawByteWanted) {
        const want = this.rawByteWanted;
        this.rawByteWanted = null;
        want(String.fromCharCode(c[0]!));
        c = c.subarray(1);
      }
      this.messages.push(...this.decoder.push(c));
      this.notify();
    });
    socket.on('close', () => {
      this.closed = true;
      this.notify();
    });
    socket.on('error', () => {});
  }

  static connect(port: number, host = '127.0.0.1'): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      const s = connect({ port, host }, () => resolve(new RawClient(s)));
      s.once('error', reject);
    });
  }

  private notify(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  write(b: Buffer): void {
    this.socket.write(b);
  }

  /** Messages up to and including the first of the given type (or until close). */
  async until(type: string, timeoutMs = 5000): Promise<BackendMessage[]> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const idx = this.messages.findIndex((m) => m.type === type);
      if (idx !== -1) return this.messages.splice(0, idx + 1);
      if (this.closed) return this.messages.splice(0);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for '${type}', got ${this.messages.map((m) => m.type).join('')}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  /** Waits for the socket to close; returns what arrived meanwhile. */
  async untilClosed(timeoutMs = 5000): Promise<BackendMessage[]> {
    const deadline = Date.now() + timeoutMs;
    while (!this.closed) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error('timed out waiting for close');
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
    return this.messages.splice(0);
  }

  /** Sends an untyped request (SSLRequest, GSSENCRequest) and returns the one-byte answer. */
  rawByteAnswer(request: Buffer): Promise<string> {
    return new Promise((resolve) => {
      this.rawByteWanted = resolve;
      this.write(request);
    });
  }

  /** Startup as user wiretap; returns messages through the first ReadyForQuery. */
  async startup(params: Record<string, string> = { user: 'wiretap', database: 'wiretap' }): Promise<BackendMessage[]> {
    this.write(frontend.startup(params));
    return this.until('Z');
  }

  /** Sends a simple query; returns messages through ReadyForQuery. */
  async query(sql: string): Promise<BackendMessage[]> {
    this.write(frontend.query(sql));
    return this.until('Z');
  }

  close(): void {
    this.socket.destroy();
  }
}
