// Typed loader for the native addon (native/build/Release/wiretap_native.node).
// The addon embeds the BPF object, so the only run-time file is the .node itself.
import { closeSync, existsSync } from 'node:fs';
import { builtAddonPath, loadAddon } from './built.ts';

/** WIRETAP_NATIVE_ADDON: another build of the addon (benchmarks compare a baseline build). */
export const addonPath =
  process.env.WIRETAP_NATIVE_ADDON || builtAddonPath('wiretap_native');

export interface TracerOptions {
  /** Payload bytes captured per data event (default 16384, clamped to maxPayload = 30720). */
  payloadCap?: number;
  /** Ringbuf size in bytes, a power of two (default 64 MiB). */
  ringbufBytes?: number;
  /** A batch is handed to JS once it holds this many bytes… (default 4 MiB) */
  batchBytes?: number;
  /** …or this many records (default 8192). */
  batchEvents?: number;
  /** Poller sleep between ringbuf drains, ms (default 10). */
  pollMs?: number;
  /** Process whose syscalls are ignored (default: this process). */
  selfTgid?: number;
  /** Batches that may wait for the JS thread before new ones are dropped (default 64). */
  maxQueuedBatches?: number;
  /** 'raw' (default): one tp_btf program on sys_exit dispatching on the syscall number
   *  (arguments from pt_regs); 'syscalls': one tracepoint pair per traced syscall. */
  attach?: 'raw' | 'syscalls';
  /** Ship payload only for connections whose first bytes look like HTTP, MySQL or Kafka
   *  (default true); the rest ship counters only. false: ship every TCP connection. */
  inferProtocols?: boolean;
  /** Only sockets in this network namespace (inode of /proc/PID/ns/net). */
  scopeNetns?: number;
  /** Only processes in this cgroup v2 subtree: id (inode of its directory) and level. */
  scopeCgroupId?: number;
  scopeCgroupLevel?: number;
  /** Scheduling policy of the poller thread (default: inherited from the creating thread). */
  pollerSched?: SchedPolicy;
}

/** SCHED_OTHER, SCHED_BATCH (no wakeup preemption) or SCHED_IDLE (runs only on idle CPUs). */
export type SchedPolicy = 'other' | 'batch' | 'idle';

export interface TracerStats {
  /** Records / bytes handed to JS (bytes include the 4-byte framing). */
  events: number;
  bytes: number;
  batches: number;
  /** Records dropped in user space because JS did not keep up (batch queue full). */
  userDrops: number;
  /** Kernel counters (summed over CPUs): records written, bytes written, records lost
   *  because the ringbuf was full, and socket bytes moved by traced syscalls. */
  kernelEvents: number;
  kernelBytes: number;
  kernelDrops: number;
  socketBytes: number;
  /** Data events whose payload was cut at the capture cap. */
  kernelTruncated: number;
  /** Data calls not shipped (no known protocol yet, or connection disabled) and their bytes. */
  kernelSkipped: number;
  kernelSkippedBytes: number;
  /** sendmmsg/recvmmsg messages beyond the per-call limit (positions kept, payload lost). */
  kernelMmsgLost: number;
  /** SSL_read/SSL_write calls whose socket could not be identified (no payload shipped). */
  kernelTlsNoFd: number;
  /** Memory-BIO SSL objects (node) bound to their socket by a ciphertext match. */
  kernelTlsBioBound: number;
  running: boolean;
}

/** Kernel-measured cost of one BPF program (kernel.bpf_stats_enabled=1 while it runs). */
export interface ProgStat {
  name: string;
  runTimeNs: number;
  runCnt: number;
}

/**
 * A loaded and attached socket tracer. `onBatch(buf, events)` runs on the JS thread with one
 * Buffer per batch: repeated [u32 LE length][record] (record layout: bpf/README.md).
 */
export interface NativeTracer {
  /** Detaches, drains the ringbuf, resolves after the last batch was delivered. */
  stop(): Promise<void>;
  stats(): TracerStats;
  /** CLOCK_REALTIME − CLOCK_MONOTONIC in ns: epoch ns = kernel ns + offset. */
  clockOffsetNs(): bigint;
  /** Per attached program: kernel run time and run count (empty after stop). */
  progStats(): ProgStat[];
  /** The kernel connection table: repeated [key 8 bytes][value 96 bytes] (bpf/README.md). */
  connections(): Buffer;
  /** Stops payload for one connection (counters continue); false if gone or superseded. */
  disableConnection(tgid: number, fd: number, gen: bigint): boolean;
  /** Uprobes on SSL_write/SSL_read(_ex) and SSL_free in the library at `path` (all processes
   *  mapping it); `memoryBio` (a binary with OpenSSL linked in, e.g. node) also BIO_write(_ex).
   *  Returns how many of the 4 read/write functions were found. Throws if none. */
  attachTls(path: string, memoryBio?: boolean): number;
}

interface Addon {
  Tracer: new (opts: TracerOptions, onBatch: (buf: Buffer, events: number) => void) => NativeTracer;
  clockOffsetNs(): bigint;
  enableRunTimeStats(): number;
  setThreadSched(policy: SchedPolicy): void;
  constants: { headerSize: number; maxPayload: number; defaultPayloadCap: number };
}

let cached: Addon | undefined;
let loadError: string | undefined;

function load(): Addon {
  if (cached) return cached;
  if (loadError) throw new Error(loadError);
  if (!existsSync(addonPath)) {
    loadError = `eBPF unavailable: native addon not built (${addonPath}); run npm run build, or use --source demo`;
    throw new Error(loadError);
  }
  try {
    cached = loadAddon<Addon>(addonPath);
    return cached;
  } catch (e) {
    loadError = `eBPF unavailable: cannot load native addon: ${(e as Error).message}`;
    throw new Error(loadError);
  }
}

/** Loads and attaches the tracer; throws an Error with a readable reason when eBPF can't run. */
export function openTracer(opts: TracerOptions, onBatch: (buf: Buffer, events: number) => void): NativeTracer {
  return new (load().Tracer)(opts, onBatch);
}

export function constants(): Addon['constants'] {
  return load().constants;
}

export function clockOffsetNs(): bigint {
  return load().clockOffsetNs();
}

/** Scheduling policy of the calling thread (the JS thread); its nice value is kept. */
export function setThreadSched(policy: SchedPolicy): void {
  load().setThreadSched(policy);
}

/** Turns the kernel's per-program run-time counters (progStats) on until the returned
 *  function is called or the process exits. Refcounted in the kernel: overlapping users
 *  cannot leave it on (as saving/restoring kernel.bpf_stats_enabled could). */
export function enableRunTimeStats(): () => void {
  const fd = load().enableRunTimeStats();
  let open = true;
  return () => {
    if (open) closeSync(fd);
    open = false;
  };
}

/**
 * Cheap checks (no BPF load): null when eBPF capture should work, else why not. The
 * authoritative answer is openTracer() itself, whose error explains what failed.
 */
export function probe(): string | null {
  if (process.platform !== 'linux') return `eBPF unavailable: ${process.platform} is not Linux (use --source demo)`;
  if (typeof process.geteuid === 'function' && process.geteuid() !== 0)
    return 'eBPF unavailable: permission denied (run as root or use --source demo)';
  if (!existsSync('/sys/kernel/btf/vmlinux'))
    return 'eBPF unavailable: kernel BTF not found at /sys/kernel/btf/vmlinux (use --source demo)';
  try {
    load();
  } catch (e) {
    return (e as Error).message;
  }
  return null;
}

export function isAvailable(): boolean {
  return probe() === null;
}
