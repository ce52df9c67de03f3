// `npm run bench -- pg-stream [--rows N] [--runs R] [--time-zone Z]`: a 1M-row, 10-column result streamed to node-pg
// and to psql, from wiretap (engine → planner → wire server, in this process) and from a real
// PostgreSQL 15 (own throwaway cluster) serving the same rows from a table. Clients run as
// separate processes. Reports rows/s and wiretap / PostgreSQL (target ≥ 1.0), and wiretap with its
// JS DataRow encoders (WIRETAP_PG_NATIVE_ROWS=0) against the native encoder, all in the same run.
// Both servers must send the same bytes (RowDescription type OIDs/sizes/formats and every DataRow
// are compared at the start of each run; the bench fails otherwise), so wall time differs only by
// how the bytes are delivered and by the machine's load. Each run therefore also reports CPU
// seconds, steadier than wall time on a shared machine: the client's own (node-pg's parsing,
// psql) and the server's (wiretap's whole process; PostgreSQL's postmaster and backends).
// --time-zone: every client session sets TimeZone (startup options), so timestamptz is text in it.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { promisify } from 'node:util';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { startWiretap } from './_pg-fixture.ts';
import { startPgCluster } from '../test/helpers/pg-cluster.ts';

const columns = 'time_, upid, remote_addr, remote_port, local_port, req_method, req_path, resp_status, latency, resp_body_size';

// Clients run asynchronously: the wiretap server lives on this process's event loop.
const run = promisify(execFile);

interface ClientRun { seconds: number; cpuSeconds: number }

let timeZone: string | undefined;

async function nodePg(port: number, user: string, sql: string): Promise<ClientRun & { rows: number }> {
  const { stdout } = await run(process.execPath, ['--import', 'tsx', join(import.meta.dirname, '_pg-client.ts'), String(port), user, sql, ...(timeZone ? [timeZone] : [])],
    { encoding: 'utf8', maxBuffer: 1 << 20, timeout: 600_000 });
  return JSON.parse(stdout.trim().split('\n').pop()!);
}

/** psql's wall time and its own CPU (bash's `times`: user and system of the shell's children). */
async function psql(port: number, user: string, sql: string): Promise<ClientRun> {
  const t0 = performance.now();
  const { stdout } = await run('/bin/bash', ['-c', '/usr/bin/psql "$@" && times', 'psql', '-X', '-A', '-t', '-o', '/dev/null', '-h', '127.0.0.1', '-p', String(port),
    '-U', user, '-d', user === 'postgres' ? 'postgres' : 'wiretap', '-c', sql],
  { encoding: 'utf8', timeout: 600_000, env: { ...process.env, ...(timeZone ? { PGOPTIONS: `-c TimeZone=${timeZone}` } : {}) } });
  const seconds = (performance.now() - t0) / 1000;
  const [user_, system] = stdout.trim().split('\n').pop()!.match(/\d+m[\d.]+s/g)!.map((t) => {
    const [m, s] = t.slice(0, -1).split('m');
    return Number(m) * 60 + Number(s);
  });
  return { seconds, cpuSeconds: user_! + system! };
}

interface WireSummary { types: string; dataRows: number; dataBytes: number; hash: string }

/**
 * What a simple-query client receives for `sql`: the RowDescription's type OID/size/typmod/format
 * per column, and the count, bytes and SHA-1 of all DataRows.
 */
