// End to end with real eBPF (root): real HTTP servers and clients in child processes, captured by
// the kernel tracer, parsed, stored, and queried back through psql and node-pg.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { EbpfSource } from '../collector/sources/ebpf.ts';
import { startStandalone, type Standalone } from '../server/standalone.ts';
import { createLogger } from '../server/log.ts';
import { upidToString } from '../engine/upid.ts';
import { execFileP, spawnWithFirstLine, startTicksOf, waitFor } from './helpers/processes.ts';
import { pgQuery, psqlRows } from './helpers/sql.ts';

const fixtures = new URL('./fixtures/', import.meta.url).pathname;
const CURL_REQUESTS = 100;
const KEEPALIVE_REQUESTS = 150;

let wiretap: Standalone;
let server: ChildProcess;
let serverPort: number;
let serverUpid: string;
let keepaliveUpid: string;

async function countRows(where: string): Promise<number> {
  const r = await pgQuery(wiretap.port, `select count(*)::int as n from http_events where ${where}`);
  return r.rows[0].n as number;
}

before(async () => {
  wiretap = await startStandalone({
    port: 0,
    bind: '127.0.0.1',
    source: new EbpfSource({}),
    bodyCap: 512,
    maxRows: 1_000_000,
    logger: createLogger('warn'),
    statsIntervalMs: 0,
  });
  const started = await spawnWithFirstLine(process.execPath, [fixtures + 'http-server.mjs']);
  server = started.child;
  serverPort = Number(started.line);
  serverUpid = upidToString({ asid: 0, pid: server.pid!, startTicks: startTicksOf(server.pid!) });

  // curl: one process and one connection per request, unique paths, some POSTs and statuses.
  for (let i = 0; i < CURL_REQUESTS; i++) {
    const args = ['-s', '-o', '/dev/null', `http://127.0.0.1:${serverPort}/curl/${i}`];
    if (i % 10 === 3) args.push('-X', 'POST', '-H', 'content-type: application/json', '-d', `{"i":${i}}`);
    if (i % 10 === 7) args[3] = `http://127.0.0.1:${serverPort}/status/404/curl/${i}`;
    await execFileP('curl', args);
  }
  // One keep-alive connection carrying many requests.
  const ka = await spawnWithFirstLine(process.execPath, [fixtures + 'keepalive-client.mjs', String(serverPort), String(KEEPALIVE_REQUESTS)], 60_000);
  keepaliveUpid = upidToString({ asid: 0, pid: ka.child.pid!, startTicks: 0n }).slice(0, 18); // asid-pid prefix; the process is gone
  await execFileP('curl', ['-s', '-o', '/dev/null', `http://127.0.0.1:${serverPort}/chunked/one`]);
  await execFileP('curl', ['-s', '-o', '/dev/null', `http://127.0.0.1:${serverPort}/big`]);

  const expected = CURL_REQUESTS + KEEPALIVE_REQUESTS + 2;
  await waitFor(`${expected} server-side rows`, async () => {
    await wiretap.engine.flush();
    return (await countRows(`trace_role = 2 and local_port = ${serverPort}`)) >= expected ? true : undefined;
  }, 30_000).catch(async (err) => {
    const r = await pgQuery(wiretap.port, `select trace_role, req_path, resp_status from http_events where req_path not like '/ka/%' and req_path not like '/curl/%'`);
    throw new Error(`${(err as Error).message}; rows: ${JSON.stringify(r.rows)}; stats: ${JSON.stringify(wiretap.collector.stats())}`);
  });
});

after(async () => {
  server?.kill('SIGTERM');
  await wiretap?.stop();
});

test('every curl request appears exactly once, server side, with method, path, status and latency', async () => {
  const rows = await psqlRows(
    wiretap.port,
    `select req_method, req_path, resp_status, latency, upid from http_events
     where trace_role = 2 and local_port = ${serverPort} and req_path like '%/curl/%' order by req_path`,
  );
  const byPath = new Map<string, string[][]>();
  for (const r of rows) byPath.set(r[1]!, [...(byPath.get(r[1]!) ?? []), r]);
  for (let i = 0; i < CURL_REQUESTS; i++) {
    const path = i % 10 === 7 ? `/status/404/curl/${i}` : `/curl/${i}`;
    const found = byPath.get(path) ?? [];
    assert.equal(found.length, 1, `${path} seen ${found.length} times`);
    const [method, , status, latency, upid] = found[0]!;
    assert.equal(method, i % 10 === 3 ? 'POST' : 'GET', path);
    assert.equal(status, i % 10 === 3 ? '201' : i % 10 === 7 ? '404' : '200', path);
    assert.ok(Number(latency) > 0, `${path} latency ${latency}`);
    assert.equal(upid, serverUpid, `${path} upid is the server process's (pid + start time)`);
  }
  assert.equal(rows.length, CURL_REQUESTS);
});

test('keep-alive requests appear once each on both the server and the client side', async () => {
  const r = await pgQuery(
    wiretap.port,
    `select trace_role, req_path, count(*)::int as n, min(latency) as min_latency, min(upid::varchar) as upid
     from http_events where req_path like '/ka/%' and (local_port = ${serverPort} or remote_port = ${serverPort})
     group by trace_role, req_path`,
  );
  for (const role of [1, 2]) {
    const rows = r.rows.filter((x) => x.trace_role === role);
    assert.equal(rows.length, KEEPALIVE_REQUESTS, `role ${role}: distinct paths`);
    for (const x of rows) {
      assert.equal(x.n, 1, `role ${role} ${x.req_path} seen ${x.n} times`);
      assert.ok(BigInt(x.min_latency) > 0n);
    }
    if (role === 1) assert.ok(rows.every((x) => (x.upid as string).startsWith(keepaliveUpid)), 'client rows carry the client pid');
    if (role === 2) assert.ok(rows.every((x) => x.upid === serverUpid));
  }
});

test('curl processes get client-side rows too', async () => {
  const n = await countRows(`trace_role = 1 and remote_port = ${serverPort} and req_path like '%/curl/%'`);
  assert.equal(n, CURL_REQUESTS);
});

test('chunked responses and a 100 KB body are captured with their sizes', async () => {
  const r = await pgQuery(
    wiretap.port,
    `select req_path, resp_status, resp_body_size, length(resp_body)::int as kept, resp_headers
     from http_events where trace_role = 2 and local_port = ${serverPort} and req_path in ('/big', '/chunked/one')
     order by req_path`,
  );
  assert.equal(r.rows.length, 2);
  const [big, chunked] = r.rows;
  assert.equal(big.resp_status, 200);
  assert.equal(Number(big.resp_body_size), 100 * 1024);
  assert.equal(big.kept, 512, 'body kept up to the cap');
  assert.equal(chunked.resp_status, 200);
  assert.equal(Number(chunked.resp_body_size), 5 * 'part 0 of /chunked/one\n'.length);
  assert.match(chunked.resp_headers, /chunked/);
});
