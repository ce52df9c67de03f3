// Arrow IPC messages between agent and broker give back exactly the engine's Values.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tableFromArrays, tableToIPC } from 'apache-arrow';
import { decodeChunk, decodeDirect, decodeWithArrowJs, encodeChunk, encodeWithArrowJs } from './arrow-codec.ts';
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
  // the direct writer's messages read the same through apache-arrow's reader (it checks the layout)
  assert.deepEqual(decodeWithArrowJs(encodeChunk(columns, rows)), { columns, rows });
  assert.deepEqual(decodeChunk(encodeWithArrowJs(columns, rows)), { columns, rows });
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
  assert.deepEqual(decodeWithArrowJs(encodeChunk(columns, rows)).rows, rows);
});

test('the direct reader decodes what encodeChunk writes (apache-arrow only for other writers); a cut message is a clear error', () => {
  const columns: ResultColumn[] = [{ name: 'k', type: 'text' }, { name: 'n', type: 'int8' }, { name: 's', type: 'numeric' }, { name: 'b', type: 'bool' }];
  const rows: Value[][] = Array.from({ length: 48 }, (_, i) => [`/p${i}`, BigInt(i), i % 5 ? String(i * 1000) : null, i % 2 === 0]);
  const msg = encodeChunk(columns, rows);
  for (const bytes of [msg, Buffer.concat([Buffer.from([1, 2, 3]), msg]).subarray(3)]) { // any alignment
    assert.deepEqual(decodeDirect(bytes), { columns, rows });
    assert.deepEqual(decodeWithArrowJs(bytes), { columns, rows });
  }
  assert.deepEqual(decodeDirect(encodeChunk(columns, [])), { columns, rows: [] });
  // a schema without wiretap types (another writer): not the direct reader's; apache-arrow's fails clearly
  const foreign = tableToIPC(tableFromArrays({ x: Int32Array.from([1, 2]) }), 'stream');
  assert.equal(decodeDirect(foreign), null);
  assert.throws(() => decodeChunk(foreign), /malformed Arrow message from the node/); // untyped columns
  for (const cut of [msg.byteLength - 20, msg.byteLength >> 1]) {
    assert.throws(() => decodeChunk(msg.subarray(0, cut)), /malformed Arrow message from the node/);
  }
});
