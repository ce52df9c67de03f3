// Flags of `wiretap metadata` (server/cli-args.ts dispatches here and prints this usage).
import { intFlag, parseFlags } from '../flags.ts';

/** The command's line(s) under "Usage:". */
export const metadataCommandUsage = `  wiretap metadata [options]  the cluster-mode metadata service: watches the Kubernetes API
                       (pods, services, endpointslices, namespaces, nodes, replicasets,
                       deployments) and publishes versioned updates on NATS for agents and brokers`;

export const metadataOptionsUsage = `Options for metadata:
  --nats URL           NATS server (default nats://127.0.0.1:4222)
  --data-dir DIR       where the durable update log lives (default /var/lib/wiretap/metadata)
  --kube-server URL    Kubernetes API URL without auth, e.g. from kubectl proxy (default: in-cluster
                       service account, or KUBECONFIG / ~/.kube/config)
  --kubeconfig PATH    kubeconfig file to use instead
  --retain-minutes N   how long updates stay replayable for subscribers that missed some
                       (default 60; a longer gap gets a snapshot instead)
  --health-port N      HTTP /healthz and /readyz (default 8081; 0 picks a free port)
  --log-level LEVEL    trace|debug|info|warn|error (default info; or WIRETAP_LOG_LEVEL)`;

export interface MetadataOptions {
  nats: string;
  dataDir: string;
  kubeServer?: string;
  kubeconfig?: string;
  retainMinutes: number;
  healthPort: number;
  logLevel: string;
}

/** Parses the arguments after `metadata`; throws `makeError(message)` on a usage error. */
export function parseMetadataArgs(argv: string[], makeError: (msg: string) => Error): MetadataOptions {
  const { values: v } = parseFlags({
    args: argv,
    allowPositionals: false,
    options: {
      nats: { type: 'string' }, 'data-dir': { type: 'string' }, 'kube-server': { type: 'string' },
      kubeconfig: { type: 'string' }, 'retain-minutes': { type: 'string' }, 'health-port': { type: 'string' },
      'log-level': { type: 'string' },
    },
  }, makeError);
  const int = intFlag(makeError);
  if (v['kube-server'] && v.kubeconfig) throw makeError('--kube-server and --kubeconfig exclude each other');
  return {
    nats: v.nats ?? 'nats://127.0.0.1:4222',
    dataDir: v['data-dir'] ?? '/var/lib/wiretap/metadata',
    ...(v['kube-server'] ? { kubeServer: v['kube-server'] } : {}),
    ...(v.kubeconfig ? { kubeconfig: v.kubeconfig } : {}),
    retainMinutes: int('retain-minutes', v['retain-minutes'], 60, 1, 7 * 24 * 60),
    healthPort: int('health-port', v['health-port'], 8081, 0, 65535),
    logLevel: v['log-level'] ?? process.env.WIRETAP_LOG_LEVEL ?? 'info',
  };
}
