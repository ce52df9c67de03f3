// A small network lab for tests (root): a host bridge with an address, and one network namespace
// per node joined to it by a veth pair, each with its own address. Processes run inside with
// `lab.exec(i, cmd)`; a node's link can be taken down and up from the host side. Names start with
// the caller's prefix (interface names stay ≤ 15 bytes), so concurrent tests do not collide;
// `cleanup()` kills what runs in the namespaces and removes them (also stale ones from a crash).
import { execFileSync } from 'node:child_process';

export interface NetnsNode { ns: string; ip: string; hostVeth: string }

export interface NetnsLab {
  bridgeIp: string;
  nodes: NetnsNode[];
  /** argv prefix that runs a command inside node i's namespace. */
  exec(i: number, cmd: string[]): string[];
  linkDown(i: number): void;
  linkUp(i: number): void;
  cleanup(): void;
}

const sh = (cmd: string) => execFileSync('sh', ['-c', cmd], { stdio: ['ignore', 'pipe', 'pipe'] }).toString();

/** Why the lab cannot run here (not root, no iproute2), or null. */
export function netnsUnavailable(): string | null {
  if (process.getuid?.() !== 0) return 'network namespaces need root';
  try {
    sh('command -v ip');
    return null;
  } catch {
    return 'ip (iproute2) missing';
  }
}

/** prefix: ≤ 10 bytes (e.g. "wt-h4-"); subnet: the first three octets of a /24 nobody else uses. */
export function netnsLab(prefix: string, count: number, subnet: string): NetnsLab {
  if (prefix.length > 10) throw new Error(`netns prefix "${prefix}" too long for interface names`);
  const bridge = `${prefix}br`;
  const nodes: NetnsNode[] = Array.from({ length: count }, (_, i) => ({ ns: `${prefix}n${i}`, ip: `${subnet}.${10 + i}`, hostVeth: `${prefix}v${i}` }));
  const cleanup = () => {
    for (const ns of sh('ip netns list').split('\n').map((l) => l.split(' ')[0]!).filter((n) => n.startsWith(prefix))) {
      try { sh(`ip netns pids ${ns} | xargs -r kill -9; ip netns del ${ns}`); } catch { /* gone meanwhile */ }
    }
    for (const link of sh('ip -o link show').split('\n').map((l) => /^\d+: ([^:@]+)/.exec(l)?.[1]).filter((n) => n?.startsWith(prefix))) {
      try { sh(`ip link del ${link}`); } catch { /* went with its namespace */ }
    }
  };
  cleanup();
  try {
    sh(`ip link add ${bridge} type bridge && ip addr add ${subnet}.1/24 dev ${bridge} && ip link set ${bridge} up`);
    nodes.forEach((n, i) => {
      const inner = `${prefix}p${i}`;
      sh(`set -e
          ip netns add ${n.ns}
          ip link add ${n.hostVeth} type veth peer name ${inner}
          ip link set ${inner} netns ${n.ns}
          ip link set ${n.hostVeth} master ${bridge} up
          ip -n ${n.ns} addr add ${n.ip}/24 dev ${inner}
          ip -n ${n.ns} link set ${inner} up
          ip -n ${n.ns} link set lo up`);
    });
  } catch (err) {
    cleanup();
    throw err;
  }
  return {
    bridgeIp: `${subnet}.1`,
    nodes,
    exec: (i, cmd) => ['ip', 'netns', 'exec', nodes[i]!.ns, ...cmd],
    linkDown: (i) => void sh(`ip link set ${nodes[i]!.hostVeth} down`),
    linkUp: (i) => void sh(`ip link set ${nodes[i]!.hostVeth} up`),
    cleanup,
  };
}
