// A throwaway PostgreSQL 15 cluster for comparisons (benchmarks, and tests that use PostgreSQL as the oracle): initdb in a temp dir as the postgres user,
// pg_ctl start on a loopback port (no unix socket outside the dir), trust auth, stopped and
// removed by stop().
import { execFileSync } from 'node:child_process';
import { chownSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './net.ts';

const BIN = '/usr/lib/postgresql/15/bin';

export interface PgCluster {
  port: number;
  /** Runs SQL through psql as the postgres superuser. */
  psql(sql: string): string;
  /**
   * CPU seconds (user + system) the cluster has used so far: the postmaster, its live children,
   * and its exited children (a backend's CPU lands in the postmaster's cutime/cstime when it is
   * reaped, shortly after its client disconnects).
   */
  cpuSeconds(): number;
  stop(): void;
}

/** utime + stime (+ cutime + cstime with `reaped`) of a process, in clock ticks; 0 if it is gone. */
function ticks(pid: number, reaped: boolean): { ticks: number; ppid: number } {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' '); // fields from 3 (state) on
    const n = (i: number) => Number(f[i - 3]);
    return { ticks: n(14) + n(15) + (reaped ? n(16) + n(17) : 0), ppid: n(4) };
  } catch {
    return { ticks: 0, ppid: 0 };
  }
}

const CLOCK_TICKS = 100; // USER_HZ on Linux

export async function startPgCluster(): Promise<PgCluster> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'wiretap-pg15-'));
  const uid = Number(execFileSync('id', ['-u', 'postgres']).toString());
  const gid = Number(execFileSync('id', ['-g', 'postgres']).toString());
  chownSync(dir, uid, gid);
  const asPostgres = (cmd: string, args: string[]): string =>
    execFileSync('runuser', ['-u', 'postgres', '--', cmd, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 64 << 20 });
  try {
    asPostgres(`${BIN}/initdb`, ['-D', join(dir, 'data'), '-A', 'trust', '-U', 'postgres', '-E', 'UTF8', '--locale=C.UTF-8']);
    asPostgres(`${BIN}/pg_ctl`, ['-D', join(dir, 'data'), '-l', join(dir, 'log'), '-w', '-o',
      `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c shared_buffers=256MB -c fsync=off`, 'start']);
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  return {
    port,
    psql: (sql) => execFileSync('/usr/bin/psql', ['-X', '-A', '-t', '-h', '127.0.0.1', '-p', String(port), '-U', 'postgres', '-d', 'postgres', '-v', 'ON_ERROR_STOP=1', '-c', sql],
      { encoding: 'utf8', maxBuffer: 64 << 20 }),
    cpuSeconds: () => {
      const postmaster = Number(readFileSync(join(dir, 'data', 'postmaster.pid'), 'utf8').split('\n')[0]);
      let total = ticks(postmaster, true).ticks;
      for (const e of readdirSync('/proc')) {
        if (!/^\d+$/.test(e)) continue;
        const t = ticks(Number(e), false);
        if (t.ppid === postmaster) total += t.ticks;
      }
      return total / CLOCK_TICKS;
    },
    stop: () => {
      try {
        asPostgres(`${BIN}/pg_ctl`, ['-D', join(dir, 'data'), '-m', 'fast', '-w', 'stop']);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}
