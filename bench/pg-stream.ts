// `npm run bench -- pg-stream [--rows N]`: a 1M-row, 10-column result streamed to node-pg and to
// psql, from wiretap (engine → planner → wire server, in this process) and from a real
// PostgreSQL 15 (own throwaway cluster) serving the same rows from a table. Clients run as
// separate processes. Reports rows/s and wiretap / PostgreSQL (target ≥ 1.0), and wiretap with its
// JS DataRow encoders (WIRETAP_PG_NATIVE_ROWS=0) against the native encoder, all in the same run.
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
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
    // Rounds interleave the three servers (the machine is shared: load drifts over minutes);
    // each keeps its best time per client.
    type Target = { port: number; user: string; native: boolean };
    const targets: Record<'wiretap' | 'wiretapJs' | 'postgres15', Target> = {
      wiretap: { port, user: 'wiretap', native: true },
      wiretapJs: { port, user: 'wiretap', native: false },
      postgres15: { port: pg15.port, user: 'postgres', native: true },
    };
    const bestNodePg: Record<string, number> = {};
    const bestPsql: Record<string, number> = {};
    // CPU of this process (wiretap's server: all its threads, DuckDB's included) per client run —
    // steadier than wall time on a loaded machine; PostgreSQL's runs elsewhere and is not counted.
    const bestCpu: Record<string, number> = {};
    const cpuSeconds = async (name: string, f: () => Promise<unknown>): Promise<void> => {
      const c0 = process.cpuUsage();
      await f();
      const c = process.cpuUsage(c0);
      bestCpu[name] = Math.min(bestCpu[name] ?? Infinity, (c.user + c.system) / 1e6);
    };
    for (let round = 0; round < runs; round++) {
      for (const [name, t] of Object.entries(targets)) {
        process.stderr.write(`round ${round + 1}: ${name}\n`);
        // read per result by server/pg/row-batches.ts: '0' sends rows through the JS encoders
        if (t.native) delete process.env.WIRETAP_PG_NATIVE_ROWS;
        else process.env.WIRETAP_PG_NATIVE_ROWS = '0';
        try {
          await cpuSeconds(`${name}NodePg`, async () => {
            const r = await nodePg(t.port, t.user, sql);
            if (r.rows !== rows) throw new Error(`node-pg got ${r.rows} rows from ${name}`);
            bestNodePg[name] = Math.min(bestNodePg[name] ?? Infinity, r.seconds);
          });
          await cpuSeconds(`${name}Psql`, async () => {
            bestPsql[name] = Math.min(bestPsql[name] ?? Infinity, await psqlSeconds(t.port, t.user, sql));
          });
        } finally {
          delete process.env.WIRETAP_PG_NATIVE_ROWS;
        }
      }
    }
    const result = (name: string) => ({
      nodePgRowsPerSec: Math.round(rows / bestNodePg[name]!), psqlRowsPerSec: Math.round(rows / bestPsql[name]!),
      nodePgSeconds: +bestNodePg[name]!.toFixed(3), psqlSeconds: +bestPsql[name]!.toFixed(3),
      ...(name === 'postgres15' ? {} : {
        serverCpuSecondsNodePg: +bestCpu[`${name}NodePg`]!.toFixed(2), serverCpuSecondsPsql: +bestCpu[`${name}Psql`]!.toFixed(2),
      }),
    });
    const wiretap = result('wiretap');
    const wiretapJs = result('wiretapJs');
    const postgres15 = result('postgres15');
    return {
      rows, columns: 10, wiretap, wiretapJsEncoders: wiretapJs, postgres15,
      ratio: {
        nodePg: +(wiretap.nodePgRowsPerSec / postgres15.nodePgRowsPerSec).toFixed(2),
        psql: +(wiretap.psqlRowsPerSec / postgres15.psqlRowsPerSec).toFixed(2),
        jsEncodersNodePg: +(wiretapJs.nodePgRowsPerSec / postgres15.nodePgRowsPerSec).toFixed(2),
        jsEncodersPsql: +(wiretapJs.psqlRowsPerSec / postgres15.psqlRowsPerSec).toFixed(2),
      },
      loadavg: readFileSync('/proc/loadavg', 'utf8').trim(),
      target: '≥ 1.0 (wiretap / PostgreSQL 15)',
    };
  } finally {
    pg15.stop();
    await wiretap.close();
  }
}
