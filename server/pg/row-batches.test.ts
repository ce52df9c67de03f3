import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { chunkValues, streamedResult } from '../../engine/duck-result.ts';
import { columnTypeOf } from '../../engine/duck-types.ts';
import { mulberry32 } from '../../collector/synth/rng.ts';
import { pgRowsAddon } from '../../native/duck-pg-rows.ts';
import { BackendWriter } from './backend-messages.ts';
import { encodeBinary } from './binary-format.ts';
import { formatValue } from './text-format.ts';
import { batchLength, batchValues, DuckRows, nativeDataRows, nativeRefusal, nativeStats, resultBatches, sliceBatch } from './row-batches.ts';
import { resolveTimeZone } from '../../planner/session/time-zone.ts';

const addon = pgRowsAddon();

/** JS encoders over the chunk's Values, as the connection writes them. */
function jsDataRows(types: ReturnType<typeof columnTypeOf>[], rows: ReturnType<typeof chunkValues>, formats: number[]): Buffer {
  const out = new BackendWriter();
  for (const row of rows) {
    out.dataRow(row.map((v, i) => (formats[i] === 1 ? encodeBinary(types[i]!, v) : formatValue(types[i]!, v))));
  }
  return out.take();
}

/** A buffer of DataRow messages, one Buffer per message. */
function splitDataRows(buf: Buffer): Buffer[] {
  const out: Buffer[] = [];
  for (let at = 0; at < buf.length; at += 1 + buf.readInt32BE(at + 1)) out.push(buf.subarray(at, at + 1 + buf.readInt32BE(at + 1)));
  return out;
}

type Outcome = { bytes: Buffer } | { error: string };
const attempt = (f: () => Buffer): Outcome => {
  try {
    return { bytes: f() };
  } catch (err) {
    return { error: (err as Error).name };
  }
};

/** Runs sql and compares JS and native DataRows chunk by chunk for each format layout. */
async function compare(conn: DuckDBConnection, sql: string, layouts: Array<'text' | 'binary' | 'mixed'> = ['text', 'binary', 'mixed']): Promise<number> {
  let compared = 0;
  for (const layout of layouts) {
    const result = await conn.stream(sql);
    const n = result.columnCount;
    const types = Array.from({ length: n }, (_, i) => columnTypeOf(result.columnType(i)));
    for (let i = 0; i < n; i++) assert.ok(addon!.pgRowTypeSupported(result.columnTypeId(i)), `${sql}: column ${i} type`);
    const formats = types.map((_, i) => (layout === 'text' ? 0 : layout === 'binary' ? 1 : i % 2));
    const encoder = new addon!.PgRowEncoder(Uint8Array.from(formats));
    for (;;) {
      const chunk = await result.fetchChunk();
      if (!chunk || chunk.rowCount === 0) break;
      const rows = chunkValues(chunk, types);
      const js = attempt(() => jsDataRows(types, rows, formats));
      const native = attempt(() => encoder.encode((chunk as unknown as { chunk: unknown }).chunk, 0, chunk.rowCount));
      if ('bytes' in js && 'bytes' in native && !js.bytes.equals(native.bytes)) {
        // the first differing row, readably
        const a = splitDataRows(js.bytes);
        const b = splitDataRows(native.bytes);
        for (let r = 0; r < rows.length; r++) {
          const x = a[r] ?? Buffer.alloc(0);
          const y = b[r] ?? Buffer.alloc(0);
          if (!x.equals(y)) assert.fail(`${sql.slice(0, 300)} (${layout}) row ${r} ${JSON.stringify(rows[r], (_, v) => (typeof v === 'bigint' ? String(v) : v))}:\n js     ${x.toString('hex')}\n native ${y.toString('hex')}\n js     ${JSON.stringify(x.toString('latin1'))}\n native ${JSON.stringify(y.toString('latin1'))}`);
        }
      }
      assert.deepEqual('error' in native, 'error' in js, `${sql.slice(0, 300)} (${layout}): ${JSON.stringify(js)} vs ${JSON.stringify(native)}`);
      if ('bytes' in js && rows.length > 10) {
        // a row range from the middle of the chunk (portals cut chunks at Execute's row limit)
        const part = encoder.encode((chunk as unknown as { chunk: unknown }).chunk, 3, 10);
        assert.ok(part.equals(jsDataRows(types, rows.slice(3, 10), formats)), `${sql.slice(0, 300)} (${layout}): rows 3..10`);
      }
      compared += rows.length;
    }
  }
  return compared;
}

const values = (type: string, literals: string[]): string =>
  `select v, 7 as k from (values ${[...literals, 'NULL'].map((l) => `((${l})::${type})`).join(', ')}) t(v)`;

