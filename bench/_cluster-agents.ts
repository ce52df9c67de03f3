// Worker of bench/cluster-scale.ts: hosts several synthetic agents in one process (each its own
// engine, gRPC port and registry announcements) and prints "ready" once all are up.
// Args: NATS_URL FIRST COUNT ROWS
import { pino } from 'pino';
import { startAgent, type Agent } from '../server/agent/agent.ts';

const [natsUrl, first, count, rows] = process.argv.slice(2);
const log = pino({ level: 'warn' }, pino.destination(2));
const agents: Agent[] = [];
for (let i = Number(first); i < Number(first) + Number(count); i++) {
  agents.push(await startAgent({
    nats: natsUrl!, node: `bench-${String(i).padStart(3, '0')}`, grpcBind: '127.0.0.1', grpcPort: 0, advertise: '127.0.0.1',
    healthPort: 0, heartbeatMs: 5000, source: { kind: 'synthetic', rows: Number(rows), seed: 1000 + i }, log,
  }));
}
process.stdout.write(`ready ${agents.map((a) => a.healthPort).join(',')}\n`);
const stop = async () => {
  for (const a of agents) await a.stop();
  process.exit(0);
};
process.on('SIGTERM', () => void stop());
process.on('SIGINT', () => void stop());
