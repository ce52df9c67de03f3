// Node scope (root): two network namespaces joined by a veth pair, a client in one and a
// server in the other, one collector scoped to each, plus traffic in the root namespace.
// Each collector sees only its own side; neither sees the root namespace. Also a cgroup v2
// subtree scope. Namespaces, links and cgroups are removed afterwards.
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, rmdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { EventKind, type ProcessEvent, type SocketEvent } from '../collector/events.ts';
import { cgroup2Mount, resolveScope } from '../collector/scope/scope.ts';
import { EbpfSource } from '../collector/sources/ebpf.ts';
import { probe } from '../native/index.ts';

const unavailable = probe();
const tag = `wt3${process.pid}`;
const NS = { a: `${tag}a`, b: `${tag}b` };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const sh = (cmd: string) => execFileSync('sh', ['-c', cmd], { stdio: ['ignore', 'pipe', 'pipe'] }).toString();

const SERVER = `
import socket
ls = socket.socket(); ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
ls.bind(('0.0.0.0', 8080)); ls.listen(4)
print('ready', flush=True)
for _ in range(2):
    s, _ = ls.accept()
    req = s.recv(4096)
    body = b'scoped ' + req.split(b' ')[1]
    s.sendall(b'HTTP/1.1 200 OK\\r\\nContent-Length: %d\\r\\n\\r\\n' % len(body) + body)
    s.close()
`;
const CLIENT = `
import socket, sys
s = socket.create_connection((sys.argv[1], 8080))
s.sendall(('GET %s HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n' % sys.argv[2]).encode())
print(s.recv(4096).decode().split('\\r\\n')[-1], flush=True)
s.close()
`;

let skip: string | false = unavailable ?? false;
try {
  if (!skip) sh('command -v ip && command -v python3');
} catch {
  skip = 'ip (iproute2) or python3 missing';
}
const opts = { skip };

const seen = { a: [] as SocketEvent[], b: [] as SocketEvent[], cg: [] as SocketEvent[] };
const procs = { a: [] as ProcessEvent[], b: [] as ProcessEvent[] };
const sources: EbpfSource[] = [];
let cgdir = '';

function cleanup(): void {
  for (const n of Object.values(NS)) {
    try {
      sh(`ip netns pids ${n} | xargs -r kill -9; ip netns del ${n}`);
    } catch {
      /* not there */
    }
  }
  if (cgdir) {
    try {
      rmdirSync(cgdir);
    } catch {
      /* busy or gone */
    }
  }
}

before(async () => {
  if (skip) return;
  cleanup();
  sh(`ip netns add ${NS.a} && ip netns add ${NS.b}
      ip link add ${tag}x type veth peer name ${tag}y
      ip link set ${tag}x netns ${NS.a} && ip link set ${tag}y netns ${NS.b}
      ip -n ${NS.a} addr add 10.213.0.1/24 dev ${tag}x && ip -n ${NS.b} addr add 10.213.0.2/24 dev ${tag}y
      ip -n ${NS.a} link set ${tag}x up && ip -n ${NS.b} link set ${tag}y up
      ip -n ${NS.a} link set lo up && ip -n ${NS.b} link set lo up`);
  for (const k of ['a', 'b'] as const) {
    const src = new EbpfSource(resolveScope({ netns: `/run/netns/${NS[k]}` }));
    src.onProcessEvents((evs) => procs[k].push(...evs));
    await src.start((evs) => seen[k].push(...evs));
    sources.push(src);
  }
  cgdir = join(cgroup2Mount(), `${tag}-scope`);
  mkdirSync(cgdir);
  const cg = new EbpfSource(resolveScope({ cgroup: cgdir }));
  await cg.start((evs) => seen.cg.push(...evs));
  sources.push(cg);
});

after(async () => {
  for (const s of sources) await s.stop();
  cleanup();
});

async function run(cmd: string, args: string[]): Promise<{ pid: number; out: string }> {
  const c = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  c.stdout!.on('data', (d: Buffer) => (out += d));
  const code = await new Promise<number | null>((r) => c.on('exit', r));
  assert.equal(code, 0, `${cmd} ${args.join(' ')}`);
  return { pid: c.pid!, out: out.trim() };
}

