// Node's TLS (root): OpenSSL is linked into the node binary and writes ciphertext to memory
// BIOs, so there is no syscall inside SSL_read/SSL_write to learn the socket from; the tracer
// binds each SSL object to its socket by matching the records it wrote into its BIO
// (BIO_write uprobe) against the start of the next flush to a socket (bpf/README.md).
// A node https server and two node clients in child processes — https.request over one
// keep-alive socket, and fetch (undici, keep-alive) — each sending N requests with unique
// paths and bodies: exactly N http_events rows per side and client, right method, path,
// status and bodies, encrypted = true, the right UPIDs and roles; no ciphertext shipped.
// Then a server in a worker thread under a client with 4N requests in flight at once over 4
// keep-alive sockets (interleaved handshakes and flushes: a binding by timing would mix
// them up). Last, a keep-alive connection made before the tracer started: traced from its
// next exchanges on. And a node binary the tracer first sees at exec (a copy of node).
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, before, test } from 'node:test';
import { Collector } from '../collector/collector.ts';
import { EventKind, type SocketEvent } from '../collector/events.ts';
import { EbpfSource } from '../collector/sources/ebpf.ts';
import { hasStaticOpenssl } from '../collector/tls/attach.ts';
import type { HttpEventRow, RowSink, RowTypes, TableName } from '../engine/schema.ts';
import { textRow, type Stringified } from '../engine/utf8-text.ts';
import { probe } from '../native/index.ts';
import { startTicksOf } from './helpers/processes.ts';
import { selfSignedCert } from './helpers/tls.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const skip = probe() ?? (hasStaticOpenssl(process.execPath) ? false : `${process.execPath} links OpenSSL dynamically (covered by tls-capture)`);
const opts = { skip };
const N = 6;

// Status varies with the request so a row pairing a request with the wrong response shows.
// `args` (key and cert paths) and `report(port)` come from the wrapper below.
const SERVER_BODY = `
const https = require('https'); const fs = require('fs');
const srv = https.createServer({ key: fs.readFileSync(args[0]), cert: fs.readFileSync(args[1]) }, (req, res) => {
  let body = '';
  req.on('data', (d) => (body += d));
  req.on('end', () => {
    const i = Number(req.url.split('-').pop());
    res.writeHead(200 + (i % 3), { 'content-type': 'text/plain' });
    res.end('resp ' + req.method + ' ' + req.url + ' ' + body);
  });
});
srv.keepAliveTimeout = 60000;
srv.listen(0, '127.0.0.1', () => report(srv.address().port));
`;
const SERVER = `const args = process.argv.slice(1); const report = (p) => process.stdout.write(p + '\\n');${SERVER_BODY}`;
// The same server in a worker thread (its own event loop and thread).
const WORKER_SERVER = `
const { Worker } = require('worker_threads');
const code = ${JSON.stringify(`const { parentPort, workerData: args } = require('worker_threads'); const report = (p) => parentPort.postMessage(p);${SERVER_BODY}`)};
new Worker(code, { eval: true, workerData: process.argv.slice(1) }).on('message', (p) => process.stdout.write(p + '\\n'));
`;

// Head of the https.request clients: post(agent, path, body) resolves to "status body".
const HTTPS_POST = `
const https = require('https');
const [port, n] = process.argv.slice(1).map(Number);
const post = (agent, path, body) => new Promise((resolve, reject) => {
  const r = https.request({ host: '127.0.0.1', port, path, method: 'POST', agent,
    rejectUnauthorized: false, headers: { 'content-length': body.length } }, (res) => {
    let s = '';
    res.on('data', (d) => (s += d));
    res.on('end', () => resolve(res.statusCode + ' ' + s));
  });
  r.on('error', reject);
  r.end(body);
});
`;

// Prints "ready", then one line per response; exits when done.
const CLIENT_REQUEST = `${HTTPS_POST}
const agent = new https.Agent({ keepAlive: true, maxSockets: 1 });
console.log('ready');
(async () => {
  for (let i = 0; i < n; i++) console.log(await post(agent, '/via-request-' + i, 'req-body-' + i));
  agent.destroy();
})();
`;

// 4N requests at once over at most 4 keep-alive sockets.
const CLIENT_CONCURRENT = `${HTTPS_POST}
const agent = new https.Agent({ keepAlive: true, maxSockets: 4 });
console.log('ready');
Promise.all(Array.from({ length: 4 * n }, (_, i) => post(agent, '/via-many-' + i, 'many-body-' + i)))
  .then((lines) => { for (const l of lines) console.log(l); agent.destroy(); });
`;

