// The standalone query path over an engine a test filled: the planner and the Postgres wire
// server on an ephemeral loopback port, as `wiretap start` wires them.
import type { DuckEngine } from '../../engine/duck.ts';
import { StandalonePlanner } from '../../planner/standalone.ts';
import { PgServer } from '../../server/pg/index.ts';

export interface ServedEngine {
  port: number;
  /** Closes the server, the planner and the engine. */
  close(): Promise<void>;
}

export async function servePg(engine: DuckEngine): Promise<ServedEngine> {
  const planner = new StandalonePlanner(engine);
  const server = new PgServer({ executor: planner, host: '127.0.0.1', port: 0 });
  const { port } = await server.listen();
  return {
    port,
    async close() {
      await server.close();
      await planner.close();
      await engine.close();
    },
  };
}
