// `npm run bench -- pg-stream [--rows N]`: a 1M-row, 10-column result streamed to node-pg and to
// psql, from wiretap (engine → planner → wire server, in this process) and from a real
// PostgreSQL 15 (own throwaway cluster) serving the same rows from a table. Clients run as
// separate processes. Reports rows/s and wiretap / PostgreSQL (target ≥ 1.0).
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { startWiretap } from './_pg-fixture.ts';
import { startPgCluster } from './_pg-cluster.ts';

const columns = 'time_, upid, remote_addr, remote_port, local_port, req_method, req_path, resp_status, latency, resp_body_size';

// Clients run asynchronously: the wiretap server lives on this process's event loop.
const run = promisify(execFile);

async function nodePg(port: number, user: string, sql: string): Promise<{ rows: number; seconds: number }> {
  const { stdout } = await run(process.execPath, ['--import', 'tsx', join(import.meta.dirname, '_pg-client.ts'), String(port), user, sql],
    { encoding: 'utf8', maxBuffer: 1 << 20, timeout: 600_000 });
  return JSON.parse(stdout.trim().split('\n').pop()!);
}

async function psqlSeconds(port: number, user: string, sql: string): Promise<number> {
  const t0 = performance.now();
  await run('/usr/bin/psql', ['-X', '-A', '-t', '-o', '/dev/null', '-h', '127.0.0.1', '-p', String(port), '-U', user, '-d', user === 'postgres' ? 'postgres' : 'wiretap', '-c', sql],
    { timeout: 600_000 });
  return (performance.now() - t0) / 1000;
}

export default async function pgStream(args: string[]): Promise<object> {
  const { values } = parseArgs({ args, options: { rows: { type: 'string' }, runs: { type: 'string' } } });
  const rows = Number(values.rows ?? 1_000_000);
  const runs = Number(values.runs ?? 2);
  const sql = `select ${columns} from http_events limit ${rows}`;

  process.stderr.write(`loading ${rows} rows into wiretap\n`);
  const wiretap = await startWiretap(rows);
  const port = wiretap.port;

  process.stderr.write('starting PostgreSQL 15\n');
  const pg15 = await startPgCluster();
  try {
    pg15.psql(`create table http_events as select
        timestamptz '2025-11-21 04:40:00+00' + i * interval '1 millisecond' as time_,
        (lpad('', 8, '0') || lpad(to_hex(1000 + i % 50), 8, '0') || lpad(to_hex(123456), 16, '0'))::uuid as upid,
        '10.0.' || ((i >> 8) & 255) || '.' || (i & 255) as remote_addr,
        (40000 + i % 20000)::int as remote_port, 8080 as local_port,
        case when i % 5 = 0 then 'POST' else 'GET' end as req_method,
        '/api/items/' || (i % 1000) as req_path,
        case when i % 10 = 0 then 500 else 200 end as resp_status,
        (1000000 + i)::bigint as latency, (i % 4096)::bigint as resp_body_size
      from generate_series(0, ${rows - 1}) as i`);
    pg15.psql('vacuum analyze http_events');
    const best = async (f: () => Promise<number>): Promise<number> => {
      let min = Infinity;
      for (let i = 0; i < runs; i++) min = Math.min(min, await f());
      return min;
    };
    const measure = async (p: number, user: string) => {
      const np = await best(async () => {
        const r = await nodePg(p, user, sql);
        if (r.rows !== rows) throw new Error(`node-pg got ${r.rows} rows from port ${p}`);
        return r.seconds;
      });
      const ps = await best(() => psqlSeconds(p, user, sql));
      return { nodePgRowsPerSec: Math.round(rows / np), psqlRowsPerSec: Math.round(rows / ps), nodePgSeconds: np, psqlSeconds: ps };
    };
    process.stderr.write('streaming from wiretap\n');
    const wiretap = await measure(port, 'wiretap');
    process.stderr.write('streaming from PostgreSQL 15\n');
    const postgres15 = await measure(pg15.port, 'postgres');
    return {
      rows, columns: 10, wiretap, postgres15,
      ratio: {
        nodePg: +(wiretap.nodePgRowsPerSec / postgres15.nodePgRowsPerSec).toFixed(2),
        psql: +(wiretap.psqlRowsPerSec / postgres15.psqlRowsPerSec).toFixed(2),
      },
      target: '≥ 1.0 (wiretap / PostgreSQL 15)',
    };
  } finally {
    pg15.stop();
    await wiretap.close();
  }
}
