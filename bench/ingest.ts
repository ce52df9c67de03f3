// Ingest throughput: rows/s per core through append + seal + compress (target ≥ 500k rows/s).
// The denominator is CPU time (user + system of this process, GC threads included), so the
// number is per core whatever else the machine runs.
//
// Rows reach the store as objects built by the collector, so the append API taking a row object
// is what is measured. Two ways to count, both reported:
// - marginal (the headline): rows are generated in chunks of --chunk (default 4096, about what a
//   collector holds in flight) and appended right away; the same generation without the store is
//   timed alternately, and the store's cost is the difference. GC work the store causes is in it,
//   the generator's own is not; the live heap stays small, as in an agent.
// - pregenerated: all --rows rows are built first and only appends are timed (how this bench
//   measured before). Every full GC then also marks the whole pregenerated heap (~0.9 GB for 1M
//   rows), which an agent never holds, so this undercounts the store on a real heap.
// Args: --rows N (default 1000000), --rounds R (default 3), --chunk C, --level L.
import { parseArgs } from 'node:util';
import { Store, defaultStoreOptions } from '../engine/store/store.ts';
import { HttpWorkload } from './workload/http-events.ts';

function cpuMs(): number {
  const c = process.cpuUsage();
  return (c.user + c.system) / 1000;
}

// Two functions, not one with a flag: sharing one loop let the store's inlined append path
// change how V8 compiled the generation-only pass (measured 2.5× slower generation), which
// skewed the subtraction.
/** CPU ms to generate `rows` rows in chunks. */
function generateOnly(rows: number, chunk: number): number {
  const w = new HttpWorkload();
  globalThis.gc?.();
  const t0 = cpuMs();
  let n = 0;
  for (let done = 0; done < rows; done += chunk) n += w.take(Math.min(chunk, rows - done)).length;
  const cpu = cpuMs() - t0;
  if (n !== rows) throw new Error(`generated ${n} of ${rows} rows`);
  return cpu;
}

/** CPU ms to generate the same rows in chunks, append each chunk and seal. */
function generateAndStore(rows: number, chunk: number, store: Store): number {
  const w = new HttpWorkload();
  globalThis.gc?.();
  const t0 = cpuMs();
  for (let done = 0; done < rows; done += chunk) {
    const data = w.take(Math.min(chunk, rows - done));
    for (let i = 0; i < data.length; i++) store.append('http_events', data[i]!);
  }
  store.sealAll();
  return cpuMs() - t0;
}

function newStore(level: number): Store {
  return new Store({ ...defaultStoreOptions, memoryBudget: 1e15, compressionLevel: level, sealAfterMs: 1e9 });
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

export default async function (args: string[]): Promise<object> {
  const { values: v } = parseArgs({ args, options: { rows: { type: 'string' }, level: { type: 'string' }, rounds: { type: 'string' }, chunk: { type: 'string' } } });
  const rows = Number(v.rows ?? 1_000_000);
  const rounds = Number(v.rounds ?? 3);
  const chunk = Number(v.chunk ?? 4096);
  const level = Number(v.level ?? defaultStoreOptions.compressionLevel);

  const marginal = [];
  for (let round = 0; round < rounds; round++) {
    const store = newStore(level);
    const gen = generateOnly(rows, chunk);
    const both = generateAndStore(rows, chunk, store);
    store.close();
    const storeMs = both - gen;
    marginal.push({
      generateCpuMs: Math.round(gen), generateAndStoreCpuMs: Math.round(both), storeCpuMs: Math.round(storeMs),
      rowsPerSecPerCore: Math.round(rows / (storeMs / 1000)),
    });
    process.stderr.write(`marginal round ${round}: ${JSON.stringify(marginal.at(-1))}\n`);
  }

  const data = new HttpWorkload().take(rows);
  const pregenerated = [];
  for (let round = 0; round < rounds; round++) {
    const store = newStore(level);
    globalThis.gc?.();
    const t0 = cpuMs();
    const w0 = performance.now();
    for (let i = 0; i < rows; i++) store.append('http_events', data[i]!);
    store.sealAll();
    const wallMs = performance.now() - w0;
    const cpu = cpuMs() - t0;
    store.close();
    pregenerated.push({ wallMs: Math.round(wallMs), cpuMs: Math.round(cpu), rowsPerSecPerCore: Math.round(rows / (cpu / 1000)) });
    process.stderr.write(`pregenerated round ${round}: ${JSON.stringify(pregenerated.at(-1))}\n`);
  }

  return {
    rows, zstdLevel: level, chunk, targetRowsPerSecPerCore: 500_000,
    medianRowsPerSecPerCore: median(marginal.map((r) => r.rowsPerSecPerCore)),
    pregeneratedMedianRowsPerSecPerCore: median(pregenerated.map((r) => r.rowsPerSecPerCore)),
    marginal, pregenerated,
  };
}
