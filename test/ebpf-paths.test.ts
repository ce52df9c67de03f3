// Real eBPF capture of the less common socket paths (root): sendfile (bytes counted, no
// payload, the file never shipped), sendmmsg/recvmmsg (one event per message), IPv6, a
// connection speaking no protocol we parse (counters only, never payload), disabling a
// connection from user space, and process exec/exit events.
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { after, before, test } from 'node:test';
import { Direction, EventKind, type ProcessEvent, type SocketEvent } from '../collector/events.ts';
import { EbpfSource } from '../collector/sources/ebpf.ts';
import { probe } from '../native/index.ts';

const execFileP = promisify(execFile);
const here = dirname(fileURLToPath(import.meta.url));
const PY = join(here, 'fixtures', 'socket-paths.py');
const unavailable = probe();
const opts = { skip: unavailable ?? false };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const events: SocketEvent[] = [];
const procs: ProcessEvent[] = [];
let source: EbpfSource | undefined;
let dir = '';

before(async () => {
  if (unavailable) return;
  dir = mkdtempSync(join(tmpdir(), 'wiretap-paths-'));
  source = new EbpfSource({ payloadCap: 4096 });
  source.onProcessEvents((evs) => procs.push(...evs));
  await source.start((evs) => events.push(...evs));
});

