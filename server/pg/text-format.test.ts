import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatValue, formatFloat4, formatFloat8, formatInterval, formatTimestamp, formatTimestamptz } from './text-format.ts';
import { resolveTimeZone } from '../../planner/session/time-zone.ts';
import { pgTypes } from './pg-types.ts';

test('bool and integers', () => {
  assert.equal(formatValue('bool', true), 't');
  assert.equal(formatValue('bool', false), 'f');
  assert.equal(formatValue('int2', -32768), '-32768');
  assert.equal(formatValue('int4', 2147483647), '2147483647');
  assert.equal(formatValue('int8', 9223372036854775807n), '9223372036854775807');
  assert.equal(formatValue('int8', -9223372036854775808n), '-9223372036854775808');
  assert.equal(formatValue('int8', 42), '42');
});

test('null is SQL NULL for every type', () => {
  for (const t of Object.keys(pgTypes) as Array<keyof typeof pgTypes>) assert.equal(formatValue(t, null), null);
});

test('float8 like PostgreSQL 12+ (shortest round-trip, exponent outside 1e-4..1e15)', () => {
  const cases: Array<[number, string]> = [
    [0, '0'],
    [-0, '-0'],
    [1, '1'],
    [1.5, '1.5'],
    [-2.25, '-2.25'],
    [0.1, '0.1'],
    [0.1 + 0.2, '0.30000000000000004'],
    [3.141592653589793, '3.141592653589793'],
    [0.0001, '0.0001'],
    [0.00001, '1e-05'],
    [1.5e-7, '1.5e-07'],
    [123456789012345, '123456789012345'],
    [1e15, '1e+15'],
    [1234567890123456, '1.234567890123456e+15'],
    [1e21, '1e+21'],
    [1.7976931348623157e308, '1.7976931348623157e+308'],
    [5e-324, '5e-324'],
    [100, '100'],
  ];
  for (const [v, s] of cases) assert.equal(formatFloat8(v), s, `float8 ${v}`);
  assert.equal(formatFloat8(NaN), 'NaN');
  assert.equal(formatFloat8(Infinity), 'Infinity');
  assert.equal(formatFloat8(-Infinity), '-Infinity');
  assert.equal(formatValue('float8', 2.5), '2.5');
});

test('float4 uses float32 shortest digits and switches to exponent at 1e6', () => {
  assert.equal(formatFloat4(Math.fround(0.1)), '0.1');
  assert.equal(formatFloat4(Math.fround(3.14159)), '3.14159');
  assert.equal(formatFloat4(Math.fround(1.5)), '1.5');
  assert.equal(formatFloat4(123456), '123456');
  assert.equal(formatFloat4(1e6), '1e+06');
  assert.equal(formatFloat4(Math.fround(16777217)), '1.6777216e+07');
  assert.equal(formatFloat4(NaN), 'NaN');
  assert.equal(formatFloat4(-Infinity), '-Infinity');
  assert.equal(formatValue('float4', Math.fround(0.2)), '0.2');
});

