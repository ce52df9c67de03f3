// Short fuzz runs for CI; `npm run bench -- pg-fuzz` runs ≥ 1M inputs.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { SqlError, type QueryExecutor } from '../../engine/query.ts';
import { PgServer } from './server.ts';
import { fuzzConnections, fuzzDecoders } from './wire-fuzz.ts';
import { RawClient } from './wire-test-client.ts';

const echo: QueryExecutor = {
  async query(sql) {
    if (sql.length > 200) throw new SqlError('42601', 'too long');
    return { command: 'SELECT', columns: [{ name: 'a', type: 'int4' }], chunks: (async function* () { yield [[1]]; })() };
  },
};

let server: PgServer | null = null;
after(async () => {
  await server?.close();
});

test('decoders: random and mutated messages raise only protocol/SQL errors', () => {
  const r = fuzzDecoders(30_000, 7);
  assert.ok(r.frames > 10_000);
});

test('sockets: fuzzed sessions end with the connection closed, never wedged; the server stays healthy', { timeout: 120_000 }, async () => {
  server = new PgServer({ executor: echo, host: '127.0.0.1', port: 0, startupTimeoutMs: 5_000 });
  const { port } = await server.listen();
  const r = await fuzzConnections(port, 400, 11);
  assert.equal(r.wedged, 0);
  assert.ok(r.fatalErrors > 0); // malformed input is answered with a FATAL error before the close
  const c = await RawClient.connect(port);
  await c.startup();
  const answer = await c.query('select 1');
  assert.equal(answer.map((m) => m.type).join(''), 'TDCZ');
  c.close();
  assert.equal(server.connectionCount <= 1, true);
});