after(async () => {
  await source?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** Lets the poller (10 ms timer) deliver what the kernel wrote. */
const drain = () => sleep(300);

async function py(...args: string[]): Promise<Record<string, number>> {
  const { stdout } = await execFileP('python3', [PY, ...args], { timeout: 20_000 });
  return JSON.parse(stdout.trim().split('\n').pop()!);
}

const ofPort = (pid: number, port: number) =>
  events.filter((e) => e.tgid === pid && (e.localPort === port || e.remotePort === port));
const data = (evs: SocketEvent[], dir: 0 | 1) => evs.filter((e) => e.kind === EventKind.data && e.direction === dir);
const concat = (evs: SocketEvent[]) => Buffer.concat(evs.map((e) => e.payload)).toString('latin1');

test('sendfile: the body is counted at the right positions with no payload; the file is never shipped', opts, async () => {
  const file = join(dir, 'body.bin');
  writeFileSync(file, randomBytes(50_000));
  const r = await py('sendfile', file);
  await drain();
  assert.equal(r.got, r.head + r.size);
  const evs = ofPort(r.pid, r.port);
  const srvSend = data(evs.filter((e) => e.localPort === r.port), Direction.send);
  assert.ok(srvSend.length >= 2, `server sends: ${srvSend.length}`);
  assert.equal(srvSend[0].pos, 0n);
  assert.equal(srvSend[0].payload.toString('latin1'), `HTTP/1.1 200 OK\r\nContent-Length: ${r.size}\r\n\r\n`);
  let pos = BigInt(r.head);
  for (const e of srvSend.slice(1)) {
    assert.equal(e.pos, pos, 'contiguous positions');
    assert.equal(e.payload.length, 0, 'sendfile ships no payload');
    pos += BigInt(e.size);
  }
  assert.equal(pos, BigInt(r.head + r.size));
  // The client received the whole file with payload (capped per event), positions exact.
  const cliRecv = data(evs.filter((e) => e.remotePort === r.port), Direction.recv);
  assert.equal(cliRecv.reduce((a, e) => a + e.size, 0), r.head + r.size);
  // Nothing of this process was shipped but these two sockets (no file reads).
  assert.equal(events.filter((e) => e.tgid === r.pid).length, evs.length);
});

test('sendmmsg/recvmmsg: one data event per message, contiguous positions, exact bytes', opts, async () => {
  const bin = join(dir, 'mmsg-peer');
  await execFileP('cc', ['-O1', '-o', bin, join(here, 'fixtures', 'mmsg-peer.c')]);
  const child = spawn(bin, [], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d));
  const code = await new Promise<number | null>((r) => child.on('exit', r));
  assert.equal(code, 0);
  await drain();
  const [port, sgot, cgot] = out.trim().split(' ').map(Number);
  const evs = ofPort(child.pid!, port);
  const req = 'GET /mmsg HTTP/1.1\r\nHost: mmsg\r\n\r\n';
  const resp = 'HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nmmsg';
  assert.equal(sgot, req.length);
  assert.equal(cgot, resp.length);
  const cliSend = data(evs.filter((e) => e.remotePort === port), Direction.send);
  assert.deepEqual(cliSend.map((e) => e.payload.toString('latin1')), ['GET /mmsg HTTP/1.1\r\n', 'Host: mmsg\r\n', '\r\n']);
  assert.deepEqual(cliSend.map((e) => e.pos), [0n, 20n, 32n]);
  const srvRecv = data(evs.filter((e) => e.localPort === port), Direction.recv);
  assert.equal(concat(srvRecv), req);
  const srvSend = data(evs.filter((e) => e.localPort === port), Direction.send);
  assert.equal(srvSend.length, 2);
  assert.equal(concat(srvSend), resp);
  assert.equal(concat(data(evs.filter((e) => e.remotePort === port), Direction.recv)), resp);
});

test('IPv6: addresses and payload over ::1', opts, async () => {
  const r = await py('ipv6');
  await drain();
  const evs = ofPort(r.pid, r.port);
  assert.ok(evs.length >= 6, `events: ${evs.length}`);
  for (const e of evs) {
    assert.equal(e.family, 6);
    assert.equal(e.localAddr, '::1');
    assert.equal(e.remoteAddr, '::1');
  }
  const srv = evs.filter((e) => e.localPort === r.port);
  assert.ok(concat(data(srv, Direction.recv)).startsWith('GET /v6 HTTP/1.1\r\n'));
  assert.equal(data(srv, Direction.send).reduce((a, e) => a + e.size, 0), r.resp);
  assert.ok(srv.some((e) => e.kind === EventKind.open && e.role === 2));
});

test('a connection speaking nothing we parse ships open/close and counters, never payload', opts, async () => {
  const before = source!.nativeStats()!;
  const r = await py('other');
  await drain();
  const evs = ofPort(r.pid, r.port);
  assert.equal(evs.filter((e) => e.kind === EventKind.data).length, 0, 'no data events');
  const closes = evs.filter((e) => e.kind === EventKind.close);
  assert.equal(closes.length, 2);
  for (const c of closes) {
    assert.equal(c.bytesSent, 21);
    assert.equal(c.bytesRecv, 21);
  }
  assert.equal(evs.filter((e) => e.kind === EventKind.open).length, 2);
  const after = source!.nativeStats()!;
  assert.ok(after.kernelSkipped - before.kernelSkipped >= 12, 'the 12 calls were counted');
  assert.ok(after.kernelSkippedBytes - before.kernelSkippedBytes >= 42);
});

test('disableConnection stops that connection\'s payload in the kernel; the peer is unaffected', opts, async () => {
  const child = spawn('python3', [PY, 'disable'], { stdio: ['pipe', 'pipe', 'inherit'] });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d));
  for (let i = 0; i < 100 && !out.includes('\n'); i++) await sleep(50);
  const r = JSON.parse(out.split('\n')[0]) as { pid: number; port: number };
  await drain();
  const srv = () => ofPort(r.pid, r.port).filter((e) => e.localPort === r.port);
  const first = srv().find((e) => e.kind === EventKind.data)!;
  assert.ok(first, 'server side seen before disabling');
  assert.equal(source!.disableConnection(first.tgid, first.fd, first.connGen + 1n), false, 'wrong generation refused');
  assert.equal(source!.disableConnection(first.tgid, first.fd, first.connGen), true);
  child.stdin!.write('go\n');
  await new Promise((res) => child.on('exit', res));
  await drain();
  assert.ok(!concat(data(srv(), Direction.recv)).includes('/after'), 'disabled side ships no payload');
  assert.ok(concat(data(srv(), Direction.recv)).includes('/before'));
  const cli = ofPort(r.pid, r.port).filter((e) => e.remotePort === r.port);
  assert.ok(concat(data(cli, Direction.send)).includes('GET /after'), 'the client side still ships');
  // The disabled connection still closes with its full byte counts.
  const close = srv().find((e) => e.kind === EventKind.close)!;
  assert.ok(close && close.bytesRecv! > 0 && close.bytesSent! > 0);
  assert.equal(close.bytesRecv, concat(data(cli, Direction.send)).length);
});

test('exec and exit events: file name, parent, exit status', opts, async () => {
  const child = spawn('sh', ['-c', 'exit 3'], { stdio: 'ignore' });
  const code = await new Promise<number | null>((r) => child.on('exit', r));
  assert.equal(code, 3);
  await drain();
  const exec = procs.find((p) => p.kind === 'exec' && p.tgid === child.pid);
  assert.ok(exec, 'exec seen');
  assert.match(exec.filename, /\/sh$/);
  assert.equal(exec.ppid, process.pid);
  const exit = procs.find((p) => p.kind === 'exit' && p.tgid === child.pid);
  assert.ok(exit, 'exit seen');
  assert.equal(exit.exitCode, 3 << 8);
  assert.equal(exit.startTicks, exec.startTicks);
  assert.ok(exit.timeNs >= exec.timeNs);
});
