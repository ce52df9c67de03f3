// Stored bytes per http_events row in sealed batches (target ≤ 40 B/row), with the per-column
// split, against the Arrow raw size of the same rows. Args: --rows N (default 1000000),
// --level L (zstd, default the store's), --batch-rows N.
import { parseArgs } from 'node:util';
import { tables } from '../engine/schema.ts';
import { TableStore } from '../engine/store/table-store.ts';
import { defaultStoreOptions } from '../engine/store/store.ts';
import { HttpWorkload, rawArrowBytes } from './workload/http-events.ts';

export default async function (args: string[]): Promise<object> {
  const { values: v } = parseArgs({ args, options: { rows: { type: 'string' }, level: { type: 'string' }, 'batch-rows': { type: 'string' } } });
  const rows = Number(v.rows ?? 1_000_000);
  const level = Number(v.level ?? defaultStoreOptions.compressionLevel);
  const batchRows = Number(v['batch-rows'] ?? defaultStoreOptions.batchRows);
  const defs = tables.http_events;
  const store = new TableStore('http_events', defs, { budgetBytes: 1e15, maxRows: 1e15, batchRows, batchBytes: 1e15, lateWindowMs: 1e12, level });
  const w = new HttpWorkload();
  let raw = 0;
  for (let i = 0; i < rows; i++) {
    const row = w.next();
    raw += rawArrowBytes(row);
    store.append(row);
  }
  store.seal();
  const batches = store.sealedBatches();
  const perColumn = defs.map(() => 0);
  let total = 0;
  for (const b of batches) {
    total += b.bytes;
    b.columnBytes().forEach((n, i) => (perColumn[i]! += n));
  }
  const columns = Object.fromEntries(defs.map((d, i) => [d.name, Number((perColumn[i]! / rows).toFixed(2))]));
  return {
    rows,
    batches: batches.length,
    zstdLevel: level,
    batchRows,
    bytesPerRow: Number((total / rows).toFixed(2)),
    targetBytesPerRow: 40,
    arrowRawBytesPerRow: Number((raw / rows).toFixed(1)),
    ratioVsArrowRaw: Number((raw / total).toFixed(1)),
    bytesPerRowByColumn: columns,
  };
}
