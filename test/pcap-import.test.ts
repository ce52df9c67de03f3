// pcap import end to end: real HTTP (curl ↔ node) and Kafka (kcat ↔ the test broker) traffic on
// loopback, recorded by tshark (pcapng) and tcpdump (pcap) with a capture filter on the test's
// ports, then imported through the same reassembly → parsers → tables and queried over the
// Postgres wire protocol — in process, and through `wiretap import FILE`.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { PcapSource } from '../collector/sources/pcap.ts';
import { endpointTicks } from '../collector/pcap/tcp-reassembly.ts';
import { upidToString } from '../engine/upid.ts';
import { startStandalone, type Standalone } from '../server/standalone.ts';
import { createLogger } from '../server/log.ts';
import { execFileP, spawnWithFirstLine } from './helpers/processes.ts';
import { pgQuery, psqlRows } from './helpers/sql.ts';
import { untilCaptured } from './helpers/net.ts';

const fixtures = new URL('./fixtures/', import.meta.url).pathname;
const bin = new URL('../bin/wiretap', import.meta.url).pathname;
const CURL = 12;
const KCAT_LINES = 20;

let dir: string;
let http: ChildProcess | undefined;
let broker: ChildProcess | undefined;
let httpPort: number;
let kafkaPort: number;
const pcapng = () => join(dir, 'traffic.pcapng');
const pcap = () => join(dir, 'http.pcap');

/** Starts a capture tool and resolves once it reports that it is capturing (stderr line). */
async function startCapture(cmd: string, args: string[], ready: RegExp): Promise<ChildProcess> {
  const child = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  const lines = createInterface({ input: child.stderr! });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${cmd} did not start capturing`)), 20_000);
    lines.on('line', (l) => {
      if (ready.test(l)) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once('exit', (code) => reject(new Error(`${cmd} exited (${code})`)));
  });
  return child;
}

async function stopCapture(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGINT');
  await exited;
}

async function withImport<T>(file: string, fn: (w: Standalone, src: PcapSource) => Promise<T>): Promise<T> {
  const src = new PcapSource(file);
  const w = await startStandalone({ port: 0, bind: '127.0.0.1', source: src, bodyCap: 512, maxRows: 100_000, logger: createLogger('warn'), statsIntervalMs: 0 });
  try {
    await w.engine.flush();
    return await fn(w, src);
  } finally {
    await w.stop();
  }
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'wiretap-pcap-'));
  const h = await spawnWithFirstLine(process.execPath, [fixtures + 'http-server.mjs']);
  http = h.child;
  httpPort = Number(h.line);
  const k = await spawnWithFirstLine(process.execPath, ['--import', 'tsx', fixtures + 'kafka-broker/main.ts']);
  broker = k.child;
  kafkaPort = Number(k.line);

  // Bounded captures: stopped below, and by duration if anything hangs.
  const tshark = await startCapture('tshark', ['-i', 'lo', '-f', `tcp port ${httpPort} or tcp port ${kafkaPort}`, '-w', pcapng(), '-a', 'duration:120', '-q'], /Capturing on/);
  const tcpdump = await startCapture('tcpdump', ['-i', 'lo', '-U', '-w', pcap(), '-c', '100000', `tcp port ${httpPort}`], /listening on/);
  await untilCaptured(pcapng(), httpPort);
  await untilCaptured(pcap(), httpPort);
  try {
    for (let i = 0; i < CURL; i++) {
      const args = ['-s', '-o', '/dev/null', `http://127.0.0.1:${httpPort}/pcap/${i}`];
      if (i % 4 === 1) args.push('-X', 'POST', '-d', `{"i":${i}}`, '-H', 'content-type: application/json');
      if (i % 4 === 2) args[3] = `http://127.0.0.1:${httpPort}/status/503/pcap/${i}`;
      await execFileP('curl', args);
    }
    // Keep-alive: one connection, three requests, a chunked response and a 100 KB one.
    await execFileP('curl', ['-s', '-o', '/dev/null', '-o', '/dev/null', '-o', '/dev/null',
      `http://127.0.0.1:${httpPort}/ka/1`, `http://127.0.0.1:${httpPort}/chunked/ka`, `http://127.0.0.1:${httpPort}/big`]);
    const lines = Array.from({ length: KCAT_LINES }, (_, i) => `msg ${i}`).join('\n') + '\n';
    await new Promise<void>((resolve, reject) => {
      const p = execFileP('kcat', ['-b', `127.0.0.1:${kafkaPort}`, '-P', '-t', 'pcap-topic'], { timeout: 30_000 });
      p.child.stdin!.end(lines);
      p.then(() => resolve(), reject);
    });
    await execFileP('kcat', ['-b', `127.0.0.1:${kafkaPort}`, '-C', '-t', 'pcap-topic', '-o', 'beginning', '-e', '-q'], { timeout: 30_000 });
  } finally {
    // Let the last packets (FINs) reach the capture, then stop it.
    await new Promise((r) => setTimeout(r, 500));
    await stopCapture(tshark);
    await stopCapture(tcpdump);
  }
  assert.ok(statSync(pcapng()).size > 0 && statSync(pcap()).size > 0);
});

