// Reading one process's identity and description from /proc.
import { readFileSync } from 'node:fs';

export interface ProcInfo {
  /** Field 22 of /proc/PID/stat: start time in clock ticks since boot (the UPID's third part). */
  startTicks: bigint;
  /** argv joined by spaces (NULs in /proc/PID/cmdline), or [comm] for kernel threads. */
  cmdline: string;
  /** Contents of /proc/PID/cgroup. */
  cgroup: string;
}

function read(path: string): string | null {
  try {
    return readFileSync(path, 'latin1');
  } catch {
    return null;
  }
}

/** Start ticks from a stat line; the command (field 2) may hold spaces and parentheses. */
export function startTicksFromStat(stat: string): bigint | null {
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // After ")": field 3 is at index 0, so field 22 is at index 19.
  const v = fields[19];
  return v && /^\d+$/.test(v) ? BigInt(v) : null;
}

export function readProc(pid: number, root = '/proc'): ProcInfo | null {
  const stat = read(`${root}/${pid}/stat`);
  if (stat === null) return null;
  const startTicks = startTicksFromStat(stat);
  if (startTicks === null) return null;
  const rawCmd = read(`${root}/${pid}/cmdline`) ?? '';
  const cmdline = Buffer.from(rawCmd, 'latin1').toString('utf8').replace(/\0+$/, '').replace(/\0/g, ' ');
  const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
  return { startTicks, cmdline: cmdline || `[${comm}]`, cgroup: read(`${root}/${pid}/cgroup`) ?? '' };
}
