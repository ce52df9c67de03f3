// An engine holding rows whose bounds are easy to aim at: http_events rows 1 ms apart, sealed
// every 1000 rows (4,500 rows: four sealed batches and a hot one), resp_status drawn from
// 200/404/500/503 by `seed`, resp_body_size = the row's index. For pruning and prefilter tests.
import { Rng } from '../../collector/synth/rng.ts';
import { DuckEngine } from '../duck.ts';
import { httpRow } from './http-row.ts';

export const steppedRowCount = 4500;

export async function engineWithSteppedRows(seed: number): Promise<{ e: DuckEngine; at: (i: number) => string }> {
  const e = await DuckEngine.create({ flushRows: 1000, threads: 2 });
  const rng = new Rng(seed);
  const base = 1_800_000_000_000n * 1_000_000n;
  for (let i = 0; i < steppedRowCount; i++) {
    e.append('http_events', httpRow({ timeNs: base + BigInt(i) * 1_000_000n, respStatus: [200, 404, 500, 503][Math.floor(rng.next() * 4)]!, respBodySize: i }));
  }
  /** Row i's time as a SQL timestamptz expression. */
  const at = (i: number) => `make_timestamptz(${Number((base + BigInt(i) * 1_000_000n) / 1000n)}::BIGINT)`;
  return { e, at };
}
