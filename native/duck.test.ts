import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { DuckDBInstance } from '@duckdb/node-api';
import { connectionExternal, duckAddon } from './duck.ts';

test('the duck addon reaches @duckdb/node-api connections through the shared libduckdb', async () => {
  const instance = await DuckDBInstance.create(':memory:');
  const conn = await instance.connect();
  const out = duckAddon().probe(connectionExternal(conn));
  assert.equal(out.answer, 42);
  assert.match(out.version, /^v1\./);
  const copies = new Set(readFileSync('/proc/self/maps', 'utf8').split('\n')
    .filter((line) => line.includes('libduckdb')).map((line) => line.split(/\s+/).pop()));
  assert.equal(copies.size, 1, `one libduckdb mapped, got ${[...copies].join(', ')}`);
  assert.throws(() => duckAddon().probe({}), /expected a @duckdb\/node-bindings external/);
  const chunk = await (await conn.run('select 1')).fetchChunk();
  assert.throws(() => duckAddon().probe((chunk as unknown as { chunk: unknown }).chunk), /type tag mismatch/);
  conn.closeSync();
});
