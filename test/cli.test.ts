// The wiretap CLI as users run it: bin/wiretap in a child process, queried with psql.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { execFileP, waitFor } from './helpers/processes.ts';
import { psqlRows } from './helpers/sql.ts';
import { freePort } from './helpers/net.ts';

const bin = new URL('../bin/wiretap', import.meta.url).pathname;

/** Starts `wiretap start ARGS` and resolves with the port it prints in its psql hint. */
async function startCli(args: string[]): Promise<{ child: ChildProcess; port: number; exited: Promise<number | null> }> {
  const child = spawn(process.execPath, [bin, 'start', '--port', '0', '--log-level', 'warn', ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  let out = '';
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no psql hint in 30 s: ${out}`)), 30_000);
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /psql -h \S+ -p (\d+) -U wiretap/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    });
    void exited.then((code) => reject(new Error(`wiretap exited ${code}: ${out}`)));
  });
  return { child, port, exited };
}

test('--help tells the commands and flags', async () => {
  const { stdout } = await execFileP(process.execPath, [bin, '--help']);
  for (const flag of ['start', '--port', '--bind', '--source ebpf|demo', '--workload', '--body-cap']) assert.ok(stdout.includes(flag), flag);
});

test('a bad flag is a usage error (exit 2)', async () => {
  await assert.rejects(execFileP(process.execPath, [bin, 'start', '--source', 'carrier-pigeon']), (err: { code: number; stderr: string }) => {
    assert.equal(err.code, 2);
    assert.match(err.stderr, /--source must be ebpf or demo/);
    return true;
  });
});

test('start --source demo serves synthetic traffic over the wire and stops on SIGTERM', async () => {
  const w = await startCli(['--source', 'demo']);
  try {
    const rows = await waitFor('demo rows', async () => {
      const r = await psqlRows(w.port, 'select count(*), count(distinct req_path) from http_events');
      return Number(r[0]![0]) >= 20 ? r : undefined;
    });
    assert.ok(Number(rows[0]![1]) > 3, 'varied paths');
  } finally {
    w.child.kill('SIGTERM');
  }
  assert.equal(await w.exited, 0);
});

test('start --workload (the README command) captures the demo workload with eBPF', async () => {
  const workloadPort = await freePort();
  const w = await startCli(['--workload', '--workload-port', String(workloadPort)]);
  try {
    const rows = await waitFor('workload rows', async () => {
      const r = await psqlRows(
        w.port,
        `select trace_role, count(*) from http_events where local_port = ${workloadPort} or remote_port = ${workloadPort} group by 1 order by 1`,
      );
      return r.length === 2 && r.every((x) => Number(x[1]) >= 5) ? r : undefined;
    }, 40_000);
    assert.deepEqual(rows.map((r) => r[0]), ['1', '2'], 'client and server sides');
  } finally {
    w.child.kill('SIGTERM');
  }
  assert.equal(await w.exited, 0);
});
