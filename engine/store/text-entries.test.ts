// The native interner (native/src/store/intern.cc) against the JS one: the same rows give the
// same entries (bytes, order, lengths), the same row ids and the same well-formedness.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../../collector/synth/rng.ts';
import { storeAddon, storeAddonError } from '../../native/store.ts';
import { Utf8Text } from '../utf8-text.ts';
import { TextBuilder } from './text-entries.ts';

const words = ['', 'GET', 'é', 'ünïcødé 🚀', '\ud800', 'a\udc00b', '日本語', 'x'.repeat(700), 'tab\there', '\u0000nul', 'y'.repeat(20_000)];

function build(addon: typeof storeAddon, rows: readonly (string | Utf8Text | null)[], plain = false) {
  const b = new TextBuilder(plain, rows.length, addon);
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

/** s as a Utf8Text inside a bigger buffer (as in the parser's slab). */
function bytesOf(s: string): Utf8Text {
  const b = Buffer.from(s);
  const slab = Buffer.concat([Buffer.from('\u00ff{'), b, Buffer.from('}')]);
  return new Utf8Text(slab, 3, 3 + b.length, s.length);
}

test('rows given as UTF-8 bytes (Utf8Text) give the same entries and ids as the same strings', () => {
  const rng = new Rng(11);
  const wellFormed = words.filter((w) => (w as unknown as { isWellFormed(): boolean }).isWellFormed()); // ES2024, in Node 20
  const cases: (string | null)[][] = [
    Array.from({ length: 3000 }, (_, i) => (i % 9 === 0 ? null : rng.pick(wellFormed))),
    Array.from({ length: 20_000 }, (_, i) => `{"host":"svc-${rng.int(30)}","x-request-id":"${i % 3 === 0 ? rng.int(1e6) : 0}"}`),
  ];
  for (const rows of cases) {
    // All bytes, and strings and bytes interleaved in runs (each switch flushes a chunk).
    const allBytes = rows.map((s) => (s === null ? null : bytesOf(s)));
    const mixed = rows.map((s, i) => (s === null || (i >> 4) % 3 === 0 ? s : bytesOf(s)));
    for (const plain of [false, true]) {
      for (const addon of plain ? [null] : [storeAddon, null]) {
        const want = build(addon, rows, plain);
        assert.deepEqual(build(addon, allBytes, plain), want, `${rows.length} rows as bytes, plain=${plain}, native=${addon !== null}`);
        assert.deepEqual(build(addon, mixed, plain), want, `${rows.length} rows mixed, plain=${plain}, native=${addon !== null}`);
      }
    }
  }
});

test('a table store fed Utf8Text headers and bodies seals the same bytes as when fed strings', async () => {
  const { TableStore } = await import('./table-store.ts');
  const { tables } = await import('../schema.ts');
  const { httpRow } = await import('../testing/http-row.ts');
  const sealed = (asBytes: boolean): unknown[] => {
    const rng = new Rng(7);
    const store = new TableStore('http_events', tables.http_events, { budgetBytes: 1e12, maxRows: 1e12, batchRows: 4096, batchBytes: 1e12, lateWindowMs: 1e9, level: 1 });
    const t = (s: string) => (asBytes ? bytesOf(s) : s);
    for (let i = 0; i < 4096 * 3 + 55; i++) {
      const body = rng.next() < 0.5 ? `{"id":${rng.int(1e9)},"name":"ïtem-${i}"}` : '';
      store.append(httpRow({
        timeNs: 1_700_000_000_000_000_000n + BigInt(i) * 1_000_321n,
        reqHeaders: t(`{"host":"svc-${rng.int(20)}","x-request-id":"${rng.next() < 0.3 ? rng.int(1e6) : 0}"}`),
        respHeaders: t(`{"content-type":"application/json","content-length":"${body.length}"}`),
        reqBody: t(rng.next() < 0.9 ? '' : 'x'.repeat(rng.int(2000))),
        respBody: t(body),
      }));
    }
    store.seal();
    return store.sealedBatches().map((b) => (b as unknown as { cols: unknown }).cols);
  };
  const bytes = sealed(true);
  assert.equal(bytes.length, 4);
  assert.deepEqual(bytes, sealed(false));
});

test('Utf8Text runs interned from their slabs or copied as plain entries (gaps, adjacent, repeated, other slabs, pending strings) give the JS builder\'s entries and ids', () => {
  assert.ok(storeAddon, `wiretap_store.node is built (npm run build:native) and loads: ${storeAddonError?.message ?? 'not built'}`);
  const rng = new Rng(23);
  const pool = ['', 'GET', 'é', 'ünïcødé 🚀', '日本語', 'x'.repeat(700), '{"a":1}', '{"a":2}', 'y'.repeat(3000)];
  // Values written one after another into 16 KiB slabs with random gaps (other columns' bytes);
  // some values point at the same bytes again (offsets going back: a new run).
  const slabs: Buffer[] = [Buffer.alloc(16384, 0x7b)];
  let used = 0;
  const values: (Utf8Text | string | null)[] = [];
  let prev: Utf8Text | null = null;
  for (let i = 0; i < 5000; i++) {
    const r = rng.next();
    if (r < 0.05) { values.push(null); continue; }
    if (r < 0.1) { values.push(rng.pick(pool)); continue; } // a string between byte rows
    if (r < 0.15 && prev) { values.push(prev); continue; }
    const s = rng.pick(pool);
    const b = Buffer.from(s);
    const gap = rng.next() < 0.5 ? 0 : rng.int(40);
    if (used + gap + b.length > 16384) { slabs.push(Buffer.alloc(Math.max(16384, b.length), 0x7b)); used = 0; }
    const slab = slabs.at(-1)!;
    b.copy(slab, used + gap);
    prev = new Utf8Text(slab, used + gap, used + gap + b.length, s.length);
    used += gap + b.length;
    values.push(prev);
  }
  const strings = values.map((v) => (v === null || typeof v === 'string' ? v : v.toString()));
  // Pushed as the hot batch does: runs of Utf8Text through pushUtf8Values, strings and NULLs one by one.
  for (const [run, plain] of [[1, false], [7, false], [64, false], [300, false], [1, true], [7, true], [300, true]] as const) {
    const b: TextBuilder = new TextBuilder(plain, values.length, storeAddon);
    for (let k = 0; k < values.length;) {
      const v = values[k];
      if (v instanceof Utf8Text) {
        let j = k + 1;
        while (j < values.length && j - k < run && values[j] instanceof Utf8Text) j++;
        b.pushUtf8Values(values, k, j);
        k = j;
      } else {
        if (v === null) b.pushNull();
        else b.push(v);
        k++;
      }
    }
    b.flush();
    const e = b.entries.view();
    const got = { count: e.count, utf8: Buffer.from(e.utf8).toString('hex'), ends: [...e.ends], chars: [...e.chars], wellFormed: e.wellFormed, idx: [...b.idx.subarray(0, values.length)] };
    assert.deepEqual(got, build(null, strings, plain), `runs of ${run}, plain=${plain}`);
    assert.equal(b.rows, values.length);
  }
});
