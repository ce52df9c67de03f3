// The distributed planner's split rules, without a cluster: which strategy, what the nodes run,
// what the broker merges, and what pruning the WHERE clause implies.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { planDistributed } from './split.ts';
import { sketchFiltersAsArguments } from './partial-aggregate.ts';

const aggregates = new Set(['count', 'sum', 'min', 'max', 'avg', 'quantile_disc', 'quantile_cont', 'median', 'approx_quantile', 'approx_count_distinct', 'reservoir_quantile', 'string_agg']);
const plan = (sql: string) => planDistributed(sql, aggregates);

test('count/sum/min/max/avg split into node partials and a broker merge', () => {
  const p = plan('select req_path as p, count(*), avg(latency) from http_events where resp_status >= 500 group by 1 order by 2 desc limit 3');
  assert.equal(p.strategy, 'partial-aggregate');
  assert.equal(p.inputs[0]!.nodeSql, 'SELECT req_path AS _g0, count(*) AS _p0, sum(latency) AS _p1, count(latency) AS _p2 FROM http_events WHERE resp_status >= 500 GROUP BY req_path');
  assert.equal(p.mergeSql, 'SELECT _g0 AS "p", CAST(coalesce(sum(_p0), 0) AS BIGINT) AS "count", CAST(sum(_p1) AS DOUBLE) / nullif(sum(_p2), 0) AS "avg" FROM __wt_parts GROUP BY _g0 ORDER BY "count" DESC LIMIT 3');
  assert.deepEqual(p.pushedPredicates, ['resp_status >= 500']);
});

test('FILTER (WHERE …) on an aggregate applies to its partials on the nodes', () => {
  const p = plan('select count(*) filter (where latency > 5) as slow, avg(latency) filter (where resp_status = 500) from http_events');
  assert.equal(p.strategy, 'partial-aggregate');
  assert.equal(p.inputs[0]!.nodeSql, 'SELECT count(*) FILTER (WHERE latency > 5) AS _p0, sum(latency) FILTER (WHERE resp_status = 500) AS _p1, count(latency) FILTER (WHERE resp_status = 500) AS _p2 FROM http_events');
});

test('ORDER BY … LIMIT pushes a top-n (limit + offset) to every node', () => {
  const p = plan('select req_path, latency from http_events order by latency desc limit 5 offset 2');
  assert.equal(p.strategy, 'node-rows');
  assert.match(p.inputs[0]!.nodeSql, /ORDER BY latency DESC LIMIT 7$/);
  assert.equal(p.mergeSql, 'SELECT * EXCLUDE (__wt_k0) FROM __wt_parts ORDER BY "__wt_k0" DESC LIMIT 5 OFFSET 2');
});

