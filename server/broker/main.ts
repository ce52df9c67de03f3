// `wiretap broker` as a process: start, print what a person needs, stop cleanly on signals.
import { readFileSync } from 'node:fs';
import { createLogger } from '../log.ts';
import { parseUsers } from '../pg/index.ts';
import type { BrokerOptions } from './args.ts';
import { startBroker } from './broker.ts';

export async function runBroker(o: BrokerOptions): Promise<void> {
  const log = createLogger(o.logLevel);
  const broker = await startBroker({
    nats: o.nats, port: o.port, bind: o.bind, healthPort: o.healthPort, fragmentTimeoutMs: o.fragmentTimeoutS * 1000, maxShippedBytes: o.maxShippedMb * 1024 * 1024,
    clusterMetadata: o.clusterMetadata,
    password: process.env.WIRETAP_PASSWORD || undefined,
    users: process.env.WIRETAP_USERS ? parseUsers(process.env.WIRETAP_USERS) : undefined,
    authMethod: o.auth,
    tls: o.tlsCert && o.tlsKey ? { cert: readFileSync(o.tlsCert), key: readFileSync(o.tlsKey) } : undefined,
    log,
  });
  process.stdout.write(`wiretap broker: postgres ${o.bind}:${broker.port}, health :${broker.healthPort}, nats ${o.nats}\n`);
  log.info({ port: broker.port, healthPort: broker.healthPort, nats: o.nats }, 'broker started');
  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'stopping');
    await broker.stop();
    process.exit(0);
  };
  process.on('SIGINT', () => void shutdown('SIGINT'));
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
}
