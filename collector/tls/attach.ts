// Finds the OpenSSL code processes run, so the tracer can put uprobes on their
// SSL_read/SSL_write: dynamically linked libssl files they mapped, and executables with
// OpenSSL linked in (node), whose SSL objects write to memory BIOs (the kernel side binds
// those to sockets through BIO_write; bpf/README.md). A uprobe lives on the file (inode), so
// each distinct file is attached once and covers every process running it, now or later;
// a process with its own copy (another container image, another version) adds a new one.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { definedFunctions } from './elf.ts';

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

/** What a statically linked OpenSSL must define to be hooked (BIO_write: memory BIOs). */
const STATIC_OPENSSL = ['SSL_read', 'SSL_write', 'BIO_write'] as const;

/** Does the executable at `path` have OpenSSL linked in (defines SSL_read/SSL_write/BIO_write)? */
export function hasStaticOpenssl(path: string): boolean {
  return definedFunctions(path, STATIC_OPENSSL).size === STATIC_OPENSSL.length;
}

/** Attaches each distinct file (by device and inode) once: libssl libraries and
 *  executables with OpenSSL linked in. */
export class TlsAttacher {
  private readonly seen = new Set<string>();
  readonly attached: string[] = [];
  readonly errors: string[] = [];

  /** `attach(path, memoryBio)`: native attachTls (memoryBio for statically linked OpenSSL). */
  constructor(private readonly attach: (path: string, memoryBio: boolean) => number) {}

  /** First sight of the file at `path` (false: seen before, or gone). */
  private firstSight(path: string): boolean {
    let key: string;
    try {
      const st = statSync(path);
      key = `${st.dev}:${st.ino}`;
    } catch {
      return false;
    }
    if (this.seen.has(key)) return false;
    this.seen.add(key);
    return true;
  }

  private tryAttach(path: string, memoryBio: boolean): number {
    try {
      this.attach(path, memoryBio);
      this.attached.push(path);
      return 1;
    } catch (err) {
      this.errors.push((err as Error).message);
      return 0;
    }
  }

  /** Tries libssl `paths`; returns how many new library files got probes. */
  add(paths: Iterable<string>): number {
    let n = 0;
    for (const p of paths) if (this.firstSight(p)) n += this.tryAttach(p, false);
    return n;
  }

  /** The executable of `pid`, if it has OpenSSL linked in (each distinct file read once). */
  addExe(pid: number): number {
    // /proc/PID/exe reaches the file even in another mount namespace or after deletion.
    const exe = `/proc/${pid}/exe`;
    if (!this.firstSight(exe) || !hasStaticOpenssl(exe)) return 0;
    return this.tryAttach(exe, true);
  }

  /** A (new) process: its executable and the libssl files it mapped. */
  addProcess(pid: number): number {
    return this.addExe(pid) + this.add(libsslOf(pid));
  }

  /** System paths plus whatever running processes run or mapped. */
  scanAll(): number {
    let n = this.add(systemLibssl());
    for (const pid of allPids()) n += this.addProcess(pid);
    return n;
  }
}
