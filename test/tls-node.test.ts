// Node's TLS (root): OpenSSL is linked into the node binary and writes ciphertext to memory
// BIOs, so there is no syscall inside SSL_read/SSL_write to learn the socket from; the tracer
// binds each SSL object to its socket by matching the records it wrote into its BIO
// (BIO_write uprobe) against the start of the next flush to a socket (bpf/README.md).
// A node https server and two node clients in child processes — https.request over one
// keep-alive socket, and fetch (undici, keep-alive) — each sending N requests with unique
// paths and bodies: exactly N http_events rows per side and client, right method, path,
// status and bodies, encrypted = true, the right UPIDs and roles; no ciphertext shipped.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, before, test } from 'node:test';
import { Collector } from '../collector/collector.ts';
import { EventKind, type SocketEvent } from '../collector/events.ts';
import { EbpfSource } from '../collector/sources/ebpf.ts';
import { hasStaticOpenssl } from '../collector/tls/attach.ts';
import type { HttpEventRow, RowSink, RowTypes, TableName } from '../engine/schema.ts';
import { probe } from '../native/index.ts';
import { execFileP, startTicksOf } from './helpers/processes.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const skip = probe() ?? (hasStaticOpenssl(process.execPath) ? false : `${process.execPath} links OpenSSL dynamically (covered by tls-capture)`);
const opts = { skip };
const N = 6;

// Status varies with the request so a row pairing a request with the wrong response shows.
const SERVER = `
const https = require('https'); const fs = require('fs');
const srv = https.createServer({ key: fs.readFileSync(process.argv[1]), cert: fs.readFileSync(process.argv[2]) }, (req, res) => {
  let body = '';
  req.on('data', (d) => (body += d));
  req.on('end', () => {
    const i = Number(req.url.split('-').pop());
    res.writeHead(200 + (i % 3), { 'content-type': 'text/plain' });
    res.end('resp ' + req.method + ' ' + req.url + ' ' + body);
  });
});
srv.keepAliveTimeout = 60000;
srv.listen(0, '127.0.0.1', () => process.stdout.write(srv.address().port + '\\n'));
`;

