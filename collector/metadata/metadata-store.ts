// The node's process metadata store: UPID → pid, cmdline, container id. Processes are looked up
// in /proc when first seen (the row sink wrapper below observes every new UPID as rows arrive),
// so short-lived processes are described even after they exit; exited processes are remembered
// for `retainMs`, then forgotten.
import type { ProcessMetadata, RowSink, RowTypes, TableName } from '../../engine/schema.ts';
import type { Upid } from '../../engine/upid.ts';
import { kubernetesColumns, type PodResolver } from '../k8s/pod-store.ts';
import { containerIdFromCgroup } from './container-id.ts';
import { readProc } from './proc.ts';

export interface ProcessEntry extends ProcessMetadata {
  pid: number;
  /** When /proc was last read for it (ms). */
  seenAt: number;
  /** When it was found gone or its pid reused (ms), else null. */
  exitedAt: number | null;
}

export interface MetadataStoreOptions {
  /** How long an exited process is remembered (default 1 hour). */
  retainMs: number;
  /** Most processes remembered (oldest exited forgotten first). */
  maxEntries: number;
  /** Re-read a live process's /proc entries after this long (cmdline can change, e.g. exec). */
  refreshMs: number;
  procRoot: string;
  /** Kubernetes pods by container id (cluster mode); without it pod/namespace/service/node stay NULL. */
  pods: PodResolver | null;
}

const defaults: MetadataStoreOptions = { retainMs: 3_600_000, maxEntries: 100_000, refreshMs: 30_000, procRoot: '/proc', pods: null };

function keyOf(u: Upid): string {
  return `${u.asid >>> 0}:${u.pid >>> 0}:${u.startTicks}`;
}

export class ProcessMetadataStore {
  private readonly entries = new Map<string, ProcessEntry>();
  private readonly o: MetadataStoreOptions;
  private lastPrune = 0;

  constructor(options: Partial<MetadataStoreOptions> = {}) {
    this.o = { ...defaults, ...options };
  }

  /** Records a process the first time it is seen (cheap when already known). */
  observe(u: Upid, now = Date.now()): void {
    if (!this.entries.has(keyOf(u))) this.refresh(u, now);
  }

  /** What is known about a process; reads /proc if unknown or stale. */
  lookup(u: Upid, now = Date.now()): ProcessMetadata | undefined {
    const e = this.entries.get(keyOf(u));
    if (e && (e.exitedAt !== null || now - e.seenAt < this.o.refreshMs)) return this.withPod(e);
    const found = this.refresh(u, now) ?? e;
    return found && this.withPod(found);
  }

  /** Pod columns are resolved at lookup, not when first seen: the pod may become known later. */
  private withPod(e: ProcessEntry): ProcessMetadata {
    const resolved = e.container ? this.o.pods?.byContainerId(e.container) : undefined;
    return resolved ? { ...e, ...kubernetesColumns(resolved) } : e;
  }

  get size(): number {
    return this.entries.size;
  }

  private refresh(u: Upid, now: number): ProcessEntry | undefined {
    const key = keyOf(u);
    const old = this.entries.get(key);
    const info = readProc(u.pid, this.o.procRoot);
    // Start ticks tell a reused pid apart; allow one tick of rounding between BPF and /proc.
    const same = info !== null && (info.startTicks - u.startTicks <= 1n && u.startTicks - info.startTicks <= 1n);
    if (!same) {
      if (old && old.exitedAt === null) old.exitedAt = now;
      return old;
    }
    const entry: ProcessEntry = {
      pid: u.pid,
      cmdline: info.cmdline,
      container: containerIdFromCgroup(info.cgroup),
      pod: null,
      namespace: null,
      service: null,
      node: null,
      seenAt: now,
      exitedAt: null,
    };
    this.entries.set(key, entry);
    this.prune(now);
    return entry;
  }

  /** Forgets exited processes past retention, and the oldest beyond maxEntries. */
  prune(now = Date.now()): void {
    if (this.entries.size <= this.o.maxEntries && now - this.lastPrune < 60_000) return;
    this.lastPrune = now;
    for (const [k, e] of this.entries) {
      if (e.exitedAt !== null && now - e.exitedAt > this.o.retainMs) this.entries.delete(k);
    }
    for (const k of this.entries.keys()) {
      if (this.entries.size <= this.o.maxEntries) break;
      this.entries.delete(k);
    }
  }
}

/** A RowSink that records each row's process in the metadata store before passing the row on. */
export function observingSink(inner: RowSink, store: ProcessMetadataStore): RowSink {
  let last: unknown = null;
  return {
    append<T extends TableName>(table: T, row: RowTypes[T]): void {
      const u = (row as { upid?: Upid }).upid;
      if (u && u !== last) {
        store.observe(u);
        last = u;
      }
      inner.append(table, row);
    },
  };
}