// One request before the tracer starts ("ready" after it), the rest once told to go (stdin).
const CLIENT_PRE = `${HTTPS_POST}
const agent = new https.Agent({ keepAlive: true, maxSockets: 1 });
const one = (i) => post(agent, '/via-pre-' + i, 'pre-body-' + i);
(async () => {
  await one(0);
  console.log('ready');
  await new Promise((r) => process.stdin.once('data', r));
  for (let i = 1; i <= n; i++) console.log(await one(i));
  agent.destroy();
  process.stdin.destroy();
})();
`;

const CLIENT_FETCH = `
const [port, n] = process.argv.slice(1).map(Number);
console.log('ready');
(async () => {
  for (let i = 0; i < n; i++) {
    const res = await fetch('https://127.0.0.1:' + port + '/via-fetch-' + i, { method: 'PUT', body: 'fetch-body-' + i });
    console.log(res.status + ' ' + (await res.text()));
  }
})();
`;

interface Proc {
  pid: number;
  ticks: bigint;
}
interface Server extends Proc {
  child: ChildProcess;
  port: number;
}
interface Client extends Proc {
  lines: string[];
}

let dir = '';
let source: EbpfSource | undefined;
let collector: Collector | undefined;
const servers: Partial<Record<'main' | 'worker' | 'pre', Server>> = {};
const clients: Partial<Record<'request' | 'fetch' | 'many' | 'pre', Client>> = {};
const events: SocketEvent[] = [];
const rows: Stringified<HttpEventRow>[] = [];

async function startServer(script: string, key: string, cert: string, bin = process.execPath): Promise<Server> {
  const child = spawn(bin, ['-e', script, key, cert], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<number>((r) => child.stdout!.once('data', (d: Buffer) => r(Number(String(d).trim()))));
  return { child, port, pid: child.pid!, ticks: startTicksOf(child.pid!) };
}

/** Runs a client to completion; its pid and start ticks are read while it is alive. */
async function runClient(script: string, port: number, bin = process.execPath): Promise<Client> {
  const child = spawn(bin, ['-e', script, String(port), String(N)], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, NODE_TLS_REJECT_UNAUTHORIZED: '0', NODE_NO_WARNINGS: '1' },
  });
  const lines: string[] = [];
  let ticks = -1n;
  createInterface({ input: child.stdout! }).on('line', (l) => {
    if (l === 'ready') ticks = startTicksOf(child.pid!);
    else lines.push(l);
  });
  const code = await new Promise((r) => child.on('close', r));
  assert.equal(code, 0, 'client exit code');
  return { pid: child.pid!, ticks, lines };
}

// Which client talks to which server, how, and how many requests.
const CASES = [
  { client: 'request', server: 'main', method: 'POST', prefix: '/via-request-', body: 'req-body-', n: N },
  { client: 'fetch', server: 'main', method: 'PUT', prefix: '/via-fetch-', body: 'fetch-body-', n: N },
  { client: 'many', server: 'worker', method: 'POST', prefix: '/via-many-', body: 'many-body-', n: 4 * N },
] as const;