test('numeric, text, json, uuid pass through', () => {
  assert.equal(formatValue('numeric', '12345678901234567890.000001'), '12345678901234567890.000001');
  assert.equal(formatValue('text', 'héllo ✓'), 'héllo ✓');
  assert.equal(formatValue('json', '{"a":[1,2]}'), '{"a":[1,2]}');
  assert.equal(formatValue('uuid', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'), 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11');
});

test('bytea as \\x hex', () => {
  assert.equal(formatValue('bytea', new Uint8Array([0xde, 0xad, 0xbe, 0xef, 0x00])), '\\xdeadbeef00');
  assert.equal(formatValue('bytea', new Uint8Array([])), '\\x');
  const sub = new Uint8Array([1, 2, 3, 4]).subarray(1, 3);
  assert.equal(formatValue('bytea', sub), '\\x0203');
});

test('timestamptz and timestamp in ISO style, fraction trimmed, UTC offset +00', () => {
  assert.equal(formatValue('timestamptz', 0n), '1970-01-01 00:00:00+00');
  assert.equal(formatValue('timestamptz', 1700000000123456n), '2023-11-14 22:13:20.123456+00');
  assert.equal(formatValue('timestamptz', 1700000000120000n), '2023-11-14 22:13:20.12+00');
  assert.equal(formatValue('timestamptz', 1700000000000001n), '2023-11-14 22:13:20.000001+00');
  assert.equal(formatValue('timestamp', 1700000000500000n), '2023-11-14 22:13:20.5');
  assert.equal(formatValue('timestamp', -1n), '1969-12-31 23:59:59.999999');
  assert.equal(formatValue('timestamp', 951782400000000n), '2000-02-29 00:00:00'); // leap day
  assert.equal(formatValue('timestamp', 253402300799999999n), '9999-12-31 23:59:59.999999');
  assert.equal(formatValue('timestamp', 253402300800000000n), '10000-01-01 00:00:00');
  // 0001-01-01 and the day before it, which PostgreSQL prints as 0001-12-31 BC
  assert.equal(formatValue('timestamp', -62135596800000000n), '0001-01-01 00:00:00');
  assert.equal(formatValue('timestamptz', -62135596800000000n - 86400000000n), '0001-12-31 00:00:00+00 BC');
  assert.equal(formatTimestamp(9223372036854775807n, true), 'infinity');
  assert.equal(formatTimestamp(-9223372036854775807n, false), '-infinity');
});

// Expected text is what PostgreSQL 15 printed for the same instants after SET TimeZone (Debian).
test('timestamptz text in the session TimeZone: DST edges, half-hour and 45-minute offsets, LMT, fixed offsets', () => {
  const at = (iso: string): bigint => BigInt(Date.parse(iso)) * 1000n;
  const inZone = (zone: string, iso: string, extraMicros = 0n): string => formatTimestamptz(at(iso) + extraMicros, resolveTimeZone(zone));
  // Europe/Amsterdam: CET → CEST at 2026-03-29 01:00Z; the brief's example
  assert.equal(inZone('Europe/Amsterdam', '2026-03-29T00:59:59Z'), '2026-03-29 01:59:59+01');
  assert.equal(inZone('Europe/Amsterdam', '2026-03-29T01:00:00Z'), '2026-03-29 03:00:00+02');
  assert.equal(inZone('Europe/Amsterdam', '2026-11-21T22:00:00Z'), '2026-11-21 23:00:00+01');
  assert.equal(formatValue('timestamptz', at('2026-11-21T22:00:00Z'), resolveTimeZone('europe/amsterdam')), '2026-11-21 23:00:00+01');
  // Europe/London: BST ends 2026-10-25 01:00Z (the wall clock repeats 01:xx)
  assert.equal(inZone('Europe/London', '2026-10-25T00:59:59Z', 999_999n), '2026-10-25 01:59:59.999999+01');
  assert.equal(inZone('Europe/London', '2026-10-25T01:00:00Z'), '2026-10-25 01:00:00+00');
  assert.equal(inZone('Asia/Kolkata', '2026-11-21T22:00:00.5Z'), '2026-11-22 03:30:00.5+05:30');
  assert.equal(inZone('Asia/Kathmandu', '2026-11-21T22:00:00Z'), '2026-11-22 03:45:00+05:45');
  assert.equal(inZone('America/St_Johns', '2026-11-21T22:00:00Z'), '2026-11-21 18:30:00-03:30');
  assert.equal(inZone('America/St_Johns', '2026-07-01T00:00:00Z'), '2026-06-30 21:30:00-02:30');
  assert.equal(inZone('Australia/Lord_Howe', '2026-07-01T00:00:00Z'), '2026-07-01 10:30:00+10:30'); // half-hour DST
  assert.equal(inZone('Australia/Lord_Howe', '2026-01-01T00:00:00Z'), '2026-01-01 11:00:00+11');
  assert.equal(inZone('Pacific/Chatham', '2026-07-01T00:00:00Z'), '2026-07-01 12:45:00+12:45');
  assert.equal(inZone('America/New_York', '1883-11-18T12:00:00Z'), '1883-11-18 07:03:58-04:56:02'); // local mean time
  assert.equal(inZone('America/New_York', '2100-07-01T00:00:00Z'), '2100-06-30 20:00:00-04');
  assert.equal(inZone('EST5EDT', '2026-07-01T00:00:00Z'), '2026-06-30 20:00:00-04');
  assert.equal(inZone('Etc/GMT-3', '2026-07-01T00:00:00Z'), '2026-07-01 03:00:00+03');
  // numbers are hours east (ISO sign); POSIX specs are hours west
  assert.equal(inZone('-7', '2026-11-21T22:00:00Z'), '2026-11-21 15:00:00-07');
  assert.equal(inZone('5.5', '2026-11-21T22:00:00Z'), '2026-11-22 03:30:00+05:30');
  assert.equal(inZone('-3.5', '2026-07-01T00:00:00Z'), '2026-06-30 20:30:00-03:30');
  assert.equal(inZone('+02:00', '2026-11-21T22:00:00Z'), '2026-11-21 20:00:00-02');
  assert.equal(inZone('UTC+3', '2026-11-21T22:00:00Z'), '2026-11-21 19:00:00-03');
  assert.equal(inZone('UTC-05:30', '2026-07-01T00:00:00Z'), '2026-07-01 05:30:00+05:30');
  assert.equal(inZone('XYZ3', '2026-07-01T00:00:00Z'), '2026-06-30 21:00:00-03');
  // UTC spellings, infinities, and the BC suffix after the offset
  for (const z of ['UTC', 'Etc/UTC', 'GMT', 'utc', '0']) assert.equal(inZone(z, '2026-07-01T00:00:00Z'), '2026-07-01 00:00:00+00');
  assert.equal(formatTimestamptz(9223372036854775807n, resolveTimeZone('Asia/Tokyo')), 'infinity');
  assert.equal(formatTimestamptz(-62135596800000000n - 86400000000n, resolveTimeZone('Asia/Tokyo')), '0001-12-31 09:18:59+09:18:59 BC');
  // every minute of a DST day agrees with an independent Intl reading of the wall clock
  const ny = resolveTimeZone('America/New_York');
  const wall = new Intl.DateTimeFormat('sv-SE', { timeZone: 'America/New_York', dateStyle: 'short', timeStyle: 'medium' });
  for (let t = Date.parse('2026-03-08T05:00:00Z'); t < Date.parse('2026-03-08T09:00:00Z'); t += 60_000) {
    assert.equal(formatTimestamptz(BigInt(t) * 1000n, ny).slice(0, 19), wall.format(t));
  }
});

test('date and time', () => {
  assert.equal(formatValue('date', 0), '1970-01-01');
  assert.equal(formatValue('date', 19675), '2023-11-14');
  assert.equal(formatValue('date', -1), '1969-12-31');
  assert.equal(formatValue('date', -719162), '0001-01-01');
  assert.equal(formatValue('date', -719163), '0001-12-31 BC');
  assert.equal(formatValue('date', 2147483647), 'infinity');
  assert.equal(formatValue('date', -2147483647), '-infinity');
  assert.equal(formatValue('time', 0n), '00:00:00');
  assert.equal(formatValue('time', 45296789000n), '12:34:56.789');
  assert.equal(formatValue('time', 86399999999n), '23:59:59.999999');
  assert.equal(formatValue('time', 86400000000n), '24:00:00');
});

test("interval in IntervalStyle 'postgres'", () => {
  const iv = (months: number, days: number, micros: bigint): string => formatInterval({ months, days, micros });
  assert.equal(iv(14, 3, 14706789000n), '1 year 2 mons 3 days 04:05:06.789');
  assert.equal(iv(0, 0, 0n), '00:00:00');
  assert.equal(iv(1, 0, 0n), '1 mon');
  assert.equal(iv(24, 0, 0n), '2 years');
  assert.equal(iv(0, 1, 0n), '1 day');
  assert.equal(iv(0, 0, 1_500_000n), '00:00:01.5');
  assert.equal(iv(-12, 0, 0n), '-1 years');
  assert.equal(iv(-14, 0, 0n), '-1 years -2 mons');
  assert.equal(iv(-12, 2, 0n), '-1 years +2 days');
  assert.equal(iv(0, 1, -3_600_000_000n), '1 day -01:00:00');
  assert.equal(iv(0, -1, 3_600_000_000n), '-1 days +01:00:00');
  assert.equal(iv(0, 0, -1n), '-00:00:00.000001');
  assert.equal(iv(0, 0, 360_000_000_000n), '100:00:00');
  assert.equal(formatValue('interval', { months: 0, days: 2, micros: 0n }), '2 days');
});

test('every column type has an OID and typlen', () => {
  assert.deepEqual(
    Object.fromEntries(Object.entries(pgTypes).map(([k, v]) => [k, [v.oid, v.len]])),
    {
      bool: [16, 1], int2: [21, 2], int4: [23, 4], int8: [20, 8], float4: [700, 4], float8: [701, 8],
      numeric: [1700, -1], text: [25, -1], bytea: [17, -1], json: [114, -1], uuid: [2950, 16],
      timestamptz: [1184, 8], timestamp: [1114, 8], date: [1082, 4], time: [1083, 8], interval: [1186, 16],
    },
  );
});
