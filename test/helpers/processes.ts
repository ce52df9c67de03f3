// Child processes for end-to-end tests: start, read their first line, run to completion.
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { promisify } from 'node:util';

export const execFileP = promisify(execFile);

/** Spawns a command and resolves with the process and the first line it prints. */
export async function spawnWithFirstLine(cmd: string, args: string[], timeoutMs = 15_000): Promise<{ child: ChildProcess; line: string }> {
  const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout! });
  const line = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${cmd} printed nothing in ${timeoutMs} ms`)), timeoutMs);
    lines.once('line', (l) => {
      clearTimeout(timer);
      resolve(l);
    });
    child.once('exit', (code) => reject(new Error(`${cmd} exited (${code}) before printing`)));
  });
  return { child, line };
}

/** Process start time in clock ticks: field 22 of /proc/PID/stat (the UPID's third part). */
export function startTicksOf(pid: number): bigint {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const afterComm = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return BigInt(afterComm[22 - 3]!);
}

export async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v !== undefined) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/**
 * Resolves once `pid` runs `program` (spawn returns between fork and exec: until then
 * /proc/PID/cmdline is still the parent's, and metadata read then would describe node).
 */
export async function untilExeced(pid: number, program: string, timeoutMs = 10_000): Promise<void> {
  await waitFor(`${program} (pid ${pid}) to exec`, async () => {
    const argv0 = readFileSync(`/proc/${pid}/cmdline`, 'latin1').split('\0')[0] ?? '';
    return argv0 === program || argv0.endsWith(`/${program}`) ? true : undefined;
  }, timeoutMs);
}
