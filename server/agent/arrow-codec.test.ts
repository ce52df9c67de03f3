// Arrow IPC messages between agent and broker give back exactly the engine's Values.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeChunk, encodeChunk } from './arrow-codec.ts';
import type { ResultColumn, Value } from '../../engine/query.ts';

test('every wire column type round-trips, nulls included', () => {
  const columns: ResultColumn[] = [
    { name: 'b', type: 'bool' }, { name: 'i4', type: 'int4' }, { name: 'i8', type: 'int8' }, { name: 'f', type: 'float8' },
    { name: 'n', type: 'numeric' }, { name: 't', type: 'text' }, { name: 'u', type: 'uuid' }, { name: 'ts', type: 'timestamptz' },
    { name: 'd', type: 'date' }, { name: 'iv', type: 'interval' }, { name: 'by', type: 'bytea' },
  ];
  const rows: Value[][] = [
    [true, 7, 1n << 62n, 1.25, '123456789012345678901234567890', 'héllo', '3c603ba0-0000-1005-0000-0000000de2b0', 1_767_225_600_000_000n, 20454, { months: 1, days: 2, micros: 3n }, new Uint8Array([0, 255])],
    columns.map(() => null),
  ];
  const decoded = decodeChunk(encodeChunk(columns, rows));
  assert.deepEqual(decoded.columns, columns);
  assert.deepEqual(decoded.rows, rows);
  assert.deepEqual(decodeChunk(encodeChunk(columns, [])).rows, []);
});

test('thousands of rows with scattered nulls decode to the same values', () => {
  const columns: ResultColumn[] = [
    { name: 'b', type: 'bool' }, { name: 'i4', type: 'int4' }, { name: 'i8', type: 'int8' }, { name: 'f', type: 'float8' },
    { name: 't', type: 'text' }, { name: 'ts', type: 'timestamptz' }, { name: 'iv', type: 'interval' }, { name: 'by', type: 'bytea' },
  ];
  const rows: Value[][] = Array.from({ length: 5000 }, (_, i) => columns.map((c, j) => {
    if ((i + j) % 7 === 0) return null;
    switch (c.type) {
      case 'bool': return i % 3 === 0;
      case 'int4': return i - 2500;
      case 'int8': return BigInt(i) * 1_000_000_007n;
      case 'float8': return i / 8;
      case 'text': return `/api/${i % 97}/ü`;
      case 'timestamptz': return 1_767_225_600_000_000n + BigInt(i);
      case 'interval': return { months: i % 12, days: i % 31, micros: BigInt(i) };
      default: return new Uint8Array([i & 255, 7]);
    }
  }));
  assert.deepEqual(decodeChunk(encodeChunk(columns, rows)).rows, rows);
});
