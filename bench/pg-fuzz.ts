// `npm run bench -- pg-fuzz [--inputs N] [--connections M] [--seed S]`: the long fuzz target of the
// Postgres wire parser (server/pg/wire-fuzz.ts): N in-process inputs (default 1,000,000) and M
// fuzzed socket sessions against a live server (default 20,000). Fails on any crash or wedge.
import { parseArgs } from 'node:util';
import { SqlError, type QueryExecutor } from '../engine/query.ts';
import { PgServer } from '../server/pg/index.ts';
import { fuzzConnections, fuzzDecoders } from '../server/pg/wire-fuzz.ts';

const echo: QueryExecutor = {
  async query(sql) {
    if (sql.length > 200) throw new SqlError('42601', 'too long');
    return { command: 'SELECT', columns: [{ name: 'a', type: 'int4' }], chunks: (async function* () { yield [[1]]; })() };
  },
};

export default async function pgFuzz(args: string[]): Promise<object> {
  const { values } = parseArgs({ args, options: { inputs: { type: 'string' }, connections: { type: 'string' }, seed: { type: 'string' } } });
  const inputs = Number(values.inputs ?? 1_000_000);
  const connections = Number(values.connections ?? 20_000);
  const seed = Number(values.seed ?? Date.now() % 1_000_000);
  const t0 = performance.now();
  const decoders = fuzzDecoders(inputs, seed);
  const decoderSeconds = (performance.now() - t0) / 1000;
  process.stderr.write(`decoders: ${inputs} inputs in ${decoderSeconds.toFixed(1)} s\n`);
  const server = new PgServer({ executor: echo, host: '127.0.0.1', port: 0, startupTimeoutMs: 5_000 });
  const { port } = await server.listen();
  const t1 = performance.now();
  const sockets = await fuzzConnections(port, connections, seed, 16);
  const socketSeconds = (performance.now() - t1) / 1000;
  await server.close();
  if (sockets.wedged > 0) throw new Error(`${sockets.wedged} wedged connections (seed ${seed})`);
  return { seed, decoders, decoderSeconds, sockets, socketSeconds };
}
