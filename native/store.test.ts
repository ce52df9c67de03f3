import { test } from 'node:test';
import assert from 'node:assert/strict';
import { storeAddon, storeAddonError } from './store.ts';

// intern.cc reads each array with one napi_get_typedarray_info and checks its element type: a
// typed array of another type is refused, never read with the wrong element size.
test('the native interner refuses typed arrays of the wrong element type', () => {
  assert.ok(storeAddon, `wiretap_store.node is built (npm run build:native) and loads: ${storeAddonError?.message ?? 'not built'}`);
  const args = (): unknown[] => [Buffer.from('abcdef'), Uint32Array.of(3, 6), Uint32Array.of(3, 3), 2, null, 0, new Uint32Array(2), Buffer.alloc(64),
    new Uint32Array(4), new Uint32Array(4), new Int32Array(8), new Uint32Array(4), new Uint32Array(2)];
  const intern = storeAddon.intern as (...a: unknown[]) => void;
  const ok = args();
  intern(...ok);
  assert.deepEqual([...(ok[6] as Uint32Array)], [0, 1]);
  const cases: [number, unknown, RegExp][] = [
    [6, new Int32Array(2), /idx must be a typed array/],
    [10, new Uint32Array(8), /table must be a typed array/],
    [7, new Uint16Array(64), /utf8 must be a typed array/],
    [4, new Uint32Array(2), /nulls must be a typed array/],
    [12, new Float64Array(2), /state must be a typed array/],
    [0, 'abcdef', /src must be a typed array/],
  ];
  for (const [i, v, re] of cases) {
    const a = args();
    a[i] = v;
    assert.throws(() => intern(...a), re, `argument ${i}`);
  }
});
