// Mergeable sketches for the approximate aggregates, in plain DuckDB SQL (vectorised on the nodes,
// no JS loop over rows). Each node ships one text column per sketch and group; the broker
// concatenates the nodes' texts per group and finalizes.
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

/** Broker side: the estimate from the concatenated texts of every node (NULL/'' = no values). */
export function hllFinalize(textSql: string): string {
  const m = hllRegisters;
  const alpha = 0.7213 / (1 + 1.079 / m);
  const regs = `SELECT v // 64 AS r, max(v % 64) AS rho FROM (SELECT CAST(e AS BIGINT) AS v FROM (SELECT unnest(string_split(${textSql}, ',')) AS e) WHERE e <> '') GROUP BY r`;
  const est = `SELECT ${alpha * m * m} / (coalesce(sum(pow(2.0, -rho)), 0) + ${m} - count(*)) AS e, ${m} - count(*) AS zeros FROM (${regs})`;
  return `(SELECT CAST(round(CASE WHEN e <= ${2.5 * m} AND zeros > 0 THEN ${m} * ln(${m} / zeros) ELSE e END) AS BIGINT) FROM (${est}))`;
}

/** Node side, aggregate: counts per DDSketch bucket. */
export function ddNodeAggregate(argSql: string): string {
  const x = `CAST(${argSql} AS DOUBLE)`;
  const key = `CASE WHEN ${x} > 0 THEN CAST(ceil(ln(${x}) / ${lnGamma}) AS BIGINT) + ${bucketOffset} `
    + `WHEN ${x} < 0 THEN -(CAST(ceil(ln(-${x}) / ${lnGamma}) AS BIGINT) + ${bucketOffset}) WHEN ${x} = 0 THEN 0 END`;
  return `histogram(${key}) FILTER (WHERE (${argSql}) IS NOT NULL)`;
}

/** Node side, over the histogram column: "bucket:count" pairs as text. */
export function ddNodeReduce(col: string): string {
  return `(SELECT string_agg(k || ':' || c, ',') FROM (SELECT unnest(map_keys(${col})) AS k, unnest(map_values(${col})) AS c))`;
}

/** Broker side: the q-quantile's estimate (DOUBLE) from the concatenated texts; NULL when no values. */
export function ddFinalize(textSql: string, q: number): string {
  const pairs = `SELECT CAST(split_part(e, ':', 1) AS BIGINT) AS k, CAST(split_part(e, ':', 2) AS BIGINT) AS c FROM (SELECT unnest(string_split(${textSql}, ',')) AS e) WHERE e <> ''`;
  const cum = `SELECT k, sum(c) OVER (ORDER BY k ROWS UNBOUNDED PRECEDING) AS cum, sum(c) OVER () AS n FROM (SELECT k, sum(c) AS c FROM (${pairs}) GROUP BY k)`;
  const value = (i: string) => `2 * pow(${gamma}, ${i} - ${bucketOffset}) / ${gamma + 1}`;
  return `(SELECT CASE WHEN k = 0 THEN 0.0 WHEN k > 0 THEN ${value('k')} ELSE -(${value('-k')}) END FROM (${cum}) WHERE cum > floor(${q} * (n - 1)) ORDER BY k LIMIT 1)`;
}
