// From the informers' caches to the entities subscribers get (collector/k8s/wire.ts). Pods are
// enriched here — services (EndpointSlices, plus selectors for pods not yet ready) and workload
// (ReplicaSet → Deployment) — so agents need only their own pods, not every Service and
// EndpointSlice in the cluster. Objects come either from a list (client models) or a watch
// (plain JSON); both have the same camelCase fields, read defensively.
import { clusterTopic, nodeTopic, normalizeContainerId, type Entity, type PodMeta } from '../../collector/k8s/wire.ts';
import type { ResourceName } from './watched-resources.ts';

/** Loosely typed Kubernetes object: only the fields read below. */
interface Obj {
  metadata?: { name?: string; namespace?: string; uid?: string; labels?: Record<string, string>; ownerReferences?: { kind?: string; name?: string; controller?: boolean }[] };
  spec?: { nodeName?: string; selector?: Record<string, string>; clusterIP?: string };
  status?: {
    phase?: string; podIP?: string; addresses?: { type?: string; address?: string }[];
    containerStatuses?: ContainerStatus[]; initContainerStatuses?: ContainerStatus[]; ephemeralContainerStatuses?: ContainerStatus[];
  };
  endpoints?: { targetRef?: { kind?: string; name?: string; namespace?: string } }[];
}
interface ContainerStatus { name?: string; containerID?: string }

export type Caches = Record<ResourceName, readonly object[]>;

/** An entity and the topics it is published on. */
export interface Derived { entity: Entity; topics: string[] }

export function entityId(e: { kind: string; key: string }): string {
  return `${e.kind}/${e.key}`;
}

export function deriveEntities(caches: Caches): Map<string, Derived> {
  const out = new Map<string, Derived>();
  const add = (entity: Entity, topics: string[]) => out.set(entityId(entity), { entity, topics });

  const sliceServices = new Map<string, Set<string>>(); // ns/pod → services
  for (const s of caches.endpointslices as Obj[]) {
    const svc = s.metadata?.labels?.['kubernetes.io/service-name'];
    if (!svc) continue;
    for (const ep of s.endpoints ?? []) {
      const ref = ep.targetRef;
      if (ref?.kind !== 'Pod' || !ref.name) continue;
      const k = `${ref.namespace ?? s.metadata?.namespace}/${ref.name}`;
      let set = sliceServices.get(k);
      if (!set) sliceServices.set(k, (set = new Set()));
      set.add(svc);
    }
  }
  // Services with a selector, by namespace (a pod can only be selected from its own namespace).
  const selectors = new Map<string, Obj[]>();
  for (const s of caches.services as Obj[]) {
    if (!s.spec?.selector || !Object.keys(s.spec.selector).length) continue;
    const ns = s.metadata?.namespace ?? '';
    let list = selectors.get(ns);
    if (!list) selectors.set(ns, (list = []));
    list.push(s);
  }
  const rsOwner = new Map<string, { kind: string; name: string }>();
  for (const rs of caches.replicasets as Obj[]) {
    const owner = controllerOf(rs);
    if (owner) rsOwner.set(`${rs.metadata?.namespace}/${rs.metadata?.name}`, owner);
  }

  for (const p of caches.pods as Obj[]) {
    const m = p.metadata;
    if (!m?.uid || !m.name) continue;
    const ns = m.namespace ?? '';
    const labels = m.labels ?? {};
    const services = new Set(sliceServices.get(`${ns}/${m.name}`) ?? []);
    for (const s of selectors.get(ns) ?? []) {
      if (Object.entries(s.spec!.selector!).every(([k, v]) => labels[k] === v)) services.add(s.metadata!.name!);
    }
    let workload = controllerOf(p);
    if (workload?.kind === 'ReplicaSet') workload = rsOwner.get(`${ns}/${workload.name}`) ?? workload;
    const containers = [...(p.status?.initContainerStatuses ?? []), ...(p.status?.containerStatuses ?? []), ...(p.status?.ephemeralContainerStatuses ?? [])]
      .filter((c) => c.containerID)
      .map((c) => ({ id: normalizeContainerId(c.containerID!), name: c.name ?? '' }));
    const node = p.spec?.nodeName ?? '';
    const value: PodMeta = {
      uid: m.uid, name: m.name, namespace: ns, node, services: [...services].sort(), containers,
      ...(workload ? { workload } : {}), labels, phase: p.status?.phase ?? '', podIp: p.status?.podIP ?? '',
    };
    add({ kind: 'pod', key: m.uid, value }, node ? [clusterTopic, nodeTopic(node)] : [clusterTopic]);
  }
  for (const n of caches.nodes as Obj[]) {
    const name = n.metadata?.name;
    if (!name) continue;
    const internalIp = n.status?.addresses?.find((a) => a.type === 'InternalIP')?.address ?? '';
    add({ kind: 'node', key: name, value: { name, internalIp } }, [clusterTopic]);
  }
  for (const n of caches.namespaces as Obj[]) {
    const name = n.metadata?.name;
    if (name) add({ kind: 'namespace', key: name, value: { name } }, [clusterTopic]);
  }
  for (const s of caches.services as Obj[]) {
    const name = s.metadata?.name;
    const ns = s.metadata?.namespace ?? '';
    if (name) add({ kind: 'service', key: `${ns}/${name}`, value: { name, namespace: ns, clusterIp: s.spec?.clusterIP ?? '' } }, [clusterTopic]);
  }
  return out;
}

function controllerOf(o: Obj): { kind: string; name: string } | undefined {
  const ref = o.metadata?.ownerReferences?.find((r) => r.controller) ?? o.metadata?.ownerReferences?.[0];
  return ref?.kind && ref.name ? { kind: ref.kind, name: ref.name } : undefined;
}
