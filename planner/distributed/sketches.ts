// Mergeable sketches for the approximate aggregates, in plain DuckDB SQL (vectorised on the nodes,
// no JS loop over rows). Each node ships one text column per sketch and group; the broker
// concatenates the nodes' texts per group and finalizes every group in one flat query (…ByGroup:
// rows of _gid and the answer, joined back to the groups by partial-aggregate.ts).
//
// approx_count_distinct(x) — HyperLogLog, p = 12 (m = 4096 registers). Register index = top 12
//   bits of DuckDB's 64-bit hash(x); register value ρ = position of the lowest set bit of the other
//   52 bits (1…53; the position of the first 1 is geometric like the leading-zero count, and
//   bit_count(w xor (w − 1)) gives it in one vectorised expression). Nodes ship "reg*64+ρ" for
//   every register they set (max ρ per register), ≤ 4096 numbers per group. The broker takes the
//   max per register and applies the HLL estimator with linear counting for small cardinalities.
//   Standard error ≈ 1.04/√m = 1.625%; the tests hold every estimate within 4 standard errors.
// approx_quantile(x, q) — DDSketch with relative accuracy α = 1%: bucket i > 0 holds the values in
//   (γ^(i−1), γ^i], γ = (1+α)/(1−α); negative values mirror it, 0 has its own bucket. Nodes ship
//   "bucket:count" pairs (DuckDB histogram()); the broker sums counts per bucket, walks them in
//   value order to rank ⌊q·(n−1)⌋ (quantile_disc's element) and returns the bucket's
//   representative 2γ^i/(γ+1), within relative error α of that element. Buckets are few (a
//   value range of 1 ns … 100 s needs ~1,270), independent of the number of rows.
//   approx_quantile(x, [q1, q2, …]) uses the same histogram and walks it once per quantile into a
//   LIST in the order given; every approx_quantile over the same x in a statement shares one sketch.
//   x may be an expression (latency / 1e6): the planner infers its DuckDB type, the estimate is cast
//   back to it (rounded for integers). ±inf/NaN cannot come from the expressions the split types
//   (DuckDB gives NULL for / 0 and DOUBLE overflow); one would fail the fragment with a conversion
//   error when its bucket is cast, not crash.
// approx_quantile over TIMESTAMP/TIMESTAMPTZ — not the epoch value: α of an epoch in µs
//   (1.8e15) is ~200 days. Each node sketches d = x − m, m = the node's minimum of the group
//   (epoch µs), in the same buckets, and ships "m;bucket:count,…"; the broker turns every bucket
//   of every node into the absolute value m + representative(d) (BIGINT µs), sums counts per
//   value, walks them in order and casts back (make_timestamp/make_timestamptz). Each value moves
//   by at most α·(x − m_node) ≤ α·(x − m) (m = the group's minimum over all nodes) and that bound
//   is monotone in x, so the estimate is within α·(exact − m) + 1 µs of the exact quantile_disc
//   element: 1% of the distance from the group's earliest value (36 s at the end of a 1-hour range,
//   0.6 s in a 1-minute time bucket). The node needs the group's minimum before bucketing, so it
//   collects {min, list of µs} per group (8 bytes a row in memory on the node, not shipped) and
//   buckets in the reduce: measured 1M rows × 10 groups, 170–270 ms vs 130 ms for a numeric
//   histogram; a per-group window min was no faster (175–185 ms) and a node-wide scalar min (120 ms)
//   loosens the bound to the whole query's range.
// Exact quantiles (quantile_cont/quantile_disc/median/percentile_*) are not sketched: their plans
//   ship the rows and the broker computes them exactly.

export const hllPrecision = 12;
export const hllRegisters = 1 << hllPrecision;
export const hllStandardError = 1.04 / Math.sqrt(hllRegisters);
export const ddsketchAlpha = 0.01;
const gamma = (1 + ddsketchAlpha) / (1 - ddsketchAlpha);
const lnGamma = Math.log(gamma);
/** Added to positive bucket indexes (negated for negative values) so bucket order = value order; 0 = zero. */
const bucketOffset = 1_000_000;

const lowBits = (1n << BigInt(64 - hllPrecision)) - 1n;
const sentinel = 1n << BigInt(64 - hllPrecision);