test('two collectors in two network namespaces each see only their own side', opts, async () => {
  const server = spawn('ip', ['netns', 'exec', NS.b, 'python3', '-c', SERVER], { stdio: ['ignore', 'pipe', 'inherit'] });
  const serverExit = new Promise((r) => server.on('exit', r));
  await new Promise<void>((r) => server.stdout!.once('data', () => r()));
  const cli = await run('ip', ['netns', 'exec', NS.a, 'python3', '-c', CLIENT, '10.213.0.2', '/from-a']);
  const cli2 = await run('ip', ['netns', 'exec', NS.a, 'python3', '-c', CLIENT, '10.213.0.2', '/again']);
  assert.equal(cli.out, 'scoped /from-a');
  assert.equal(cli2.out, 'scoped /again');
  await serverExit;
  // Traffic in the root namespace (a refused connect and a curl process): seen by neither.
  const root = await run('curl', ['-s', '-o', '/dev/null', '-w', '%{http_code}', 'http://127.0.0.1:1/']).catch(() => ({ pid: 0, out: '' }));
  await sleep(400);

  const dataOf = (evs: SocketEvent[]) => evs.filter((e) => e.kind === EventKind.data);
  const a = seen.a.filter((e) => e.remotePort === 8080 || e.localPort === 8080);
  const b = seen.b.filter((e) => e.remotePort === 8080 || e.localPort === 8080);
  // a: exactly the two client connections (connect → role 1), nothing of the server.
  assert.equal(a.filter((e) => e.kind === EventKind.open).length, 2);
  for (const e of a) {
    assert.equal(e.role, 1);
    assert.equal(e.localAddr, '10.213.0.1');
    assert.equal(e.remoteAddr, '10.213.0.2');
  }
  assert.deepEqual(dataOf(a).filter((e) => e.direction === 0).map((e) => e.payload.toString().split(' ')[1]), ['/from-a', '/again']);
  // b: exactly the two accepted connections, nothing of the client.
  assert.equal(b.filter((e) => e.kind === EventKind.open).length, 2);
  for (const e of b) {
    assert.equal(e.role, 2);
    assert.equal(e.localAddr, '10.213.0.2');
    assert.equal(e.localPort, 8080);
  }
  assert.deepEqual(dataOf(b).filter((e) => e.direction === 1).map((e) => e.payload.toString().split(' ')[1]), ['/from-a', '/again']);
  // Nothing from outside their namespace (everything they saw is on the veth addresses).
  for (const e of [...seen.a, ...seen.b]) assert.ok(e.localAddr.startsWith('10.213.0.') || e.localAddr === '', e.localAddr);
  if (root.pid) assert.equal([...seen.a, ...seen.b].filter((e) => e.tgid === root.pid).length, 0);
  // Process events are scoped too: a saw its clients exec python, b its server; neither root's curl.
  assert.ok(procs.a.some((p) => p.kind === 'exec' && p.tgid === cli.pid));
  assert.ok(!procs.a.some((p) => p.tgid === server.pid));
  assert.ok(procs.b.some((p) => p.kind === 'exec' && p.tgid === server.pid));
  assert.ok(!procs.b.some((p) => p.tgid === cli.pid || (root.pid && p.tgid === root.pid)));
});

test('a collector scoped to a cgroup v2 subtree sees only processes inside it', opts, async () => {
  const py = (path: string) => `
import socket
ls = socket.socket(); ls.bind(('127.0.0.1', 0)); ls.listen(1)
c = socket.create_connection(ls.getsockname()); s, _ = ls.accept()
c.sendall(b'GET ${path} HTTP/1.1\\r\\n\\r\\n'); s.recv(100)
print(ls.getsockname()[1])
`;
  // Joins the cgroup first, then becomes python (same pid), so all its socket calls are inside.
  const inner = await run('sh', ['-c', `echo $$ > ${cgdir}/cgroup.procs && exec python3 -c "$0"`, py('/inside')]);
  const outer = await run('python3', ['-c', py('/outside')]);
  await sleep(400);
  const paths = seen.cg.filter((e) => e.kind === EventKind.data && e.direction === 0).map((e) => e.payload.toString().split(' ')[1]);
  assert.deepEqual(paths, ['/inside']);
  assert.ok(seen.cg.every((e) => e.tgid === inner.pid), 'only the process inside the cgroup');
  assert.equal(seen.cg.filter((e) => e.tgid === outer.pid).length, 0);
});
