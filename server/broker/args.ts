// Flags of `wiretap broker` (server/cli-args.ts dispatches here and prints this usage).
import { intFlag, parseFlags, pgServerFlags } from '../flags.ts';

export const brokerCommandUsage = `  wiretap broker [options]  cluster mode: Postgres wire + distributed planner; fans node fragments
                            out to the agents registered over NATS and merges their answers`;

export const brokerOptionsUsage = `Options for broker:
  --nats URL           NATS server (default nats://127.0.0.1:4222)
  --port N, --bind ADDR, --auth METHOD, --tls-cert FILE, --tls-key FILE   Postgres wire, as for start
                       (WIRETAP_USERS / WIRETAP_PASSWORD required when not bound to loopback)
  --health-port N      HTTP /healthz and /stats (registered agents) (default 8083; 0 picks a free port)
  --fragment-timeout S seconds a node fragment may take before the query fails naming the node
                       (default 60; statement_timeout, when shorter, cancels earlier)
  --max-shipped-mb N   memory cap on rows shipped to this broker and buffered for merging, over all
                       running statements (Arrow wire size; default 256); a statement over it fails
                       with SQLSTATE 53200 and the broker carries on
  --no-cluster-metadata  do not follow the metadata service (no node pruning by pod/namespace/service)
  --log-level LEVEL    trace|debug|info|warn|error (default info; or WIRETAP_LOG_LEVEL)`;

export interface BrokerOptions {
  nats: string;
  port: number;
  bind: string;
  auth: 'scram-sha-256' | 'md5' | 'password';
  tlsCert?: string;
  tlsKey?: string;
  healthPort: number;
  fragmentTimeoutS: number;
  maxShippedMb: number;
  clusterMetadata: boolean;
  logLevel: string;
}

export function parseBrokerArgs(argv: string[], makeError: (msg: string) => Error): BrokerOptions {
  const { values: v } = parseFlags({
    args: argv,
    allowPositionals: false,
    options: {
      nats: { type: 'string' }, port: { type: 'string' }, bind: { type: 'string' }, auth: { type: 'string' },
      'tls-cert': { type: 'string' }, 'tls-key': { type: 'string' }, 'health-port': { type: 'string' },
      'fragment-timeout': { type: 'string' }, 'max-shipped-mb': { type: 'string' }, 'no-cluster-metadata': { type: 'boolean' }, 'log-level': { type: 'string' },
    },
  }, makeError);
  const int = intFlag(makeError);
  return {
    nats: v.nats ?? 'nats://127.0.0.1:4222',
    port: int('port', v.port, 5433, 0, 65535),
    bind: v.bind ?? '127.0.0.1',
    ...pgServerFlags(v, makeError),
    healthPort: int('health-port', v['health-port'], 8083, 0, 65535),
    fragmentTimeoutS: int('fragment-timeout', v['fragment-timeout'], 60, 1, 86_400),
    maxShippedMb: int('max-shipped-mb', v['max-shipped-mb'], 256, 1, 1_048_576),
    clusterMetadata: !v['no-cluster-metadata'],
    logLevel: v['log-level'] ?? process.env.WIRETAP_LOG_LEVEL ?? 'info',
  };
}
