// `wiretap` command line: parses flags, picks the event source, starts standalone wiretap.
import { readFileSync } from 'node:fs';
import { niceAllThreads } from '../collector/priority.ts';
import { parseCommand, usage, UsageError, type StartOptions } from './cli-args.ts';
import { createLogger, type Logger } from './log.ts';
import { startStandalone, type StandaloneOptions } from './standalone.ts';
import { parseUsers } from './pg/index.ts';
import { startWorkload, type Workload } from './workload/index.ts';
import type { EventSource } from '../collector/events.ts';

async function openSource(o: StartOptions, log: Logger): Promise<EventSource> {
  if (o.source === 'demo') {
    const { DemoSource } = await import('../collector/sources/demo.ts');
    return new DemoSource();
  }
  const { probe } = await import('../native/index.ts');
  const reason = probe();
  if (reason) {
    throw new Error(`${reason}\n` +
      `Run as root on Linux with BTF (/sys/kernel/btf/vmlinux) after ./scripts/setup.sh, ` +
      `or use synthetic traffic: wiretap start --source demo`);
  }
  const { EbpfSource } = await import('../collector/sources/ebpf.ts');
  const { resolveScope } = await import('../collector/scope/scope.ts');
  log.debug('eBPF source selected');
  return new EbpfSource({
    payloadCap: o.payloadCap,
    inferProtocols: !o.captureAll,
    attach: o.attach,
    ...resolveScope({ netns: o.scopeNetns, cgroup: o.scopeCgroup }),
  });
}

/** Passwords (WIRETAP_USERS, WIRETAP_PASSWORD), --auth and --tls-cert/--tls-key for the Postgres server. */
function pgAuthOptions(o: StartOptions): Pick<StandaloneOptions, 'password' | 'users' | 'authMethod' | 'tls'> {
  return {
    password: process.env.WIRETAP_PASSWORD || undefined,
    users: process.env.WIRETAP_USERS ? parseUsers(process.env.WIRETAP_USERS) : undefined,
    authMethod: o.auth,
    tls: o.tlsCert && o.tlsKey ? { cert: readFileSync(o.tlsCert), key: readFileSync(o.tlsKey) } : undefined,
  };
}

async function start(o: StartOptions): Promise<void> {
  const log = createLogger(o.logLevel);
  // Threads inherit the nice value of the thread creating them: set it before the ringbuf
  // poller, DuckDB's and libuv's pools exist, and on every thread already running — node's V8
  // workers (JIT compiler, concurrent GC) start before any JS and otherwise stay at nice 0,
  // where their burst in the first second of traffic competed with the traced services.
  if (o.nice) niceAllThreads(o.nice);
  const source = await openSource(o, log);
  const wiretap = await startStandalone({
    port: o.port,
    bind: o.bind,
    source,
    bodyCap: o.bodyCap,
    queryCap: o.queryCap,
    maxRows: o.maxRows,
    memoryBudget: o.memoryBudget,
    tableShares: o.tableShares,
    ...pgAuthOptions(o),
    logger: log,
    captureStatsIntervalMs: o.statsIntervalS * 1000,
  });
  let workload: Workload | null = null;
  if (o.workload) workload = startWorkload(o.workloadPort);

  const host = o.bind === '0.0.0.0' || o.bind === '::' ? '127.0.0.1' : o.bind;
  process.stdout.write(
    `\nwiretap is capturing ${o.source === 'ebpf' ? "this host's HTTP, MySQL and Kafka traffic with eBPF" : 'synthetic demo traffic'}.\n` +
      (workload ? `Demo workload: an HTTP server on 127.0.0.1:${o.workloadPort} and a client calling it.\n` : '') +
      `\nConnect with:\n  psql -h ${host} -p ${wiretap.port} -U wiretap\n\nTry:\n` +
      `  psql -h ${host} -p ${wiretap.port} -U wiretap -c "select req_method, req_path, resp_status, latency from http_events order by time_ desc limit 10"\n` +
      `\nCtrl-C stops.\n\n`,
  );
  log.info({ port: wiretap.port, bind: o.bind, source: o.source }, 'wiretap started');

  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'stopping');
    workload?.stop();
    await wiretap.stop();
    process.exit(0);
  };
  process.on('SIGINT', () => void shutdown('SIGINT'));
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
}

/** `wiretap import FILE`: the capture file is parsed before the server listens, then served. */
async function importFile(file: string, o: StartOptions): Promise<void> {
  const log = createLogger(o.logLevel);
  const { PcapSource } = await import('../collector/sources/pcap.ts');
  const source = new PcapSource(file);
  const wiretap = await startStandalone({
    port: o.port, bind: o.bind, source, bodyCap: o.bodyCap, queryCap: o.queryCap, maxRows: o.maxRows, memoryBudget: o.memoryBudget,
    tableShares: o.tableShares, ...pgAuthOptions(o), logger: log,
    captureStatsIntervalMs: o.statsIntervalS * 1000,
  });
  const host = o.bind === '0.0.0.0' || o.bind === '::' ? '127.0.0.1' : o.bind;
  const st = wiretap.collector.stats();
  process.stdout.write(
    `\nwiretap imported ${file}: ${source.reassembly?.packets ?? 0} packets, ${source.reassembly?.connections ?? 0} TCP connections, ${st.records} rows.\n` +
      `\nConnect with:\n  psql -h ${host} -p ${wiretap.port} -U wiretap\n\nCtrl-C stops.\n\n`,
  );
  log.info({ port: wiretap.port, bind: o.bind, file, reassembly: source.reassembly, collector: st }, 'capture file imported');
  const shutdown = async (): Promise<void> => {
    await wiretap.stop();
    process.exit(0);
  };
  process.on('SIGINT', () => void shutdown());
  process.on('SIGTERM', () => void shutdown());
}

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

try {
  const cmd = parseCommand(process.argv.slice(2));
  if (cmd.kind === 'help') process.stdout.write(usage);
  else if (cmd.kind === 'version') process.stdout.write(`wiretap ${version()}\n`);
  else if (cmd.kind === 'import') await importFile(cmd.file, cmd.options);
  else if (cmd.kind === 'metadata') await (await import('./metadata/main.ts')).runMetadata(cmd.options);
  else if (cmd.kind === 'agent') {
    const o = cmd.options;
    const log = createLogger(o.logLevel);
    // the same source factory as `wiretap start`, with its defaults for the capture flags
    const defaults = parseCommand(['start']);
    await (await import('./agent/main.ts')).runAgent(o, (kind) => openSource({ ...(defaults as { options: StartOptions }).options, source: kind }, log));
  } else if (cmd.kind === 'broker') await (await import('./broker/main.ts')).runBroker(cmd.options);
  else await start(cmd.options);
} catch (err) {
  if (err instanceof UsageError) {
    process.stderr.write(`wiretap: ${err.message}\n\n${usage}`);
    process.exit(2);
  }
  process.stderr.write(`wiretap: ${(err as Error).message}\n`);
  process.exit(1);
}
