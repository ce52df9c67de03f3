// Node scope: limit a collector to one network namespace and/or one cgroup v2 subtree, so
// several collectors on one machine each see only "their node". Turns user-facing paths
// into what the kernel program compares (native TracerOptions scope* fields).
import { readFileSync, statSync } from 'node:fs';
import { isAbsolute, relative, resolve } from 'node:path';

export interface ScopeSpec {
  /** A netns file: /run/netns/NAME (ip netns), /proc/PID/ns/net, or a bare inode number. */
  netns?: string;
  /** A cgroup v2 directory (absolute, or relative to the v2 mount), e.g. /sys/fs/cgroup/unified/x. */
  cgroup?: string;
}

export interface ResolvedScope {
  scopeNetns?: number;
  scopeCgroupId?: number;
  scopeCgroupLevel?: number;
}

/** Mount point of the cgroup v2 hierarchy (pure v2: /sys/fs/cgroup; hybrid: …/unified). */
export function cgroup2Mount(mountinfo = readFileSync('/proc/self/mountinfo', 'utf8')): string {
  for (const line of mountinfo.split('\n')) {
    const [pre, post] = line.split(' - ');
    if (post?.startsWith('cgroup2 ')) return pre.split(' ')[4];
  }
  throw new Error('no cgroup v2 hierarchy is mounted (needed for --scope-cgroup)');
}

export function resolveScope(spec: ScopeSpec): ResolvedScope {
  const out: ResolvedScope = {};
  if (spec.netns) {
    // The nsfs inode of a netns file is the namespace's inum, what the kernel compares.
    out.scopeNetns = /^\d+$/.test(spec.netns) ? Number(spec.netns) : statSync(spec.netns).ino;
  }
  if (spec.cgroup) {
    const root = cgroup2Mount();
    const dir = isAbsolute(spec.cgroup) ? spec.cgroup : resolve(root, spec.cgroup);
    const rel = relative(root, dir);
    if (rel.startsWith('..')) throw new Error(`--scope-cgroup ${spec.cgroup} is not under the cgroup v2 mount ${root}`);
    const st = statSync(dir);
    if (!st.isDirectory()) throw new Error(`--scope-cgroup ${spec.cgroup} is not a cgroup directory`);
    // cgroup v2 id = inode of its directory; level = depth below the root (root is 0).
    out.scopeCgroupId = st.ino;
    out.scopeCgroupLevel = rel === '' ? 0 : rel.split('/').length;
  }
  return out;
}
