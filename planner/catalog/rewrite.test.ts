import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rewriteCatalogSql, type RewriteContext } from './rewrite.ts';

const ctx: RewriteContext = {
  user: 'alice', database: 'wiretap', processId: 4242,
  setting: (n) => ({ search_path: '"$user", public', server_version_num: '160000' } as Record<string, string>)[n.toLowerCase()],
};
const rw = (sql: string): string => rewriteCatalogSql(sql, ctx).replace(/\s+/g, ' ').trim();

test('pg_catalog/public qualifiers go, information_schema is redirected, strings are untouched', () => {
  assert.equal(rw("select * from pg_catalog.pg_class c where c.relname = 'pg_catalog.x'"), "select * from pg_class c where c.relname = 'pg_catalog.x'");
  assert.equal(rw('select * from information_schema.tables'), 'select * from wt_information_schema.tables');
  assert.equal(rw('select * from public.http_events'), 'select * from http_events');
});

test('OPERATOR(pg_catalog.~) and COLLATE are PostgreSQL-only syntax', () => {
  assert.equal(rw("where c.relname OPERATOR(pg_catalog.~) '^(x)$' COLLATE pg_catalog.default and 1=1"), "where c.relname ~ '^(x)$' and 1=1");
});

test('regclass/regtype casts: literal → oid lookup, expression → name', () => {
  assert.equal(rw("select 'http_events'::regclass"), "select wt_regclass_oid('http_events')");
  assert.equal(rw('select c.oid::pg_catalog.regclass from pg_class c'), 'select wt_regclass_name(c.oid) from pg_class c');
  assert.equal(rw('select a.atttypid::regtype::text'), 'select wt_regtype_name(a.atttypid)::text');
});

test("CAST(… AS regclass) and PostgreSQL format() (Metabase's describe-fields)", () => {
  assert.equal(rw("select CAST(CAST(FORMAT('%I.%I', CAST(c.s AS TEXT), c.t) AS REGCLASS) AS OID)"),
    "select CAST(wt_regclass_oid(printf('%s.%s', quote_ident(CAST(c.s AS TEXT)), quote_ident(c.t))) AS OID)");
  assert.equal(rw('select cast(c.oid as pg_catalog.regclass) from pg_class c'), 'select wt_regclass_name(c.oid) from pg_class c');
  assert.equal(rw(`select FORMAT('"%s"."%s"', a.x, f(b, c)), format('%s%%', 1), format('{}', 2)`),
    `select printf('"%s"."%s"', a.x, f(b, c)), printf('%s%%', 1), format('{}', 2)`);
  assert.equal(rw('select cast(x as int)'), 'select cast(x as int)');
});

test("array literals: '{…}'::type[] → a DuckDB list (pgjdbc getSQLKeywords' word <> ALL ('{a,abs,…}'::text[]))", () => {
  assert.equal(rw("where word <> ALL ('{a,abs, absolute}'::text[])"), "where word <> ALL (['a', 'abs', 'absolute']::text[])");
  assert.equal(rw(`select '{"x y","q\\"z",NULL}'::varchar[], '{}'::int[], '{1,2}'::pg_catalog.int4[]`),
    `select ['x y', 'q"z', NULL]::varchar[], []::int[], ['1', '2']::int4[]`);
  assert.equal(rw("select '{{1,2},{3,4}}'::int[], '{a}'::text"), "select '{{1,2},{3,4}}'::int[], '{a}'::text");
});

test("pg_settings shows the session's values", () => {
  const withSettings: RewriteContext = { ...ctx, settings: () => [['TimeZone', 'Asia/Kolkata']] };
  const sub = "(SELECT wt_p.* REPLACE (coalesce(wt_s.v, wt_p.setting) AS setting) FROM main.pg_settings wt_p LEFT JOIN (VALUES ('timezone', 'Asia/Kolkata')) wt_s(n, v) ON wt_s.n = lower(wt_p.name))";
  const r = (sql: string): string => rewriteCatalogSql(sql, withSettings).replace(/\s+/g, ' ').trim();
  assert.equal(r('select setting from pg_catalog.pg_settings where name = 1'), `select setting from ${sub} AS pg_settings where name = 1`);
  assert.equal(r('select s.setting from pg_settings s join x on true'), `select s.setting from ${sub} s join x on true`);
  assert.equal(r('select pg_settings.name from pg_settings'), `select pg_settings.name from ${sub} AS pg_settings`);
});

test('session values: current_setting, current_user, current_database(), pg_backend_pid()', () => {
  assert.equal(rw("select current_setting('server_version_num')::int"), "select '160000'::int");
  assert.equal(rw('select current_user, session_user, current_database(), pg_backend_pid()'), "select 'alice', 'alice', 'wiretap', 4242");
  assert.equal(rw('select u.user from t u'), 'select u.user from t u'); // a qualified column named user stays
});

test('x = ANY(array) → list_contains; subqueries keep ANY', () => {
  assert.equal(rw('on a.attnum = ANY(ix.indkey)'), 'on list_contains(ix.indkey, a.attnum)');
  assert.equal(rw('where x = any (select 1)'), 'where x = any (select 1)');
});

test('set-returning and array-valued functions in FROM get a column alias', () => {
  assert.equal(rw('from generate_series(1, 3) s, t'), 'from generate_series(1, 3) s(s), t');
  assert.equal(rw("from string_to_array('a,b', ',') s"), "from (SELECT string_to_array('a,b', ',') AS s) s");
  assert.equal(rw('select generate_subscripts(a, 1) ord from t'), 'select unnest(wt_subscripts(a, 1)) ord from t');
  assert.equal(rw("select json_build_object('a', 1)"), "select json_object('a', 1)");
});

test('to_char with a literal format: translated in place, named to_char only as a bare select item', () => {
  assert.equal(rw("select to_char(time_, 'YYYY') from http_events"), "select strftime((time_), '%Y') AS to_char from http_events");
  assert.equal(rw("select to_char(time_, 'YYYY') as y, 1"), "select strftime((time_), '%Y') as y, 1");
  assert.equal(rw("select coalesce(to_char(t, 'MM'), 'n')"), "select coalesce(strftime((t), '%m'), 'n')");
  assert.equal(rw("select a, to_char(t, 'HH24') || 'h' from x"), "select a, strftime((t), '%H') || 'h' from x");
  assert.equal(rw("select x from y where to_char(t, 'DD') = '01'"), "select x from y where strftime((t), '%d') = '01'");
  // nested: the inner call is rewritten first and travels inside the outer one's value
  assert.equal(rw("select to_char(to_timestamp(to_char(t, 'YYYY')::int), 'YY')"), "select strftime((to_timestamp(strftime((t), '%Y')::int)), '%y') AS to_char");
  // a format that is not a literal is left alone
  assert.equal(rw('select to_char(t, f) from x'), 'select to_char(t, f) from x');
});
