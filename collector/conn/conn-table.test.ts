import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Rng } from '../synth/rng.ts';
import { ConnTable } from './conn-table.ts';

// Keys as the tracker makes them: small integers (tgid * 256 + fd) and large ones up to 2^53.
function key(rng: Rng, wide: boolean): number {
  if (!wide) return rng.int(64) * 256 + rng.int(8);
  return 1073741824 + rng.int(1 << 22) * 2147483648 + rng.int(2 ** 31);
}

test('random set/get/delete agree with a Map (clustered small keys, wide keys, growth, deletes in probe runs)', () => {
  for (const wide of [false, true]) {
    const rng = new Rng(wide ? 7 : 3);
    const t = new ConnTable<number>(8);
    const m = new Map<number, number>();
    const seen: number[] = [];
    for (let op = 0; op < 40_000; op++) {
      const r = rng.next();
      const k = seen.length > 0 && r < 0.6 ? rng.pick(seen) : key(rng, wide);
      if (r < 0.35) {
        t.set(k, op);
        m.set(k, op);
        seen.push(k);
      } else if (r < 0.6) {
        assert.equal(t.delete(k), m.delete(k));
      } else {
        assert.equal(t.get(k), m.get(k));
      }
      assert.equal(t.size, m.size);
    }
    for (const k of seen) assert.equal(t.get(k), m.get(k));
    assert.deepEqual([...t.values()].sort((a, b) => a - b), [...m.values()].sort((a, b) => a - b));
  }
});

test('list() is a snapshot: deleting while walking it visits every entry once', () => {
  const t = new ConnTable<number>();
  for (let i = 0; i < 1000; i++) t.set(i * 256 + 3, i);
  let n = 0;
  for (const v of t.list()) {
    assert.equal(t.delete(v * 256 + 3), true);
    n++;
  }
  assert.equal(n, 1000);
  assert.equal(t.size, 0);
  assert.equal(t.get(3), undefined);
});
