import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConnectionTracker } from '../conn/tracker.ts';
import { EventKind, type SocketEvent } from '../events.ts';
import { TableSink } from '../mysql/testing.ts';
import { PcapSource } from '../sources/pcap.ts';
import { TcpFlag, type TcpSegment } from './link.ts';
import { TcpReassembler } from './tcp-reassembly.ts';
import { ethernetFrame, ipv6Frame, pcapFile, pcapngFile, type FrameSpec } from './testing.ts';

const C = '10.0.0.1';
const S = '10.0.0.2';
const SYN = TcpFlag.syn;
const SYNACK = TcpFlag.syn | TcpFlag.ack;
const ACK = TcpFlag.ack;
const FIN = TcpFlag.fin | TcpFlag.ack;

function seg(fromClient: boolean, seq: number, flags: number, payload = ''): TcpSegment {
  return {
    family: 4, srcAddr: fromClient ? C : S, srcPort: fromClient ? 40000 : 80, dstAddr: fromClient ? S : C,
    dstPort: fromClient ? 80 : 40000, seq: seq >>> 0, flags, payload: Buffer.from(payload),
  };
}

function run(segs: TcpSegment[]): { events: SocketEvent[]; r: TcpReassembler } {
  const events: SocketEvent[] = [];
  const r = new TcpReassembler((e) => events.push(e));
  segs.forEach((s, i) => r.segment(s, BigInt(i + 1)));
  r.finish(1000n);
  return { events, r };
}

const text = (events: SocketEvent[], dir: number) =>
  events.filter((e) => e.kind === EventKind.data && e.direction === dir).map((e) => [Number(e.pos), e.payload.toString()]);

test('SYN/FIN: server side, positions from the ISN, out of order and retransmitted segments, across seq wrap', () => {
  const ci = 0xfffffff0; // client ISN near 2^32: positions must unwrap
  const si = 1000;
  const { events, r } = run([
    seg(true, ci, SYN), seg(false, si, SYNACK), seg(true, ci + 1, ACK),
    seg(true, ci + 1, ACK, 'GET / HTTP/1.1\r\n'), // 16 bytes: crosses 2^32
    seg(true, ci + 1 + 16 + 5, ACK, 'World\r\n\r\n'), // out of order
    seg(true, ci + 1 + 16, ACK, 'Host:'),
    seg(true, ci + 1, ACK, 'GET / HTTP/1.1\r\n'), // full retransmission
    seg(true, ci + 1 + 10, ACK, 'P/1.1\r\nHost:XY'), // overlapping retransmission: the bytes first seen win
    seg(false, si + 1, ACK, 'HTTP/1.1 200 OK\r\n\r\n'),
    seg(true, ci + 31, FIN), seg(false, si + 20, FIN),
  ]);
  assert.equal(events[0]!.kind, EventKind.open);
  assert.equal(events[0]!.role, 2);
  assert.equal(events[0]!.localPort, 80);
  assert.equal(events.at(-1)!.kind, EventKind.close);
  assert.deepEqual(text(events, 1), [[0, 'GET / HTTP/1.1\r\n'], [16, 'Host:'], [21, 'World\r\n\r\n']]);
  assert.deepEqual(text(events, 0), [[0, 'HTTP/1.1 200 OK\r\n\r\n']]);
  assert.ok(r.stats.retransmittedBytes >= 16);
  // No SYN: role unknown, the lower port is taken as the server, positions from the first segment.
  const mid = run([seg(false, 5000, ACK, 'HTTP/1.1 200 OK\r\n\r\n'), seg(true, 7, ACK, 'GET /x HTTP/1.1\r\n\r\n')]);
  assert.equal(mid.events[0]!.kind, EventKind.data);
  assert.equal(mid.events[0]!.role, 0);
  assert.equal(mid.events[0]!.localPort, 80);
  assert.deepEqual(text(mid.events, 1), [[0, 'GET /x HTTP/1.1\r\n\r\n']]);
});

