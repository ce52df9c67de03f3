// Ingest throughput: rows/s per core through append + seal + compress (target ≥ 500k rows/s).
// The denominator is CPU time (user + system of this process, GC threads included), so the
// number is per core whatever else the machine runs.
//
// Rows reach the store as objects built by the collector, so the append API taking a row object
// is what is measured. Three ways to count, all reported:
// - marginal: rows are generated in chunks of --chunk (default 4096, about what a
//   collector holds in flight) and appended right away; the same generation without the store is
//   timed alternately, and the store's cost is the difference. GC work the store causes is in it,
//   the generator's own is not; the live heap stays small, as in an agent.
// - pregenerated: all --rows rows are built first and only appends are timed (how this bench
//   measured before). Every full GC then also marks the whole pregenerated heap (~0.9 GB for 1M
//   rows), which an agent never holds, so this undercounts the store on a real heap.
// - timed appends (the headline, `medianRowsPerSecPerCore`): chunks generated outside the timed
//   spans, only the appends (and seal) timed. Since the workload makes its strings the way the
//   collector does (~16 µs/row against ~3 for the store), marginal's subtraction is mostly noise.
// Args: --rows N (default 1000000), --rounds R (default 3), --chunk C, --level L,
// --pregenerated false / --marginal false / --timed false (skip that method), --strings collector|concat (how the workload makes its
// strings: as the collector does, the default, or by template concatenation; the text is the same),
// --columns nontext: only http_events' non-text columns (time, UPID, integers, bool) in one
// TableStore — the part of append + seal that is not text, which the full rows' text swamps;
// --baseline DIR: also measure the store of another checkout (e.g. a `git worktree` of an older
// commit) in the same process, rounds alternating with this tree's, and report the ratios — the
// machine's load moves between separate runs more than the change being measured. Its
// engine/utf8-text.ts must be a symlink to this tree's (checked): one Utf8Text class for both.
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { tables, type ColumnDef } from '../engine/schema.ts';
import { kindOf } from '../engine/store/column-kind.ts';
import { Store, defaultStoreOptions } from '../engine/store/store.ts';
import { TableStore } from '../engine/store/table-store.ts';
import { Utf8Text } from '../engine/utf8-text.ts';
import { HttpWorkload, defaultWorkload, type WorkloadOptions } from './workload/http-events.ts';

/** The parts of a store module this bench uses (this tree's or a baseline checkout's). */
interface StoreModule {
  Store: new (options: typeof defaultStoreOptions) => { append(table: string, row: object): void; sealAll(): void; close(): void };
  defaultStoreOptions: typeof defaultStoreOptions;
  TableStore: new (name: string, defs: readonly ColumnDef[], o: ConstructorParameters<typeof TableStore>[2]) => { append(row: object): void; seal(): void };
}

let nonTextOnly = false;

let workload: WorkloadOptions = defaultWorkload;

function cpuMs(): number {
  const c = process.cpuUsage();
  return (c.user + c.system) / 1000;
}

// Two functions, not one with a flag: sharing one loop let the store's inlined append path
// change how V8 compiled the generation-only pass (measured 2.5× slower generation), which
// skewed the subtraction.
/** CPU ms to generate `rows` rows in chunks. */
function generateOnly(rows: number, chunk: number): number {
  const w = new HttpWorkload(workload);
  globalThis.gc?.();
  const t0 = cpuMs();
  let n = 0;
  for (let done = 0; done < rows; done += chunk) n += w.take(Math.min(chunk, rows - done)).length;
  const cpu = cpuMs() - t0;
  if (n !== rows) throw new Error(`generated ${n} of ${rows} rows`);
  return cpu;
}

/** CPU ms to generate the same rows in chunks, append each chunk and seal. */
function generateAndStore(rows: number, chunk: number, store: { append(table: string, row: object): void; sealAll(): void }): number {
  const w = new HttpWorkload(workload);
  globalThis.gc?.();
  const t0 = cpuMs();
  for (let done = 0; done < rows; done += chunk) {
    const data = w.take(Math.min(chunk, rows - done));
    for (let i = 0; i < data.length; i++) store.append('http_events', data[i]!);
  }
  store.sealAll();
  return cpuMs() - t0;
}

function newStore(m: StoreModule, level: number): { append(table: string, row: object): void; sealAll(): void; close(): void } {
  const o = m.defaultStoreOptions;
  if (!nonTextOnly) return new m.Store({ ...o, memoryBudget: 1e15, compressionLevel: level, sealAfterMs: 1e9 });
  const defs = tables.http_events.filter((d) => kindOf(d.type) !== 'text');
  const t = new m.TableStore('http_events', defs, { budgetBytes: 1e15, maxRows: 1e15, batchRows: o.batchRows, batchBytes: o.batchBytes, lateWindowMs: o.lateWindowMs, level });
  return { append: (_table, row) => t.append(row), sealAll: () => t.seal(), close: () => {} };
}

