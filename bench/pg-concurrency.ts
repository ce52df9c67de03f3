// `npm run bench -- pg-concurrency [--clients N] [--seconds S]`: N (default 100) node-pg sessions
// at once, each looping over a mix (aggregates, a parameterized query, a cursor, catalog
// introspection, SET/SHOW) while rows are ingested; reports queries and errors (target: 0 errors).
import { parseArgs } from 'node:util';
import pg from 'pg';
import { benchRow, startWiretap, START_NS } from './_pg-fixture.ts';

const mix: Array<(c: pg.Client, i: number) => Promise<unknown>> = [
  (c) => c.query('select req_method, count(*), avg(latency) from http_events group by 1'),
  (c, i) => c.query('select count(*) from http_events where resp_status = $1 and latency > $2', [i % 2 ? 200 : 500, 1_000_000]),
  (c) => c.query('select req_path, max(latency) from http_events where time_ > now() - interval 1 hour group by 1 order by 2 desc limit 5'),
  (c) => c.query("select c.relname, a.attname, format_type(a.atttypid, a.atttypmod) from pg_catalog.pg_class c join pg_catalog.pg_attribute a on a.attrelid = c.oid where c.relname = 'http_events'"),
  (c) => c.query("set application_name = 'bench'; show application_name; select version()"),
  async (c) => {
    await c.query('begin');
    await c.query('declare k cursor for select req_path from http_events order by time_ desc limit 100');
    await c.query('fetch 50 from k');
    await c.query('close k');
    await c.query('commit');
  },
];

export default async function pgConcurrency(args: string[]): Promise<object> {
  const { values } = parseArgs({ args, options: { clients: { type: 'string' }, seconds: { type: 'string' }, rows: { type: 'string' } } });
  const clients = Number(values.clients ?? 100);
  const seconds = Number(values.seconds ?? 30);
  const wiretap = await startWiretap(Number(values.rows ?? 100_000), clients);
  // ingest during the run: 1000 rows every 50 ms (20k rows/s)
  let next = 0;
  const ingest = setInterval(() => {
    const nowNs = BigInt(Date.now()) * 1_000_000n;
    for (let k = 0; k < 1000; k++) wiretap.engine.append('http_events', benchRow(next++, nowNs > START_NS ? nowNs : START_NS));
  }, 50);
  const errors: Record<string, number> = {};
  let queries = 0;
  const deadline = Date.now() + seconds * 1000;
  const latencies: number[] = [];
  try {
    await Promise.all(Array.from({ length: clients }, async (_, id) => {
      const c = new pg.Client({ host: '127.0.0.1', port: wiretap.port, user: 'wiretap', database: 'wiretap' });
      c.on('error', () => {});
      await c.connect();
      try {
        for (let i = id; Date.now() < deadline; i++) {
          const t0 = performance.now();
          try {
            await mix[i % mix.length]!(c, i);
            queries++;
            latencies.push(performance.now() - t0);
          } catch (err) {
            const key = `${(err as { code?: string }).code ?? 'client'}: ${(err as Error).message.slice(0, 80)}`;
            errors[key] = (errors[key] ?? 0) + 1;
            await c.query('rollback').catch(() => {});
          }
        }
      } finally {
        await c.end().catch(() => {});
      }
    }));
  } finally {
    clearInterval(ingest);
  }
  const rowsIngested = next;
  await wiretap.close();
  latencies.sort((a, b) => a - b);
  return {
    clients, seconds, queries, queriesPerSec: Math.round(queries / seconds), rowsIngested,
    p50Ms: +latencies[Math.floor(latencies.length / 2)]!.toFixed(1), p99Ms: +latencies[Math.floor(latencies.length * 0.99)]!.toFixed(1),
    errors: Object.values(errors).reduce((a, b) => a + b, 0), errorKinds: errors, target: '0 errors',
  };
}
