// The PodResolver contract with the node metadata store (collector/metadata/, issue 5): the
// container id it reads from a pod's cgroup path is the key PodStore answers for, for the
// runtimes Kubernetes uses, and the columns come out in engine/schema.ts's conventions.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { containerIdFromCgroup } from '../collector/metadata/container-id.ts';
import { PodStore, kubernetesColumns } from '../collector/k8s/pod-store.ts';
import type { MetadataUpdate } from '../collector/k8s/wire.ts';

const id = '3f1c2e9a8b7d6c5e4f3a2b1c0d9e8f7a6b5c4d3e2f1a0b9c8d7e6f5a4b3c2d1e';

const cgroups: Record<string, string> = {
  'containerd (systemd driver)': `0::/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod1234_5678.slice/cri-containerd-${id}.scope\n`,
  'containerd (cgroupfs driver)': `0::/kubepods/burstable/pod12345678-aaaa-bbbb-cccc-1234567890ab/${id}\n`,
  'cri-o': `0::/kubepods.slice/kubepods-pod1234.slice/crio-${id}.scope\n`,
};

test('container ids from real cgroup path shapes resolve to the pod (status.containerID carries a runtime prefix)', () => {
  const store = new PodStore();
  const update: MetadataUpdate = {
    kind: 'pod', key: 'uid-1', op: 'upsert', epoch: 'e', version: 1, prevVersion: 0, atMs: Date.now(),
    value: { uid: 'uid-1', name: 'web-1', namespace: 'shop', node: 'n1', services: ['web', 'web-canary'], containers: [{ id: `containerd://${id.toUpperCase()}`, name: 'app' }], labels: {}, phase: 'Running', podIp: '10.1.0.5' },
  };
  store.apply(update);
  for (const [runtime, file] of Object.entries(cgroups)) {
    const cid = containerIdFromCgroup(file);
    assert.equal(cid, id, runtime);
    const r = store.byContainerId(cid!);
    assert.ok(r, runtime);
    assert.deepEqual(kubernetesColumns(r), { pod: 'shop/web-1', namespace: 'shop', service: 'shop/web,shop/web-canary', node: 'n1' });
    assert.equal(r.container, 'app');
  }
  assert.equal(store.byContainerId('0'.repeat(64)), undefined, 'a container of no known pod');
});