async function wireSummary(port: number, user: string, sql: string): Promise<WireSummary> {
  const s = connect(port, '127.0.0.1');
  const params = Buffer.from(`user\0${user}\0database\0${user === 'postgres' ? 'postgres' : 'wiretap'}\0${timeZone ? `options\0-c TimeZone=${timeZone}\0` : ''}\0`);
  const start = Buffer.alloc(8);
  start.writeInt32BE(8 + params.length, 0);
  start.writeInt32BE(196608, 4); // protocol 3.0
  s.write(Buffer.concat([start, params]));
  const hash = createHash('sha1');
  const out: WireSummary = { types: '', dataRows: 0, dataBytes: 0, hash: '' };
  let buf: Buffer = Buffer.alloc(0);
  let ready = 0;
  await new Promise<void>((resolve, reject) => {
    s.on('error', reject);
    s.on('data', (d: Buffer) => {
      buf = buf.length ? Buffer.concat([buf, d]) : d;
      let o = 0;
      while (buf.length - o >= 5 && buf.length - o >= 1 + buf.readInt32BE(o + 1)) {
        const type = String.fromCharCode(buf[o]!);
        const end = o + 1 + buf.readInt32BE(o + 1);
        if (type === 'Z' && ++ready === 1) {
          const q = Buffer.from(`${sql}\0`);
          const h = Buffer.alloc(5);
          h.write('Q');
          h.writeInt32BE(4 + q.length, 1);
          s.write(Buffer.concat([h, q]));
        } else if (type === 'Z') {
          s.end();
          resolve();
        } else if (type === 'E') {
          reject(new Error(buf.subarray(o, end).toString('latin1')));
        } else if (type === 'T') {
          // per field: name\0, table oid (4), attnum (2), type oid (4), size (2), typmod (4), format (2)
          const fields: string[] = [];
          let p = o + 7;
          for (let n = buf.readInt16BE(o + 5); n > 0; n--) {
            p = buf.indexOf(0, p) + 1;
            fields.push(`${buf.readInt32BE(p + 6)}/${buf.readInt16BE(p + 10)}/${buf.readInt32BE(p + 12)}/${buf.readInt16BE(p + 16)}`);
            p += 18;
          }
          out.types = fields.join(' ');
        } else if (type === 'D') {
          out.dataRows++;
          out.dataBytes += end - o;
          hash.update(buf.subarray(o, end));
        }
        o = end;
      }
      buf = buf.subarray(o);
    });
  });
  out.hash = hash.digest('hex');
  return out;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export default async function pgStream(args: string[]): Promise<object> {
  const { values } = parseArgs({ args, options: { rows: { type: 'string' }, runs: { type: 'string' }, 'time-zone': { type: 'string' } } });
  timeZone = values['time-zone'];
  const rows = Number(values.rows ?? 1_000_000);
  const runs = Number(values.runs ?? 3);
  const sql = `select ${columns} from http_events limit ${rows}`;

  process.stderr.write(`loading ${rows} rows into wiretap\n`);
  const wiretap = await startWiretap(rows);
  const port = wiretap.port;

  process.stderr.write('starting PostgreSQL 15\n');
  const pg15 = await startPgCluster();
  try {
    pg15.psql(`create table http_events as select
        timestamptz '2025-11-21 04:40:00+00' + i * interval '1 millisecond' as time_,
        (lpad('', 8, '0') || lpad(to_hex(1000 + i % 50), 8, '0') || lpad(to_hex(123456), 16, '0'))::uuid as upid,
        '10.0.' || ((i >> 8) & 255) || '.' || (i & 255) as remote_addr,
        (40000 + i % 20000)::int as remote_port, 8080 as local_port,
        case when i % 5 = 0 then 'POST' else 'GET' end as req_method,
        '/api/items/' || (i % 1000) as req_path,
        case when i % 10 = 0 then 500 else 200 end as resp_status,
        (1000000 + i)::bigint as latency, (i % 4096)::bigint as resp_body_size
      from generate_series(0, ${rows - 1}) as i`);
    pg15.psql('vacuum analyze http_events');

    // The comparison is only fair if both send the same thing.
    const ours = await wireSummary(port, 'wiretap', sql);
    const theirs = await wireSummary(pg15.port, 'postgres', sql);
    if (ours.types !== theirs.types || ours.hash !== theirs.hash || ours.dataRows !== rows) {
      throw new Error(`wiretap and PostgreSQL send different results: ${JSON.stringify({ wiretap: ours, postgres15: theirs })}`);
    }

    // Rounds interleave the three servers (the machine is shared: load drifts over minutes).
    type Target = { port: number; user: string; native: boolean; serverCpu: () => number };
    const ownCpu = () => { const c = process.cpuUsage(); return (c.user + c.system) / 1e6; };
    const targets: Record<'wiretap' | 'wiretapJs' | 'postgres15', Target> = {
      wiretap: { port, user: 'wiretap', native: true, serverCpu: ownCpu },
      wiretapJs: { port, user: 'wiretap', native: false, serverCpu: ownCpu },
      postgres15: { port: pg15.port, user: 'postgres', native: true, serverCpu: () => pg15.cpuSeconds() },
    };
    const samples: Record<string, { wall: number[]; clientCpu: number[]; serverCpu: number[] }> = {};
    const sample = async (key: string, t: Target, f: () => Promise<ClientRun>): Promise<void> => {
      const s0 = t.serverCpu();
      const r = await f();
      if (t.user === 'postgres') await sleep(200); // the backend exits and is reaped into the postmaster's counters
      const e = (samples[key] ??= { wall: [], clientCpu: [], serverCpu: [] });
      e.wall.push(r.seconds);
      e.clientCpu.push(r.cpuSeconds);
      e.serverCpu.push(t.serverCpu() - s0);
    };
    for (let round = 0; round < runs; round++) {
      for (const [name, t] of Object.entries(targets)) {
        process.stderr.write(`round ${round + 1}: ${name}\n`);
        // read per result by server/pg/row-batches.ts: '0' sends rows through the JS encoders
        if (t.native) delete process.env.WIRETAP_PG_NATIVE_ROWS;
        else process.env.WIRETAP_PG_NATIVE_ROWS = '0';
        try {
          await sample(`${name}.nodePg`, t, async () => {
            const r = await nodePg(t.port, t.user, sql);
            if (r.rows !== rows) throw new Error(`node-pg got ${r.rows} rows from ${name}`);
            return r;
          });
          await sample(`${name}.psql`, t, () => psql(t.port, t.user, sql));
        } finally {
          delete process.env.WIRETAP_PG_NATIVE_ROWS;
        }
      }
    }
    const r2 = (x: number) => +x.toFixed(2);
    const client = (key: string) => {
      const s = samples[key]!;
      return {
        rowsPerSec: Math.round(rows / Math.min(...s.wall)), bestSeconds: r2(Math.min(...s.wall)), medianSeconds: r2(median(s.wall)),
        clientCpuSeconds: r2(median(s.clientCpu)), serverCpuSeconds: r2(median(s.serverCpu)),
      };
    };
    const result = (name: string) => ({ nodePg: client(`${name}.nodePg`), psql: client(`${name}.psql`) });
    const out = { wiretap: result('wiretap'), wiretapJsEncoders: result('wiretapJs'), postgres15: result('postgres15') };
    const ratios = (a: ReturnType<typeof result>, b: ReturnType<typeof result>) => {
      const of = (c: 'nodePg' | 'psql') => ({
        bestWall: r2(b[c].bestSeconds / a[c].bestSeconds), medianWall: r2(b[c].medianSeconds / a[c].medianSeconds),
        clientCpu: r2(b[c].clientCpuSeconds / a[c].clientCpuSeconds), serverCpu: r2(b[c].serverCpuSeconds / a[c].serverCpuSeconds),
      });
      return { nodePg: of('nodePg'), psql: of('psql') };
    };
    return {
      rows, columns: 10, runs, timeZone: timeZone ?? 'UTC', sameBytes: { dataRows: ours.dataRows, dataBytes: ours.dataBytes, sha1: ours.hash, types: ours.types }, ...out,
      // PostgreSQL's / wiretap's seconds: > 1 means wiretap is faster or cheaper
      ratio: ratios(out.wiretap, out.postgres15),
      ratioJsEncoders: ratios(out.wiretapJsEncoders, out.postgres15),
      loadavg: readFileSync('/proc/loadavg', 'utf8').trim(),
      target: '≥ 1.0 (wiretap / PostgreSQL 15 rows/s)',
    };
  } finally {
    pg15.stop();
    await wiretap.close();
  }
}
