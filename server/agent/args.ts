// Flags of `wiretap agent` (server/cli-args.ts dispatches here and prints this usage).
import { hostname } from 'node:os';
import { intFlag, parseFlags } from '../flags.ts';

export const agentCommandUsage = `  wiretap agent [options]   cluster mode, one per node: capture + engine + a gRPC service running
                            node fragments for brokers; registers itself over NATS`;

export const agentOptionsUsage = `Options for agent:
  --nats URL           NATS server (default nats://127.0.0.1:4222)
  --node NAME          this node's name (default $NODE_NAME, else the hostname); its ASID (the top
                       32 bits of its UPIDs) is derived from it, so it is stable across restarts
  --grpc-bind ADDR     gRPC listen address (default 0.0.0.0)
  --grpc-port N        gRPC port (default 7070; 0 picks a free port)
  --advertise HOST     host brokers dial (default $POD_IP, else 127.0.0.1)
  --health-port N      HTTP /healthz and /stats (fragment counters) (default 8082; 0 picks a free port)
  --source ebpf|demo|synthetic  traffic source (default ebpf); synthetic: --rows deterministic
                       http_events rows from --seed, loaded at start (tests, benchmarks)
  --rows N             synthetic rows (default 10000)
  --seed N             synthetic seed (default 1)
  --heartbeat-ms N     registry announcement interval (default 2000; expiry after 3 missed)
  --body-cap N, --memory-budget SIZE, --log-level LEVEL   as for start`;

export interface AgentOptions {
  nats: string;
  node: string;
  grpcBind: string;
  grpcPort: number;
  advertise: string;
  healthPort: number;
  source: 'ebpf' | 'demo' | 'synthetic';
  rows: number;
  seed: number;
  heartbeatMs: number;
  bodyCap: number;
  memoryBudget?: string;
  logLevel: string;
}

export function parseAgentArgs(argv: string[], makeError: (msg: string) => Error): AgentOptions {
  const { values: v } = parseFlags({
    args: argv,
    allowPositionals: false,
    options: {
      nats: { type: 'string' }, node: { type: 'string' }, 'grpc-bind': { type: 'string' }, 'grpc-port': { type: 'string' },
      advertise: { type: 'string' }, 'health-port': { type: 'string' }, source: { type: 'string' }, rows: { type: 'string' },
      seed: { type: 'string' }, 'heartbeat-ms': { type: 'string' }, 'body-cap': { type: 'string' },
      'memory-budget': { type: 'string' }, 'log-level': { type: 'string' },
    },
  }, makeError);
  const int = intFlag(makeError);
  const source = v.source ?? 'ebpf';
  if (source !== 'ebpf' && source !== 'demo' && source !== 'synthetic') throw makeError(`--source must be ebpf, demo or synthetic, got "${source}"`);
  const node = v.node ?? process.env.NODE_NAME ?? hostname();
  if (!node) throw makeError('--node is empty');
  return {
    nats: v.nats ?? 'nats://127.0.0.1:4222',
    node,
    grpcBind: v['grpc-bind'] ?? '0.0.0.0',
    grpcPort: int('grpc-port', v['grpc-port'], 7070, 0, 65535),
    advertise: v.advertise ?? process.env.POD_IP ?? '127.0.0.1',
    healthPort: int('health-port', v['health-port'], 8082, 0, 65535),
    source,
    rows: int('rows', v.rows, 10_000, 0, 1e9),
    seed: int('seed', v.seed, 1, 0, 2 ** 31),
    heartbeatMs: int('heartbeat-ms', v['heartbeat-ms'], 2000, 50, 600_000),
    bodyCap: int('body-cap', v['body-cap'], 512, 0, 1 << 20),
    ...(v['memory-budget'] ? { memoryBudget: v['memory-budget'] } : {}),
    logLevel: v['log-level'] ?? process.env.WIRETAP_LOG_LEVEL ?? 'info',
  };
}
