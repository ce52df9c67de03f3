import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MessageFramer, ProtocolViolation, type Frame } from './framing.ts';
import { BackendWriter } from './backend-messages.ts';
import { frontend, BackendDecoder, dataRowValues, errorFields, rowDescription } from './wire-test-client.ts';

function drain(f: MessageFramer): Frame[] {
  const out: Frame[] = [];
  for (let m = f.next(); m; m = f.next()) out.push(m);
  return out;
}

const startup = frontend.startup({ user: 'u', database: 'd' });
const q1 = frontend.query('select 1');
const q2 = frontend.query('select 22; select 333');

test('startup packet then typed messages, all coalesced into one chunk', () => {
  const f = new MessageFramer();
  f.push(Buffer.concat([startup, q1, q2]));
  const first = f.next()!;
  assert.equal(first.type, 0);
  assert.equal(first.body.readInt32BE(0), 196608);
  f.endStartupPhase(); // the connection switches phase after accepting the startup packet
  const rest = drain(f);
  assert.deepEqual(rest.map((m) => String.fromCharCode(m.type)), ['Q', 'Q']);
  assert.equal(rest[1]!.body.toString('utf8'), 'select 22; select 333\0');
  assert.equal(f.buffered, 0);
});

test('messages split at every byte boundary arrive whole', () => {
  const all = Buffer.concat([q1, q2, frontend.sync()]);
  for (let cut = 1; cut < all.length; cut++) {
    const f = new MessageFramer();
    f.endStartupPhase();
    f.push(all.subarray(0, cut));
    const got = drain(f);
    f.push(all.subarray(cut));
    got.push(...drain(f));
    assert.deepEqual(got.map((m) => String.fromCharCode(m.type)), ['Q', 'Q', 'S'], `cut at ${cut}`);
    assert.equal(got[0]!.body.toString(), 'select 1\0');
  }
});

test('one byte at a time', () => {
  const f = new MessageFramer();
  const all = Buffer.concat([startup]);
  const got: Frame[] = [];
  for (const b of all) {
    f.push(Buffer.from([b]));
    got.push(...drain(f));
  }
  assert.equal(got.length, 1);
  f.endStartupPhase();
  for (const b of q2) {
    f.push(Buffer.from([b]));
    got.push(...drain(f));
  }
  assert.equal(got.length, 2);
  assert.equal(got[1]!.body.toString(), 'select 22; select 333\0');
});

test('an oversized message is a protocol violation before it is buffered whole', () => {
  const f = new MessageFramer({ maxMessageSize: 1024, maxStartupSize: 10000 });
  f.endStartupPhase();
  const head = Buffer.from([0x51, 0, 0, 0x10, 0]); // 'Q' with length 4096
  f.push(head);
  assert.throws(() => f.next(), ProtocolViolation);
});

test('invalid lengths are protocol violations', () => {
  const f = new MessageFramer();
  f.endStartupPhase();
  f.push(Buffer.from([0x51, 0, 0, 0, 2]));
  assert.throws(() => f.next(), /invalid message length/);
  const g = new MessageFramer();
  g.push(Buffer.from([0, 0, 0, 4, 0, 0, 0, 0]));
  assert.throws(() => g.next(), /invalid length of startup packet/);
  const h = new MessageFramer();
  h.push(Buffer.from([0, 1, 0, 0]));
  assert.throws(() => h.next(), /startup packet/);
});

test('backend messages decode as a client parses them', () => {
  const w = new BackendWriter(8); // tiny initial buffer: exercise growth
  w.rowDescription([{ name: 'héllo', tableOid: 0, columnAttr: 0, typeOid: 25, typeLen: -1, typeMod: -1, format: 0 }]);
  w.dataRow(['✓ ok', null, '']);
  w.commandComplete('SELECT 1');
  w.error({ severity: 'ERROR', code: '42601', message: 'syntax error', detail: 'd', hint: 'h' });
  w.readyForQuery('I');
  const msgs = new BackendDecoder().push(w.take());
  assert.deepEqual(msgs.map((m) => m.type), ['T', 'D', 'C', 'E', 'Z']);
  assert.deepEqual(rowDescription(msgs[0]!.body), [{ name: 'héllo', typeOid: 25, typeLen: -1 }]);
  assert.deepEqual(dataRowValues(msgs[1]!.body), ['✓ ok', null, '']);
  assert.equal(msgs[2]!.body.toString(), 'SELECT 1\0');
  assert.deepEqual(errorFields(msgs[3]!.body), { S: 'ERROR', V: 'ERROR', C: '42601', M: 'syntax error', D: 'd', H: 'h' });
  assert.equal(msgs[4]!.body.toString(), 'I');
  assert.equal(w.size, 0);
});