test('native DataRows equal the JS encoders for every type, format and edge value', async () => {
  assert.ok(addon, 'wiretap_duck.node is built (npm run build:native)');
  const instance = await DuckDBInstance.create(':memory:');
  const conn = await instance.connect();
  await conn.run("SET TimeZone = 'UTC'");
  await conn.run("create type mood as enum ('sad', 'ok', 'héppy 😀', '')");
  await conn.run('create type wide as enum (select i::varchar from range(70000) t(i))');
  const rand = mulberry32(42);
  const f32 = new Float32Array(1);
  const u32 = new Uint32Array(f32.buffer);
  const floats: string[] = [];
  const doubles: string[] = [];
  const f64 = new Float64Array(1);
  const u64 = new Uint32Array(f64.buffer);
  for (let i = 0; i < 3000; i++) {
    u32[0] = Math.floor(rand() * 2 ** 32);
    if (Number.isFinite(f32[0]!)) floats.push(`'${f32[0]}'`);
    u64[0] = Math.floor(rand() * 2 ** 32);
    u64[1] = Math.floor(rand() * 2 ** 32);
    if (Number.isFinite(f64[0]!)) doubles.push(`'${f64[0]}'`);
    // everyday magnitudes too: short decimals, integers, values near the fixed/exponent switch
    floats.push(`'${(Math.round(rand() * 1e6) / 10 ** Math.floor(rand() * 8)).toString()}'`);
    doubles.push(`'${(rand() * 10 ** Math.floor(rand() * 40 - 20)).toString()}'`);
  }
  const specials = ["'NaN'", "'Infinity'", "'-Infinity'", '0', "'-0'", '1', '-1', '0.1', '1.5', '100000', '1000000', '999999.9', '1e15', '1e16', '123456789012345', '0.0001', '0.00001', '3.4028235e38', '1.17549435e-38', '1e-45'];
  const cases: string[] = [
    values('boolean', ['true', 'false']),
    values('tinyint', ['-128', '127', '0']),
    values('smallint', ['-32768', '32767', '-1']),
    values('utinyint', ['0', '255']),
    values('integer', ['-2147483648', '2147483647', '42']),
    values('usmallint', ['0', '65535']),
    values('bigint', ['-9223372036854775808', '9223372036854775807', '0']),
    values('uinteger', ['0', '4294967295']),
    values('ubigint', ['0', '18446744073709551615', '10000']),
    values('hugeint', ["'-170141183460469231731687303715884105727'", "'170141183460469231731687303715884105727'", '0', '-10000', '123456789012345678901234567890']),
    values('uhugeint', ['0', "'340282366920938463463374607431768211455'"]),
    values('decimal(4,1)', ['0', '-0.5', '999.9', '-999.9', '0.1']),
    values('decimal(9,4)', ['0.0001', '-12345.6789', '10000', '0.5']),
    values('decimal(18,6)', ['-999999999999.999999', '0.000001', '1.5', '100000000']),
    values('decimal(38,10)', ["'-9999999999999999999999999999.9999999999'", '0.0000000001', "'12345678901234567890.0123456789'", '0']),
    values('decimal(5,0)', ['0', '-99999', '10000']),
    values('float', [...specials, ...floats]),
    values('double', [...specials, '1e-300', '5e-324', '1.7976931348623157e308', ...doubles]),
    values('varchar', ["''", "'a'", "'héllo wörld ✓ 😀'", "'exactly12chr'", "'thirteen chrs'", "repeat('long ✓', 20000)", "'tab\there\nnewline \\ backslash'", 'chr(0)']),
    values('mood', ["'sad'", "'héppy 😀'", "''"]),
    `select (i % 70000)::varchar::wide as v from range(5000) t(i)`,
    values('blob', ["''", "'\\x00\\xFF\\x10abc'::blob", "repeat('z', 5000)::blob"]),
    values('json', [`'{"a": [1, 2, "ü"]}'`, "'null'", "'\"\"'"]),
    values('date', ["'1970-01-01'", "'1969-12-31'", "'2000-02-29'", "'0001-01-01'", "'0044-03-15 (BC)'", "'9999-12-31'", "'5877642-06-25'", "'infinity'", "'-infinity'"]),
    values('time', ["'00:00:00'", "'23:59:59.999999'", "'12:34:56.5'", "'24:00:00'", "'00:00:00.000001'"]),
    values('timestamp', ["'1970-01-01'", "'1969-12-31 23:59:59.999999'", "'2000-01-01 00:00:00.1'", "'0001-01-01 00:00:00'", "timestamp '0001-01-01' - interval '44 years 5 hours 0.25 seconds'", "'294246-12-31 23:59:59'", "'infinity'", "'-infinity'"]),
    values('timestamptz', ["'1970-01-01 00:00:00+00'", "'1969-12-31 23:59:59.999999+00'", "'2025-11-21 04:40:00.123+00'", "'0001-01-01 00:00:00+00'", "timestamptz '0001-01-01 00:00:00+00' - interval '44 years 5 hours'", "'infinity'", "'-infinity'"]),
    values('interval', ["interval '1 year 2 months 3 days 04:05:06.789'", "interval '-1 year'", "interval '-1 month'", "interval '1 day' - interval '1 hour'", "interval '0 seconds'",
      "interval '13 months'", "interval '-13 months'", "interval '-1 day'", "interval '1 day'", "interval '-2 days 3 hours'", "interval '100000 hours'", "to_months(-25) + to_days(-3) + to_microseconds(-1)", "to_microseconds(1)", "to_months(1) + to_microseconds(-5000000)"]),
    values('uuid', ["'00000000-0000-0000-0000-000000000000'", "'ffffffff-ffff-ffff-ffff-ffffffffffff'", "'7fffffff-ffff-ffff-ffff-ffffffffffff'", "'80000000-0000-0000-0000-000000000001'", "'00000000-0000-03e8-0000-00000001e240'"]),
    'select gen_random_uuid() as v from range(3000)',
    // many rows over several chunks, every type at once, NULLs spread across rows and columns
    `select case when i % 7 = 0 then null else i % 2 = 0 end as b, case when i % 5 = 0 then null else i end as i4,
        (i * 1000003)::bigint as i8, i / 7.0 as d, (i / 3.0)::float as f, case when i % 3 = 0 then null else 'row ' || i end as s,
        timestamptz '2025-11-21 04:40:00+00' + i * interval '1 millisecond' as ts, date '1999-12-31' + i::integer as dt,
        (i::decimal(18,3) / 8)::decimal(18,3) as n, case when i % 11 = 0 then null else to_seconds(i) end as iv
      from range(10000) t(i)`,
  ];
  let total = 0;
  for (const sql of cases) total += await compare(conn, sql);
  assert.ok(total > 3 * 30000, `compared ${total} rows`);
  conn.closeSync();
  instance.closeSync();
});

