// Container id from a process's cgroup paths (/proc/PID/cgroup). Runtimes name the leaf cgroup
// after the container: docker (`/docker/<id>`, `docker-<id>.scope`), containerd/CRI
// (`cri-containerd-<id>.scope`, `/kubepods/…/<id>`), cri-o (`crio-<id>.scope`), podman
// (`libpod-<id>.scope`). The id is 64 hex digits.

const leafPatterns: RegExp[] = [
  /^(?:docker|cri-containerd|crio|libpod|containerd)-([0-9a-f]{64})\.scope$/,
  /^([0-9a-f]{64})$/,
];

/** The container id of the deepest matching path segment, or null (not in a container). */
export function containerIdFromCgroup(cgroupFile: string): string | null {
  // Lines are "hierarchy:controllers:path"; v2 has one line "0::/path".
  for (const line of cgroupFile.split('\n').reverse()) {
    const path = line.slice(line.indexOf(':', line.indexOf(':') + 1) + 1);
    const segments = path.split('/').reverse();
    for (const seg of segments) {
      for (const p of leafPatterns) {
        const m = p.exec(seg);
        if (m) return m[1]!;
      }
    }
  }
  return null;
}

/** Whether the cgroup path looks like a Kubernetes pod (kubepods hierarchy). */
export function isKubepods(cgroupFile: string): boolean {
  return /kubepods/.test(cgroupFile);
}
