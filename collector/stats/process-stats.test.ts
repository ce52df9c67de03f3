import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import type { ProcessEvent } from '../events.ts';
import { ConnScript, endpoint } from '../synth/conn-script.ts';
import { ProcessStatsProducer } from './process-stats.ts';

const exit = (tgid: number, startTicks: bigint): ProcessEvent => ({ kind: 'exit', timeNs: 1n, tgid, startTicks, ppid: 0, filename: '', exitCode: 0 });

test('traced processes: the last-process shortcut forgets entries that exit or stop being sampled', () => {
  const rows: unknown[] = [];
  const p = new ProcessStatsProducer({ append: (_t: string, r: unknown) => rows.push(r) } as never);
  const a = new ConnScript(endpoint({ tgid: 100, startTicks: 1n }));
  p.observeEvent(a.recv('x', 1n), 1000);
  p.observeEvent(a.recv('y', 2n), 1001);
  assert.equal(p.tracedProcesses, 1);
  p.observeProcesses([exit(100, 1n)]);
  assert.equal(p.tracedProcesses, 0);
  // The same process again right after: traced again (not the forgotten entry updated).
  p.observeEvent(a.recv('z', 3n), 1002);
  assert.equal(p.tracedProcesses, 1);
  // PID reuse: a new start time replaces the entry; the old process's exit leaves it alone.
  const b = new ConnScript(endpoint({ tgid: 100, startTicks: 2n }));
  p.observeEvent(b.recv('x', 4n), 1003);
  p.observeProcesses([exit(100, 1n)]);
  assert.equal(p.tracedProcesses, 1);
  p.observeProcesses([exit(100, 2n)]);
  assert.equal(p.tracedProcesses, 0);

  // sample() drops a process that is gone (pid 100 with start time 2 is not this machine's);
  // seen again afterwards it is traced again. This process is real: sampled, kept.
  const self = BigInt(readFileSync(`/proc/${process.pid}/stat`, 'utf8').split(') ')[1]!.split(' ')[19]!);
  const me = new ConnScript(endpoint({ tgid: process.pid, startTicks: self }));
  p.observeEvent(me.recv('x', 5n), Date.now());
  p.observeEvent(b.recv('x', 6n), Date.now()); // the last one seen: the shortcut's entry
  assert.equal(p.tracedProcesses, 2);
  assert.equal(p.sample(7n), 1);
  assert.equal(rows.length, 1);
  assert.equal(p.tracedProcesses, 1);
  p.observeEvent(b.recv('y', 8n), Date.now());
  assert.equal(p.tracedProcesses, 2);
});
