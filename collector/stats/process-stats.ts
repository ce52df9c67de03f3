// process_stats producer: every second, one row per traced process (seen in a socket event
// within the last `keepMs`) from /proc/PID/stat and /proc/PID/io. A PID whose start time no
// longer matches is a different process: it is dropped, never sampled under the old UPID.
import { readFileSync } from 'node:fs';
import type { RowSink } from '../../engine/schema.ts';
import type { ProcessStatsRow } from '../../engine/tables/process-stats.ts';
import type { ProcessEvent, SocketEvent } from '../events.ts';

const TICK_NS = 10_000_000; // USER_HZ = 100
const PAGE = 4096; // x86_64

interface Traced {
  startTicks: bigint;
  lastSeenMs: number;
}

/** Fields of /proc/PID/stat after the ")" that ends comm (field 3 is index 0). */
function statFields(pid: number): string[] | null {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, 'latin1');
    return s.slice(s.lastIndexOf(')') + 2).split(' ');
  } catch {
    return null;
  }
}

function ioCounters(pid: number): Record<string, number> {
  const out: Record<string, number> = {};
  try {
    for (const line of readFileSync(`/proc/${pid}/io`, 'latin1').split('\n')) {
      const i = line.indexOf(':');
      if (i > 0) out[line.slice(0, i)] = Number(line.slice(i + 1));
    }
  } catch {
    /* gone, or not permitted: zeros */
  }
  return out;
}

/** One sample of `pid`, or null if it is gone or is no longer the process started at `startTicks`. */
export function sampleProcess(pid: number, startTicks: bigint, timeNs: bigint, asid = 0): ProcessStatsRow | null {
  const f = statFields(pid);
  if (!f || f.length < 22 || BigInt(f[19]) !== startTicks) return null;
  const io = ioCounters(pid);
  return {
    timeNs,
    upid: { asid, pid, startTicks },
    minorFaults: Number(f[7]),
    majorFaults: Number(f[9]),
    cpuUtimeNs: Number(f[11]) * TICK_NS,
    cpuKtimeNs: Number(f[12]) * TICK_NS,
    numThreads: Number(f[17]),
    vsizeBytes: Number(f[20]),
    rssBytes: Number(f[21]) * PAGE,
    rcharBytes: io.rchar ?? 0,
    wcharBytes: io.wchar ?? 0,
    readBytes: io.read_bytes ?? 0,
    writeBytes: io.write_bytes ?? 0,
  };
}

export class ProcessStatsProducer {
  private readonly traced = new Map<number, Traced>();
  /** The entry of the last event's process (events come in runs of one process): no Map
   *  lookup per event. Forgotten whenever an entry is deleted. */
  private lastPid = -1;
  private last: Traced | undefined;

  constructor(
    private readonly sink: RowSink,
    private readonly asid = 0,
    /** A process not seen in socket events for this long is no longer sampled. */
    private readonly keepMs = 60_000,
  ) {}

  observe(events: readonly SocketEvent[], nowMs = Date.now()): void {
    for (const e of events) this.observeEvent(e, nowMs);
  }

  observeEvent(e: SocketEvent, nowMs: number): void {
    const last = this.last;
    if (e.tgid === this.lastPid && last !== undefined && last.startTicks === e.startTicks) {
      last.lastSeenMs = nowMs;
      return;
    }
    let t = this.traced.get(e.tgid);
    if (t && t.startTicks === e.startTicks) t.lastSeenMs = nowMs;
    else this.traced.set(e.tgid, (t = { startTicks: e.startTicks, lastSeenMs: nowMs }));
    this.lastPid = e.tgid;
    this.last = t;
  }

  observeProcesses(events: readonly ProcessEvent[]): void {
    for (const e of events) {
      const t = this.traced.get(e.tgid);
      if (e.kind === 'exit' && t && t.startTicks === e.startTicks) this.forget(e.tgid);
    }
  }

  private forget(pid: number): void {
    this.traced.delete(pid);
    this.lastPid = -1;
    this.last = undefined;
  }

  get tracedProcesses(): number {
    return this.traced.size;
  }

  sample(timeNs: bigint, nowMs = Date.now()): number {
    let rows = 0;
    for (const [pid, t] of this.traced) {
      const row = nowMs - t.lastSeenMs > this.keepMs ? null : sampleProcess(pid, t.startTicks, timeNs, this.asid);
      if (!row) {
        this.forget(pid);
        continue;
      }
      this.sink.append('process_stats', row);
      rows++;
    }
    return rows;
  }
}
