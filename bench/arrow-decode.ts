// `npm run bench -- arrow-decode [--rounds N]`: the broker's Arrow decode of agent messages,
// apache-arrow's per-value get() (how server/agent/arrow-codec.ts decoded first), tableFromIPC +
// direct reads of its vectors (decodeWithArrowJs, the decoder until the direct reader) and
// decodeChunk (the direct IPC reader: flatbuffers and body read in place, schema cached), on two
// messages: a partial group-by answer (48 groups × 6 partial columns, what each of 100 nodes sends
// in cluster-scale's group-by) and 2,048 shipped http rows. Rounds alternate the decoders; reports
// median µs per message and the ratios. `encode`: the agent side, apache-arrow's writer
// (encodeWithArrowJs) vs encodeChunk (cached schema message, record batch laid out directly).
import { parseArgs } from 'node:util';
import { tableFromIPC } from 'apache-arrow';
import { decodeChunk, decodeWithArrowJs, encodeChunk, encodeWithArrowJs } from '../server/agent/arrow-codec.ts';
import type { ResultColumn, Value } from '../engine/query.ts';
import type { ColumnType } from '../engine/schema.ts';

/** The previous decoder: tableFromIPC, then vector.get(r) per value. */
function decodeByGet(bytes: Uint8Array): Value[][] {
  const table = tableFromIPC(bytes);
  const types = table.schema.fields.map((f) => (f.metadata.get('wiretap.type') ?? 'text') as ColumnType);
  const rows: Value[][] = Array.from({ length: table.numRows }, () => new Array(types.length));
  types.forEach((t, i) => {
    const col = table.getChildAt(i)!;
    for (let r = 0; r < table.numRows; r++) {
      const v = col.get(r);
      rows[r]![i] = v === null ? null : t === 'int8' || t === 'timestamptz' ? BigInt(v as bigint) : (v as Value);
    }
  });
  return rows;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

export default async function arrowDecode(args: string[]): Promise<object> {
  const { values } = parseArgs({ args, options: { rounds: { type: 'string' } } });
  const rounds = Number(values.rounds ?? 30);
  const partialCols: ResultColumn[] = [
    { name: '_g0', type: 'text' }, { name: '_g1', type: 'int4' }, { name: '_p0', type: 'int8' },
    { name: '_p1', type: 'numeric' }, { name: '_p2', type: 'int8' }, { name: '_p3', type: 'int8' },
  ];
  const partial = encodeChunk(partialCols, Array.from({ length: 48 }, (_, i) => [`/api/items/${i % 16}`, i % 3 ? 200 : 500, BigInt(i * 104), String(i * 1_000_003), BigInt(i * 104), BigInt(i * 7_919)]));
  const rowCols: ResultColumn[] = [
    { name: 'time_', type: 'timestamptz' }, { name: 'upid', type: 'uuid' }, { name: 'remote_addr', type: 'text' }, { name: 'remote_port', type: 'int4' },
    { name: 'req_method', type: 'text' }, { name: 'req_path', type: 'text' }, { name: 'resp_status', type: 'int4' }, { name: 'latency', type: 'int8' },
  ];
  const shipped = encodeChunk(rowCols, Array.from({ length: 2048 }, (_, i) => [
    1_767_225_600_000_000n + BigInt(i) * 1000n, '3c603ba0-0000-1005-0000-0000000de2b0', `10.0.${i >> 8}.${i & 255}`, 40_000 + i,
    i % 5 ? 'GET' : 'POST', `/api/items/${i % 1000}`, i % 10 ? 200 : 500, BigInt(1_000_000 + i),
  ]));
  const out: Record<string, object> = {};
  for (const [name, msg, reps] of [['partialGroupBy48', partial, 200], ['shippedRows2048', shipped, 5]] as const) {
    const us: Record<'get' | 'arrowJs' | 'direct', number[]> = { get: [], arrowJs: [], direct: [] };
    const decoders = { get: decodeByGet, arrowJs: decodeWithArrowJs, direct: decodeChunk };
    for (let r = 0; r < rounds; r++) {
      for (const v of r % 2 ? (['get', 'arrowJs', 'direct'] as const) : (['direct', 'arrowJs', 'get'] as const)) {
        const t0 = performance.now();
        for (let i = 0; i < reps; i++) decoders[v](msg);
        us[v].push(((performance.now() - t0) * 1000) / reps);
      }
    }
    out[name] = {
      bytes: msg.byteLength, getUs: +median(us.get).toFixed(1), arrowJsUs: +median(us.arrowJs).toFixed(1), directUs: +median(us.direct).toFixed(1),
      ratioDirectVsGet: +(median(us.direct) / median(us.get)).toFixed(3), ratioDirectVsArrowJs: +(median(us.direct) / median(us.arrowJs)).toFixed(3),
    };
  }
  // the agent side: apache-arrow's writer vs the direct one (cached schema, hand-laid record batch)
  const enc: Record<string, object> = {};
  const partialRows = Array.from({ length: 48 }, (_, i) => [`/api/items/${i % 16}`, i % 3 ? 200 : 500, BigInt(i * 104), String(i * 1_000_003), BigInt(i * 104), BigInt(i * 7_919)]);
  for (const [name, cols, rows, reps] of [['count1', [{ name: '_p0', type: 'int8' }], [[12345n]], 200], ['partialGroupBy48', partialCols, partialRows, 100]] as const) {
    const us: Record<'arrowJs' | 'direct', number[]> = { arrowJs: [], direct: [] };
    for (let r = 0; r < rounds; r++) {
      for (const v of r % 2 ? (['arrowJs', 'direct'] as const) : (['direct', 'arrowJs'] as const)) {
        const t0 = performance.now();
        for (let i = 0; i < reps; i++) (v === 'direct' ? encodeChunk : encodeWithArrowJs)(cols as ResultColumn[], rows as Value[][]);
        us[v].push(((performance.now() - t0) * 1000) / reps);
      }
    }
    enc[name] = { arrowJsUs: +median(us.arrowJs).toFixed(1), directUs: +median(us.direct).toFixed(1), ratio: +(median(us.direct) / median(us.arrowJs)).toFixed(3) };
  }
  return { rounds, ...out, encode: enc };
}
