// Command-line parsing and --help for the wiretap CLI: one place that says what the flags are.
import { metadataCommandUsage, metadataOptionsUsage, parseMetadataArgs, type MetadataOptions } from './metadata/args.ts';
import { agentCommandUsage, agentOptionsUsage, parseAgentArgs, type AgentOptions } from './agent/args.ts';
import { brokerCommandUsage, brokerOptionsUsage, parseBrokerArgs, type BrokerOptions } from './broker/args.ts';
import { intFlag, parseFlags, pgServerFlags } from './flags.ts';

export const usage = `wiretap — eBPF auto-telemetry you can query with SQL

Usage:
  wiretap start [options]   capture this host's HTTP, MySQL and Kafka traffic, serve it over the Postgres wire
  wiretap import FILE [options]
                            load a capture file (pcap or pcapng, from tcpdump/tshark) through the same
                            parsers into the same tables, then serve it like start. Options as for
                            start: --port, --bind, --body-cap, --query-cap, --max-rows, --memory-budget,
                            --table-shares, --log-level
${metadataCommandUsage}
${agentCommandUsage}
${brokerCommandUsage}
  wiretap --help            this text
  wiretap --version         the version

Options for start:
  --port N             Postgres wire port (default 5433)
  --bind ADDR          listen address (default 127.0.0.1). Trust auth on loopback unless passwords
                       are set; any other address requires them: WIRETAP_USERS=alice:pw,bob:pw2
                       (per user) and/or WIRETAP_PASSWORD (any user name)
  --auth METHOD        how passwords are checked: scram-sha-256 (default), md5 or password (cleartext)
  --tls-cert FILE      PEM certificate (with --tls-key): clients asking for SSL get TLS
  --tls-key FILE       PEM private key of --tls-cert
  --source ebpf|demo   where traffic comes from (default ebpf: kernel capture, needs root;
                       demo: synthetic traffic through the same parsers, runs anywhere)
  --workload           also start a demo HTTP server and a client making varied requests
                       (two separate processes), so there is real traffic to capture
  --workload-port N    port of the demo HTTP server (default 8089)
  --body-cap N         bytes of each HTTP body kept in req_body/resp_body (default 512)
  --query-cap N        bytes of each MySQL statement kept in mysql_events.req_body, prepared
                       statements after binding their parameters (default 4096)
  --max-rows N         also cap rows kept per table, the oldest expiring first (default 0: no row
                       cap, the memory budget decides)
  --memory-budget SIZE bytes of compressed rows kept, all tables together; the oldest batches
                       expire first (default 1GiB; suffixes K/M/G or KiB/MiB/GiB, e.g. 512MiB).
                       Query working memory and the process itself come on top
  --table-shares LIST  fraction of the budget per table, e.g. http_events=0.5,mysql_events=0.2
                       (default http_events=0.4; tables not named split the rest equally)
  --log-level LEVEL    trace|debug|info|warn|error (default info; or WIRETAP_LOG_LEVEL)

Capture (--source ebpf):
  --payload-cap N      payload bytes per captured syscall (default 16384, at most 30720); longer
                       messages arrive in several events, the rest counted as gaps
  --capture-all        ship the payload of every TCP connection (default: only connections whose
                       first bytes look like HTTP, MySQL or Kafka; the rest get counters only)
  --attach raw|syscalls  one program on sys_exit for all syscalls (default) or one tracepoint
                       pair per traced syscall
  --scope-netns FILE   only sockets in this network namespace (/run/netns/NAME, /proc/PID/ns/net)
  --scope-cgroup DIR   only processes in this cgroup v2 subtree
  --nice N             run wiretap's threads at this nice value (0..19, default 19): the traced
                       services win CPU contention (nginx under wrk: 0.79-1.07 of its untraced
                       throughput vs 0.48-0.62 at nice 0). Under saturation wiretap then falls
                       behind and drops events (0.4-1.7% there, counted in
                       wiretap_stats.ringbuf_drops) and answers queries later; --nice 0 keeps
                       every event at the services' expense
  --stats-interval S   conn_stats / wiretap_stats interval in seconds (default 10)

${metadataOptionsUsage}

${agentOptionsUsage}

${brokerOptionsUsage}

Logs are JSON lines on stderr. Then, e.g.:
  psql -h 127.0.0.1 -p 5433 -U wiretap -c "select req_method, req_path, resp_status, latency from http_events order by time_ desc limit 10"
`;

export interface StartOptions {
  port: number;
  bind: string;
  source: 'ebpf' | 'demo';
  workload: boolean;
  workloadPort: number;
  bodyCap: number;
  queryCap: number;
  maxRows: number;
  memoryBudget: number;
  tableShares: Record<string, number>;
  logLevel: string;
  payloadCap: number;
  captureAll: boolean;
  attach: 'raw' | 'syscalls';
  scopeNetns?: string;
  scopeCgroup?: string;
  nice: number;
  statsIntervalS: number;
  auth: 'scram-sha-256' | 'md5' | 'password';
  tlsCert?: string;
  tlsKey?: string;
}

export type Command = { kind: 'help' } | { kind: 'version' } | { kind: 'start'; options: StartOptions }
  | { kind: 'import'; file: string; options: StartOptions }
  | { kind: 'metadata'; options: MetadataOptions }
  | { kind: 'agent'; options: AgentOptions }
  | { kind: 'broker'; options: BrokerOptions };

export class UsageError extends Error {}

const int = intFlag((m) => new UsageError(m));

const units: Record<string, number> = { '': 1, k: 1e3, m: 1e6, g: 1e9, kib: 1024, mib: 1024 ** 2, gib: 1024 ** 3 };