/** One marginal round: generation alone, then generation + this store (fresh), CPU ms each. */
function marginalRound(m: StoreModule, rows: number, chunk: number, level: number) {
  const store = newStore(m, level);
  const gen = generateOnly(rows, chunk);
  const both = generateAndStore(rows, chunk, store);
  store.close();
  const storeMs = both - gen;
  return {
    generateCpuMs: Math.round(gen), generateAndStoreCpuMs: Math.round(both), storeCpuMs: Math.round(storeMs),
    rowsPerSecPerCore: Math.round(rows / (storeMs / 1000)),
  };
}

/**
 * CPU ms of the appends (and the final seal) only, rows generated in chunks outside the timed
 * spans: less noisy than the marginal subtraction of two runs; GC that the generator triggers is
 * not counted, GC that the store triggers (with the chunk alive) is.
 */
function timedAppendsRound(m: StoreModule, rows: number, chunk: number, level: number) {
  const store = newStore(m, level);
  const w = new HttpWorkload(workload);
  let cpu = 0;
  for (let done = 0; done < rows; done += chunk) {
    const data = w.take(Math.min(chunk, rows - done));
    const t0 = cpuMs();
    for (let i = 0; i < data.length; i++) store.append('http_events', data[i]!);
    cpu += cpuMs() - t0;
  }
  const t0 = cpuMs();
  store.sealAll();
  cpu += cpuMs() - t0;
  store.close();
  return { storeCpuMs: Math.round(cpu), rowsPerSecPerCore: Math.round(rows / (cpu / 1000)) };
}

