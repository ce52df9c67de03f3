// Broker-side cluster-wide metadata: which nodes host the pods a filter on pod / namespace /
// service can match, so the planner contacts only those nodes. Fed with the `cluster` topic of
// the metadata service (server/ wires a collector/k8s MetadataFeed to it; the shapes below are
// the wire's, restated structurally because planner/ does not import collector/).
//
// Deleted pods count for `retentionMs` after deletion: their rows still live on the node.

export interface ClusterPod {
  uid: string;
  name: string;
  namespace: string;
  node: string;
  services: string[];
}

export interface ClusterNode { name: string }

export interface ClusterUpdate {
  kind: string;
  key: string;
  op: 'upsert' | 'delete';
  atMs: number;
  value: unknown;
}

/**
 * Values to match (one or any of several); absent fields match everything. Pod and service
 * values may be "namespace/name" (as the hydrated columns show them) or bare names.
 */
export interface PodFilter {
  pod?: string | string[];
  namespace?: string | string[];
  service?: string | string[];
}

export interface ClusterViewOptions {
  retentionMs?: number;
  now?: () => number;
}

interface PodEntry { pod: ClusterPod; deletedAtMs?: number }

export class ClusterMetadataView {
  private podsByUid = new Map<string, PodEntry>();
  private nodeSet = new Map<string, ClusterNode>();
  private readonly retentionMs: number;
  private readonly now: () => number;

  constructor(o: ClusterViewOptions = {}) {
    this.retentionMs = o.retentionMs ?? 3_600_000;
    this.now = o.now ?? Date.now;
  }

  reset(entities: ClusterUpdate[]): void {
    const at = this.now();
    for (const p of this.podsByUid.values()) p.deletedAtMs ??= at;
    this.nodeSet.clear();
    for (const e of entities) this.apply(e);
  }

  apply(u: ClusterUpdate): void {
    if (u.kind === 'pod') {
      const pod = u.value as ClusterPod;
      this.podsByUid.set(u.key, u.op === 'delete' ? { pod, deletedAtMs: this.podsByUid.get(u.key)?.deletedAtMs ?? u.atMs } : { pod });
    } else if (u.kind === 'node') {
      if (u.op === 'delete') this.nodeSet.delete(u.key);
      else this.nodeSet.set(u.key, u.value as ClusterNode);
    }
  }

  /** Nodes known to the cluster (registered Node objects). */
  nodes(): string[] {
    return [...this.nodeSet.keys()].sort();
  }

  /** Pods matching the filter, live or deleted within the retention. */
  pods(filter: PodFilter = {}): ClusterPod[] {
    const cutoff = this.now() - this.retentionMs;
    const out: ClusterPod[] = [];
    for (const [uid, e] of this.podsByUid) {
      if (e.deletedAtMs !== undefined && e.deletedAtMs < cutoff) { this.podsByUid.delete(uid); continue; }
      if (matches(e.pod, filter)) out.push(e.pod);
    }
    return out;
  }

  /** Names of the nodes that can hold rows matching the filter (sorted). */
  nodesFor(filter: PodFilter): string[] {
    const nodes = new Set<string>();
    for (const p of this.pods(filter)) if (p.node) nodes.add(p.node);
    return [...nodes].sort();
  }
}

function anyOf(want: string | string[] | undefined, has: (v: string) => boolean): boolean {
  if (want === undefined) return true;
  return typeof want === 'string' ? has(want) : want.some(has);
}

function matches(p: ClusterPod, f: PodFilter): boolean {
  const named = (v: string, name: string) => v === name || v === `${p.namespace}/${name}`;
  return anyOf(f.pod, (v) => named(v, p.name)) &&
    anyOf(f.namespace, (v) => v === p.namespace) &&
    anyOf(f.service, (v) => p.services.some((s) => named(v, s)));
}
