// Thread priorities (nice) of this process. On Linux nice is per thread: os.setPriority(0, n)
// sets the calling thread's, os.setPriority(tid, n) another thread's, and a new thread inherits
// its creator's. Node's own threads (V8's JIT compiler and concurrent GC workers, 4 by default)
// exist before any JS runs, so niceness set on the JS thread alone never reaches them.
import { readdirSync, readFileSync } from 'node:fs';
import { getPriority, setPriority } from 'node:os';

/** Thread ids of this process now (empty where /proc is not there). */
export function threadIds(): number[] {
  try {
    return readdirSync('/proc/self/task').map(Number);
  } catch {
    return [];
  }
}

/** Sets every current thread of this process to `nice` (raising one back needs CAP_SYS_NICE);
 *  returns how many threads were set. Threads that exit meanwhile are skipped. */
export function niceAllThreads(nice: number): number {
  let n = 0;
  for (const tid of threadIds()) {
    try {
      setPriority(tid, nice);
      n++;
    } catch {
      // gone, or not allowed to raise it: leave it
    }
  }
  return n;
}

/** May this process lower a thread's nice value again (CAP_SYS_NICE)? */
export function canRaisePriority(): boolean {
  try {
    const m = /^CapEff:\s*([0-9a-f]+)$/m.exec(readFileSync('/proc/self/status', 'latin1'));
    return m !== null && (BigInt(`0x${m[1]}`) & (1n << 23n)) !== 0n;
  } catch {
    return false;
  }
}

/** Runs `fn` with the calling thread at nice `nice` (if that is nicer than now and the old
 *  value can be restored afterwards), then restores it — also on threads `fn` created, which
 *  would otherwise keep the start's niceness for good. For one-off CPU-heavy work (the BPF
 *  verifier, ELF scans) that should yield to the services on the host. */
export function atNice<T>(nice: number, fn: () => T): T {
  let was: number;
  try {
    was = getPriority(0);
  } catch {
    return fn();
  }
  if (was >= nice || !canRaisePriority()) return fn();
  const before = new Set(threadIds());
  setPriority(0, nice);
  try {
    return fn();
  } finally {
    for (const tid of threadIds()) {
      if (before.has(tid)) continue;
      try {
        setPriority(tid, was);
      } catch {
        // exited meanwhile
      }
    }
    setPriority(0, was);
  }
}