test('timestamptz text in a session TimeZone: native (one offset per batch) equals the JS encoders, value by value', async () => {
  assert.ok(addon, 'wiretap_duck.node is built (npm run build:native)');
  const instance = await DuckDBInstance.create(':memory:');
  const conn = await instance.connect();
  // per zone: one batch per DuckDB chunk (2048 rows); minutes around New York's spring-forward and
  // Berlin's fall-back, a day in 1890 (LMT, offsets with seconds), ±infinity, NULLs, the epoch,
  // values far apart (a batch spanning years), and a text column beside
  const sql = `select t, i::varchar as s from (
      select case when i % 97 = 0 then null when i = 5 then 'infinity'::timestamptz when i = 6 then '-infinity'::timestamptz
        else timestamptz '2025-03-09 06:00:00+00' + (i - 1024) * interval '61 seconds 7 microseconds' end as t, i from range(4096) t(i)
      union all select timestamptz '2025-10-26 00:30:00+00' + i * interval '1 second', 5000 + i from range(2048) t(i)
      union all select timestamptz '1890-06-01 12:00:00+00' + i * interval '17 seconds', 8000 + i from range(2048) t(i)
      union all select timestamptz '1970-01-01 00:00:00+00' + i * interval '3 days 1 microsecond', 11000 + i from range(2048) t(i)
    ) order by i`;
  for (const name of ['America/New_York', 'Europe/Berlin', 'Asia/Kolkata', 'Europe/Amsterdam', '<-04:56:02>+04:56:02', '-7']) {
    const zone = resolveTimeZone(name);
    const setting = (n: string) => (n === 'TimeZone' ? name : undefined);
    const before = { ...nativeStats };
    let batches = 0;
    for (const layout of [[0, 0], [0, 1]]) { // binary timestamptz is UTC (and refuses -infinity): the other test
      const result = streamedResult(await conn.stream(sql), () => {});
      for await (const b of resultBatches(result)) {
        batches++;
        const native = nativeDataRows(b, layout, setting);
        if (native === null) continue; // a span with an offset change: the JS encoders write it
        const out = new BackendWriter();
        for (const row of batchValues(b)) {
          out.dataRow(row.map((v, i) => (layout[i] === 1 ? encodeBinary(i === 0 ? 'timestamptz' : 'text', v) : formatValue(i === 0 ? 'timestamptz' : 'text', v, zone))));
        }
        const js = out.take();
        if (!js.equals(native)) {
          const [a, n] = [splitDataRows(js), splitDataRows(native)];
          const r = a.findIndex((m, k) => !m.equals(n[k]!));
          assert.fail(`${name} ${layout}: row ${r}: JS ${JSON.stringify(a[r]?.toString('latin1'))} native ${JSON.stringify(n[r]?.toString('latin1'))}`);
        }
      }
    }
    const native = nativeStats.batches - before.batches;
    const fallbacks = nativeStats.zoneFallbacks - before.zoneFallbacks;
    assert.equal(native + fallbacks, batches, name);
    // most batches lie within one offset; the DST/LMT-free fixed offsets never fall back
    assert.ok(native >= batches / 2, `${name}: ${native} of ${batches} native`);
    if (!zone.name.includes('/')) assert.equal(fallbacks, 0, name);
    // the chunks across New York's and Berlin's changes, and the one spanning years, must fall back
    if (name === 'America/New_York' || name === 'Europe/Berlin') assert.ok(fallbacks >= 2, `${name}: ${fallbacks} fallbacks`);
  }
  conn.closeSync();
  instance.closeSync();
});