after(() => {
  http?.kill('SIGTERM');
  broker?.kill('SIGTERM');
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test('tshark pcapng: every HTTP exchange, one row each, server side, with a synthetic UPID per endpoint', async () => {
  await withImport(pcapng(), async (w, src) => {
    const r = await pgQuery(w.port, `select req_method, req_path, resp_status, resp_body_size, trace_role, upid::varchar as upid, latency, remote_port
      from http_events where local_port = ${httpPort} order by time_`);
    assert.equal(r.rows.length, CURL + 3, JSON.stringify({ rows: r.rows.map((x) => x.req_path), reassembly: src.reassembly, stats: w.collector.stats() }));
    const upid = upidToString({ asid: 0, pid: 0, startTicks: endpointTicks('127.0.0.1', httpPort) });
    for (const row of r.rows) {
      assert.equal(row.trace_role, 2);
      assert.equal(row.upid, upid);
      assert.ok(BigInt(row.latency) > 0n);
    }
    for (let i = 0; i < CURL; i++) {
      const row = r.rows[i];
      assert.equal(row.req_method, i % 4 === 1 ? 'POST' : 'GET');
      assert.equal(row.resp_status, i % 4 === 1 ? 201 : i % 4 === 2 ? 503 : 200);
      assert.match(row.req_path, new RegExp(`/pcap/${i}$`));
    }
    assert.deepEqual(r.rows.slice(CURL).map((x) => [x.req_path, Number(x.resp_body_size)]), [
      ['/ka/1', JSON.stringify({ path: '/ka/1', received: 0 }).length], ['/chunked/ka', 5 * 'part 0 of /chunked/ka\n'.length], ['/big', 100 * 1024],
    ]);
    assert.equal(new Set(r.rows.slice(CURL).map((x) => x.remote_port)).size, 1, 'keep-alive requests share a connection');
  });
});

test('tshark pcapng: Kafka from kcat, records counted on both produce and fetch', async () => {
  await withImport(pcapng(), async (w) => {
    const r = await pgQuery(w.port, `select req_cmd, client_id, req_body, resp from kafka_events where local_port = ${kafkaPort} order by time_`);
    const produced = r.rows.filter((x) => x.req_cmd === 0).reduce((n, x) => n + JSON.parse(x.req_body).records, 0);
    const fetched = r.rows.filter((x) => x.req_cmd === 1).reduce((n, x) => n + JSON.parse(x.resp).records, 0);
    assert.equal(produced, KCAT_LINES);
    assert.equal(fetched, KCAT_LINES);
    assert.ok(r.rows.every((x) => x.client_id === 'rdkafka'));
    assert.ok(r.rows.some((x) => x.req_cmd === 18 && JSON.parse(x.req_body).v === 3), 'flexible ApiVersions v3 decoded');
  });
});

test('tcpdump pcap: the same HTTP rows', async () => {
  await withImport(pcap(), async (w) => {
    const r = await pgQuery(w.port, `select count(*)::int as n, count(distinct req_path)::int as paths from http_events where local_port = ${httpPort}`);
    assert.deepEqual(r.rows[0], { n: CURL + 3, paths: CURL + 3 });
  });
});

test('`wiretap import FILE` serves the capture over the Postgres wire protocol', async () => {
  const child = spawn(process.execPath, [bin, 'import', pcapng(), '--port', '0', '--log-level', 'warn'], { stdio: ['ignore', 'pipe', 'inherit'] });
  try {
    const lines = createInterface({ input: child.stdout! });
    const port = await new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('wiretap import printed no port')), 60_000);
      lines.on('line', (l) => {
        const m = /psql -h \S+ -p (\d+)/.exec(l);
        if (m) {
          clearTimeout(timer);
          resolve(Number(m[1]));
        }
      });
      child.once('exit', (code) => reject(new Error(`wiretap import exited (${code})`)));
    });
    const rows = await psqlRows(port, `select count(*) from http_events where local_port = ${httpPort}`);
    assert.equal(rows[0]![0], String(CURL + 3));
  } finally {
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    await exited;
  }
});