test('approx_count_distinct / approx_quantile become sketches reduced on the nodes and finalized at the broker', () => {
  const p = plan('select req_path, approx_count_distinct(remote_addr) as d, approx_quantile(latency, 0.99) from http_events group by 1 order by d desc limit 3');
  assert.equal(p.strategy, 'partial-aggregate');
  assert.match(p.inputs[0]!.nodeSql, /^SELECT \* REPLACE \(.* AS _p0, .* AS _p1\) FROM \(SELECT req_path AS _g0, list\(DISTINCT .*hash\(remote_addr\).* AS _p0, histogram\(.*\) AS _p1 FROM http_events GROUP BY req_path\)$/);
  // the groups (_m, numbered) with the nodes' texts; each sketch finalized for all groups at once (_s1, _s2), joined by _gid
  assert.match(p.mergeSql, /^WITH _m AS MATERIALIZED \(SELECT row_number\(\) OVER \(\) AS _gid, _g0 AS _o0, string_agg\(_p0, ','\) AS _o1, string_agg\(_p1, ','\) AS _o2 FROM __wt_parts GROUP BY _g0\), _s1 AS \(SELECT _gid, CAST\(round\(.*string_split\(_o1, ','\).*\), _s2 AS \(SELECT _gid, list\(CAST\(round\(v\) AS BIGINT\) ORDER BY i\) AS r .*string_split\(_o2, ','\).*\) SELECT _o0 AS "req_path", coalesce\(_s1\.r, 0\) AS "d", _s2\.r\[1\] AS "approx_quantile" FROM _m LEFT JOIN _s1 USING \(_gid\) LEFT JOIN _s2 USING \(_gid\) ORDER BY "d" DESC LIMIT 3$/);
});

test('a sketch with FILTER (WHERE …) is sketched over the filtered rows on the nodes (the filter moves into its argument)', () => {
  const p = plan("select req_path, approx_count_distinct(remote_addr) filter (where resp_status >= 500) as e, approx_quantile(latency, 0.9) FILTER (WHERE req_method = 'GET' and (latency > 0)) from http_events group by 1");
  assert.equal(p.strategy, 'partial-aggregate');
  assert.match(p.inputs[0]!.nodeSql, /hash\(CASE WHEN resp_status >= 500 THEN remote_addr END\)/);
  assert.match(p.inputs[0]!.nodeSql, /histogram\(.*CAST\(CASE WHEN req_method = 'GET' AND \(latency > 0\) THEN latency END AS DOUBLE\).*\) FILTER/);
  assert.match(p.mergeSql, /_s2 AS \(SELECT _gid, list\(CAST\(round\(v\) AS BIGINT\) .* AS "e", _s2\.r\[1\] AS "approx_quantile" FROM _m LEFT JOIN _s1 USING \(_gid\) LEFT JOIN _s2/);
  // the rewrite leaves strings, other functions and FILTERs on built-in aggregates alone
  assert.equal(sketchFiltersAsArguments("select count(*) filter (where x = 'approx_count_distinct(a) filter (where b)') from t"),
    "select count(*) filter (where x = 'approx_count_distinct(a) filter (where b)') from t");
  assert.equal(sketchFiltersAsArguments('select approx_quantile(f(a, b), 0.5) filter (where g(c)) from t'), 'select approx_quantile(CASE WHEN g(c) THEN f(a, b) END, 0.5) from t');
});

test('what the rules cannot split ships filtered rows or whole tables and runs the query at the broker', () => {
  assert.equal(plan('select count(distinct req_path) from http_events where latency > 5').strategy, 'ship-rows');
  assert.equal(plan('select count(distinct req_path) from http_events where latency > 5').inputs[0]!.nodeSql, 'SELECT "req_path", "latency" FROM http_events WHERE latency > 5');
  assert.equal(plan('select reservoir_quantile(latency, 0.5) from http_events').strategy, 'ship-rows'); // an aggregate by name, not by syntax
  assert.equal(plan('select quantile_cont(latency, 0.5), median(latency) from http_events').strategy, 'ship-rows'); // exact quantiles ship values
  assert.equal(plan('select approx_quantile(req_path, 0.5) from http_events').strategy, 'ship-rows'); // not numeric: no sketch
  assert.equal(plan('select req_path, count(*) from http_events group by 1 having count(*) > 2').strategy, 'ship-rows');
  assert.equal(plan('select req_path, count(*) from http_events group by rollup(req_path)').strategy, 'ship-rows');
  assert.equal(plan('select req_path from http_events window w as (order by latency) order by 1 limit 2').strategy, 'ship-rows');
  const join = plan('select * from http_events h join process_stats p on h.upid = p.upid');
  assert.equal(join.strategy, 'ship-tables');
  assert.deepEqual(join.inputs.map((i) => i.name), ['http_events', 'process_stats']);
  assert.equal(plan('select 1').strategy, 'broker-only');
});

test('pod / namespace / service equality and IN filters become a node-pruning filter', () => {
  const p = plan("select count(*) from http_events where namespace = 'shop' and service in ('shop/web', 'shop/api') and latency > 0");
  assert.deepEqual(p.podFilter, { namespace: ['shop'], service: ['shop/web', 'shop/api'] });
  assert.equal(plan("select count(*) from http_events where pod = 'a' or latency > 0").podFilter, null); // OR: any node may match
});

test('an inner join ships each table with the predicates on its own columns', () => {
  const p = plan("select h.req_path, p.rss_bytes from http_events h join process_stats p on h.upid = p.upid where h.resp_status >= 500 and p.rss_bytes > 1000 and h.latency > p.cpu_utime_ns");
  assert.equal(p.strategy, 'ship-tables');
  assert.deepEqual(p.inputs, [
    { name: 'http_events', nodeSql: 'SELECT "upid", "req_path", "resp_status", "latency" FROM http_events WHERE (resp_status >= 500)' },
    { name: 'process_stats', nodeSql: 'SELECT "upid", "cpu_utime_ns", "rss_bytes" FROM process_stats WHERE (rss_bytes > 1000)' },
  ]);
  // an outer join, or a table read twice, ships tables without filters (whole rows for a star)
  assert.equal(plan('select * from http_events h left join process_stats p on h.upid = p.upid where p.rss_bytes is null').inputs[1]!.nodeSql, 'SELECT * FROM process_stats');
  assert.equal(plan('select h.latency, p.num_threads from http_events h left join process_stats p on h.upid = p.upid where p.rss_bytes is null').inputs[1]!.nodeSql,
    'SELECT "upid", "num_threads", "rss_bytes" FROM process_stats');
  assert.equal(plan('select a.latency from http_events a join http_events b on a.upid = b.upid where a.latency > 5').inputs[0]!.nodeSql, 'SELECT "upid", "latency" FROM http_events');
});

test('shipped rows carry only the columns the statement names; whole rows when it may read others', () => {
  const list = (sql: string) => plan(sql).inputs.map((i) => i.nodeSql.replace(/ FROM .*/, ''));
  // an exact quantile, window functions, HAVING: the named columns (aliases add nothing; "Quoted" names match)
  assert.deepEqual(list('select quantile_cont(latency, 0.99) as p99 from http_events order by p99'), ['SELECT "latency"']);
  assert.deepEqual(list('select req_path, row_number() over (partition by upid order by time_) from http_events'), ['SELECT "time_", "upid", "req_path"']);
  assert.deepEqual(list('select "REQ_PATH", count(*) from http_events group by 1 having max(latency) > 5'), ['SELECT "req_path", "latency"']);
  assert.deepEqual(list('select count(*) from http_events having count(*) > 2'), ['SELECT "time_"']); // rows still counted
  assert.deepEqual(list("select count(distinct cmdline) from http_events where pod = 'a/b'"), ['SELECT "pod", "cmdline"']); // hydrated columns too
  assert.deepEqual(list('select a.latency, b.latency from http_events a, (select upid, latency from http_events) b where a.upid = b.upid'), ['SELECT "upid", "latency"']);
  // whole rows: stars, COLUMNS(…), NATURAL JOIN, a table or alias used as a value, SQL the parser rejects
  for (const sql of [
    'select count(distinct req_path), * from http_events',
    'select h.* from http_events h join process_stats p using (upid)',
    "select count(distinct columns('req_.*')) from http_events",
    'select count(distinct h) from http_events h',
    'select count(*) from http_events natural join process_stats',
    'select * exclude (req_body) from http_events where latency > 5 qualify row_number() over () < 3',
  ]) assert.ok(list(sql).every((l) => l === 'SELECT *'), `${sql}: ${list(sql).join('; ')}`);
});

test('time_ bounds from the WHERE clause (either side, BETWEEN, =) for node pruning', () => {
  const p = plan("select count(*) from http_events where time_ >= now() - interval '5 minutes' and '2026-01-02' > time_ and latency > 0");
  assert.deepEqual(p.timeFilter, { table: 'http_events', lower: ["now() - INTERVAL '5 minutes'"], upper: ["'2026-01-02'"] });
  assert.deepEqual(plan("select * from http_events where time_ between '2026-01-01' and '2026-01-02' order by time_ limit 3").timeFilter,
    { table: 'http_events', lower: ["'2026-01-01'"], upper: ["'2026-01-02'"] });
  assert.deepEqual(plan("select count(*) from http_events where time_ = '2026-01-01'").timeFilter, { table: 'http_events', lower: ["'2026-01-01'"], upper: ["'2026-01-01'"] });
  assert.equal(plan("select count(*) from http_events where time_ > '2026-01-01' or latency > 0").timeFilter, null); // OR: no bound
  assert.equal(plan('select count(*) from http_events where time_ > time_').timeFilter, null); // not a constant
});

test('joins, subqueries, CTEs and unions: each table is shipped filtered by its reads', () => {
  const where = (sql: string) => plan(sql).inputs.map((i) => / WHERE (.*)$/.exec(i.nodeSql)?.[1] ?? null);
  // LEFT JOIN: the preserved side's WHERE conjuncts, the nullable side's own ON conjuncts; not its WHERE ones
  assert.deepEqual(where('select h.req_path, p.rss_bytes from http_events h left join process_stats p on h.upid = p.upid and p.rss_bytes > 5 and h.latency > 1 where h.resp_status = 500 and p.num_threads = 2'),
    ['(resp_status = 500)', '(rss_bytes > 5)']);
  // inner join ON conjuncts on one side; a subquery's and a CTE's reads; a union's two reads
  assert.deepEqual(where('select count(*) from http_events h join process_stats p on h.upid = p.upid and p.rss_bytes > 5'), [null, '(rss_bytes > 5)']);
  assert.deepEqual(where('select count(*) from http_events where resp_status = 200 and upid in (select upid from process_stats where rss_bytes > 9)'), ['(resp_status = 200)', '(rss_bytes > 9)']);
  assert.deepEqual(where('with big as (select * from process_stats where rss_bytes >= 8) select count(*) from http_events h join big on h.upid = big.upid where h.latency > 9'), ['(latency > 9)', '(rss_bytes >= 8)']);
  assert.deepEqual(where('select req_path from http_events where latency < 5 union all select cmdline from process_stats where num_threads = 3'), ['(latency < 5)', '(num_threads = 3)']);
  // a table read several times ships what any read keeps
  assert.deepEqual(where('select count(*) from http_events where latency > 5 and req_path in (select req_path from http_events where resp_status = 500 and req_method = \'GET\')'),
    ["(latency > 5) OR ((resp_status = 500) AND (req_method = 'GET'))"]);
  // nothing pushed: a correlated column (remote_port is the outer table's), an OR with the nullable side,
  // RIGHT JOIN, a read with nothing to push, an ambiguous unqualified column, a CTE named like a table
  assert.deepEqual(where('select count(*) from http_events h where exists (select 1 from process_stats p where p.upid = h.upid and rss_bytes > remote_port)'), [null, null]);
  assert.deepEqual(where('select count(*) from http_events h left join process_stats p on h.upid = p.upid where p.num_threads = 2 or p.upid is null'), [null, null]);
  assert.deepEqual(where('select count(*) from http_events h right join process_stats p on h.upid = p.upid where h.latency > 5 and p.rss_bytes > 1'), [null, null]);
  assert.deepEqual(where('select count(*) from http_events h join http_events e on h.upid = e.upid where h.latency > 5'), [null]); // e reads every row
  assert.deepEqual(where('select count(*) from http_events h join process_stats p on h.upid = p.upid where time_ > 5'), [null, null]);
  assert.deepEqual(where('with process_stats as (select 1 as rss_bytes) select count(*) from http_events h, process_stats p where p.rss_bytes > 0 and h.latency > 1'), [null, null]);
});

test('approx_quantile with a list of quantiles: one histogram per argument on the nodes, a LIST finalized at the broker', () => {
  const p = plan('select req_path, approx_quantile(latency, [0.5, 0.9, 0.99]) as p, approx_quantile(latency, 0.5) as m from http_events group by 1');
  assert.equal(p.strategy, 'partial-aggregate');
  // both calls read one sketch: one histogram on the nodes, one merged text at the broker
  assert.match(p.inputs[0]!.nodeSql, /^SELECT \* REPLACE \(\(SELECT string_agg\(k \|\| ':' \|\| c, ','\) .* AS _p0\) FROM \(SELECT req_path AS _g0, histogram\(.*CAST\(latency AS DOUBLE\).*\) FILTER \(WHERE \(latency\) IS NOT NULL\) AS _p0 FROM http_events GROUP BY req_path\)$/);
  assert.equal(p.inputs[0]!.nodeSql.match(/histogram\(/g)?.length, 1);
  // the union of the calls' quantiles computed once for every group; each call takes its elements
  assert.match(p.mergeSql, /^WITH _m AS MATERIALIZED \(SELECT row_number\(\) OVER \(\) AS _gid, _g0 AS _o0, string_agg\(_p0, ','\) AS _o1 FROM __wt_parts GROUP BY _g0\), _s1 AS \(SELECT _gid, list\(CAST\(round\(v\) AS BIGINT\) ORDER BY i\) AS r .*string_split\(_o1, ','\).*\(VALUES \(1, 0\.5\), \(2, 0\.9\), \(3, 0\.99\)\) AS _q\(i, q\).*\) SELECT _o0 AS "req_path", _s1\.r AS "p", _s1\.r\[1\] AS "m" FROM _m LEFT JOIN _s1 USING \(_gid\)$/);
  assert.match(plan('select approx_quantile(latency, [0.99, 0.5]) as a, approx_quantile(latency, [0.5, 0.9]) as b from http_events').mergeSql,
    /\(VALUES \(1, 0\.99\), \(2, 0\.5\), \(3, 0\.9\)\).* SELECT CASE WHEN _s0\.r IS NULL THEN NULL ELSE \[_s0\.r\[1\], _s0\.r\[2\]\] END AS "a", CASE WHEN _s0\.r IS NULL THEN NULL ELSE \[_s0\.r\[2\], _s0\.r\[3\]\] END AS "b" FROM _m LEFT JOIN _s0 USING \(_gid\)$/);
  // ARRAY[…] is the same; a DOUBLE expression keeps DOUBLE (no round); a timestamp ships "min;buckets" texts joined by '|'
  const e = plan("select approx_quantile(latency / 1e6, ARRAY[0.5, 0.99]) as ms, approx_quantile(time_, [0.5]) as t from http_events where time_ > now() - interval '1 hour'");
  assert.equal(e.strategy, 'partial-aggregate');
  assert.match(e.inputs[0]!.nodeSql, /histogram\(.*CAST\(latency \/ 1e6 AS DOUBLE\).*AS _p0, \{'m': min\(epoch_us\(time_\)\), 'l': list\(epoch_us\(time_\)\) FILTER \(WHERE \(time_\) IS NOT NULL\)\} AS _p1 FROM http_events WHERE time_ > now\(\) - INTERVAL '1 hour'\)$/);
  assert.match(e.mergeSql, /^WITH _m AS MATERIALIZED \(SELECT row_number\(\) OVER \(\) AS _gid, string_agg\(_p0, ','\) AS _o0, string_agg\(_p1, '\|'\) AS _o1 FROM __wt_parts\), _s0 AS \(SELECT _gid, list\(v ORDER BY i\) .*\), _s1 AS \(SELECT _gid, list\(make_timestamptz\(v\) ORDER BY i\) .*string_split\(_o1, '\|'\).*\) SELECT _s0\.r AS "ms", _s1\.r AS "t" FROM _m LEFT JOIN _s0 USING \(_gid\) LEFT JOIN _s1 USING \(_gid\)$/);
  // the list literal is rewritten for the parser only where it is approx_quantile's second argument
  assert.equal(sketchFiltersAsArguments("select approx_quantile(x, [0.5, 0.9]), list_value([1], [2]), '[0.5]' from t"),
    "select approx_quantile(x, ARRAY[0.5, 0.9]), list_value([1], [2]), '[0.5]' from t");
  assert.equal(sketchFiltersAsArguments('select approx_quantile(a[1], [0.5]) filter (where b) from t'), 'select approx_quantile(CASE WHEN b THEN a[1] END, ARRAY[0.5]) from t');
  // not sketched (rows shipped, exact at the broker): quantiles out of range, a type DuckDB answers differently
  assert.equal(plan('select approx_quantile(latency, [0.5, 2]) from http_events').strategy, 'ship-rows');
  assert.equal(plan('select approx_quantile(latency * 1.5, [0.5]) from http_events').strategy, 'ship-rows');
});

test('expressions over mergeable aggregates and group keys split too: an error rate, a latency in ms', () => {
  const p = plan('select service, count(*) filter (where resp_status >= 500)::float / count(*) as err_rate, avg(latency) / 1e6 as ms from http_events group by 1 order by 2 desc limit 10');
  assert.equal(p.strategy, 'partial-aggregate');
  assert.equal(p.inputs[0]!.nodeSql, 'SELECT service AS _g0, count(*) FILTER (WHERE resp_status >= 500) AS _p0, count(*) AS _p1, sum(latency) AS _p2, count(latency) AS _p3 FROM http_events GROUP BY service');
  assert.equal(p.mergeSql, 'SELECT _g0 AS "service", (CAST(coalesce(sum(_p0), 0) AS BIGINT))::FLOAT / (CAST(coalesce(sum(_p1), 0) AS BIGINT)) AS "err_rate", '
    + '(CAST(sum(_p2) AS DOUBLE) / nullif(sum(_p3), 0)) / 1e6 AS "ms" FROM __wt_parts GROUP BY _g0 ORDER BY "err_rate" DESC LIMIT 10');
  assert.equal(plan("select req_path || ' ' || count(*) from http_events group by req_path").strategy, 'partial-aggregate');
  // a column outside an aggregate and a group key, an aggregate merged only by name, a sketch inside an expression: rows ship
  for (const sql of [
    'select req_path, count(*) + latency from http_events group by 1',
    "select req_path, string_agg(req_method, ',') || '' from http_events group by 1",
    'select req_path, approx_quantile(latency, 0.5) / 1e6 from http_events group by 1',
    'select req_path, sum(count(*)) over () from http_events group by 1',
  ]) assert.equal(plan(sql).strategy, 'ship-rows', sql);
});
