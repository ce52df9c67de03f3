import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Direction, EventKind } from '../events.ts';
import { decodeBatch, HEADER_SIZE, ipv6, Off } from './ebpf-decode.ts';

interface Rec {
  kind: number;
  direction?: number;
  role?: number;
  family?: number;
  fd?: number;
  tgid?: number;
  tid?: number;
  startTicks?: bigint;
  gen?: bigint;
  tsEnter?: bigint;
  tsExit?: bigint;
  pos?: bigint;
  size?: number;
  lport?: number;
  rport?: number;
  laddr?: number[];
  raddr?: number[];
  payload?: Buffer;
  /** Overrides the captured length field (to build broken records). */
  captured?: number;
}

function record(r: Rec): Buffer {
  const payload = r.payload ?? Buffer.alloc(0);
  const b = Buffer.alloc(HEADER_SIZE + payload.length);
  b[Off.kind] = r.kind;
  b[Off.direction] = r.direction ?? 0;
  b[Off.role] = r.role ?? 0;
  b[Off.family] = r.family ?? 4;
  b.writeUInt32LE(r.fd ?? 3, Off.fd);
  b.writeUInt32LE(r.tgid ?? 100, Off.tgid);
  b.writeUInt32LE(r.tid ?? 101, Off.tid);
  b.writeBigUInt64LE(r.startTicks ?? 555n, Off.startTicks);
  b.writeBigUInt64LE(r.gen ?? 7n, Off.gen);
  b.writeBigUInt64LE(r.tsEnter ?? 1000n, Off.tsEnter);
  b.writeBigUInt64LE(r.tsExit ?? 2000n, Off.tsExit);
  b.writeBigUInt64LE(r.pos ?? 0n, Off.pos);
  b.writeUInt32LE(r.size ?? payload.length, Off.size);
  b.writeUInt32LE(r.captured ?? payload.length, Off.captured);
  b.writeUInt16LE(r.lport ?? 0, Off.lport);
  b.writeUInt16LE(r.rport ?? 0, Off.rport);
  Buffer.from(r.laddr ?? [127, 0, 0, 1]).copy(b, Off.laddr);
  Buffer.from(r.raddr ?? [127, 0, 0, 1]).copy(b, Off.raddr);
  payload.copy(b, HEADER_SIZE);
  return b;
}

function batch(...recs: Buffer[]): Buffer {
  return Buffer.concat(
    recs.flatMap((r) => {
      const len = Buffer.alloc(4);
      len.writeUInt32LE(r.length);
      return [len, r];
    }),
  );
}

function v6(s: string): number[] {
  // test helper: full 8-group hex form only
  return s.split(':').flatMap((g) => {
    const n = parseInt(g, 16);
    return [n >> 8, n & 0xff];
  });
}

test('decodes a v4 data event with payload as a view', () => {
  const buf = batch(
    record({
      kind: EventKind.data,
      direction: Direction.recv,
      role: 2,
      fd: 9,
      tgid: 4242,
      startTicks: 123456n,
      gen: 99n,
      tsEnter: 10n,
      tsExit: 20n,
      pos: 300n,
      size: 5000,
      lport: 8080,
      rport: 51234,
      laddr: [10, 0, 0, 1],
      raddr: [192, 168, 1, 20],
      payload: Buffer.from('GET / HTTP/1.1\r\n'),
    }),
  );
  const [e, ...rest] = decodeBatch(buf, 1_000_000n);
  assert.equal(rest.length, 0);
  assert.equal(e.kind, EventKind.data);
  assert.equal(e.direction, Direction.recv);
  assert.equal(e.timeNs, 1_000_020n, 'recv uses the exit timestamp');
  assert.equal(e.tgid, 4242);
  assert.equal(e.startTicks, 123456n);
  assert.equal(e.fd, 9);
  assert.equal(e.connGen, 99n);
  assert.equal(e.role, 2);
  assert.equal(e.family, 4);
  assert.equal(e.localAddr, '10.0.0.1');
  assert.equal(e.localPort, 8080);
  assert.equal(e.remoteAddr, '192.168.1.20');
  assert.equal(e.remotePort, 51234);
  assert.equal(e.pos, 300n);
  assert.equal(e.size, 5000);
  assert.equal(e.payload.toString(), 'GET / HTTP/1.1\r\n');
  assert.equal(e.payload.buffer, buf.buffer, 'payload is not copied');
});

