// eBPF event source: the kernel socket tracer (bpf/) through the native addon (native/).
// One decoded array per ringbuf batch, in ring order.
import { openTracer, probe, type NativeTracer, type TracerOptions, type TracerStats } from '../../native/index.ts';
import type { EventSource, ProcessEvent, SocketEvent, SourceStats } from '../events.ts';
import { decodeBatch, type DecodeStats } from './ebpf-decode.ts';
import { TlsAttacher, libsslOf } from '../tls/attach.ts';

export interface EbpfSourceOptions extends TracerOptions {
  /** Uprobes on OpenSSL (libssl, and executables with it linked in such as node) for TLS
   *  plaintext (default true). */
  tls?: boolean;
  /** How often all processes' maps are rescanned for new libssl files (ms, default 10 s). */
  tlsRescanMs?: number;
  /** Opens the tracer (default: this tree's addon); benchmarks pass another build's. */
  open?: typeof openTracer;
}

/** Re-read the wall-clock offset this often, so NTP steps show up in event times. */
const CLOCK_REFRESH_MS = 1000;

export class EbpfSource implements EventSource {
  readonly name = 'ebpf';
  private tracer: NativeTracer | undefined;
  private offsetNs = 0n;
  private offsetAt = 0;
  private events = 0;
  private decode: DecodeStats = { malformed: 0 };
  private stopped = false;
  private readonly onProcess: ((events: ProcessEvent[]) => void)[] = [];
  private readonly taps: ((events: SocketEvent[]) => void)[] = [];
  private disabled = 0;
  private tlsAttacher: TlsAttacher | undefined;
  private tlsTimer: NodeJS.Timeout | undefined;

  constructor(private readonly opts: EbpfSourceOptions = {}) {}

  /** null when eBPF capture looks possible here, else a reason for the user. */
  static probe(): string | null {
    return probe();
  }

  async start(onEvents: (events: SocketEvent[]) => void): Promise<void> {
    if (this.tracer && !this.stopped) throw new Error('ebpf source already started');
    this.stopped = false;
    this.events = 0;
    this.decode = { malformed: 0 };
    // Throws with a readable "eBPF unavailable: …" message.
    this.tracer = (this.opts.open ?? openTracer)(this.opts, (buf) => {
      if (this.stopped) return;
      const now = Date.now();
      if (now - this.offsetAt > CLOCK_REFRESH_MS) this.refreshClock(now);
      const procs: ProcessEvent[] | undefined = this.onProcess.length > 0 || this.tlsAttacher ? [] : undefined;
      const events = decodeBatch(buf, this.offsetNs, [], this.decode, procs);
      this.events += events.length;
      if (procs && procs.length > 0) {
        for (const cb of this.onProcess) cb(procs);
        if (this.tlsAttacher) this.onExecForTls(procs);
      }
      if (events.length > 0) {
        for (const tap of this.taps) tap(events);
        onEvents(events);
      }
    });
    this.refreshClock(Date.now());
    if (this.opts.tls !== false) this.startTls(this.tracer);
  }

  /** Libraries with TLS uprobes so far, and why others failed. */
  tlsStatus(): { attached: string[]; errors: string[] } {
    return { attached: [...(this.tlsAttacher?.attached ?? [])], errors: [...(this.tlsAttacher?.errors ?? [])] };
  }

  private startTls(tracer: NativeTracer): void {
    const attacher = new TlsAttacher((p, memoryBio) => tracer.attachTls(p, memoryBio));
    attacher.scanAll();
    this.tlsAttacher = attacher;
    this.tlsTimer = setInterval(() => attacher.scanAll(), this.opts.tlsRescanMs ?? 10_000);
    this.tlsTimer.unref();
  }

  /** A new process: its executable now (before it can start a handshake), the libraries it
   *  maps right after exec once they are loaded. */
  private onExecForTls(procs: ProcessEvent[]): void {
    for (const p of procs) {
      if (p.kind !== 'exec') continue;
      this.tlsAttacher?.addExe(p.tgid);
      setTimeout(() => this.tlsAttacher?.add(libsslOf(p.tgid)), 200).unref();
    }
  }

  /** exec/exit of processes (register before start; several consumers may register). */
  onProcessEvents(cb: (events: ProcessEvent[]) => void): void {
    this.onProcess.push(cb);
  }

  /** Also hands every decoded batch to `cb` (before the main consumer); stats producers. */
  tap(cb: (events: SocketEvent[]) => void): void {
    this.taps.push(cb);
  }

  /** Stops a connection's payload in the kernel (its bytes are still counted). */
  disableConnection(tgid: number, fd: number, connGen: bigint): boolean {
    const ok = this.native?.disableConnection(tgid, fd, connGen) ?? false;
    if (ok) this.disabled++;
    return ok;
  }

  /** Connections disabled so far (cumulative). */
  get disabledConnections(): number {
    return this.disabled;
  }

  /** The running tracer (conn_stats, disable, per-program cost), if started. */
  get native(): NativeTracer | undefined {
    return this.stopped ? undefined : this.tracer;
  }

  async stop(): Promise<void> {
    const t = this.tracer;
    if (!t || this.stopped) return;
    if (this.tlsTimer) clearInterval(this.tlsTimer);
    this.tlsTimer = undefined;
    this.tlsAttacher = undefined;
    await t.stop(); // delivers what is still in the ring before resolving
    this.stopped = true; // the tracer object stays for stats(); start() may open a new one
  }

  stats(): SourceStats {
    const n = this.tracer?.stats();
    return {
      events: this.events,
      bytes: n?.bytes ?? 0,
      drops: n ? n.kernelDrops + n.userDrops + this.decode.malformed : 0,
    };
  }

  /** Loader and kernel counters (see native/index.ts TracerStats) plus decode errors. */
  nativeStats(): (TracerStats & { malformed: number }) | undefined {
    const n = this.tracer?.stats();
    return n && { ...n, malformed: this.decode.malformed };
  }

  private refreshClock(now: number): void {
    if (!this.tracer) return;
    this.offsetNs = this.tracer.clockOffsetNs();
    this.offsetAt = now;
  }
}
