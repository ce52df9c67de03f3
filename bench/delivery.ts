// `npm run bench -- delivery [--seconds 5] [--size 64] [--writers 2] [--ringbuf 67108864] [--cap 16384]`
// Records/s reaching JS through the eBPF source (ringbuf → poller → one Buffer per batch →
// decode), and drops. Load: python writers doing small send()s over loopback TCP to a node
// receiver, unpaced, for a fixed time. Needs root.
import { spawn, type ChildProcess } from 'node:child_process';
import { Direction, EventKind } from '../collector/events.ts';
import { EbpfSource } from '../collector/sources/ebpf.ts';
import { probe } from '../native/index.ts';

const RECEIVER = `
const net = require('net');
const srv = net.createServer((c) => c.on('data', () => {}).on('error', () => {}));
srv.listen(0, '127.0.0.1', () => process.stdout.write(srv.address().port + '\\n'));
`;

const WRITER = `
import socket, sys, time
port, size, secs = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
s = socket.create_connection(('127.0.0.1', port))
buf = b'x' * size
n = 0
end = time.monotonic() + secs
while time.monotonic() < end:
    for _ in range(1000):
        s.send(buf)
    n += 1000
s.close()
print(n)
`;

function opt(args: string[], name: string, def: number): number {
  const i = args.indexOf(name);
  return i >= 0 && i + 1 < args.length ? Number(args[i + 1]) : def;
}

const log = (s: string) => process.stderr.write(`[delivery] ${s}\n`);

export default async function delivery(args: string[]): Promise<object> {
  const seconds = opt(args, '--seconds', 5);
  const size = opt(args, '--size', 64);
  const writers = opt(args, '--writers', 2);
  const ringbufBytes = opt(args, '--ringbuf', 64 << 20);
  const payloadCap = opt(args, '--cap', 16384);
  const reason = probe();
  if (reason) return { skipped: reason };

  const children: ChildProcess[] = [];
  try {
    const recv = spawn(process.execPath, ['-e', RECEIVER], { stdio: ['ignore', 'pipe', 'inherit'] });
    children.push(recv);
    const port = await new Promise<number>((resolve) => recv.stdout!.once('data', (d: Buffer) => resolve(Number(d))));

    let events = 0;
    let dataEvents = 0;
    let socketBytes = 0;
    let capturedBytes = 0;
    const sendsByPid = new Map<number, number>();
    const src = new EbpfSource({ ringbufBytes, payloadCap });
    await src.start((evs) => {
      events += evs.length;
      for (const e of evs) {
        if (e.kind !== EventKind.data) continue;
        dataEvents++;
        socketBytes += e.size;
        capturedBytes += e.payload.length;
        if (e.direction === Direction.send) sendsByPid.set(e.tgid, (sendsByPid.get(e.tgid) ?? 0) + 1);
      }
    });
    log(`tracer attached; ${writers} writer(s) × ${seconds}s of ${size}-byte sends`);

    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    const results = await Promise.all(
      Array.from({ length: writers }, () => {
        const w = spawn('python3', ['-c', WRITER, String(port), String(size), String(seconds)], {
          stdio: ['ignore', 'pipe', 'inherit'],
        });
        children.push(w);
        let out = '';
        w.stdout!.on('data', (d: Buffer) => (out += d));
        return new Promise<{ pid: number; sends: number }>((resolve, reject) =>
          w.on('exit', (code) => (code === 0 ? resolve({ pid: w.pid!, sends: Number(out) }) : reject(new Error(`writer exited ${code}`)))),
        );
      }),
    );
    const loadSec = (performance.now() - t0) / 1000;
    await src.stop(); // drains the ring: every produced record is counted
    const wallSec = (performance.now() - t0) / 1000;
    const cpu = process.cpuUsage(cpu0);
    const n = src.nativeStats()!;

    const writerSends = results.reduce((a, r) => a + r.sends, 0);
    const seenSends = results.reduce((a, r) => a + (sendsByPid.get(r.pid) ?? 0), 0);
    const out = {
      seconds: Number(loadSec.toFixed(2)),
      writers,
      writeSize: size,
      ringbufBytes,
      payloadCap,
      eventsToJs: events,
      eventsPerSec: Math.round(events / loadSec),
      dataEvents,
      socketBytesPerSec: Math.round(socketBytes / loadSec),
      capturedBytesPerSec: Math.round(capturedBytes / loadSec),
      batches: n.batches,
      eventsPerBatch: Math.round(n.events / Math.max(1, n.batches)),
      kernelEvents: n.kernelEvents,
      kernelDrops: n.kernelDrops,
      userDrops: n.userDrops,
      malformed: n.malformed,
      writerSends,
      writerSendsSeen: seenSends,
      writerSendsMissing: writerSends - seenSends,
      tracerCpuPercentOfOneCore: Number(((100 * (cpu.user + cpu.system)) / 1e6 / wallSec).toFixed(1)),
      tracerCpuUserSec: Number((cpu.user / 1e6).toFixed(2)),
      tracerCpuSystemSec: Number((cpu.system / 1e6).toFixed(2)),
    };
    log(`${out.eventsPerSec} events/s to JS, drops kernel=${n.kernelDrops} user=${n.userDrops}`);
    return out;
  } finally {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  }
}
