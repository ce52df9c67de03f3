import { test } from 'node:test';
import assert from 'node:assert/strict';
import { containerIdFromCgroup } from './container-id.ts';
import { startTicksFromStat } from './proc.ts';

const id = 'f'.repeat(12) + '0123456789abcdef'.repeat(3) + 'a'.repeat(4);

test('container ids from the cgroup paths of common runtimes', () => {
  assert.equal(id.length, 64);
  const cases: Array<[string, string | null]> = [
    [`0::/system.slice/docker-${id}.scope`, id],
    [`12:memory:/docker/${id}\n0::/docker/${id}`, id],
    [`0::/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod1234_5678.slice/cri-containerd-${id}.scope`, id],
    [`0::/kubepods/besteffort/pod1234-5678/${id}`, id],
    [`0::/kubepods.slice/kubepods-pod12.slice/crio-${id}.scope`, id],
    [`0::/machine.slice/libpod-${id}.scope/container`, id],
    ['0::/user.slice/user-0.slice/session-3.scope', null],
    ['0::/', null],
    [`0::/docker-${id.slice(1)}.scope`, null],
  ];
  for (const [cgroup, want] of cases) assert.equal(containerIdFromCgroup(cgroup), want, cgroup);
});

test('start ticks from /proc/PID/stat even when the command has spaces and parentheses', () => {
  const rest = Array.from({ length: 50 }, (_, i) => String(i + 3)).join(' ');
  assert.equal(startTicksFromStat(`42 (a (b) c) ${rest}`), 22n);
  assert.equal(startTicksFromStat('garbage'), null);
});
