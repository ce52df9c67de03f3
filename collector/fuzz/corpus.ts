// Fuzz seeds from recorded traffic: a capture file (test/fixtures/pcap) → one list of payloads per
// TCP connection, in stream order, each with its direction as seen from the server.
import { EventKind, type DirectionValue } from '../events.ts';
import { PcapSource } from '../sources/pcap.ts';

export interface RecordedChunk {
  direction: DirectionValue;
  payload: Buffer;
}

export type RecordedConnection = RecordedChunk[];

export const FIXTURES = new URL('../../test/fixtures/pcap/', import.meta.url).pathname;

/** Connections of a capture file that carried data (probes and empty connections left out). */
export async function loadRecorded(file: string): Promise<RecordedConnection[]> {
  const byConn = new Map<number, RecordedConnection>();
  await new PcapSource(file).start((events) => {
    for (const e of events) {
      if (e.kind !== EventKind.data) continue;
      let c = byConn.get(e.fd);
      if (c === undefined) byConn.set(e.fd, (c = []));
      c.push({ direction: e.direction, payload: e.payload });
    }
  });
  return [...byConn.values()].filter((c) => c.length >= 2);
}
