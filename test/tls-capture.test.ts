// TLS plaintext capture (root): uprobes on libssl's SSL_read/SSL_write(_ex). A python `ssl`
// server (SSL_read_ex/SSL_write_ex) and nginx with TLS (SSL_read/SSL_write), both with a
// self-signed certificate made here, called by curl -k (SSL_read/SSL_write). Asserts the
// plaintext of every request and response on both sides, marked encrypted, and that no
// ciphertext is shipped; then the same traffic through the collector as http_events rows.
import assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { Collector } from '../collector/collector.ts';
import { EventKind, type SocketEvent } from '../collector/events.ts';
import { EbpfSource } from '../collector/sources/ebpf.ts';
import type { HttpEventRow, RowSink, RowTypes, TableName } from '../engine/schema.ts';
import { textRow, type Stringified } from '../engine/utf8-text.ts';
import { probe } from '../native/index.ts';
import { selfSignedCert } from './helpers/tls.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
let skip: string | false = probe() ?? false;
for (const bin of ['openssl', 'curl', 'nginx', 'python3']) {
  try {
    if (!skip) execFileSync('sh', ['-c', `command -v ${bin}`]);
  } catch {
    skip = `${bin} not installed`;
  }
}
const opts = { skip };
const N = 3;

const PY_SERVER = `
import socket, ssl, sys
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(sys.argv[1], sys.argv[2])
ls = socket.socket(); ls.bind(('127.0.0.1', 0)); ls.listen(8)
print(ls.getsockname()[1], flush=True)
for _ in range(int(sys.argv[3])):
    c, _ = ls.accept()
    s = ctx.wrap_socket(c, server_side=True)
    req = b''
    while b'\\r\\n\\r\\n' not in req:
        req += s.recv(4096)
    path = req.split(b' ')[1]
    body = b'secret body ' + path
    s.sendall(b'HTTP/1.1 200 OK\\r\\nContent-Length: %d\\r\\nConnection: close\\r\\n\\r\\n' % len(body) + body)
    s.close()
`;

let dir = '';
let source: EbpfSource | undefined;
let collector: Collector | undefined;
const events: SocketEvent[] = [];
const rows: Stringified<HttpEventRow>[] = [];
let pyServer: ChildProcess | undefined;
let nginx: ChildProcess | undefined;
let pyPort = 0;
let nginxPort = 0;
const curlPids: number[] = [];

