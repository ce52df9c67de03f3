// `npm run bench -- pg-timezone [--values N] [--rounds N]`: cost of timestamptz text in a session
// TimeZone (text-format.ts formatTimestamptz) against UTC, same values, interleaved rounds in one run.
// Values: one per second over a day (rows of a result mostly share hours, as captured telemetry does),
// and one per 17 minutes over ~30 years (every hour-cache entry new: the worst case).
import { parseArgs } from 'node:util';
import { formatTimestamptz } from '../server/pg/text-format.ts';
import { resolveTimeZone, type TimeZone } from '../planner/session/time-zone.ts';

function nsPerValue(values: bigint[], zone: TimeZone | null): number {
  let sink = 0;
  const t0 = process.hrtime.bigint();
  for (const v of values) sink += formatTimestamptz(v, zone).length;
  const ns = Number(process.hrtime.bigint() - t0);
  if (sink === 0) throw new Error('nothing formatted');
  return ns / values.length;
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

export default async function pgTimezone(args: string[]): Promise<object> {
  const { values: opts } = parseArgs({ args, options: { values: { type: 'string' }, rounds: { type: 'string' } } });
  const n = Number(opts.values ?? 1_000_000);
  const rounds = Number(opts.rounds ?? 7);
  const start = 1_763_700_000_000_000n; // 2025-11-21 04:40Z, µs
  const sameDay = Array.from({ length: n }, (_, i) => start + BigInt(i % 86_400) * 1_000_000n + BigInt(i % 1000));
  const spread = Array.from({ length: n }, (_, i) => 946_684_800_000_000n + BigInt(i) * 1_020_000_000n);
  const zones: Array<[string, TimeZone | null]> = [
    ['UTC', null], ['Europe/Amsterdam', resolveTimeZone('Europe/Amsterdam')], ['Asia/Kolkata', resolveTimeZone('Asia/Kolkata')], ['fixed -03:30', resolveTimeZone('-3.5')],
  ];
  const out: Record<string, Record<string, number>> = {};
  for (const [label, values] of [['same day', sameDay], ['30 years', spread]] as const) {
    const samples = new Map<string, number[]>(zones.map(([z]) => [z, []]));
    for (let r = 0; r < rounds; r++) {
      for (const [z, zone] of zones) samples.get(z)!.push(nsPerValue(values, zone));
    }
    const utc = median(samples.get('UTC')!);
    out[label] = Object.fromEntries(zones.flatMap(([z]) => {
      const m = median(samples.get(z)!);
      return [[`${z} ns/value`, +m.toFixed(1)], ...(z === 'UTC' ? [] : [[`${z} vs UTC`, +(m / utc).toFixed(2)]])];
    }));
  }
  return { values: n, rounds, ...out };
}
