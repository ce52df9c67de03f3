// eBPF event source: the kernel socket tracer (bpf/) through the native addon (native/).
// Per ringbuf batch, in ring order: one decoded array (start), or each event in one reused object
// then a batch end (startEach: the Collector's path, no object per event).
import { openTracer, probe, type NativeTracer, type TracerOptions, type TracerStats } from '../../native/index.ts';
import type { EventSource, ProcessEvent, SocketEvent, SourceStats } from '../events.ts';
import { decodeBatch, eachRecord, RecordDecoder, type DecodeStats } from './ebpf-decode.ts';
import { TlsAttacher, libsslOf } from '../tls/attach.ts';
import { atNice } from '../priority.ts';

export interface EbpfSourceOptions extends TracerOptions {
  /** Uprobes on OpenSSL (libssl, and executables with it linked in such as node) for TLS
   *  plaintext (default true). */
  tls?: boolean;
  /** How often all processes' maps are rescanned for new libssl files (ms, default 10 s). */
  tlsRescanMs?: number;
  /** Opens the tracer (default: this tree's addon); benchmarks pass another build's. */
  open?: typeof openTracer;
  /** Nice value of the JS thread while it loads the programs and scans for TLS libraries
   *  (default 19; restored after, and never less nice than the thread already is): the
   *  verifier and the ELF reads cost ~0.6-0.8 s of a core here, which the host's services
   *  need more. */
  startNice?: number;
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
  private readonly eachTaps: ((ev: SocketEvent) => void)[] = [];
  private readonly decoder = new RecordDecoder();
  private disabled = 0;
  private tlsAttacher: TlsAttacher | undefined;
  private tlsTimer: NodeJS.Timeout | undefined;

  constructor(private readonly opts: EbpfSourceOptions = {}) {}

  /** null when eBPF capture looks possible here, else a reason for the user. */
  static probe(): string | null {
    return probe();
  }

  async start(onEvents: (events: SocketEvent[]) => void): Promise<void> {
    this.open((buf, procs) => {
      const events = decodeBatch(buf, this.offsetNs, [], this.decode, procs);
      this.events += events.length;
      this.deliverProcesses(procs);
      if (events.length > 0) {
        for (const tap of this.eachTaps) for (const ev of events) tap(ev);
        for (const tap of this.taps) tap(events);
        onEvents(events);
      }
    });
  }

  async startEach(onEvent: (ev: SocketEvent, pos: number) => void, onBatchEnd: () => void): Promise<void> {
    const eachTaps = this.eachTaps;
    const taps = this.taps;
    // Array taps (tests) get copies; without taps the consumer is called directly.
    let copies: SocketEvent[] = [];
    const each =
      eachTaps.length === 0 && taps.length === 0
        ? onEvent
        : (ev: SocketEvent, pos: number): void => {
            for (const tap of eachTaps) tap(ev);
            if (taps.length > 0) copies.push({ ...ev, pos: BigInt(pos) });
            onEvent(ev, pos);
          };
    this.open((buf, procs) => {
      const n = eachRecord(buf, this.offsetNs, this.decoder, each, this.decode, procs);
      this.events += n;
      // Before the batch's rows are made (onBatchEnd), as with start().
      this.deliverProcesses(procs);
      if (n === 0) return;
      if (copies.length > 0) {
        const batch = copies;
        copies = [];
        for (const tap of taps) tap(batch);
      }
      onBatchEnd();
    });
  }

  /** Opens the tracer; `deliver` gets each batch and a list for its process events (undefined:
   *  nobody wants them), which it hands to deliverProcesses before its socket events' rows. */
  private open(deliver: (buf: Buffer, procs: ProcessEvent[] | undefined) => void): void {
    if (this.tracer && !this.stopped) throw new Error('ebpf source already started');
    this.stopped = false;
    this.events = 0;
    this.decode = { malformed: 0 };
    const onBatch = (buf: Buffer): void => {
      if (this.stopped) return;
      const now = Date.now();
      if (now - this.offsetAt > CLOCK_REFRESH_MS) this.refreshClock(now);
      const procs: ProcessEvent[] | undefined = this.onProcess.length > 0 || this.tlsAttacher ? [] : undefined;
      deliver(buf, procs);
    };
    // Batches are delivered on this thread's event loop, so none runs before this returns.
    atNice(this.opts.startNice ?? 19, () => {
      // Throws with a readable "eBPF unavailable: …" message.
      const tracer = (this.opts.open ?? openTracer)(this.opts, onBatch);
      this.tracer = tracer;
      this.refreshClock(Date.now());
      if (this.opts.tls !== false) this.startTls(tracer);
    });
  }

  private deliverProcesses(procs: ProcessEvent[] | undefined): void {
    if (procs && procs.length > 0) {
      for (const cb of this.onProcess) cb(procs);
      if (this.tlsAttacher) this.onExecForTls(procs);
    }
  }

  /** Libraries with TLS uprobes so far, and why others failed. */
  tlsStatus(): { attached: string[]; errors: string[] } {
    return { attached: [...(this.tlsAttacher?.attached ?? [])], errors: [...(this.tlsAttacher?.errors ?? [])] };
  }

  private startTls(tracer: NativeTracer): void {
    const attacher = new TlsAttacher((p, memoryBio) => tracer.attachTls(p, memoryBio));
    attacher.scanAll();
    this.tlsAttacher = attacher;
    this.tlsTimer = setInterval(() => atNice(this.opts.startNice ?? 19, () => attacher.scanAll()), this.opts.tlsRescanMs ?? 10_000);
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

  /** Also hands every decoded batch to `cb` (before the main consumer; register before start).
   *  Under startEach the batch is copies of the events: for tests, not the hot path. */
  tap(cb: (events: SocketEvent[]) => void): void {
    this.taps.push(cb);
  }

  /** Also hands every event to `cb` before the main consumer (register before start); under
   *  startEach the object is reused for the next event: copy what you keep. Stats producers. */
  tapEach(cb: (ev: SocketEvent) => void): void {
    this.eachTaps.push(cb);
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
