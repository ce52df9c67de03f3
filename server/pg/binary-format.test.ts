import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeNumeric, encodeBinary, encodeNumeric, pgMicrosToIso } from './binary-format.ts';
import { inferParameterTypes, parameterLiteral, substituteParameters } from './bind-parameters.ts';

test('numeric binary round-trips through PostgreSQL base-10000 digits', () => {
  for (const s of ['0', '1', '-1', '12345.6789', '0.0001', '100000000', '-0.50', '3.14159265358979', '1e5', 'NaN']) {
    const expected = s === '1e5' ? '100000' : s;
    assert.equal(decodeNumeric(encodeNumeric(s)), expected, s);
  }
  assert.deepEqual([...encodeNumeric('12345.67')], [0, 3, 0, 1, 0, 0, 0, 2, 0, 1, 0x09, 0x29, 0x1a, 0x2c]);
});

test('binary values: ints, floats, timestamps (2000 epoch), uuid, interval', () => {
  assert.equal(encodeBinary('int8', 5n)!.readBigInt64BE(0), 5n);
  assert.equal(encodeBinary('float8', 1.5)!.readDoubleBE(0), 1.5);
  assert.equal(encodeBinary('timestamptz', 946_684_800_000_000n)!.readBigInt64BE(0), 0n);
  assert.equal(encodeBinary('uuid', '00000000-0000-0001-0000-000000000002')!.toString('hex'), '00000000000000010000000000000002');
  const iv = encodeBinary('interval', { months: 2, days: 3, micros: 4n })!;
  assert.deepEqual([iv.readBigInt64BE(0), iv.readInt32BE(8), iv.readInt32BE(12)], [4n, 3, 2]);
  assert.equal(pgMicrosToIso(1n), '2000-01-01 00:00:00.000001');
});

test('parameters: typed literals from text and binary, inference, substitution outside strings', () => {
  const i8 = Buffer.alloc(8);
  i8.writeBigInt64BE(-7n);
  assert.equal(parameterLiteral(20, 1, i8, 1), 'CAST(-7 AS BIGINT)');
  assert.equal(parameterLiteral(0, 0, Buffer.from("o'k"), 1), "'o''k'");
  assert.equal(parameterLiteral(16, 0, Buffer.from('t'), 1), 'TRUE');
  assert.equal(parameterLiteral(17, 0, Buffer.from('\\x0aff'), 1), "CAST('\\x0a\\xff' AS BLOB)");
  assert.equal(parameterLiteral(25, 0, null, 1), 'NULL');
  assert.throws(() => parameterLiteral(23, 1, Buffer.alloc(3), 1), { sqlstate: '22P03' });
  assert.deepEqual(inferParameterTypes('select * from http_events where latency > $1 limit $2 offset $3::int', [], 3), [20, 20, 23]);
  assert.deepEqual(inferParameterTypes('select $1', [0], 1), [25]);
  assert.equal(substituteParameters("select $1, '$1', $2 -- $1", ['1', "'a'"]), "select 1, '$1', 'a' -- $1");
});
