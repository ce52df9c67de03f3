// Hydrated metadata columns with real processes: a child's cmdline read back through SQL, and its
// container id derived from a cgroup this test creates (cgroup v2) and moves the child into.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { DuckEngine } from '../engine/duck.ts';
import { allRows } from '../engine/query.ts';
import { httpRow } from '../engine/testing/http-row.ts';
import { ProcessMetadataStore, observingSink } from '../collector/metadata/metadata-store.ts';
import { startTicksOf, untilExeced } from './helpers/processes.ts';

function cgroup2Mount(): string {
  const line = readFileSync('/proc/mounts', 'utf8').split('\n').find((l) => l.split(' ')[2] === 'cgroup2');
  if (!line) throw new Error('no cgroup2 mount: this test needs cgroup v2 (root)');
  return line.split(' ')[1]!;
}

test('cmdline and container of real processes (root: creates a cgroup v2 group)', async () => {
  // Three digits from 400: sorts after 'sleep 301' (the expected order below).
  const marker = `${400 + Math.floor(Math.random() * 500)}.${process.pid}`;
  const child = spawn('sleep', [marker], { stdio: 'ignore' });
  const other = spawn('sleep', ['301'], { stdio: 'ignore' });
  await untilExeced(child.pid!, 'sleep');
  await untilExeced(other.pid!, 'sleep');
  const containerId = randomBytes(32).toString('hex');
  const parent = `${cgroup2Mount()}/wiretap-test-${process.pid}`;
  const leaf = `${parent}/docker-${containerId}.scope`;
  mkdirSync(leaf, { recursive: true });
  const metadata = new ProcessMetadataStore();
  const engine = await DuckEngine.create({ metadata });
  try {
    writeFileSync(`${leaf}/cgroup.procs`, String(child.pid));
    assert.match(readFileSync(`/proc/${child.pid}/cgroup`, 'utf8'), new RegExp(containerId));
    const upid = { asid: 0, pid: child.pid!, startTicks: startTicksOf(child.pid!) };
    const otherUpid = { asid: 0, pid: other.pid!, startTicks: startTicksOf(other.pid!) };
    const sink = observingSink(engine, metadata);
    for (let i = 0; i < 3000; i++) sink.append('http_events', httpRow({ upid: i % 3 ? upid : otherUpid, reqPath: `/h/${i}` }));

    const rows = await allRows(await engine.query('select cmdline, container, pod, namespace, service, node, count(*) from http_events group by all order by cmdline'));
    assert.deepEqual(rows, [
      ['sleep 301', null, null, null, null, null, 1000n],
      [`sleep ${marker}`, containerId, null, null, null, null, 2000n],
    ]);
    const [[n]] = (await allRows(await engine.query(`select count(*) from http_events where container = '${containerId}'`))) as [[bigint]];
    assert.equal(n, 2000n);

    // Exited processes are remembered: the rows keep their metadata.
    child.kill();
    await once(child, 'exit');
    const after = await allRows(await engine.query(`select distinct cmdline, container from http_events where cmdline like '%${marker}%'`));
    assert.deepEqual(after, [[`sleep ${marker}`, containerId]]);
    assert.equal(metadata.lookup(upid)?.cmdline, `sleep ${marker}`);
    // A store that never saw it has nothing to say (the pid is gone).
    assert.equal(new ProcessMetadataStore().lookup(upid), undefined);
  } finally {
    child.kill();
    other.kill();
    await engine.close();
    if (child.exitCode === null && child.signalCode === null) await once(child, 'exit');
    rmdirSync(leaf);
    rmdirSync(parent);
  }
});
