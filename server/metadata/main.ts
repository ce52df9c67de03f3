// `wiretap metadata` as a process: the service, a health endpoint for Kubernetes probes
// (/healthz: the process serves; /readyz: every informer has listed), clean stop on signals.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createLogger } from '../log.ts';
import type { MetadataOptions } from './args.ts';
import { MetadataService } from './service.ts';

export async function runMetadata(o: MetadataOptions): Promise<void> {
  const log = createLogger(o.logLevel);
  // Health first: the process is alive while it waits for NATS; ready once every informer listed.
  let svc: MetadataService | undefined;
  const health = createServer((req, res) => {
    const ok = req.url === '/healthz' || (req.url === '/readyz' && !!svc?.synced);
    res.writeHead(ok ? 200 : 503, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify({ ok, synced: svc?.synced ?? false, ...svc?.stats }));
  });
  await new Promise<void>((resolve) => health.listen(o.healthPort, resolve));
  const healthPort = (health.address() as AddressInfo).port;
  log.info({ nats: o.nats, healthPort }, 'connecting to NATS (retrying until it answers)');
  svc = await MetadataService.start({
    kube: { server: o.kubeServer, kubeconfig: o.kubeconfig },
    nats: o.nats,
    dataDir: o.dataDir,
    retainMs: o.retainMinutes * 60_000,
    log,
  });
  // First stdout line: what a person (or a test) needs to know; logs go to stderr.
  process.stdout.write(`wiretap metadata: version ${svc.stats.version}, nats ${o.nats}, data ${o.dataDir}, health :${healthPort}\n`);
  log.info({ nats: o.nats, dataDir: o.dataDir, healthPort, version: svc.stats.version }, 'metadata service started');

  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'stopping');
    health.close();
    await svc?.stop();
    process.exit(0);
  };
  process.on('SIGINT', () => void shutdown('SIGINT'));
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
}