test('send uses the enter timestamp; open/close carry no pos/size/payload', () => {
  const buf = batch(
    record({ kind: EventKind.open, role: 1, tsEnter: 5n, tsExit: 6n }),
    record({ kind: EventKind.data, direction: Direction.send, tsEnter: 7n, tsExit: 8n, payload: Buffer.from('x') }),
    record({ kind: EventKind.close, role: 1, tsEnter: 9n, tsExit: 10n, pos: 1234n, size: 0 }),
  );
  const ev = decodeBatch(buf, 0n);
  assert.deepEqual(
    ev.map((e) => [e.kind, e.timeNs, e.pos, e.size, e.payload.length]),
    [
      [EventKind.open, 6n, 0n, 0, 0],
      [EventKind.data, 7n, 0n, 1, 1],
      [EventKind.close, 9n, 0n, 0, 0],
    ],
  );
});

test('IPv6 addresses: compressed text, v4-mapped becomes dotted v4', () => {
  const buf = batch(
    record({
      kind: EventKind.data,
      family: 6,
      laddr: v6('0000:0000:0000:0000:0000:0000:0000:0001'),
      raddr: v6('2001:0db8:0000:0000:0001:0000:0000:0001'),
    }),
    record({
      kind: EventKind.data,
      family: 6,
      laddr: v6('0000:0000:0000:0000:0000:ffff:7f00:0001'),
      raddr: v6('0000:0000:0000:0000:0000:ffff:0a01:0203'),
    }),
  );
  const [a, b] = decodeBatch(buf, 0n);
  assert.equal(a.family, 6);
  assert.equal(a.localAddr, '::1');
  assert.equal(a.remoteAddr, '2001:db8::1:0:0:1');
  assert.equal(b.family, 4);
  assert.equal(b.localAddr, '127.0.0.1');
  assert.equal(b.remoteAddr, '10.1.2.3');
});

test('v4 addresses alternating from record to record each decode to their own text (the last-address shortcut)', () => {
  const addrs = [[10, 0, 0, 1], [192, 168, 1, 20], [0, 0, 0, 0], [255, 255, 255, 255], [10, 0, 0, 1]];
  const recs = addrs.map((a, i) => record({ kind: EventKind.data, laddr: a, raddr: addrs[(i + 1) % addrs.length] }));
  const evs = decodeBatch(batch(...recs, ...recs), 0n);
  assert.equal(evs.length, addrs.length * 2);
  evs.forEach((e, i) => {
    const k = i % addrs.length;
    assert.equal(e.localAddr, addrs[k]!.join('.'));
    assert.equal(e.remoteAddr, addrs[(k + 1) % addrs.length]!.join('.'));
  });
  // One connection's burst: the same two addresses over and over.
  const pair = record({ kind: EventKind.data, laddr: [10, 9, 8, 7], raddr: [10, 9, 8, 6] });
  for (const e of decodeBatch(batch(pair, pair, pair), 0n)) {
    assert.equal(e.localAddr, '10.9.8.7');
    assert.equal(e.remoteAddr, '10.9.8.6');
  }
});

test('ipv6 formatting edge cases', () => {
  const f = (s: string) => ipv6(Buffer.from(v6(s)), 0);
  assert.equal(f('0000:0000:0000:0000:0000:0000:0000:0000'), '::');
  assert.equal(f('fe80:0000:0000:0000:0202:b3ff:fe1e:8329'), 'fe80::202:b3ff:fe1e:8329');
  assert.equal(f('2001:0db8:0000:0001:0001:0001:0001:0001'), '2001:db8:0:1:1:1:1:1', 'single zero group stays');
  assert.equal(f('2001:0000:0000:0001:0000:0000:0000:0001'), '2001:0:0:1::1', 'longest run wins');
  assert.equal(f('2001:0db8:0000:0000:0001:0000:0000:0001'), '2001:db8::1:0:0:1', 'first of equal runs');
  assert.equal(f('2001:0db8:0001:0001:0001:0001:0001:0000'), '2001:db8:1:1:1:1:1:0');
});