before(async () => {
  if (skip) return;
  dir = mkdtempSync(join(tmpdir(), 'wiretap-tls-node-'));
  const { key, cert } = selfSignedCert(dir);
  // The connection older than the tracer: handshake and first exchange now.
  servers.pre = await startServer(SERVER, key, cert);
  const pre = spawn(process.execPath, ['-e', CLIENT_PRE, String(servers.pre.port), String(N)], {
    stdio: ['pipe', 'pipe', 'inherit'],
    env: { ...process.env, NODE_TLS_REJECT_UNAUTHORIZED: '0', NODE_NO_WARNINGS: '1' },
  });
  clients.pre = { pid: pre.pid!, ticks: startTicksOf(pre.pid!), lines: [] };
  const preLines = createInterface({ input: pre.stdout! });
  await new Promise<void>((r) => preLines.once('line', () => r()));
  preLines.on('line', (l) => clients.pre!.lines.push(l));

  source = new EbpfSource({});
  source.tap((evs) => events.push(...evs));
  const sink: RowSink = {
    append<T extends TableName>(table: T, row: RowTypes[T]) {
      if (table === 'http_events') rows.push(textRow(row as HttpEventRow));
    },
  };
  collector = new Collector(source, sink);
  await collector.start();

  servers.main = await startServer(SERVER, key, cert);
  servers.worker = await startServer(WORKER_SERVER, key, cert);
  clients.request = await runClient(CLIENT_REQUEST, servers.main.port);
  clients.fetch = await runClient(CLIENT_FETCH, servers.main.port);
  clients.many = await runClient(CLIENT_CONCURRENT, servers.worker.port);
  pre.stdin!.write('go\n');
  assert.equal(await new Promise((r) => pre.on('close', r)), 0, 'pre client exit code');
  // Until every request has its two rows (bounded; the assertions below say what is missing).
  // the pre connection: exchanges 2..N, on both sides (the assertion below)
  const want = 2 * CASES.reduce((a, c) => a + c.n, 0) + 2 * (N - 1);
  for (let i = 0; i < 100 && rows.filter((r) => r.reqPath.startsWith('/via-')).length < want; i++) await sleep(100);
});