/** CPU ms to append pregenerated rows and seal. */
function pregeneratedRound(m: StoreModule, data: readonly object[], level: number) {
  const store = newStore(m, level);
  globalThis.gc?.();
  const t0 = cpuMs();
  const w0 = performance.now();
  for (let i = 0; i < data.length; i++) store.append('http_events', data[i]!);
  store.sealAll();
  const wallMs = performance.now() - w0;
  const cpu = cpuMs() - t0;
  store.close();
  return { wallMs: Math.round(wallMs), cpuMs: Math.round(cpu), rowsPerSecPerCore: Math.round(data.length / (cpu / 1000)) };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

export default async function (args: string[]): Promise<object> {
  const { values: v } = parseArgs({ args, options: { rows: { type: 'string' }, level: { type: 'string' }, rounds: { type: 'string' }, chunk: { type: 'string' }, baseline: { type: 'string' }, pregenerated: { type: 'string' }, marginal: { type: 'string' }, timed: { type: 'string' }, columns: { type: 'string' }, strings: { type: 'string' } } });
  const rows = Number(v.rows ?? 1_000_000);
  const rounds = Number(v.rounds ?? 3);
  const chunk = Number(v.chunk ?? 4096);
  const level = Number(v.level ?? defaultStoreOptions.compressionLevel);
  if (!(rows > 0 && rounds > 0 && chunk > 0)) throw new Error('--rows, --rounds and --chunk must be positive numbers');
  const strings = v.strings ?? 'collector';
  if (strings !== 'collector' && strings !== 'concat') throw new Error('--strings must be collector or concat');
  workload = { ...defaultWorkload, strings };
  if (v.columns !== undefined && v.columns !== 'all' && v.columns !== 'nontext') throw new Error('--columns must be all or nontext');
  nonTextOnly = v.columns === 'nontext';
  const ours: StoreModule = { Store, defaultStoreOptions, TableStore };
  const load = async (f: string) => await import(pathToFileURL(resolve(v.baseline!, 'engine/store', f)).href) as object;
  const base = v.baseline === undefined ? null
    : { ...await load('store.ts'), ...await load('table-store.ts') } as StoreModule;
  if (v.baseline !== undefined) {
    // The workload's Utf8Text values must be the baseline's class too: else its `instanceof
    // Utf8Text` fails and it stringifies every header and body (measured: this tree 1.35× "faster"
    // than an identical checkout).
    const theirs = (await import(pathToFileURL(resolve(v.baseline, 'engine/utf8-text.ts')).href) as { Utf8Text: unknown }).Utf8Text;
    if (theirs !== Utf8Text) {
      throw new Error(`--baseline ${v.baseline}: its engine/utf8-text.ts is another module than this tree's; replace it with a symlink ` +
        `(ln -sf ${resolve('engine/utf8-text.ts')} ${resolve(v.baseline, 'engine/utf8-text.ts')}) so both stores see the workload's Utf8Text`);
    }
  }
  const impls: [string, StoreModule][] = base ? [['baseline', base], ['this', ours]] : [['this', ours]];

  // Which store goes first alternates per round (the second one runs on the first one's heap).
  const order = (round: number) => (round % 2 ? [...impls].reverse() : impls);
  const marginal: Record<string, ReturnType<typeof marginalRound>[]> = {};
  for (let round = 0; round < rounds && v.marginal !== 'false'; round++) {
    for (const [name, m] of order(round)) {
      (marginal[name] ??= []).push(marginalRound(m, rows, chunk, level));
      process.stderr.write(`marginal round ${round} ${name}: ${JSON.stringify(marginal[name]!.at(-1))}\n`);
    }
  }

  const timedAppends: Record<string, ReturnType<typeof timedAppendsRound>[]> = {};
  for (let round = 0; round < rounds && v.timed !== 'false'; round++) {
    for (const [name, m] of order(round)) {
      (timedAppends[name] ??= []).push(timedAppendsRound(m, rows, chunk, level));
      process.stderr.write(`timed appends round ${round} ${name}: ${JSON.stringify(timedAppends[name]!.at(-1))}\n`);
    }
  }

  const data = v.pregenerated === 'false' ? [] : new HttpWorkload(workload).take(rows);
  const pregenerated: Record<string, ReturnType<typeof pregeneratedRound>[]> = {};
  for (let round = 0; round < rounds && data.length > 0; round++) {
    for (const [name, m] of order(round)) {
      (pregenerated[name] ??= []).push(pregeneratedRound(m, data, level));
      process.stderr.write(`pregenerated round ${round} ${name}: ${JSON.stringify(pregenerated[name]!.at(-1))}\n`);
    }
  }

  const rate = (xs: { rowsPerSecPerCore: number }[] | undefined) => median((xs ?? []).map((r) => r.rowsPerSecPerCore));
  // Per round, this tree's rate over the baseline's measured next to it; the median of those.
  // Which store runs first in a round matters (the second runs after the first one's garbage), so
  // the order alternates and the ratio is the geometric mean of each pair of rounds' ratios.
  const ratio = (xs: Record<string, { rowsPerSecPerCore: number }[]>) => {
    if (!base) return undefined;
    const r = xs.this!.map((t, i) => t.rowsPerSecPerCore / xs.baseline![i]!.rowsPerSecPerCore);
    const pairs = r.length < 2 ? r : Array.from({ length: r.length >> 1 }, (_, k) => Math.sqrt(r[2 * k]! * r[2 * k + 1]!));
    return Math.round(100 * median(pairs)) / 100;
  };
  return {
    rows, zstdLevel: level, chunk, strings, columns: nonTextOnly ? 'nontext' : 'all', targetRowsPerSecPerCore: 500_000,
    // the headline: generating rows the collector's way costs ~5x the store, so the marginal
    // subtraction swings more than the store's own cost; timed appends time only the store
    medianRowsPerSecPerCore: timedAppends.this ? rate(timedAppends.this) : undefined,
    marginalMedianRowsPerSecPerCore: marginal.this ? rate(marginal.this) : undefined,
    pregeneratedMedianRowsPerSecPerCore: data.length ? rate(pregenerated.this) : undefined,
    ...(base ? {
      baseline: v.baseline,
      baselineMedianRowsPerSecPerCore: timedAppends.this ? rate(timedAppends.baseline) : undefined,
      baselineMarginalMedianRowsPerSecPerCore: marginal.baseline ? rate(marginal.baseline) : undefined,
      baselinePregeneratedMedianRowsPerSecPerCore: data.length ? rate(pregenerated.baseline) : undefined,
      ratioMarginal: marginal.this ? ratio(marginal) : undefined, ratioTimedAppends: timedAppends.this ? ratio(timedAppends) : undefined,
      ratiosTimedAppendsPerRound: timedAppends.this?.map((r, i) => Math.round(100 * r.rowsPerSecPerCore / timedAppends.baseline![i]!.rowsPerSecPerCore) / 100),
      ratioPregenerated: data.length ? ratio(pregenerated) : undefined,
      ratiosPregeneratedPerRound: pregenerated.this?.map((r, i) => Math.round(100 * r.rowsPerSecPerCore / pregenerated.baseline![i]!.rowsPerSecPerCore) / 100),
    } : {}),
    marginal: base ? marginal : marginal.this, timedAppends: base ? timedAppends : timedAppends.this,
    pregenerated: base ? pregenerated : pregenerated.this,
  };
}