test('unknown family yields empty addresses', () => {
  const [e] = decodeBatch(batch(record({ kind: EventKind.close, family: 0 })), 0n);
  assert.equal(e.family, 0);
  assert.equal(e.localAddr, '');
  assert.equal(e.remoteAddr, '');
});

test('broken records are counted and skipped, framing errors stop the batch', () => {
  const stats = { malformed: 0 };
  const good = record({ kind: EventKind.data, payload: Buffer.from('ok') });
  const badKind = record({ kind: 77 });
  const badCaptured = record({ kind: EventKind.data, captured: 10_000 });
  const ev = decodeBatch(batch(good, badKind, badCaptured, good), 0n, [], stats);
  assert.equal(ev.length, 2);
  assert.equal(stats.malformed, 2);

  const truncated = batch(good, good).subarray(0, 4 + good.length + 4 + 50);
  const stats2 = { malformed: 0 };
  assert.equal(decodeBatch(truncated, 0n, [], stats2).length, 1);
  assert.equal(stats2.malformed, 1);
  assert.deepEqual(decodeBatch(Buffer.alloc(0), 0n), []);
});

test('appends to the given array', () => {
  const out = decodeBatch(batch(record({ kind: EventKind.open })), 0n);
  decodeBatch(batch(record({ kind: EventKind.close })), 0n, out);
  assert.deepEqual(
    out.map((e) => e.kind),
    [EventKind.open, EventKind.close],
  );
});

test('every event has the same fields (one object shape); close carries its totals, TLS flag on all', () => {
  const close = record({ kind: EventKind.close, pos: 5_000_000_000n, size: 0 });
  close.writeBigUInt64LE(1234n, Off.aux);
  close[Off.proto] = 1;
  close[Off.flags] = 2;
  const ev = decodeBatch(
    batch(record({ kind: EventKind.open }), record({ kind: EventKind.data, payload: Buffer.from('x') }), close),
    0n,
  );
  const keys = ev.map((e) => Object.keys(e).join());
  assert.equal(new Set(keys).size, 1, keys.join(' | '));
  assert.deepEqual(
    ev.map((e) => [e.encrypted, e.bytesSent, e.bytesRecv, e.protocolGuess]),
    [[false, 0, 0, 0], [false, 0, 0, 0], [true, 5_000_000_000, 1234, 1]],
  );
});

test('u64 fields beyond 2^53 and repeated start ticks / generations decode exactly', () => {
  const big = (1n << 63n) + 12345n;
  const ev = decodeBatch(
    batch(
      record({ kind: EventKind.data, startTicks: big, gen: big - 1n, pos: big - 2n, tsExit: 10n, direction: 1 }),
      record({ kind: EventKind.data, startTicks: big, gen: big - 1n, pos: 7n, tsExit: 11n, direction: 1 }),
      record({ kind: EventKind.data, startTicks: 9n, gen: big - 1n + (1n << 32n), pos: 8n, tsExit: 12n, direction: 1 }),
    ),
    1n << 60n,
  );
  assert.deepEqual(
    ev.map((e) => [e.startTicks, e.connGen, e.pos, e.timeNs]),
    [
      [big, big - 1n, big - 2n, (1n << 60n) + 10n],
      [big, big - 1n, 7n, (1n << 60n) + 11n],
      [9n, big - 1n + (1n << 32n), 8n, (1n << 60n) + 12n],
    ],
  );
});

test('ipv6 text cache: repeated and evicted addresses format the same', () => {
  const addr = (i: number) => `2001:0db8:0000:0000:0000:0000:${(i >> 8).toString(16).padStart(4, '0')}:${(i & 0xff).toString(16).padStart(4, '0')}`;
  const want = (i: number) => `2001:db8::${(i >> 8).toString(16)}:${(i & 0xff).toString(16)}`;
  for (let round = 0; round < 3; round++) {
    for (let i = 1; i < 40; i += round + 1) assert.equal(ipv6(Buffer.from(v6(addr(i * 257))), 0), want(i * 257));
  }
});
