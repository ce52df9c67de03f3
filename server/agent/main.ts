// `wiretap agent` as a process: start, print what a person needs, stop cleanly on signals.
import { createLogger } from '../log.ts';
import type { EventSource } from '../../collector/events.ts';
import { size } from '../cli-args.ts';
import type { AgentOptions } from './args.ts';
import { startAgent } from './agent.ts';

/** openSource: the CLI's event source factory (ebpf/demo), shared with `wiretap start`. */
export async function runAgent(o: AgentOptions, openSource: (kind: 'ebpf' | 'demo') => Promise<EventSource>): Promise<void> {
  const log = createLogger(o.logLevel);
  const source = o.source === 'synthetic'
    ? { kind: 'synthetic' as const, rows: o.rows, seed: o.seed }
    : { kind: 'capture' as const, events: await openSource(o.source), bodyCap: o.bodyCap, memoryBudget: size('memory-budget', o.memoryBudget, 1 << 30) };
  const agent = await startAgent({
    nats: o.nats, node: o.node, grpcBind: o.grpcBind, grpcPort: o.grpcPort, advertise: o.advertise,
    healthPort: o.healthPort, heartbeatMs: o.heartbeatMs, source, log,
  });
  // First stdout line: what a person (or a test) needs to know; logs go to stderr.
  process.stdout.write(`wiretap agent: node ${o.node}, asid ${agent.asid}, grpc ${o.advertise}:${agent.grpcPort}, health :${agent.healthPort}, nats ${o.nats}\n`);
  log.info({ node: o.node, asid: agent.asid, grpcPort: agent.grpcPort, healthPort: agent.healthPort, source: o.source }, 'agent started');
  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'stopping');
    await agent.stop();
    process.exit(0);
  };
  process.on('SIGINT', () => void shutdown('SIGINT'));
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
}
