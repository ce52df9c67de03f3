import assert from 'node:assert/strict';
import { test } from 'node:test';
import { newStats } from '../stats.ts';
import { ConnScript, endpoint } from '../synth/conn-script.ts';
import { ByteStream } from './byte-stream.ts';

const stream = () => new ByteStream(newStats(), 16);

test('consuming part of a piece: piece() reads at an offset, firstChunk() is a Buffer of the rest', () => {
  const s = stream();
  const c = new ConnScript(endpoint());
  s.push(c.recv('abcdef', 10n));
  s.consume(2);
  const raw = s.piece();
  assert.deepEqual([s.pieceStart, s.pieceEnd], [2, 6]);
  assert.equal(raw.toString('latin1', s.pieceStart, s.pieceEnd), 'cdef');
  assert.equal(s.firstChunk().toString('latin1'), 'cdef');
  s.consume(1);
  assert.equal(s.firstChunk().toString('latin1'), 'def');
  s.piece();
  assert.deepEqual([s.pieceStart, s.pieceEnd], [0, 3], 'the view made by firstChunk() is the piece now');
  assert.equal(s.buffered, 3);
});

test('contiguous() joins pieces from their offsets; a gap ends the piece', () => {
  const s = stream();
  const c = new ConnScript(endpoint());
  s.push(c.recv('abc', 1n));
  s.push(c.recv('defgh', 2n));
  s.push(c.recv('xyz', 3n, 1)); // 1 byte captured, 2 lost
  s.push(c.recv('tail', 4n));
  s.consume(1);
  assert.equal(s.contiguous().toString('latin1'), 'bcdefghx');
  assert.equal(s.gapFollows(), true);
  s.consume(8);
  assert.equal(s.headGap(), 2);
  assert.equal(s.piece().length, 0);
  assert.deepEqual([s.pieceStart, s.pieceEnd], [0, 0]);
  s.consume(2);
  assert.equal(s.contiguous().toString('latin1'), 'tail');
});

test('a payload longer than the bytes moved: only `size` bytes are the stream', () => {
  const s = stream();
  const c = new ConnScript(endpoint());
  const ev = c.recv('abcd', 1n);
  ev.payload = Buffer.from('abcdEXTRA');
  s.push(ev);
  s.consume(1);
  s.piece();
  assert.deepEqual([s.pieceStart, s.pieceEnd], [1, 4]);
  assert.equal(s.firstChunk().toString('latin1'), 'bcd');
});

test('timeAt: the time of the event carrying each byte, also after marks are compacted', () => {
  const s = stream();
  const c = new ConnScript(endpoint());
  // 500 events of 7 bytes at times 1000 + i; consumed in uneven steps so marks are pruned and
  // the mark array is compacted several times.
  for (let i = 0; i < 500; i++) s.push(c.recv('x'.repeat(7), 1000n + BigInt(i)));
  let head = 0;
  for (const step of [3, 11, 60, 200, 5, 900, 1, 1000]) {
    s.consume(step);
    head += step;
    assert.equal(s.timeAt(0), 1000n + BigInt(Math.floor(head / 7)), `head ${head}`);
    assert.equal(s.timeAt(20), 1000n + BigInt(Math.floor((head + 20) / 7)), `head ${head} + 20`);
  }
  assert.equal(s.available(), 3500 - head);
});