test('a hole never filled becomes a gap at close; RST closes; a reused 4-tuple after close is a new connection', () => {
  const { events, r } = run([
    seg(true, 100, SYN), seg(true, 101, ACK, 'aaaa'), seg(true, 109, ACK, 'cccc'), seg(true, 0, TcpFlag.rst),
    seg(true, 900, SYN), seg(true, 901, ACK, 'new'),
  ]);
  assert.deepEqual(text(events, 1).slice(0, 2), [[0, 'aaaa'], [8, 'cccc']]);
  assert.equal(r.stats.holeBytes, 4);
  assert.deepEqual(events.filter((e) => e.kind !== EventKind.data).map((e) => [e.kind, e.fd]), [[1, 1], [3, 1], [1, 2], [3, 2]]);
});

const http = (i: number): [string, string] => [
  `GET /item/${i} HTTP/1.1\r\nHost: s\r\n\r\n`, `HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok`,
];

function exchangeFrames(build: (f: FrameSpec) => Buffer, src: string, dst: string): { timeUs: number; data: Buffer }[] {
  const frames: FrameSpec[] = [];
  let t = 1_700_000_000_000_000;
  let cs = 1;
  let ss = 1;
  frames.push({ src, sport: 50000, dst, dport: 8080, seq: 0, flags: SYN, timeUs: t++ });
  frames.push({ src: dst, sport: 8080, dst: src, dport: 50000, seq: 0, flags: SYNACK, timeUs: t++ });
  for (let i = 0; i < 3; i++) {
    const [q, a] = http(i);
    frames.push({ src, sport: 50000, dst, dport: 8080, seq: cs, flags: ACK, payload: q, timeUs: (t += 100) });
    cs += q.length;
    frames.push({ src: dst, sport: 8080, dst: src, dport: 50000, seq: ss, flags: ACK, payload: a, timeUs: (t += 250) });
    ss += a.length;
  }
  frames.push({ src, sport: 50000, dst, dport: 8080, seq: cs, flags: FIN, timeUs: t++ });
  frames.push({ src: dst, sport: 8080, dst: src, dport: 50000, seq: ss, flags: FIN, timeUs: t++ });
  return frames.map((f) => ({ timeUs: f.timeUs, data: build(f) }));
}

async function importRows(file: string) {
  const sink = new TableSink();
  const tracker = new ConnectionTracker(sink);
  await new PcapSource(file).start((evs) => tracker.handleBatch(evs));
  tracker.flushAll();
  return sink.rowsOf('http_events');
}

test('pcap (Ethernet, µs) and pcapng (raw IPv6, ns timestamps) files import into http_events', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'wiretap-pcap-unit-'));
  try {
    writeFileSync(join(dir, 'a.pcap'), pcapFile(1, exchangeFrames(ethernetFrame, C, S)));
    const v6c = '20010db8000000000000000000000001';
    const v6s = '20010db8000000000000000000000002';
    writeFileSync(join(dir, 'b.pcapng'), pcapngFile(101, exchangeFrames(ipv6Frame, v6c, v6s)));
    const a = await importRows(join(dir, 'a.pcap'));
    assert.deepEqual(a.map((r) => [r.reqPath, r.respStatus, r.respBody, r.localAddr, r.localPort, r.traceRole, Number(r.latencyNs)]), [
      ['/item/0', 200, 'ok', S, 8080, 2, 250_000], ['/item/1', 200, 'ok', S, 8080, 2, 250_000], ['/item/2', 200, 'ok', S, 8080, 2, 250_000],
    ]);
    assert.equal(a[0]!.timeNs, 1_700_000_000_000_102_000n);
    const b = await importRows(join(dir, 'b.pcapng'));
    assert.deepEqual(b.map((r) => [r.reqPath, r.localAddr, r.remoteAddr]), [
      ['/item/0', '2001:db8::2', '2001:db8::1'], ['/item/1', '2001:db8::2', '2001:db8::1'], ['/item/2', '2001:db8::2', '2001:db8::1'],
    ]);
    writeFileSync(join(dir, 'bad'), 'not a capture');
    await assert.rejects(new PcapSource(join(dir, 'bad')).start(() => {}), /not a pcap or pcapng/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