/** Node side, aggregate: the distinct (register, ρ) pairs of a group. */
export function hllNodeAggregate(argSql: string): string {
  const h = `hash(${argSql})`;
  // low 52 bits with bit 52 set: the lowest set bit is at 0…52, so ρ = 1…53
  const w = `((${h} & ${lowBits}::UBIGINT) | ${sentinel}::UBIGINT)`;
  return `list(DISTINCT (${h} >> ${64 - hllPrecision}) * 64 + bit_count(xor(${w}, ${w} - 1))) FILTER (WHERE (${argSql}) IS NOT NULL)`;
}

/** Node side, over the aggregate's column: keep the max ρ per register, as text. */
export function hllNodeReduce(col: string): string {
  return `(SELECT string_agg(CAST(r * 64 + rho AS VARCHAR), ',') FROM (SELECT v // 64 AS r, max(v % 64) AS rho FROM (SELECT unnest(${col}) AS v) GROUP BY r))`;
}

/**
 * Broker side: over `from` (a relation with a _gid column and the nodes' texts concatenated in
 * textCol), rows (_gid, r): r = the estimate (BIGINT); a group without values has no row (its answer is 0).
 */
export function hllByGroup(from: string, textCol: string): string {
  const m = hllRegisters;
  const alpha = 0.7213 / (1 + 1.079 / m);
  const regs = `SELECT _gid, v // 64 AS r, max(v % 64) AS rho FROM (SELECT _gid, CAST(e AS BIGINT) AS v FROM (SELECT _gid, unnest(string_split(${textCol}, ',')) AS e FROM ${from}) WHERE e <> '') GROUP BY _gid, r`;
  const est = `SELECT _gid, ${alpha * m * m} / (sum(pow(2.0, -rho)) + ${m} - count(*)) AS e, ${m} - count(*) AS zeros FROM (${regs}) GROUP BY _gid`;
  return `SELECT _gid, CAST(round(CASE WHEN e <= ${2.5 * m} AND zeros > 0 THEN ${m} * ln(${m} / zeros) ELSE e END) AS BIGINT) AS r FROM (${est})`;
}

/** Broker side: the estimate from the concatenated texts of every node (NULL/'' = no values → 0). */
export function hllFinalize(textSql: string): string {
  return `coalesce((SELECT r FROM (${hllByGroup(`(SELECT 1 AS _gid, ${textSql} AS _t)`, '_t')})), 0)`;
}

/** Node side, aggregate: counts per DDSketch bucket. */
export function ddNodeAggregate(argSql: string): string {
  return `histogram(${ddBucket(`CAST(${argSql} AS DOUBLE)`)}) FILTER (WHERE (${argSql}) IS NOT NULL)`;
}

/** Node side, over the histogram column: "bucket:count" pairs as text. */
export function ddNodeReduce(col: string): string {
  return `(SELECT string_agg(k || ':' || c, ',') FROM (SELECT unnest(map_keys(${col})) AS k, unnest(map_values(${col})) AS c))`;
}

/** DDSketch bucket of a positive or negative DOUBLE; 0 for zero. */
function ddBucket(x: string): string {
  return `CASE WHEN ${x} > 0 THEN CAST(ceil(ln(${x}) / ${lnGamma}) AS BIGINT) + ${bucketOffset} `
    + `WHEN ${x} < 0 THEN -(CAST(ceil(ln(-${x}) / ${lnGamma}) AS BIGINT) + ${bucketOffset}) WHEN ${x} = 0 THEN 0 END`;
}

/** A bucket's representative value (DOUBLE), within relative error α of every value in it. */
function ddValue(k: string): string {
  const value = (i: string) => `2 * pow(${gamma}, ${i} - ${bucketOffset}) / ${gamma + 1}`;
  return `CASE WHEN ${k} = 0 THEN 0.0 WHEN ${k} > 0 THEN ${value(k)} ELSE -(${value(`-${k}`)}) END`;
}

/**
 * Over (_gid, v, c) rows (a group, a value and its count; a value may repeat): per group, the
 * element at rank ⌊q·(n−1)⌋ for each q as a LIST in the order given, `element(v)` applied — rows
 * (_gid, r); a group without values has no row. One flat query for every group: the same as a
 * scalar subquery per group, which DuckDB ran ~35× slower (900 vs 25 ms for 6 groups × 20 nodes)
 * and out of a 1 GB memory limit at 50 nodes (so does HyperLogLog's, hllByGroup).
 */
