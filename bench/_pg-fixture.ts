// Shared by the pg benchmarks: wiretap's engine + planner + wire server in this process, with
// deterministic http_events rows.
import { DuckEngine } from '../engine/duck.ts';
import { httpRow } from '../engine/testing/http-row.ts';
import { StandalonePlanner } from '../planner/standalone.ts';
import { PgServer } from '../server/pg/index.ts';

export const START_NS = 1_763_700_000_000_000_000n;

/** Row i of the benchmark data set (the same formulas build PostgreSQL's copy in pg-stream). */
export function benchRow(i: number, timeNs = START_NS + BigInt(i) * 1_000_000n) {
  return httpRow({
    timeNs,
    upid: { asid: 0, pid: 1000 + (i % 50), startTicks: 123456n },
    remoteAddr: `10.0.${(i >> 8) & 255}.${i & 255}`,
    remotePort: 40000 + (i % 20000),
    reqMethod: i % 5 === 0 ? 'POST' : 'GET',
    reqPath: `/api/items/${i % 1000}`,
    respStatus: i % 10 === 0 ? 500 : 200,
    latencyNs: 1_000_000n + BigInt(i),
    respBodySize: i % 4096,
  });
}

export interface Wiretap {
  engine: DuckEngine;
  port: number;
  close(): Promise<void>;
}

export async function startWiretap(rows: number, maxConnections = 100): Promise<Wiretap> {
  const engine = await DuckEngine.create({ maxRowsPerTable: Math.max(rows * 2, 100_000), memoryBudget: 4 * 1024 ** 3 });
  for (let i = 0; i < rows; i++) {
    engine.append('http_events', benchRow(i));
    if (i % 100_000 === 99_999) await engine.flush();
  }
  await engine.flush();
  const planner = new StandalonePlanner(engine);
  const server = new PgServer({ executor: planner, host: '127.0.0.1', port: 0, maxConnections });
  const { port } = await server.listen();
  return {
    engine,
    port,
    async close() {
      await server.close();
      await planner.close();
      await engine.close();
    },
  };
}
