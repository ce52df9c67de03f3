// PcapSource: a pcap/pcapng capture file as an EventSource. start() reads the whole file
// (synchronously, in 1 MiB chunks), reassembles TCP (collector/pcap/) and delivers the events in
// batches, ending with a close for every connection still open, so every exchange in the file is
// parsed before start() returns. Capture timestamps are kept as event times.
import type { EventSource, SocketEvent, SourceStats } from '../events.ts';
import { readCaptureFile } from '../pcap/capture-file.ts';
import { tcpSegment } from '../pcap/link.ts';
import { TcpReassembler, type ReassemblyStats } from '../pcap/tcp-reassembly.ts';

const BATCH = 4096;

export class PcapSource implements EventSource {
  readonly name = 'pcap';
  private readonly counters: SourceStats = { events: 0, bytes: 0, drops: 0 };
  reassembly: ReassemblyStats | null = null;
  /** Frames that were not TCP over IPv4/IPv6 on a supported link type. */
  skippedFrames = 0;

  constructor(readonly path: string) {}

  async start(onEvents: (events: SocketEvent[]) => void): Promise<void> {
    let batch: SocketEvent[] = [];
    const emit = (ev: SocketEvent): void => {
      this.counters.events++;
      this.counters.bytes += ev.size;
      batch.push(ev);
      if (batch.length >= BATCH) {
        onEvents(batch);
        batch = [];
      }
    };
    const tcp = new TcpReassembler(emit);
    this.reassembly = tcp.stats;
    let last = 0n;
    readCaptureFile(this.path, (f) => {
      tcp.stats.packets++;
      last = f.timeNs;
      const s = tcpSegment(f.linkType, f.data);
      if (s === null) this.skippedFrames++;
      else tcp.segment(s, f.timeNs);
    });
    tcp.finish(last);
    if (batch.length > 0) onEvents(batch);
  }

  async stop(): Promise<void> {}

  stats(): SourceStats {
    return { ...this.counters };
  }
}