after(async () => {
  await collector?.stop();
  for (const s of Object.values(servers)) s.child.kill();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test('node binary attached with memory-BIO binding', opts, () => {
  const st = source!.tlsStatus();
  assert.ok(st.attached.some((p) => /\/proc\/\d+\/exe$/.test(p)), JSON.stringify(st));
  // One binding per connection and side: at least 1 + 1 + 2 connections × 2 sides.
  assert.ok(source!.nativeStats()!.kernelTlsBioBound >= 8, JSON.stringify(source!.nativeStats()));
});

for (const c of CASES) {
  test(`${c.client} client → ${c.server}-thread server: exactly ${c.n} rows per side, contents, encrypted, UPIDs, roles`, opts, () => {
    const cl = clients[c.client]!;
    const srv = servers[c.server]!;
    const status = (i: number) => 200 + (i % 3);
    // The traffic itself worked (responses in completion order for the concurrent client).
    assert.deepEqual([...cl.lines].sort(), Array.from({ length: c.n }, (_, i) => `${status(i)} resp ${c.method} ${c.prefix}${i} ${c.body}${i}`).sort());
    const mine = rows.filter((r) => r.reqPath.startsWith(c.prefix));
    const srvRows = mine.filter((r) => r.upid.pid === srv.pid);
    const cliRows = mine.filter((r) => r.upid.pid === cl.pid);
    assert.equal(srvRows.length + cliRows.length, mine.length, `rows from other processes: ${JSON.stringify(mine.map((r) => r.upid.pid))}`);
    for (const [side, rs, role, ticks] of [['server', srvRows, 2, srv.ticks], ['client', cliRows, 1, cl.ticks]] as const) {
      assert.deepEqual(rs.map((r) => r.reqPath).sort(), Array.from({ length: c.n }, (_, i) => `${c.prefix}${i}`).sort(), `${side} rows`);
      for (const r of rs) {
        const i = Number(r.reqPath.slice(c.prefix.length));
        const what = `${side} ${r.reqPath}`;
        assert.equal(r.reqMethod, c.method, what);
        assert.equal(r.respStatus, status(i), what);
        assert.equal(r.reqBody, `${c.body}${i}`, what);
        assert.equal(r.respBody, `resp ${c.method} ${c.prefix}${i} ${c.body}${i}`, what);
        assert.equal(r.encrypted, true, what);
        assert.equal(r.traceRole, role, `${what} role`);
        assert.equal(r.upid.startTicks, ticks, `${what} upid start ticks`);
        assert.equal(side === 'server' ? r.localPort : r.remotePort, srv.port, what);
      }
    }
  });
}

test('a connection older than the tracer: exchanges from its second after attach on, exactly', opts, () => {
  const srv = servers.pre!;
  const cl = clients.pre!;
  assert.deepEqual(cl.lines, Array.from({ length: N }, (_, k) => `${200 + ((k + 1) % 3)} resp POST /via-pre-${k + 1} pre-body-${k + 1}`));
  // Its first exchange after attach binds both sides (the server's SSL_read and the client's
  // SSL_write of it come before their flushes: not shipped, counted in tls_nofd); every later
  // one is captured whole on both sides. Roles are inferred (no accept/connect was seen).
  assert.ok(source!.nativeStats()!.kernelTlsNoFd > 0);
  const rs = rows.filter((r) => r.reqPath.startsWith('/via-pre-'));
  for (const [side, pid, port, role] of [['server', srv.pid, 'localPort', 2], ['client', cl.pid, 'remotePort', 1]] as const) {
    const mine = rs.filter((r) => r.upid.pid === pid);
    assert.deepEqual(mine.map((r) => r.reqPath).sort(), Array.from({ length: N - 1 }, (_, k) => `/via-pre-${k + 2}`).sort(), `${side} rows`);
    for (const r of mine) {
      const i = Number(r.reqPath.slice('/via-pre-'.length));
      assert.equal(r.reqBody, `pre-body-${i}`);
      assert.equal(r.respBody, `resp POST /via-pre-${i} pre-body-${i}`);
      assert.equal(r.respStatus, 200 + (i % 3));
      assert.equal(r.encrypted, true);
      assert.equal(r.traceRole, role, `${side} role`);
      assert.equal(r[port], srv.port);
    }
  }
  assert.equal(rs.length, 2 * (N - 1), 'rows only from these two processes');
});

test('node processes ship plaintext only: no TLS record, every data event marked encrypted', opts, () => {
  const pids = new Set([...Object.values(servers), ...Object.values(clients)].map((p) => p.pid));
  const ports = new Set(Object.values(servers).map((s) => s.port));
  const data = events.filter((e) => e.kind === EventKind.data && pids.has(e.tgid) && (ports.has(e.localPort) || ports.has(e.remotePort)));
  assert.ok(data.length >= 4 * N);
  for (const e of data) {
    assert.equal(e.encrypted, true, `${e.tgid} dir ${e.direction} pos ${e.pos} ${JSON.stringify(e.payload.subarray(0, 20).toString('latin1'))}`);
    assert.ok(e.payload[0] !== 0x16 && e.payload[0] !== 0x17, 'no TLS record shipped');
  }
  // Each connection's plaintext starts at position 0 in both directions: nothing before the
  // first request was lost (the handshake bound the SSL object before any data).
  const conns = new Map<string, SocketEvent[]>();
  for (const e of data) {
    const k = `${e.tgid}:${e.fd}:${e.connGen}`;
    conns.set(k, [...(conns.get(k) ?? []), e]);
  }
  assert.ok(conns.size >= 8, [...conns.keys()].join(' '));
  for (const [k, evs] of conns) {
    for (const dirn of [0, 1]) assert.equal(evs.find((e) => e.direction === dirn)?.pos, 0n, `${k} direction ${dirn} starts at 0`);
  }
});

test('a node binary first seen at exec (a copy of node): attached when it runs (exec event; the rescan is the fallback), traced', opts, async () => {
  const copy = join(dir, 'node-copy');
  copyFileSync(process.execPath, copy);
  chmodSync(copy, 0o755);
  const srv = await startServer(SERVER, join(dir, 'key.pem'), join(dir, 'cert.pem'), copy);
  try {
    const exe = `/proc/${srv.pid}/exe`;
    // Bounded wait for the attach the exec event triggers (the assertion says if it never came).
    for (let i = 0; i < 100 && !source!.tlsStatus().attached.includes(exe); i++) await sleep(100);
    assert.ok(source!.tlsStatus().attached.includes(exe), JSON.stringify(source!.tlsStatus()));
    const cl = await runClient(CLIENT_REQUEST, srv.port, copy);
    assert.equal(cl.lines.length, N);
    const mine = () => rows.filter((r) => r.upid.pid === srv.pid || r.upid.pid === cl.pid);
    for (let i = 0; i < 100 && mine().length < 2 * N; i++) await sleep(100);
    for (const [pid, role] of [[srv.pid, 2], [cl.pid, 1]] as const) {
      const rs = mine().filter((r) => r.upid.pid === pid);
      assert.deepEqual(rs.map((r) => r.reqPath).sort(), Array.from({ length: N }, (_, i) => `/via-request-${i}`).sort(), `pid ${pid}`);
      for (const r of rs) {
        const i = Number(r.reqPath.slice('/via-request-'.length));
        assert.equal(r.respBody, `resp POST /via-request-${i} req-body-${i}`);
        assert.equal(r.encrypted, true);
        assert.equal(r.traceRole, role);
      }
    }
  } finally {
    srv.child.kill();
  }
});
