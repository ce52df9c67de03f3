// The store's native hot loops alone, on bench/workload rows (CPU time, rounds alternating):
// - seal: the same hot batches sealed with the native sealer (native/src/store/seal.cc) and with
//   the JS loops + zstd-napi ({native: false}); ns per row and the per-round ratios. The JS loops
//   are warm here (optimized after the first rounds); in an ingest run they start cold each process.
// - intern: each dictionary text column's rows pushed into a TextBuilder, timing only the addon's
//   intern() calls (ns per row), for this build and, with --baseline-node FILE, an older
//   wiretap_store.node (e.g. copied from a `git worktree` build) side by side.
// Args: --rows N per batch (default 65536), --batches B (3), --rounds R (12), --baseline-node FILE.
import { createRequire } from 'node:module';
import { parseArgs } from 'node:util';
import { storeAddon, type StoreAddon } from '../native/store.ts';
import { tables, type HttpEventRow } from '../engine/schema.ts';
import { HotBatch } from '../engine/store/hot-batch.ts';
import { SealedBatch } from '../engine/store/sealed-batch.ts';
import { TextBuilder } from '../engine/store/text-entries.ts';
import { HttpWorkload } from './workload/http-events.ts';

const cpuUs = (): number => { const c = process.cpuUsage(); return c.user + c.system; };
const median = (a: number[]): number => [...a].sort((x, y) => x - y)[a.length >> 1]!;
const round1 = (x: number): number => Number(x.toFixed(1));

/** The rows' dictionary text columns (those the store interns: repeated values). */
const internColumns: (keyof HttpEventRow)[] = ['reqHeaders', 'reqPath', 'reqBody', 'respHeaders', 'respMessage'];

export default async function (args: string[]): Promise<object> {
  const { values: v } = parseArgs({ args, options: { rows: { type: 'string' }, batches: { type: 'string' }, rounds: { type: 'string' }, 'baseline-node': { type: 'string' } } });
  const rows = Number(v.rows ?? 65536);
  const batches = Number(v.batches ?? 3);
  const rounds = Number(v.rounds ?? 12);
  if (!storeAddon || typeof storeAddon.packZstd !== 'function') throw new Error('seal bench: wiretap_store.node with the sealer is not built (npm run build:native)');
  const defs = tables.http_events;
  const w = new HttpWorkload();
  const data: HttpEventRow[][] = [];
  const hots: HotBatch[] = [];
  for (let b = 0; b < batches; b++) {
    const d = w.take(rows);
    const h = new HotBatch(defs, rows, [], rows);
    for (const r of d) h.append(r);
    data.push(d);
    hots.push(h);
  }

  // One unmeasured seal each first: the first one also computes the batches' zone ranges.
  for (const native of [true, false]) for (const h of hots) SealedBatch.seal(h, { level: 1, native });
  const seal: Record<'native' | 'js', number[]> = { native: [], js: [] };
  for (let r = 0; r < rounds; r++) {
    for (const native of r % 2 ? [false, true] : [true, false]) {
      const t0 = cpuUs();
      for (const h of hots) SealedBatch.seal(h, { level: 1, native });
      seal[native ? 'native' : 'js'].push(((cpuUs() - t0) * 1000) / (rows * batches));
    }
  }

  const builds: [string, StoreAddon][] = [['this', storeAddon]];
  if (v['baseline-node']) builds.push(['baseline', createRequire(import.meta.url)(v['baseline-node']) as StoreAddon]);
  const intern: Record<string, Record<string, number[]>> = {};
  for (let r = 0; r < rounds; r++) {
    for (const c of internColumns) {
      for (const [name, addon] of r % 2 ? [...builds].reverse() : builds) {
        let us = 0;
        const timed = { intern: (...a: Parameters<StoreAddon['intern']>) => { const t0 = cpuUs(); addon.intern(...a); us += cpuUs() - t0; } };
        for (const d of data) {
          const b = new TextBuilder(false, rows, timed as unknown as StoreAddon);
          for (const row of d) {
            const x = row[c] as Parameters<TextBuilder['push']>[0] | null | undefined;
            if (x == null) b.pushNull();
            else b.push(x);
          }
          b.flush();
        }
        ((intern[c] ??= {})[name] ??= []).push((us * 1000) / (rows * batches));
      }
    }
  }
  const perColumn = Object.fromEntries(Object.entries(intern).map(([c, t]) => {
    const out: Record<string, number> = { thisNsPerRow: round1(median(t.this!)) };
    if (t.baseline) {
      out.baselineNsPerRow = round1(median(t.baseline));
      out.ratio = Number(median(t.baseline.map((x, i) => x / t.this![i]!)).toFixed(2));
    }
    return [c, out];
  }));
  return {
    rows, batches, rounds,
    seal: {
      nativeNsPerRow: Math.round(median(seal.native)),
      jsNsPerRow: Math.round(median(seal.js)),
      ratioJsOverNative: Number(median(seal.js.map((x, i) => x / seal.native[i]!)).toFixed(2)),
      ratiosPerRound: seal.js.map((x, i) => Number((x / seal.native[i]!).toFixed(2))),
    },
    internCallsNsPerRow: perColumn,
    baselineNode: v['baseline-node'] ?? null,
  };
}
