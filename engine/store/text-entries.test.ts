// The native interner (native/src/store/intern.cc) against the JS one: the same rows give the
// same entries (bytes, order, lengths), the same row ids and the same well-formedness.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../../collector/synth/rng.ts';
import { storeAddon, storeAddonError } from '../../native/store.ts';
import { TextBuilder } from './text-entries.ts';

const words = ['', 'GET', 'é', 'ünïcødé 🚀', '\ud800', 'a\udc00b', '日本語', 'x'.repeat(700), 'tab\there', '\u0000nul', 'y'.repeat(20_000)];

function build(addon: typeof storeAddon, rows: readonly (string | null)[]) {
  const b = new TextBuilder(false, rows.length, addon);
  for (const s of rows) {
    if (s === null) b.pushNull();
    else b.push(s);
  }
  b.flush();
  const e = b.entries.view();
  return {
    count: e.count,
    utf8: Buffer.from(e.utf8).toString('hex'),
    ends: [...e.ends],
    chars: [...e.chars],
    wellFormed: e.wellFormed,
    idx: [...b.idx.subarray(0, rows.length)],
  };
}

test('native and JS interning give the same dictionary and ids', () => {
  assert.ok(storeAddon, `wiretap_store.node is built (npm run build:native) and loads: ${storeAddonError?.message ?? 'not built'}`);
  const rng = new Rng(5);
  const cases: (string | null)[][] = [
    [],
    [null, null, ''],
    Array.from({ length: 3000 }, (_, i) => (i % 9 === 0 ? null : rng.pick(words))),
    // Many distinct values: the table is rehashed several times between chunks.
    Array.from({ length: 40_000 }, (_, i) => `/api/v1/items/${rng.int(20_000)}${i % 101 === 0 ? rng.pick(words) : ''}`),
  ];
  for (const rows of cases) assert.deepEqual(build(storeAddon, rows), build(null, rows), `${rows.length} rows`);
});

test('the native interner refuses arrays too small for the chunk instead of writing past them', () => {
  assert.ok(storeAddon, `wiretap_store.node is built (npm run build:native) and loads: ${storeAddonError?.message ?? 'not built'}`);
  const src = Buffer.from('abcdef');
  const ends = Uint32Array.of(3, 6);
  const chars = Uint32Array.of(3, 3);
  const args = () => [src, ends, chars, 2, null, 0, new Uint32Array(2), Buffer.alloc(64), new Uint32Array(4), new Uint32Array(4), new Int32Array(8), new Uint32Array(4), new Uint32Array(2)] as const;
  const ok = args();
  storeAddon.intern(...ok);
  assert.deepEqual([...ok[12]], [2, 6]);
  assert.deepEqual([...ok[6]], [0, 1]);
  const small = args() as unknown as unknown[];
  small[7] = Buffer.alloc(4); // no room for the bytes
  assert.throws(() => (storeAddon!.intern as (...a: unknown[]) => void)(...small), /reserve first/);
  const noTable = args() as unknown as unknown[];
  noTable[10] = new Int32Array(3); // not a power of two, too small
  assert.throws(() => (storeAddon!.intern as (...a: unknown[]) => void)(...noTable), /reserve first/);
  const bad = args() as unknown as unknown[];
  bad[1] = [3, 6];
  assert.throws(() => (storeAddon!.intern as (...a: unknown[]) => void)(...bad), /srcEnds must be a typed array/);
});