// Prints "ready", then one line per response; exits when done.
const CLIENT_REQUEST = `
const https = require('https');
const [port, n] = process.argv.slice(1).map(Number);
const agent = new https.Agent({ keepAlive: true, maxSockets: 1 });
console.log('ready');
(async () => {
  for (let i = 0; i < n; i++) {
    const body = 'req-body-' + i;
    const line = await new Promise((resolve, reject) => {
      const r = https.request({ host: '127.0.0.1', port, path: '/via-request-' + i, method: 'POST', agent,
        rejectUnauthorized: false, headers: { 'content-length': body.length } }, (res) => {
        let s = '';
        res.on('data', (d) => (s += d));
        res.on('end', () => resolve(res.statusCode + ' ' + s));
      });
      r.on('error', reject);
      r.end(body);
    });
    console.log(line);
  }
  agent.destroy();
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

let dir = '';
let source: EbpfSource | undefined;
let collector: Collector | undefined;
let server: ChildProcess | undefined;
let serverPort = 0;
let serverTicks = 0n;
const events: SocketEvent[] = [];
const rows: HttpEventRow[] = [];
const clients: Record<'request' | 'fetch', { pid: number; ticks: bigint; lines: string[] }> = {} as never;

/** Runs a client to completion; its pid and start ticks are read while it is alive. */
async function runClient(script: string): Promise<{ pid: number; ticks: bigint; lines: string[] }> {
  const child = spawn(process.execPath, ['-e', script, String(serverPort), String(N)], {
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

before(async () => {
  if (skip) return;
  dir = mkdtempSync(join(tmpdir(), 'wiretap-tls-node-'));
  const key = join(dir, 'key.pem');
  const cert = join(dir, 'cert.pem');
  await execFileP('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=localhost']);
  source = new EbpfSource({});
  source.tap((evs) => events.push(...evs));
  const sink: RowSink = {
    append<T extends TableName>(table: T, row: RowTypes[T]) {
      if (table === 'http_events') rows.push(row as HttpEventRow);
    },
  };
  collector = new Collector(source, sink);
  await collector.start();

  server = spawn(process.execPath, ['-e', SERVER, key, cert], { stdio: ['ignore', 'pipe', 'inherit'] });
  serverPort = await new Promise<number>((r) => server!.stdout!.once('data', (d: Buffer) => r(Number(String(d).trim()))));
  serverTicks = startTicksOf(server.pid!);
  clients.request = await runClient(CLIENT_REQUEST);
  clients.fetch = await runClient(CLIENT_FETCH);
  // Until every request has its two rows (bounded; the assertions below say what is missing).
  for (let i = 0; i < 100 && rows.filter((r) => r.reqPath.startsWith('/via-')).length < 4 * N; i++) await sleep(100);
});

after(async () => {
  await collector?.stop();
  server?.kill();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test('node binary attached with memory-BIO binding', opts, () => {
  const st = source!.tlsStatus();
  assert.ok(st.attached.some((p) => /\/proc\/\d+\/exe$/.test(p)), JSON.stringify(st));
  // One binding per connection and side: 2 connections (request, fetch) × 2 sides.
  assert.ok(source!.nativeStats()!.kernelTlsBioBound >= 4, JSON.stringify(source!.nativeStats()));
});

test('clients got every response (the traffic itself worked)', opts, () => {
  for (let i = 0; i < N; i++) {
    assert.equal(clients.request.lines[i], `${200 + (i % 3)} resp POST /via-request-${i} req-body-${i}`);
    assert.equal(clients.fetch.lines[i], `${200 + (i % 3)} resp PUT /via-fetch-${i} fetch-body-${i}`);
  }
});

for (const [kind, method, prefix, body] of [
  ['request', 'POST', '/via-request-', 'req-body-'],
  ['fetch', 'PUT', '/via-fetch-', 'fetch-body-'],
] as const) {
  test(`${kind} client: exactly N rows per side, contents, encrypted, UPIDs and roles`, opts, () => {
    const cl = clients[kind];
    const mine = rows.filter((r) => r.reqPath.startsWith(prefix));
    const srvRows = mine.filter((r) => r.upid.pid === serverPid());
    const cliRows = mine.filter((r) => r.upid.pid === cl.pid);
    assert.equal(srvRows.length + cliRows.length, mine.length, `rows from other processes: ${JSON.stringify(mine.map((r) => r.upid.pid))}`);
    assert.equal(srvRows.length, N, `server rows ${JSON.stringify(srvRows.map((r) => r.reqPath))}`);
    assert.equal(cliRows.length, N, `client rows ${JSON.stringify(cliRows.map((r) => r.reqPath))}`);
    for (const [side, rs, role, ticks] of [['server', srvRows, 2, serverTicks], ['client', cliRows, 1, cl.ticks]] as const) {
      assert.deepEqual(rs.map((r) => r.reqPath).sort(), Array.from({ length: N }, (_, i) => `${prefix}${i}`).sort(), side);
      for (const r of rs) {
        const i = Number(r.reqPath.slice(prefix.length));
        assert.equal(r.reqMethod, method, `${side} ${r.reqPath}`);
        assert.equal(r.respStatus, 200 + (i % 3), `${side} ${r.reqPath}`);
        assert.equal(r.reqBody, `${body}${i}`, `${side} ${r.reqPath}`);
        assert.equal(r.respBody, `resp ${method} ${prefix}${i} ${body}${i}`, `${side} ${r.reqPath}`);
        assert.equal(r.encrypted, true, `${side} ${r.reqPath}`);
        assert.equal(r.traceRole, role, `${side} ${r.reqPath} role`);
        assert.equal(r.upid.startTicks, ticks, `${side} ${r.reqPath} upid start ticks`);
        assert.equal(side === 'server' ? r.localPort : r.remotePort, serverPort);
      }
    }
  });
}

test('node processes ship plaintext only: no TLS record, every data event marked encrypted', opts, () => {
  const pids = new Set([serverPid(), clients.request.pid, clients.fetch.pid]);
  const data = events.filter((e) => e.kind === EventKind.data && pids.has(e.tgid) && (e.localPort === serverPort || e.remotePort === serverPort));
  assert.ok(data.length >= 4 * N);
  for (const e of data) {
    assert.equal(e.encrypted, true, `${e.tgid} dir ${e.direction} pos ${e.pos} ${JSON.stringify(e.payload.subarray(0, 20).toString('latin1'))}`);
    assert.ok(e.payload[0] !== 0x16 && e.payload[0] !== 0x17, 'no TLS record shipped');
  }
  // Each connection's plaintext starts at position 0 in both directions: nothing before the
  // first request was lost (the handshake bound the SSL object before any data). At least
  // one connection per client and side (undici may open a second one).
  const conns = new Map<string, SocketEvent[]>();
  for (const e of data) {
    const k = `${e.tgid}:${e.fd}:${e.connGen}`;
    conns.set(k, [...(conns.get(k) ?? []), e]);
  }
  assert.ok(conns.size >= 4, [...conns.keys()].join(' '));
  for (const [k, evs] of conns) {
    for (const dirn of [0, 1]) assert.equal(evs.find((e) => e.direction === dirn)?.pos, 0n, `${k} direction ${dirn} starts at 0`);
  }
});

function serverPid(): number {
  return server!.pid!;
}
