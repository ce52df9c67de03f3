// The seven Kubernetes resources the metadata service watches — and nothing else (deploy/'s
// RBAC grants get/list/watch on exactly these). One list function per resource through the
// generated client; the watch path is the same collection path.
import { AppsV1Api, CoreV1Api, DiscoveryV1Api, type KubeConfig, type KubernetesListObject, type KubernetesObject } from '@kubernetes/client-node';

export type ResourceName = 'pods' | 'services' | 'endpointslices' | 'namespaces' | 'nodes' | 'replicasets' | 'deployments';

export interface WatchedResource {
  name: ResourceName;
  /** Collection path across all namespaces (list and watch). */
  path: string;
  list: () => Promise<KubernetesListObject<KubernetesObject>>;
}

export const resourceNames: ResourceName[] = ['pods', 'services', 'endpointslices', 'namespaces', 'nodes', 'replicasets', 'deployments'];

export function watchedResources(kc: KubeConfig): WatchedResource[] {
  const core = kc.makeApiClient(CoreV1Api);
  const apps = kc.makeApiClient(AppsV1Api);
  const discovery = kc.makeApiClient(DiscoveryV1Api);
  const r = (name: ResourceName, path: string, list: () => Promise<unknown>): WatchedResource =>
    ({ name, path, list: list as () => Promise<KubernetesListObject<KubernetesObject>> });
  return [
    r('pods', '/api/v1/pods', () => core.listPodForAllNamespaces()),
    r('services', '/api/v1/services', () => core.listServiceForAllNamespaces()),
    r('endpointslices', '/apis/discovery.k8s.io/v1/endpointslices', () => discovery.listEndpointSliceForAllNamespaces()),
    r('namespaces', '/api/v1/namespaces', () => core.listNamespace()),
    r('nodes', '/api/v1/nodes', () => core.listNode()),
    r('replicasets', '/apis/apps/v1/replicasets', () => apps.listReplicaSetForAllNamespaces()),
    r('deployments', '/apis/apps/v1/deployments', () => apps.listDeploymentForAllNamespaces()),
  ];
}
