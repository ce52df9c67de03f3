// Ingest throughput: rows/s per core through append + seal + compress (target ≥ 500k rows/s).
// Rows are generated before timing; CPU time (user+system of this process) is the per-core
// denominator, wall time is reported too. Args: --rows N (default 1000000), --level L, --rounds R.
import { parseArgs } from 'node:util';
import { Store, defaultStoreOptions } from '../engine/store/store.ts';
import { HttpWorkload } from './workload/http-events.ts';

export default async function (args: string[]): Promise<object> {
  const { values: v } = parseArgs({ args, options: { rows: { type: 'string' }, level: { type: 'string' }, rounds: { type: 'string' } } });
  const rows = Number(v.rows ?? 1_000_000);
  const rounds = Number(v.rounds ?? 3);
  const level = Number(v.level ?? defaultStoreOptions.compressionLevel);
  const data = new HttpWorkload().take(rows);
  const results = [];
  for (let round = 0; round < rounds; round++) {
    const store = new Store({ ...defaultStoreOptions, memoryBudget: 1e15, compressionLevel: level, sealAfterMs: 1e9 });
    global.gc?.();
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    for (let i = 0; i < rows; i++) store.append('http_events', data[i]!);
    store.sealAll();
    const wallMs = performance.now() - t0;
    const cpu = process.cpuUsage(cpu0);
    const cpuMs = (cpu.user + cpu.system) / 1000;
    results.push({ wallMs: Math.round(wallMs), cpuMs: Math.round(cpuMs), rowsPerSecWall: Math.round(rows / (wallMs / 1000)), rowsPerSecPerCore: Math.round(rows / (cpuMs / 1000)) });
    process.stderr.write(`round ${round}: ${JSON.stringify(results.at(-1))}\n`);
    store.close();
  }
  const best = results.reduce((a, b) => (b.rowsPerSecPerCore > a.rowsPerSecPerCore ? b : a));
  const median = [...results].sort((a, b) => a.rowsPerSecPerCore - b.rowsPerSecPerCore)[Math.floor(results.length / 2)]!;
  return { rows, zstdLevel: level, targetRowsPerSecPerCore: 500_000, medianRowsPerSecPerCore: median.rowsPerSecPerCore, bestRowsPerSecPerCore: best.rowsPerSecPerCore, rounds: results };
}
