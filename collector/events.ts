// Socket events: what an event source (eBPF, demo, later pcap/replay) hands the connection
// tracker. One shape for every source so the tracker and parsers never know where bytes came from.

export const EventKind = { open: 1, data: 2, close: 3 } as const;
export type EventKindValue = (typeof EventKind)[keyof typeof EventKind];

export const Direction = { send: 0, recv: 1 } as const;
export type DirectionValue = (typeof Direction)[keyof typeof Direction];

export interface SocketEvent {
  kind: EventKindValue;
  /** Wall-clock nanoseconds since the Unix epoch. */
  timeNs: bigint;
  /** Process (thread group) id and the process start time in clock ticks: together the UPID. */
  tgid: number;
  startTicks: bigint;
  fd: number;
  /**
   * Connection generation: distinguishes successive connections on the same (tgid, fd).
   * For the eBPF source this is the kernel timestamp when the tracer first saw the connection.
   */
  connGen: bigint;
  /** 0 unknown, 1 client (connect), 2 server (accept). */
  role: 0 | 1 | 2;
  /** Data events only. */
  direction: DirectionValue;
  /** Address family: 4 or 6 (0 when unknown). */
  family: 0 | 4 | 6;
  localAddr: string;
  localPort: number;
  remoteAddr: string;
  remotePort: number;
  /** Data events: byte position of the first byte within this direction's stream. */
  pos: bigint;
  /** Data events: bytes the syscall moved (may exceed payload.length when capped). */
  size: number;
  /** Data events: the captured prefix of the bytes moved. */
  payload: Buffer;
  /** Bytes came from a TLS library (plaintext of an encrypted connection); absent = false. */
  encrypted?: boolean;
  /** Close events from the eBPF source: the connection's totals since first seen. */
  bytesSent?: number;
  bytesRecv?: number;
  /** Close events from the eBPF source: the kernel's protocol guess (1 http, 2 mysql, 3 kafka). */
  protocolGuess?: number;
}

export interface SourceStats {
  events: number;
  bytes: number;
  /** Events lost before reaching user space (ringbuf full, etc.). */
  drops: number;
}

/**
 * Process lifecycle, for the metadata store: keep a short-lived process's UPID → cmdline
 * after it is gone. exec: the image was replaced (re-read /proc/PID/cmdline now); exit: the
 * last thread exited.
 */
export interface ProcessEvent {
  kind: 'exec' | 'exit';
  /** Wall-clock nanoseconds since the Unix epoch. */
  timeNs: bigint;
  tgid: number;
  startTicks: bigint;
  /** exec: parent process id. */
  ppid: number;
  /** exec: path of the executed file. */
  filename: string;
  /** exit: wait status as the kernel keeps it (exit code << 8 | signal). */
  exitCode: number;
}

/** A producer of socket events. */
export interface EventSource {
  readonly name: string;
  /** Starts delivering; the callback receives events in the order the source produced them. */
  start(onEvents: (events: SocketEvent[]) => void): Promise<void>;
  /**
   * Optional, preferred by the Collector: each event as it is decoded, in one object the source
   * reuses (valid during the call only; `pos` is its stream position as a number, ev.pos may be
   * unset), then `onBatchEnd()` after each batch. Saves an object per event.
   */
  startEach?(onEvent: (ev: SocketEvent, pos: number) => void, onBatchEnd: () => void): Promise<void>;
  stop(): Promise<void>;
  stats(): SourceStats;
  /** Optional: sources that see process lifecycle (eBPF) deliver it to every registered
   *  callback, in batches (register before start). */
  onProcessEvents?(cb: (events: ProcessEvent[]) => void): void;
}
