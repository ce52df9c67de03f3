// `npm run bench -- standalone-planner [--rows N] [--runs N]`: pg-latency's queries against two
// standalone servers over the same engine, side by side: "direct" (sessions call the engine, as
// standalone did before issue 7's last slice) and "planner" (sessions go through
// DistributedExecutor.local, the path standalone takes now). Rounds alternate between the two so
// machine noise hits both; reports p50/p99 per query and the planner/direct ratio of the p50s.
import { parseArgs } from 'node:util';
import pg from 'pg';
import { DuckEngine } from '../engine/duck.ts';
import { StandalonePlanner } from '../planner/standalone.ts';
import { PgServer } from '../server/pg/index.ts';
import { benchRow } from './_pg-fixture.ts';

const queries: Array<[string, string, unknown[]?]> = [
  ['aggregate', 'select req_method, count(*), avg(latency) from http_events group by 1'],
  ['parameterized', 'select count(*) from http_events where resp_status = $1 and req_path = $2', [500, '/api/items/10']],
  ['point', 'select 1 as one'],
];

function p(ms: number[], q: number): number {
  const s = [...ms].sort((a, b) => a - b);
  return +s[Math.min(s.length - 1, Math.floor(q * s.length))]!.toFixed(3);
}

export default async function standalonePlanner(args: string[]): Promise<object> {
  const { values } = parseArgs({ args, options: { rows: { type: 'string' }, runs: { type: 'string' } } });
  const rows = Number(values.rows ?? 100_000);
  const runs = Number(values.runs ?? 200);
  const engine = await DuckEngine.create({ maxRowsPerTable: Math.max(rows * 2, 100_000), memoryBudget: 4 * 1024 ** 3 });
  for (let i = 0; i < rows; i++) {
    engine.append('http_events', benchRow(i));
    if (i % 100_000 === 99_999) await engine.flush();
  }
  await engine.flush();
  // bindNode given: sessions call the engine directly (the old standalone path)
  const variants = { direct: new StandalonePlanner(engine, () => engine), planner: new StandalonePlanner(engine) };
  const servers: PgServer[] = [];
  const clients: Record<string, pg.Client> = {};
  for (const [name, planner] of Object.entries(variants)) {
    const server = new PgServer({ executor: planner, host: '127.0.0.1', port: 0 });
    servers.push(server);
    const { port } = await server.listen();
    clients[name] = new pg.Client({ host: '127.0.0.1', port, user: 'wiretap', database: 'wiretap' });
    await clients[name]!.connect();
  }
  const ms: Record<string, Record<string, number[]>> = {};
  try {
    for (const [q, sql, params] of queries) {
      for (const v of Object.keys(variants)) {
        ms[q] = { ...ms[q], [v]: [] };
        for (let i = 0; i < 5; i++) await clients[v]!.query(sql, params); // warm-up
      }
      for (let i = 0; i < runs; i++) {
        for (const v of i % 2 ? ['direct', 'planner'] : ['planner', 'direct']) {
          const t0 = performance.now();
          await clients[v]!.query(sql, params);
          ms[q]![v]!.push(performance.now() - t0);
        }
      }
    }
  } finally {
    for (const c of Object.values(clients)) await c.end();
    for (const s of servers) await s.close();
    for (const v of Object.values(variants)) await v.close();
    await engine.close();
  }
  const out: Record<string, object> = {};
  for (const [q] of queries) {
    const d = ms[q]!.direct!;
    const pl = ms[q]!.planner!;
    out[q] = { directMs: { p50: p(d, 0.5), p99: p(d, 0.99) }, plannerMs: { p50: p(pl, 0.5), p99: p(pl, 0.99) }, p50Ratio: +(p(pl, 0.5) / p(d, 0.5)).toFixed(3) };
  }
  return { rows, runs, ...out };
}