test('one place decides native vs JS: unsupported types and session settings fall back', async () => {
  assert.ok(addon, 'wiretap_duck.node is built (npm run build:native)');
  const instance = await DuckDBInstance.create(':memory:');
  const conn = await instance.connect();
  const defaults = () => undefined;
  const typeIds = async (sql: string) => {
    const r = await conn.stream(sql);
    return Array.from({ length: r.columnCount }, (_, i) => r.columnTypeId(i) as number);
  };
  assert.equal(nativeRefusal(await typeIds("select 1, 'a', now(), 1.5::float"), defaults), null);
  assert.match(nativeRefusal(await typeIds('select [1, 2]'), defaults)!, /DuckDB type/);
  assert.match(nativeRefusal(await typeIds("select timestamp_ns '2020-01-01'"), defaults)!, /DuckDB type/);
  const tz = await typeIds("select timestamptz '2020-01-01 00:00:00+00'");
  assert.equal(nativeRefusal(tz, (n) => (n === 'TimeZone' ? 'Etc/UTC' : undefined)), null);
  // a zone is written natively (one offset per batch, next test)
  assert.equal(nativeRefusal(tz, (n) => (n === 'TimeZone' ? 'Europe/Berlin' : undefined)), null);
  assert.equal(nativeRefusal(await typeIds("select timestamp '2020-01-01'"), (n) => (n === 'TimeZone' ? 'Europe/Berlin' : undefined)), null);
  // extra_float_digits matters only for floats
  assert.equal(nativeRefusal(await typeIds('select 1.5::double'), (n) => (n === 'extra_float_digits' ? '0' : undefined)), 'extra_float_digits');
  assert.equal(nativeRefusal(await typeIds('select 1.5::double'), (n) => (n === 'extra_float_digits' ? '3' : undefined)), null);

  // a result the native path refuses still streams its rows, as JS Values
  const list = streamedResult(await conn.stream('select [i, i + 1] as l from range(3) t(i)'), () => {});
  const lists = [];
  for await (const b of resultBatches(list)) {
    assert.equal(nativeDataRows(b, [0], defaults), null);
    lists.push(...batchValues(b));
  }
  assert.deepEqual(lists, [['[0, 1]'], ['[1, 2]'], ['[2, 3]']]);

  // a timestamptz batch whose values span a change of the session zone's offset goes the JS way
  const zoned = streamedResult(await conn.stream("select timestamptz '2020-03-29 00:59:00+00' + i * interval '1 minute' as t from range(3) t(i)"), () => {});
  for await (const b of resultBatches(zoned)) assert.equal(nativeDataRows(b, [0], (n) => (n === 'TimeZone' ? 'Europe/Berlin' : undefined)), null);

  // DuckRows slice exactly where a row limit falls, and encode to the same bytes either way
  const ints = streamedResult(await conn.stream('select i, i::varchar as s from range(5000) t(i)'), () => {});
  let total = 0;
  for await (const b of resultBatches(ints)) {
    assert.ok(b instanceof DuckRows);
    total += batchLength(b);
    const whole = nativeDataRows(b, [1, 0], defaults)!;
    const pieces = [sliceBatch(b, 0, 3), sliceBatch(b, 3, 7), sliceBatch(b, 7, batchLength(b))];
    assert.deepEqual(pieces.map(batchLength), [3, 4, batchLength(b) - 7]);
    assert.ok(Buffer.concat(pieces.map((p) => nativeDataRows(p, [1, 0], defaults)!)).equals(whole));
    assert.deepEqual(batchValues(pieces[1]!), batchValues(b).slice(3, 7));
    const row3 = splitDataRows(nativeDataRows(pieces[1]!, [1, 0], defaults)!)[0]!;
    assert.equal(row3.readInt16BE(5), 2);
    assert.equal(row3.readBigInt64BE(11), BigInt(batchValues(b)[3]![0] as bigint));
  }
  assert.equal(total, 5000);
  conn.closeSync();
  instance.closeSync();
});
