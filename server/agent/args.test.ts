// `wiretap agent` / `wiretap broker` flags: defaults, validation, and dispatch from the CLI parser.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseCommand, UsageError, usage } from '../cli-args.ts';

test('agent and broker parse their flags with defaults', () => {
  const a = parseCommand(['agent', '--node', 'n1', '--nats', 'nats://x:4222', '--source', 'synthetic', '--rows', '10']);
  assert.equal(a.kind, 'agent');
  if (a.kind !== 'agent') return;
  assert.deepEqual({ node: a.options.node, nats: a.options.nats, source: a.options.source, rows: a.options.rows, grpcPort: a.options.grpcPort, healthPort: a.options.healthPort, heartbeatMs: a.options.heartbeatMs },
    { node: 'n1', nats: 'nats://x:4222', source: 'synthetic', rows: 10, grpcPort: 7070, healthPort: 8082, heartbeatMs: 2000 });
  const b = parseCommand(['broker', '--port', '6543', '--no-cluster-metadata']);
  assert.equal(b.kind, 'broker');
  if (b.kind !== 'broker') return;
  assert.deepEqual({ port: b.options.port, bind: b.options.bind, clusterMetadata: b.options.clusterMetadata, fragmentTimeoutS: b.options.fragmentTimeoutS, maxShippedMb: b.options.maxShippedMb },
    { port: 6543, bind: '127.0.0.1', clusterMetadata: false, fragmentTimeoutS: 60, maxShippedMb: 256 });
  const capped = parseCommand(['broker', '--max-shipped-mb', '64']);
  assert.equal(capped.kind === 'broker' && capped.options.maxShippedMb, 64);
});

test('bad agent/broker flags are usage errors, and --help documents both', () => {
  assert.throws(() => parseCommand(['agent', '--source', 'pcap']), UsageError);
  assert.throws(() => parseCommand(['broker', '--fragment-timeout', '0']), UsageError);
  assert.throws(() => parseCommand(['broker', '--tls-cert', 'x']), UsageError);
  assert.throws(() => parseCommand(['broker', '--max-shipped-mb', '0']), UsageError);
  assert.throws(() => parseCommand(['broker', '--max-shipped-mb', 'lots']), UsageError);
  assert.equal(parseCommand(['agent', '--help']).kind, 'help');
  for (const flag of ['--grpc-port', '--advertise', '--heartbeat-ms', '--fragment-timeout', '--max-shipped-mb', '--no-cluster-metadata']) assert.ok(usage.includes(flag), flag);
});
