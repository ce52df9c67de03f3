import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { getPriority } from 'node:os';
import { atNice, canRaisePriority, threadIds } from './priority.ts';

const here = fileURLToPath(new URL('.', import.meta.url));
// Runs in a fresh process (renicing this one would leak into the other tests): the nice value
// of each of its threads afterwards, by thread id.
function inChild(body: string): { self: number; nices: Record<string, number>; out: unknown } {
  const script = `
    import { getPriority } from 'node:os';
    import { readdirSync } from 'node:fs';
    import * as p from './priority.ts';
    const out = await (async () => { ${body} })();
    const nices = {};
    for (const t of readdirSync('/proc/self/task')) nices[t] = getPriority(Number(t));
    console.log(JSON.stringify({ self: process.pid, nices, out }));`;
  const stdout = execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: here, encoding: 'utf8' });
  return JSON.parse(stdout.trim().split('\n').pop()!);
}

test('niceAllThreads reaches the threads node started before any JS ran (V8 platform workers)', () => {
  const r = inChild(`return { before: Object.fromEntries(readdirSync('/proc/self/task').map((t) => [t, getPriority(Number(t))])), set: p.niceAllThreads(7) };`);
  const { before, set } = r.out as { before: Record<string, number>; set: number };
  // node runs several threads besides the JS one, all at the parent's nice before.
  assert.ok(Object.keys(before).length > 1);
  assert.ok(Object.values(before).every((n) => n !== 7));
  assert.ok((set as number) >= Object.keys(before).length - 1);
  for (const tid of Object.keys(before)) if (tid in r.nices) assert.equal(r.nices[tid], 7, `thread ${tid}`);
});

test('atNice: the calling thread runs fn at that nice, then it and threads fn created get the old one back', async () => {
  assert.ok(canRaisePriority(), 'these tests run as root (eBPF), which may raise priority again');
  const was = getPriority(0);
  const before = new Set(threadIds());
  let inside = -1;
  let worker: Worker | undefined;
  const v = atNice(19, () => {
    inside = getPriority(0);
    // A thread made meanwhile (as the tracer's poller is) inherits 19 from this thread.
    worker = new Worker('setInterval(() => {}, 1000)', { eval: true });
    return 42;
  });
  try {
    assert.equal(v, 42);
    assert.equal(inside, 19);
    assert.equal(getPriority(0), was);
    const created = threadIds().filter((t) => !before.has(t));
    assert.ok(created.length > 0, 'the worker is a new thread');
    for (const t of created) assert.equal(getPriority(t), was, `thread ${t}`);
  } finally {
    await worker?.terminate();
  }
});

test('atNice never makes the thread less nice, and restores after fn throws', () => {
  const r = inChild(`
    p.niceAllThreads(10);
    const inside = p.atNice(5, () => getPriority(0));
    let threw = false;
    try { p.atNice(15, () => { throw new Error('x'); }); } catch { threw = true; }
    return { inside, after: getPriority(0), threw };`);
  assert.deepEqual(r.out, { inside: 10, after: 10, threw: true });
});

test('niceAllThreads on a process: every thread set; none left out', () => {
  const r = inChild(`return p.niceAllThreads(3);`);
  assert.ok(Object.values(r.nices).every((n) => n === 3), JSON.stringify(r.nices));
});
