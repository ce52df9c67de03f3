// Finds the OpenSSL libraries processes have mapped, so the tracer can put uprobes on their
// SSL_read/SSL_write. A uprobe lives on the file (inode), so each distinct library file is
// attached once and covers every process mapping it, running or started later; a process
// with its own copy (another container image, another version path) adds a new one.
import { readdirSync, readFileSync, statSync } from 'node:fs';

/** Dynamically linked OpenSSL 3 (and 1.1, whose SSL_read/SSL_write have the same shape). */
const LIBSSL = /\/libssl\.so\.(3|1\.1)$/;

/** Paths of libssl files mapped by `pid`, reachable from here (through /proc/PID/root). */
export function libsslOf(pid: number | 'self'): string[] {
  let maps: string;
  try {
    maps = readFileSync(`/proc/${pid}/maps`, 'latin1');
  } catch {
    return [];
  }
  const out = new Set<string>();
  for (const line of maps.split('\n')) {
    const i = line.indexOf('/');
    if (i < 0) continue;
    const path = line.slice(i).replace(/ \(deleted\)$/, '');
    if (LIBSSL.test(path)) out.add(`/proc/${pid}/root${path}`);
  }
  return [...out];
}

/** Well-known system locations, attached even before any process maps them. */
export function systemLibssl(): string[] {
  const dirs = ['/usr/lib/x86_64-linux-gnu', '/lib/x86_64-linux-gnu', '/usr/lib64', '/usr/lib', '/lib64'];
  const out: string[] = [];
  for (const d of dirs) for (const v of ['3', '1.1']) out.push(`${d}/libssl.so.${v}`);
  return out;
}

export function allPids(): number[] {
  return readdirSync('/proc').filter((d) => /^\d+$/.test(d)).map(Number);
}

/** Attaches each distinct libssl file (by device and inode) once. */
export class LibsslAttacher {
  private readonly seen = new Set<string>();
  readonly attached: string[] = [];
  readonly errors: string[] = [];

  constructor(private readonly attach: (path: string) => number) {}

  /** Tries `paths`; returns how many new library files got probes. */
  add(paths: Iterable<string>): number {
    let n = 0;
    for (const p of paths) {
      let key: string;
      try {
        const st = statSync(p);
        key = `${st.dev}:${st.ino}`;
      } catch {
        continue;
      }
      if (this.seen.has(key)) continue;
      this.seen.add(key);
      try {
        this.attach(p);
        this.attached.push(p);
        n++;
      } catch (err) {
        this.errors.push((err as Error).message);
      }
    }
    return n;
  }

  /** System paths plus whatever running processes mapped. */
  scanAll(): number {
    let n = this.add(systemLibssl());
    for (const pid of allPids()) n += this.add(libsslOf(pid));
    return n;
  }
}
