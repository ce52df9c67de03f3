// Runs one protocol's frame parser over one direction of a connection until it needs more bytes,
// resynchronising after gaps and garbage. Protocol-agnostic: a new protocol only supplies
// parseFrame / findFrameBoundary. Every loop iteration consumes bytes or returns, so malformed
// input can never spin.
import { ParseStatus, type MessageType, type Protocol, type ProtocolConnection } from '../protocol.ts';
import type { CollectorStats } from '../stats.ts';
import type { ByteStream } from './byte-stream.ts';

export function drainStream(
  proto: Protocol,
  pc: ProtocolConnection,
  type: MessageType,
  stream: ByteStream,
  stats: CollectorStats,
): void {
  for (;;) {
    if (pc.disabled) return;
    if (stream.available() === 0) break;

    if (stream.resyncing) {
      const gap = stream.headGap();
      if (gap > 0) {
        stream.consume(gap);
        continue;
      }
      const buf = stream.contiguous();
      const at = proto.findFrameBoundary(type, buf, 0);
      if (at < 0) {
        // Keep a possible marker prefix split across events, unless no more bytes can extend it.
        const keep = stream.gapFollows() || stream.ended ? 0 : proto.maxMarkerLength - 1;
        const drop = buf.length - keep;
        if (drop <= 0) return;
        stats.droppedBytes += drop;
        stream.consume(drop);
        continue;
      }
      stats.droppedBytes += at;
      stream.consume(at);
      stream.resyncing = false;
    }

    if (!pc.midFrame(type) && stream.headGap() > 0) {
      // The start of a message was not captured: skip to the next plausible start.
      failed(pc, type, stream, stats);
      continue;
    }

    const before = stream.head;
    const status = pc.parseFrame(type, stream);
    if (status === ParseStatus.frame) {
      if (stream.head === before && !pc.midFrame(type)) {
        // A frame made of no bytes would loop forever; treat as garbage.
        failed(pc, type, stream, stats);
      }
      continue;
    }
    if (status === ParseStatus.needMore) break;
    failed(pc, type, stream, stats);
  }
  if (stream.ended && !pc.disabled) {
    // Nothing more will arrive: whatever could not be parsed is dropped.
    if (stream.available() > 0) {
      stats.droppedBytes += stream.buffered;
      stream.consume(stream.available());
    }
    pc.endOfStream(type, stream);
  }
}

function failed(
  pc: ProtocolConnection,
  type: MessageType,
  stream: ByteStream,
  stats: CollectorStats,
): void {
  stats.parseFailures++;
  pc.onParseFailure(type, stream.timeAt(0));
  // Step past the byte that failed so the boundary search cannot find the same start again.
  const gap = stream.headGap();
  if (gap > 0) {
    stream.consume(gap);
  } else if (stream.available() > 0) {
    stats.droppedBytes++;
    stream.consume(1);
  }
  stream.resyncing = true;
}