function pickQuantiles(pairs: string, qs: readonly number[], element: (v: string) => string): string {
  const wanted = `(VALUES ${qs.map((q, i) => `(${i + 1}, ${q})`).join(', ')}) AS _q(i, q)`;
  const cum = `SELECT _gid, v, sum(c) OVER (PARTITION BY _gid ORDER BY v ROWS UNBOUNDED PRECEDING) AS cum, sum(c) OVER (PARTITION BY _gid) AS n `
    + `FROM (SELECT _gid, v, sum(c) AS c FROM (${pairs}) GROUP BY _gid, v)`;
  return `SELECT _gid, list(${element('v')} ORDER BY i) AS r FROM (SELECT _gid, i, min(v) AS v FROM (${cum}), ${wanted} WHERE cum > floor(q * (n - 1)) GROUP BY _gid, i) GROUP BY _gid`;
}

/**
 * Broker side, numeric sketch: over `from` (a relation with a _gid column and the concatenated
 * texts in textCol), rows (_gid, r): r = each q's estimate (DOUBLE, `element(v)` applied) in order.
 */
export function ddQuantilesByGroup(from: string, textCol: string, qs: readonly number[], element: (v: string) => string = (v) => v): string {
  const kc = `SELECT _gid, CAST(split_part(e, ':', 1) AS BIGINT) AS k, CAST(split_part(e, ':', 2) AS BIGINT) AS c FROM (SELECT _gid, unnest(string_split(${textCol}, ',')) AS e FROM ${from}) WHERE e <> ''`;
  return pickQuantiles(`SELECT _gid, ${ddValue('k')} AS v, c FROM (${kc})`, qs, element);
}

/** Broker side: the q-quantile's estimate (DOUBLE) from the concatenated texts; NULL when no values. */
export function ddFinalize(textSql: string, q: number): string {
  return `(SELECT r[1] FROM (${ddQuantilesByGroup(`(SELECT 1 AS _gid, ${textSql} AS _t)`, '_t', [q])}))`;
}

/** Separator of the nodes' timestamp-sketch texts in the merge (a text holds "m;k:c,…"). */
export const ddTimeSeparator = '|';

/** Node side, aggregate over a TIMESTAMP/TIMESTAMPTZ: the group's minimum and every value, epoch µs. */
export function ddTimeNodeAggregate(argSql: string): string {
  const us = `epoch_us(${argSql})`;
  return `{'m': min(${us}), 'l': list(${us}) FILTER (WHERE (${argSql}) IS NOT NULL)}`;
}

/** Node side, over that column: "m;bucket:count,…" of d = value − m (integer µs ≥ 0; bucket 0 = d of 0). */
export function ddTimeNodeReduce(col: string): string {
  const counts = `SELECT k, count(*) AS c FROM (SELECT ${ddBucket(`CAST(v - ${col}.m AS DOUBLE)`)} AS k FROM (SELECT unnest(${col}.l) AS v)) GROUP BY k`;
  return `(SELECT CAST(${col}.m AS VARCHAR) || ';' || string_agg(k || ':' || c, ',') FROM (${counts}))`;
}

/**
 * Broker side, timestamp sketch: as ddQuantilesByGroup, over the nodes' "m;k:c,…" texts joined by
 * ddTimeSeparator; each estimate is epoch µs (BIGINT) before `element(v)`.
 */
export function ddTimeQuantilesByGroup(from: string, textCol: string, qs: readonly number[], element: (v: string) => string): string {
  const seg = `SELECT _gid, CAST(split_part(s, ';', 1) AS BIGINT) AS m, unnest(string_split(split_part(s, ';', 2), ',')) AS e FROM (SELECT _gid, unnest(string_split(${textCol}, '${ddTimeSeparator}')) AS s FROM ${from}) WHERE s <> ''`;
  const kc = `SELECT _gid, m, CAST(split_part(e, ':', 1) AS BIGINT) AS k, CAST(split_part(e, ':', 2) AS BIGINT) AS c FROM (${seg}) WHERE e <> ''`;
  return pickQuantiles(`SELECT _gid, m + CAST(round(${ddValue('k')}) AS BIGINT) AS v, c FROM (${kc})`, qs, element);
}
