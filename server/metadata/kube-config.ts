// Where the metadata service finds the Kubernetes API: an explicit server URL (tests, or a
// `kubectl proxy`), a kubeconfig file, or the defaults (KUBECONFIG, ~/.kube/config, in-cluster
// service account — what the Deployment in deploy/ uses).
import { KubeConfig } from '@kubernetes/client-node';

export interface KubeTarget {
  /** e.g. http://127.0.0.1:8001; no authentication. */
  server?: string;
  kubeconfig?: string;
}

export function loadKubeConfig(t: KubeTarget): KubeConfig {
  const kc = new KubeConfig();
  if (t.server) {
    kc.loadFromOptions({
      // client-node refuses plain http unless told there is no TLS to verify.
      clusters: [{ name: 'target', server: t.server, skipTLSVerify: t.server.startsWith('http:') }],
      users: [{ name: 'anonymous' }],
      contexts: [{ name: 'target', cluster: 'target', user: 'anonymous' }],
      currentContext: 'target',
    });
  } else if (t.kubeconfig) {
    kc.loadFromFile(t.kubeconfig);
  } else {
    kc.loadFromDefault();
  }
  return kc;
}
