// Node-side query speed: Q1–Q3 over the compressed store vs DuckDB over the same rows in a
// resident, checkpointed table, same process, same thread count (target ≤ 1.5×).
// Args: --rows N (default 2000000; 10000000 for the size), --runs R (default 3),
// --baseline DIR: also the engine of another checkout (e.g. a `git worktree` of an older commit
// with its native addon built) over the same rows, interleaved with ours and resident in every
// round (order rotated per round), so before/after ratios come from one run on a noisy machine.
// Q1s also run with the row prefilter off and with pooled connections off (same rounds).
// --only Q1,Q2: run just these queries (Q3's approx_quantile takes ~10 s a run at 10M rows).
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { readFileSync } from 'node:fs';
import { DuckDBInstance } from '@duckdb/node-api';
import { DuckEngine } from '../engine/duck.ts';
import { allRows } from '../engine/query.ts';
import { tables } from '../engine/schema.ts';
import { ScanRegistry, scanFunctionName } from '../engine/scan/scan-function.ts';
import { ScanPlan } from '../engine/scan/scan-plan.ts';
import { HttpWorkload } from './workload/http-events.ts';

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

export default async function (args: string[]): Promise<object> {
  const { values: v } = parseArgs({ args, options: { rows: { type: 'string' }, runs: { type: 'string' }, baseline: { type: 'string' }, only: { type: 'string' } } });
  const rows = Number(v.rows ?? 2_000_000);
  const runs = Number(v.runs ?? 3);
  const threads = 2;
  const options = { memoryBudget: 64 * 2 ** 30, tableShares: { http_events: 1 }, threads, memoryLimit: '8GB' };
  const engine = await DuckEngine.create(options);
  const Base = v.baseline
    ? ((await import(pathToFileURL(join(v.baseline, 'engine', 'duck.ts')).href)) as { DuckEngine: typeof DuckEngine }).DuckEngine
    : null;
  const base = Base ? await Base.create(options) : null;
  const w = new HttpWorkload();
  let t = performance.now();
  for (let i = 0; i < rows; i++) {
    const row = w.next();
    engine.append('http_events', row);
    base?.append('http_events', row);
  }
  await engine.flush();
  await base?.flush();
  const ingestMs = performance.now() - t;
  const stats = engine.tableStats().find((s) => s.table === 'http_events')!;
  process.stderr.write(`ingested ${rows} rows in ${Math.round(ingestMs)} ms, ${stats.batches} batches, ${(stats.bytes / rows).toFixed(1)} B/row\n`);

  // The resident comparison: same rows copied into a DuckDB table through the same scan.
  const resident = await DuckDBInstance.create(':memory:', { threads: String(threads), memory_limit: '8GB' });
  const rc = await resident.connect();
  await rc.run("SET TimeZone = 'UTC'");
  const scans = new ScanRegistry();
  scans.register(rc);
  const defs = tables.http_events;
  const snapshot = engine.store.snapshot('http_events')!;
  const plan = new ScanPlan('http_events', defs, snapshot.batches, new Set(defs.map((d) => d.name)));
  const id = scans.add(plan);
  t = performance.now();
  const cols = defs.map((d, i) => (plan.outputs[i]!.cast ? `CAST("${d.name}" AS VARCHAR) AS "${d.name}"` : `"${d.name}"`));
  await rc.run(`CREATE TABLE http_events AS SELECT ${cols.join(', ')} FROM ${scanFunctionName}(${id})`);
  await rc.run('CHECKPOINT');
  scans.remove(id);
  const residentBuildMs = performance.now() - t;
  const size = await rc.runAndReadAll("SELECT memory_usage_bytes FROM duckdb_memory() WHERE tag = 'IN_MEMORY_TABLE'");
  const residentBytes = Number(size.getRows()[0]?.[0] ?? 0);
  process.stderr.write(`resident table built in ${Math.round(residentBuildMs)} ms, ${(residentBytes / rows).toFixed(1)} B/row\n`);

  const span = await allRows(await engine.query('select min(time_), max(time_) from http_events'));
  const [lo, hi] = span[0] as [bigint, bigint];
  const x = lo + ((hi - lo) * 3n) / 4n; // the newest quarter
  const xs = `make_timestamp(${x}::BIGINT)::TIMESTAMPTZ`;
  const queries: Record<string, string> = {
    Q1: `select count(*) from http_events where resp_status >= 500 and time_ > ${xs}`,
    Q1_no_time: 'select count(*) from http_events where resp_status >= 500',
    Q2: 'select req_path, count(*) as n, avg(latency), quantile_cont(latency, 0.99) as p99 from http_events group by req_path order by 2 desc, 1 limit 10',
    Q3: 'select req_path, count(*) as n, avg(latency), approx_quantile(latency, 0.99) as p99 from http_events group by req_path order by 2 desc, 1 limit 10',
  };
  const out: Record<string, object> = {};
  const only = v.only ? new Set(v.only.split(',')) : null;
  for (const [name, sql] of Object.entries(queries)) {
    if (only && !only.has(name)) continue;
    const ours: number[] = [];
    const theirs: number[] = [];
    const before: number[] = [];
    // Q1s also without the native row prefilter, interleaved (the A/B in the same run).
    const unfiltered: number[] = [];
    // …and without pooled connections (fresh connection, per-query views, no statement cache).
    const unpooled: number[] = [];
    const ab = name.startsWith('Q1');
    let same = true;
    for (let r = 0; r < runs; r++) {
      if (ab) {
        engine.rowPrefilter = false;
        t = performance.now();
        const u = await allRows(await engine.query(sql));
        unfiltered.push(performance.now() - t);
        engine.rowPrefilter = true;
        engine.poolConnections = false;
        t = performance.now();
        const np = await allRows(await engine.query(sql));
        unpooled.push(performance.now() - t);
        engine.poolConnections = true;
        same &&= JSON.stringify(u.map((row) => row.map(String))) === JSON.stringify(np.map((row) => row.map(String)));
        same &&= JSON.stringify(u.map((row) => row.map(String))) === JSON.stringify((await allRows(await engine.query(sql))).map((row) => row.map(String)));
      }
      let a: unknown[][] = [];
      let b: unknown[][] = [];
      const steps = [
        async () => {
          t = performance.now();
          a = await allRows(await engine.query(sql));
          ours.push(performance.now() - t);
        },
        async () => {
          t = performance.now();
          b = (await rc.runAndReadAll(sql)).getRows();
          theirs.push(performance.now() - t);
        },
        ...(base ? [async () => {
          t = performance.now();
          const c = await allRows(await base.query(sql));
          before.push(performance.now() - t);
          if (name !== 'Q3') same &&= JSON.stringify(c.map((row) => row.map(String))) === JSON.stringify((await allRows(await engine.query(sql))).map((row) => row.map(String)));
        }] : []),
      ];
      for (let k = 0; k < steps.length; k++) await steps[(k + r) % steps.length]!();
      if (name !== 'Q3') same &&= JSON.stringify(a.map((row) => row.map(String))) === JSON.stringify(b.map((row) => row.map((x) => (typeof x === 'object' && x !== null ? String((x as { micros?: bigint }).micros ?? x) : String(x)))));
    }
    const scan = engine.lastScans[0];
    out[name] = {
      storeMs: Math.round(median(ours)),
      // The first run: a GROUP BY rewrite interns each sealed batch's dictionary then (kept after).
      storeFirstMs: Math.round(ours[0]!),
      residentMs: Math.round(median(theirs)),
      ratio: Number((median(ours) / median(theirs)).toFixed(2)),
      ...(base ? { baselineMs: Math.round(median(before)), baselineRatio: Number((median(before) / median(theirs)).toFixed(2)), speedup: Number((median(before) / median(ours)).toFixed(2)) } : {}),
      ...(ab ? {
        storeMsNoPrefilter: Math.round(median(unfiltered)), ratioNoPrefilter: Number((median(unfiltered) / median(theirs)).toFixed(2)),
        storeMsNoPool: Number(median(unpooled).toFixed(1)), ratioNoPool: Number((median(unpooled) / median(theirs)).toFixed(2)),
      } : {}),
      batchesScanned: scan ? `${scan.batchesScanned}/${scan.batchesTotal}` : undefined,
      constantColumns: scan?.constants,
      groupByCodes: engine.lastRewrite !== undefined,
      sameResult: name === 'Q3' ? 'approximate' : same,
    };
    process.stderr.write(`${name}: ${JSON.stringify(out[name])}\n`);
  }
  rc.closeSync();
  resident.closeSync();
  await engine.close();
  await base?.close();
  return {
    rows,
    threads,
    ...(v.baseline ? { baseline: v.baseline } : {}),
    loadavg: readFileSync('/proc/loadavg', 'utf8').trim(),
    targetRatio: 1.5,
    storeBytesPerRow: Number((stats.bytes / rows).toFixed(1)),
    residentBytesPerRow: Number((residentBytes / rows).toFixed(1)),
    ingestMs: Math.round(ingestMs),
    textCodes: engine.textCodeStats(),
    queries: out,
  };
}