/** "1GiB", "512MiB", "2G", "1000000" → bytes (at least 1 MiB). */
export function size(name: string, text: string | undefined, fallback: number): number {
  if (text === undefined) return fallback;
  const m = /^(\d+(?:\.\d+)?)\s*([kmg](?:ib)?|)b?$/i.exec(text.trim());
  const bytes = m ? Math.floor(Number(m[1]) * units[m[2]!.toLowerCase()]!) : NaN;
  if (!Number.isFinite(bytes) || bytes < 1 << 20) throw new UsageError(`--${name} must be a size of at least 1MiB (e.g. 512MiB, 2GiB), got "${text}"`);
  return bytes;
}

/** "http_events=0.5,mysql_events=0.2" → shares; each in (0, 1], together at most 1. */
export function shares(text: string | undefined): Record<string, number> {
  if (text === undefined) return { http_events: 0.4 };
  const out: Record<string, number> = {};
  for (const part of text.split(',').filter(Boolean)) {
    const [name, value] = part.split('=');
    const f = Number(value);
    if (!name || !(f > 0 && f <= 1)) throw new UsageError(`--table-shares wants table=fraction pairs (0 < fraction <= 1), got "${part}"`);
    out[name.trim()] = f;
  }
  if (Object.values(out).reduce((a, b) => a + b, 0) > 1 + 1e-9) throw new UsageError('--table-shares add up to more than 1');
  return out;
}

export function parseCommand(argv: string[]): Command {
  if (argv[0] === 'metadata') {
    if (argv.includes('--help') || argv.includes('-h')) return { kind: 'help' };
    return { kind: 'metadata', options: parseMetadataArgs(argv.slice(1), (m) => new UsageError(m)) };
  }
  if (argv[0] === 'agent' || argv[0] === 'broker') {
    if (argv.includes('--help') || argv.includes('-h')) return { kind: 'help' };
    return argv[0] === 'agent'
      ? { kind: 'agent', options: parseAgentArgs(argv.slice(1), (m) => new UsageError(m)) }
      : { kind: 'broker', options: parseBrokerArgs(argv.slice(1), (m) => new UsageError(m)) };
  }
  const parsed = parseFlags({
    args: argv,
    allowPositionals: true,
    options: {
      help: { type: 'boolean', short: 'h' },
      version: { type: 'boolean' },
      port: { type: 'string' },
      bind: { type: 'string' },
      source: { type: 'string' },
      workload: { type: 'boolean' },
      'workload-port': { type: 'string' },
      'body-cap': { type: 'string' },
      'query-cap': { type: 'string' },
      'max-rows': { type: 'string' },
      'memory-budget': { type: 'string' },
      'table-shares': { type: 'string' },
      'log-level': { type: 'string' },
      'payload-cap': { type: 'string' },
      'capture-all': { type: 'boolean' },
      attach: { type: 'string' },
      'scope-netns': { type: 'string' },
      'scope-cgroup': { type: 'string' },
      nice: { type: 'string' },
      'stats-interval': { type: 'string' },
      auth: { type: 'string' },
      'tls-cert': { type: 'string' },
      'tls-key': { type: 'string' },
    },
  }, (m) => new UsageError(m));
  const { values: v, positionals } = parsed;
  if (v.help) return { kind: 'help' };
  if (v.version) return { kind: 'version' };
  const [command, ...rest] = positionals;
  if (command === undefined) return { kind: 'help' };
  if (command !== 'start' && command !== 'import') throw new UsageError(`unknown command "${command}"`);
  const file = command === 'import' ? rest.shift() : undefined;
  if (command === 'import' && file === undefined) throw new UsageError('import needs a capture file: wiretap import FILE.pcap');
  if (rest.length) throw new UsageError(`unexpected argument "${rest[0]}"`);
  const source = v.source ?? 'ebpf';
  if (source !== 'ebpf' && source !== 'demo') throw new UsageError(`--source must be ebpf or demo, got "${source}"`);
  const attach = v.attach ?? 'raw';
  if (attach !== 'raw' && attach !== 'syscalls') throw new UsageError(`--attach must be raw or syscalls, got "${attach}"`);
  const pg = pgServerFlags(v, (m) => new UsageError(m));
  const options: StartOptions = {
      port: int('port', v.port, 5433, 0, 65535),
      bind: v.bind ?? '127.0.0.1',
      source,
      workload: v.workload ?? false,
      workloadPort: int('workload-port', v['workload-port'], 8089, 1, 65535),
      bodyCap: int('body-cap', v['body-cap'], 512, 0, 1 << 20),
      queryCap: int('query-cap', v['query-cap'], 4096, 0, 1 << 20),
      maxRows: int('max-rows', v['max-rows'], 0, 0, 1e12),
      memoryBudget: size('memory-budget', v['memory-budget'], 1 << 30),
      tableShares: shares(v['table-shares']),
      logLevel: v['log-level'] ?? process.env.WIRETAP_LOG_LEVEL ?? 'info',
      payloadCap: int('payload-cap', v['payload-cap'], 16384, 0, 30720),
      captureAll: v['capture-all'] ?? false,
      attach,
      scopeNetns: v['scope-netns'],
      scopeCgroup: v['scope-cgroup'],
      nice: int('nice', v.nice, 19, 0, 19),
      statsIntervalS: int('stats-interval', v['stats-interval'], 10, 1, 3600),
      ...pg,
  };
  return file !== undefined ? { kind: 'import', file, options } : { kind: 'start', options };
}
