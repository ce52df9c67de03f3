import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseCommand, UsageError } from './cli-args.ts';

test('start defaults match --help', () => {
  const c = parseCommand(['start']);
  assert.equal(c.kind, 'start');
  if (c.kind !== 'start') return;
  assert.deepEqual(
    { port: c.options.port, bind: c.options.bind, source: c.options.source, workload: c.options.workload, bodyCap: c.options.bodyCap, queryCap: c.options.queryCap, nice: c.options.nice },
    { port: 5433, bind: '127.0.0.1', source: 'ebpf', workload: false, bodyCap: 512, queryCap: 4096, nice: 19 },
  );
});

test('flags are parsed and validated', () => {
  const c = parseCommand(['start', '--port', '6000', '--source', 'demo', '--workload', '--bind', '0.0.0.0']);
  assert.ok(c.kind === 'start' && c.options.port === 6000 && c.options.source === 'demo' && c.options.workload && c.options.bind === '0.0.0.0');
  assert.throws(() => parseCommand(['start', '--port', 'x']), UsageError);
  assert.throws(() => parseCommand(['start', '--source', 'pcap']), UsageError);
  assert.throws(() => parseCommand(['start', '--nope']), UsageError);
  assert.throws(() => parseCommand(['stop']), UsageError);
  assert.equal(parseCommand(['--help']).kind, 'help');
  assert.equal(parseCommand([]).kind, 'help');
});

test('--memory-budget and --table-shares', () => {
  const d = parseCommand(['start']);
  assert.ok(d.kind === 'start' && d.options.memoryBudget === 1 << 30 && d.options.tableShares.http_events === 0.4);
  const c = parseCommand(['start', '--memory-budget', '512MiB', '--table-shares', 'http_events=0.5,mysql_events=0.25']);
  assert.ok(c.kind === 'start');
  if (c.kind !== 'start') return;
  assert.equal(c.options.memoryBudget, 512 * 1024 * 1024);
  assert.deepEqual(c.options.tableShares, { http_events: 0.5, mysql_events: 0.25 });
  assert.equal((parseCommand(['start', '--memory-budget', '2G']) as { options: { memoryBudget: number } }).options.memoryBudget, 2e9);
  assert.throws(() => parseCommand(['start', '--memory-budget', 'lots']), UsageError);
  assert.throws(() => parseCommand(['start', '--memory-budget', '10']), UsageError);
  assert.throws(() => parseCommand(['start', '--table-shares', 'http_events=0.8,mysql_events=0.5']), UsageError);
  assert.throws(() => parseCommand(['start', '--table-shares', 'http_events']), UsageError);
});

test('--max-rows defaults to no row cap (the memory budget decides)', () => {
  const d = parseCommand(['start']);
  assert.ok(d.kind === 'start' && d.options.maxRows === 0);
  const c = parseCommand(['start', '--max-rows', '5000']);
  assert.ok(c.kind === 'start' && c.options.maxRows === 5000);
  assert.throws(() => parseCommand(['start', '--max-rows', '-1']), UsageError);
});