async function curl(url: string): Promise<string> {
  const c = spawn('curl', ['-sk', '--http1.1', url], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  c.stdout!.on('data', (d: Buffer) => (out += d));
  const code = await new Promise((r) => c.on('exit', r));
  assert.equal(code, 0, `curl ${url}`);
  curlPids.push(c.pid!);
  return out;
}

before(async () => {
  if (skip) return;
  dir = mkdtempSync(join(tmpdir(), 'wiretap-tls-'));
  const { key, cert } = selfSignedCert(dir);
  source = new EbpfSource({});
  source.tap((evs) => events.push(...evs));
  const sink: RowSink = {
    append<T extends TableName>(table: T, row: RowTypes[T]) {
      if (table === 'http_events') rows.push(textRow(row as HttpEventRow));
    },
  };
  collector = new Collector(source, sink);
  await collector.start();
  assert.ok(source.tlsStatus().attached.length > 0, `libssl attached: ${JSON.stringify(source.tlsStatus())}`);

  pyServer = spawn('python3', ['-c', PY_SERVER, cert, key, String(N)], { stdio: ['ignore', 'pipe', 'inherit'] });
  pyPort = await new Promise<number>((r) => pyServer!.stdout!.once('data', (d: Buffer) => r(Number(String(d).trim()))));
  for (let i = 0; i < N; i++) assert.equal(await curl(`https://127.0.0.1:${pyPort}/py-${i}`), `secret body /py-${i}`);

  // nginx (1 worker) with TLS.
  nginxPort = pyPort + 1;
  for (let p = 20000 + (process.pid % 20000); ; p++) {
    nginxPort = p;
    if (execFileSync('sh', ['-c', `ss -ltn 'sport = :${p}' | tail -n +2 | wc -l`]).toString().trim() === '0') break;
  }
  writeFileSync(join(dir, 'nginx.conf'), `daemon off; user root; worker_processes 1; pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn; events { worker_connections 64; }
http { access_log off; client_body_temp_path ${dir}/b; proxy_temp_path ${dir}/p; fastcgi_temp_path ${dir}/f;
  uwsgi_temp_path ${dir}/u; scgi_temp_path ${dir}/s;
  server { listen 127.0.0.1:${nginxPort} ssl; ssl_certificate ${cert}; ssl_certificate_key ${key};
    location / { default_type text/plain; return 200 "nginx tls $uri"; } } }
`);
  nginx = spawn('nginx', ['-p', dir, '-c', join(dir, 'nginx.conf')], { stdio: 'ignore' });
  for (let i = 0; i < 50; i++) {
    try {
      readFileSync(join(dir, 'nginx.pid'));
      break;
    } catch {
      await sleep(100);
    }
  }
  await sleep(200);
  for (let i = 0; i < N; i++) assert.equal(await curl(`https://127.0.0.1:${nginxPort}/ngx-${i}`), `nginx tls /ngx-${i}`);
  // Until every request has its two rows (bounded; the assertions below say what is missing).
  for (let i = 0; i < 50 && rows.filter((r) => /^\/(py|ngx)-\d$/.test(r.reqPath)).length < 4 * N; i++) await sleep(100);
});

after(async () => {
  await collector?.stop();
  pyServer?.kill();
  nginx?.kill('SIGQUIT');
  await sleep(200);
  if (nginx && nginx.exitCode === null) nginx.kill('SIGKILL');
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const onPort = (port: number) => events.filter((e) => e.kind === EventKind.data && (e.localPort === port || e.remotePort === port));
const text = (evs: SocketEvent[]) => Buffer.concat(evs.map((e) => e.payload)).toString('latin1');

for (const [name, port, prefix, body] of [
  ['python ssl server', () => pyPort, 'py', (p: string) => `secret body ${p}`],
  ['nginx with TLS', () => nginxPort, 'ngx', (p: string) => `nginx tls ${p}`],
] as const) {
  test(`${name}: plaintext on both sides, marked encrypted, no ciphertext shipped`, opts, () => {
    const evs = onPort(port());
    assert.ok(evs.length > 0);
    for (const e of evs) {
      assert.equal(e.encrypted, true, `every data event is TLS plaintext: ${e.tgid} ${e.localPort}->${e.remotePort} dir ${e.direction} pos ${e.pos} size ${e.size} ${JSON.stringify(e.payload.subarray(0, 40).toString('latin1'))}`);
      assert.ok(e.payload[0] !== 0x16 && e.payload[0] !== 0x17, 'no TLS record shipped');
    }
    const srv = evs.filter((e) => e.localPort === port());
    const cli = evs.filter((e) => e.remotePort === port());
    for (let i = 0; i < N; i++) {
      const path = `/${prefix}-${i}`;
      assert.ok(text(srv.filter((e) => e.direction === 1)).includes(`GET ${path} HTTP/1.1\r\n`), `server got ${path}`);
      assert.ok(text(srv.filter((e) => e.direction === 0)).includes(body(path)), `server sent ${path}`);
      assert.ok(text(cli.filter((e) => e.direction === 0)).includes(`GET ${path} HTTP/1.1\r\n`), `client sent ${path}`);
      assert.ok(text(cli.filter((e) => e.direction === 1)).includes(body(path)), `client got ${path}`);
    }
    // Every curl process's connection starts its plaintext at position 0.
    for (const pid of curlPids) {
      const first = cli.filter((e) => e.tgid === pid && e.direction === 0)[0];
      if (first) assert.equal(first.pos, 0n);
    }
  });

  test(`${name}: http_events rows with encrypted = true, exactly one per request and side`, opts, () => {
    for (let i = 0; i < N; i++) {
      const path = `/${prefix}-${i}`;
      const rs = rows.filter((r) => r.reqPath === path && (r.localPort === port() || r.remotePort === port()));
      assert.equal(rs.length, 2, `${path}: ${rs.length} rows ${JSON.stringify(rs.map((r) => [r.traceRole, r.localPort, r.remotePort]))} ${JSON.stringify(collector!.stats())}`);
      assert.deepEqual(rs.map((r) => r.traceRole).sort(), [1, 2]);
      for (const r of rs) {
        assert.equal(r.encrypted, true);
        assert.equal(r.respStatus, 200);
        assert.equal(r.respBody, body(path));
      }
    }
  });
}

// Node's OpenSSL is linked into the node binary and talks through memory BIOs; the tracer
// binds its SSL objects to sockets by ciphertext match (test/tls-node.test.ts covers node on
// both sides). Here the mix: a node server (memory BIO) and curl (libssl, socket BIO).
test('node https server and curl: plaintext on both sides, no ciphertext', opts, async () => {
  const NODE_SERVER = `
const https = require('https'); const fs = require('fs');
const srv = https.createServer({ key: fs.readFileSync(process.argv[1]), cert: fs.readFileSync(process.argv[2]) },
  (req, res) => res.end('node tls ' + req.url));
srv.listen(0, '127.0.0.1', () => process.stdout.write(srv.address().port + '\\n'));
`;
  const node = spawn(process.execPath, ['-e', NODE_SERVER, join(dir, 'key.pem'), join(dir, 'cert.pem')], { stdio: ['ignore', 'pipe', 'inherit'] });
  try {
    const port = await new Promise<number>((r) => node.stdout!.once('data', (d: Buffer) => r(Number(String(d).trim()))));
    assert.equal(await curl(`https://127.0.0.1:${port}/node-0`), 'node tls /node-0');
    for (let i = 0; i < 50 && onPort(port).length < 4; i++) await sleep(100);
    const evs = onPort(port);
    const srv = evs.filter((e) => e.tgid === node.pid);
    assert.ok(text(srv.filter((e) => e.direction === 1)).startsWith('GET /node-0 HTTP/1.1\r\n'), 'node server got the request');
    assert.ok(text(srv.filter((e) => e.direction === 0)).startsWith('HTTP/1.1 200 OK\r\n'), 'node server sent the response');
    assert.ok(text(srv.filter((e) => e.direction === 0)).endsWith('node tls /node-0'));
    const cli = evs.filter((e) => e.remotePort === port);
    assert.ok(text(cli.filter((e) => e.direction === 0)).includes('GET /node-0 HTTP/1.1\r\n'));
    for (const e of evs) {
      assert.equal(e.encrypted, true);
      assert.ok(e.payload[0] !== 0x16 && e.payload[0] !== 0x17, 'no TLS record shipped');
    }
  } finally {
    node.kill();
  }
});
