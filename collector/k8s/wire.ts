// The metadata wire protocol between the metadata service (server/metadata/, the only component
// that talks to the Kubernetes API) and its subscribers: agents (collector/k8s/) and brokers
// (planner/cluster-metadata/, wired by server/). JSON messages on NATS.
//
// Topics: `cluster` (every update; brokers) and `node.NODE` (the pods scheduled on NODE; that
// node's agent). Subject = `wiretap.metadata.` + topic. Every update carries a version assigned
// by the service (one counter across all kinds, never reset — it survives restarts) and the
// version of the previous update published on the same topic, so a subscriber detects a gap
// when prevVersion differs from the last version it applied.
//
// Epoch: a random id of the service's log, carried by every message and reply. Should the log
// be lost (PVC deleted) the counter would start again from 0 and subscribers would ignore every
// "old" version (Pixie #534); a new epoch tells them to take a snapshot instead.
//
// Recovery: request/reply on `wiretap.metadata.missing`:
//   {op:'range', topic, after, upTo?, max}
//                                     → {ok:true, updates (after < version ≤ upTo, ascending, at
//                                        most max), head}
//                                        | {ok:false, reason:'pruned'} (then ask for a snapshot)
//   {op:'snapshot', topic, cursor?}   → {version, entities, nextCursor?} in chunks; continue with
//                                        a range from the FIRST chunk's version.

export const subjectPrefix = 'wiretap.metadata.';
export const missingSubject = 'wiretap.metadata.missing';
export const clusterTopic = 'cluster';

export function nodeTopic(node: string): string {
  return `node.${node}`;
}

export function topicSubject(topic: string): string {
  if (!/^[^\s*>]+$/.test(topic)) throw new Error(`invalid metadata topic "${topic}"`);
  return subjectPrefix + topic;
}

/** A pod as subscribers see it: enriched by the service with its services and workload. */
export interface PodMeta {
  uid: string;
  name: string;
  namespace: string;
  /** Node the pod is scheduled on ('' while pending). */
  node: string;
  /** Names of the services (same namespace) selecting the pod, sorted. */
  services: string[];
  /** Running (and recently replaced) containers: bare ids (runtime prefix stripped) → name. */
  containers: { id: string; name: string }[];
  /** The controlling workload: Deployment (through its ReplicaSet), StatefulSet, DaemonSet, … */
  workload?: { kind: string; name: string };
  labels: Record<string, string>;
  phase: string;
  podIp: string;
}

export interface NodeMeta { name: string; internalIp: string }
export interface NamespaceMeta { name: string }
export interface ServiceMeta { name: string; namespace: string; clusterIp: string }

export type EntityKind = 'pod' | 'node' | 'namespace' | 'service';

export type Entity =
  | { kind: 'pod'; key: string; value: PodMeta }
  | { kind: 'node'; key: string; value: NodeMeta }
  | { kind: 'namespace'; key: string; value: NamespaceMeta }
  | { kind: 'service'; key: string; value: ServiceMeta };

/**
 * One change. `value` is the entity's state after the change; for a delete, its last state (so
 * subscribers can keep deleted pods for a while: rows of exited processes still hydrate).
 */
export type MetadataUpdate = Entity & {
  /** The service log's epoch (see above). */
  epoch: string;
  version: number;
  /** Version of the previous update on the topic this message was published or replayed on. */
  prevVersion: number;
  op: 'upsert' | 'delete';
  /** Service wall-clock time of the change, ms. */
  atMs: number;
};

export type MissingRequest =
  | { op: 'range'; topic: string; after: number; upTo?: number; max?: number }
  | { op: 'snapshot'; topic: string; cursor?: string };

export type RangeReply = { ok: true; epoch: string; updates: MetadataUpdate[]; head: number } | { ok: false; reason: 'pruned' };

/** Entities live on the topic plus recently deleted ones (op 'delete'). */
export interface SnapshotReply { epoch: string; version: number; entities: MetadataUpdate[]; nextCursor?: string }

/** Container ids as cgroup paths show them: lowercase hex, no `containerd://` / `docker://`. */
export function normalizeContainerId(id: string): string {
  const i = id.indexOf('://');
  return (i >= 0 ? id.slice(i + 3) : id).toLowerCase();
}
