// `npm run bench -- pg-latency [--rows N] [--runs N]`: p50/p99 of a small aggregate over
// http_events (default 100k rows), 200 sequential runs through node-pg; also a catalog query
// (answered at the broker) and a parameterized point query, for comparison.
import { parseArgs } from 'node:util';
import pg from 'pg';
import { startWiretap } from './_pg-fixture.ts';

function percentiles(ms: number[]): { p50: number; p99: number; max: number } {
  const s = [...ms].sort((a, b) => a - b);
  const at = (q: number): number => +s[Math.min(s.length - 1, Math.floor(q * s.length))]!.toFixed(2);
  return { p50: at(0.5), p99: at(0.99), max: +s[s.length - 1]!.toFixed(2) };
}

export default async function pgLatency(args: string[]): Promise<object> {
  const { values } = parseArgs({ args, options: { rows: { type: 'string' }, runs: { type: 'string' } } });
  const rows = Number(values.rows ?? 100_000);
  const runs = Number(values.runs ?? 200);
  const wiretap = await startWiretap(rows);
  const c = new pg.Client({ host: '127.0.0.1', port: wiretap.port, user: 'wiretap', database: 'wiretap' });
  await c.connect();
  const time = async (q: () => Promise<unknown>): Promise<{ p50: number; p99: number; max: number }> => {
    for (let i = 0; i < 5; i++) await q(); // warm-up
    const ms: number[] = [];
    for (let i = 0; i < runs; i++) {
      const t0 = performance.now();
      await q();
      ms.push(performance.now() - t0);
    }
    return percentiles(ms);
  };
  try {
    return {
      rows,
      runs,
      aggregateMs: await time(() => c.query('select req_method, count(*), avg(latency) from http_events group by 1')),
      parameterizedMs: await time(() => c.query('select count(*) from http_events where resp_status = $1 and req_path = $2', [500, '/api/items/10'])),
      catalogMs: await time(() => c.query("select relname from pg_catalog.pg_class where relkind = 'r' order by 1")),
    };
  } finally {
    await c.end();
    await wiretap.close();
  }
}
