// The per-syscall tracepoint attach mode (`attach: 'syscalls'`, root): it loads (each exit
// program is verified on its own, with its syscall constant — exit_recvmmsg once went past
// the verifier's limit unnoticed because every other test runs the default raw mode) and
// captures what raw mode captures: plain read/write, and sendmmsg/recvmmsg per message.
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { after, before, test } from 'node:test';
import { Direction, EventKind, type SocketEvent } from '../collector/events.ts';
import { EbpfSource } from '../collector/sources/ebpf.ts';
import { probe } from '../native/index.ts';

const execFileP = promisify(execFile);
const here = dirname(fileURLToPath(import.meta.url));
const unavailable = probe();
const opts = { skip: unavailable ?? false };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const events: SocketEvent[] = [];
let source: EbpfSource | undefined;
let dir = '';

before(async () => {
  if (unavailable) return;
  dir = mkdtempSync(join(tmpdir(), 'wiretap-syscalls-'));
  source = new EbpfSource({ attach: 'syscalls', payloadCap: 4096, tls: false });
  await source.start((evs) => events.push(...evs));
});

after(async () => {
  await source?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const ofPort = (pid: number, port: number) =>
  events.filter((e) => e.tgid === pid && (e.localPort === port || e.remotePort === port));
const data = (evs: SocketEvent[], d: 0 | 1) => evs.filter((e) => e.kind === EventKind.data && e.direction === d);
const concat = (evs: SocketEvent[]) => Buffer.concat(evs.map((e) => e.payload)).toString('latin1');

test('syscalls mode: read/write exchange, payload and positions on both sides', opts, async () => {
  const { stdout } = await execFileP('python3', [join(here, 'fixtures', 'socket-paths.py'), 'ipv6'], { timeout: 20_000 });
  const r = JSON.parse(stdout.trim().split('\n').pop()!) as { pid: number; port: number; resp: number };
  await sleep(300);
  const evs = ofPort(r.pid, r.port);
  const srv = evs.filter((e) => e.localPort === r.port);
  assert.ok(concat(data(srv, Direction.recv)).startsWith('GET /v6 HTTP/1.1\r\n'), concat(data(srv, Direction.recv)));
  const sent = data(srv, Direction.send);
  assert.equal(sent.reduce((a, e) => a + e.size, 0), r.resp);
  assert.equal(sent[0].pos, 0n);
  assert.ok(concat(sent).startsWith('HTTP/1.1 200'));
  assert.ok(srv.some((e) => e.kind === EventKind.open && e.role === 2));
});

test('syscalls mode: sendmmsg/recvmmsg ship one event per message', opts, async () => {
  const bin = join(dir, 'mmsg-peer');
  await execFileP('cc', ['-O1', '-o', bin, join(here, 'fixtures', 'mmsg-peer.c')]);
  const child = spawn(bin, [], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d));
  assert.equal(await new Promise<number | null>((r) => child.on('exit', r)), 0);
  await sleep(300);
  const port = Number(out.trim().split(' ')[0]);
  const evs = ofPort(child.pid!, port);
  const cliSend = data(evs.filter((e) => e.remotePort === port), Direction.send);
  assert.deepEqual(cliSend.map((e) => e.payload.toString('latin1')), ['GET /mmsg HTTP/1.1\r\n', 'Host: mmsg\r\n', '\r\n']);
  assert.deepEqual(cliSend.map((e) => e.pos), [0n, 20n, 32n]);
  assert.equal(concat(data(evs.filter((e) => e.localPort === port), Direction.recv)), 'GET /mmsg HTTP/1.1\r\nHost: mmsg\r\n\r\n');
});
