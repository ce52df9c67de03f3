// Agent-side pod store, fed by the node's metadata topic: container id → pod. Deleted pods and
// replaced containers are remembered for `retentionMs`, so rows of processes that already exited
// still hydrate. The node metadata store (collector/metadata/, issue 5) maps UPID → container id
// from cgroups and calls `PodResolver.byContainerId`.
import type { FeedSink } from './metadata-feed.ts';
import { normalizeContainerId, type MetadataUpdate, type PodMeta } from './wire.ts';

/** The lookup the node metadata store calls. Ids as cgroup paths show them (64 hex). */
export interface PodResolver {
  byContainerId(containerId: string): ResolvedContainer | undefined;
}

export interface ResolvedContainer {
  pod: PodMeta;
  /** Name of the container within the pod. */
  container: string;
  /** Set once the pod is deleted (or this container replaced): still answered until retention ends. */
  goneAtMs?: number;
}

/**
 * The Kubernetes hydrated columns (engine/schema.ts `hydratedColumns`) for one container, in the
 * engine's conventions: pod and service as "namespace/name" (several services joined by ','),
 * namespace and node as names. `container` (the cgroup's container id) and `cmdline` stay with
 * the node metadata store.
 */
export interface KubernetesColumns { pod: string; namespace: string; service: string; node: string }

export function kubernetesColumns(r: ResolvedContainer): KubernetesColumns {
  const ns = r.pod.namespace;
  return { pod: `${ns}/${r.pod.name}`, namespace: ns, service: r.pod.services.map((s) => `${ns}/${s}`).join(','), node: r.pod.node };
}

export interface PodStoreOptions {
  /** How long deleted pods and replaced containers keep answering (default 1 h, as collector/metadata keeps exited processes). */
  retentionMs?: number;
  now?: () => number;
}

interface PodEntry { meta: PodMeta; deletedAtMs?: number }
interface ContainerEntry { podUid: string; name: string; goneAtMs?: number }

export class PodStore implements PodResolver, FeedSink {
  private pods = new Map<string, PodEntry>();
  private containers = new Map<string, ContainerEntry>();
  private readonly retentionMs: number;
  private readonly now: () => number;
  private lastPurgeMs = 0;

  constructor(o: PodStoreOptions = {}) {
    this.retentionMs = o.retentionMs ?? 3_600_000;
    this.now = o.now ?? Date.now;
  }

  byContainerId(containerId: string): ResolvedContainer | undefined {
    const c = this.containers.get(normalizeContainerId(containerId));
    if (!c) return undefined;
    const pod = this.pods.get(c.podUid);
    if (!pod) return undefined;
    const goneAtMs = c.goneAtMs ?? pod.deletedAtMs;
    return { pod: pod.meta, container: c.name, ...(goneAtMs !== undefined ? { goneAtMs } : {}) };
  }

  byPodUid(uid: string): PodMeta | undefined {
    return this.pods.get(uid)?.meta;
  }

  /** Pods currently running (not deleted). */
  livePods(): PodMeta[] {
    return [...this.pods.values()].filter((p) => p.deletedAtMs === undefined).map((p) => p.meta);
  }

  get size(): { pods: number; containers: number } {
    return { pods: this.pods.size, containers: this.containers.size };
  }

  reset(entities: MetadataUpdate[]): void {
    // Keep what we knew as "gone" rather than forgetting it: rows may still need it.
    const at = this.now();
    for (const [uid, p] of this.pods) if (p.deletedAtMs === undefined) this.markDeleted(uid, p, at);
    for (const e of entities) this.apply(e);
    this.purge();
  }

  apply(u: MetadataUpdate): void {
    if (u.kind !== 'pod') return;
    const old = this.pods.get(u.key);
    if (u.op === 'delete') {
      this.pods.set(u.key, { meta: u.value, deletedAtMs: old?.deletedAtMs ?? u.atMs });
      this.indexContainers(u.key, u.value, old?.meta, u.atMs);
      this.markDeleted(u.key, this.pods.get(u.key)!, u.atMs);
    } else {
      this.pods.set(u.key, { meta: u.value });
      this.indexContainers(u.key, u.value, old?.meta, u.atMs);
    }
    // Purging walks every entry: do it at most every few seconds, not per update.
    if (this.now() - this.lastPurgeMs > 5000) this.purge();
  }

  /** Drops pods and containers gone for longer than the retention. */
  purge(nowMs = this.now()): void {
    this.lastPurgeMs = nowMs;
    const cutoff = nowMs - this.retentionMs;
    for (const [id, c] of this.containers) if (c.goneAtMs !== undefined && c.goneAtMs < cutoff) this.containers.delete(id);
    for (const [uid, p] of this.pods) {
      if (p.deletedAtMs === undefined || p.deletedAtMs >= cutoff) continue;
      this.pods.delete(uid);
      for (const [id, c] of this.containers) if (c.podUid === uid) this.containers.delete(id);
    }
  }

  private indexContainers(uid: string, meta: PodMeta, old: PodMeta | undefined, atMs: number): void {
    const ids = new Set(meta.containers.map((c) => normalizeContainerId(c.id)));
    for (const c of meta.containers) this.containers.set(normalizeContainerId(c.id), { podUid: uid, name: c.name });
    // A restarted container gets a new id; the old one keeps answering until retention ends.
    for (const c of old?.containers ?? []) {
      const id = normalizeContainerId(c.id);
      const entry = this.containers.get(id);
      if (!ids.has(id) && entry && entry.goneAtMs === undefined) entry.goneAtMs = atMs;
    }
  }

  private markDeleted(uid: string, p: PodEntry, atMs: number): void {
    p.deletedAtMs ??= atMs;
    for (const c of this.containers.values()) if (c.podUid === uid) c.goneAtMs ??= atMs;
  }
}
