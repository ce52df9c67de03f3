// Kafka as a `Protocol`: inference from a request header (size, known API key, plausible version,
// printable client id), frame boundaries for resync, per-connection state.
import type { MessageType, Protocol, ProtocolConnection } from '../protocol.ts';
import type { CollectorStats } from '../stats.ts';
import { isFlexible, isKnownApi, MAX_PLAUSIBLE_VERSION } from './api-keys.ts';
import { KafkaReader } from './codec.ts';
import { MAX_FRAME } from './frame-reader.ts';
import { SCHEMAS } from './messages.ts';
import { decode } from './schema.ts';
import { KafkaConnection } from './kafka-connection.ts';
import { defaultKafkaOptions, type KafkaOptions } from './options.ts';

/** A request header plausibly starts at i (needs 14 bytes: size, key, version, correlation, client id length). */
export function requestHeaderAt(b: Buffer, i: number): boolean {
  if (i + 14 > b.length) return false;
  const size = b.readInt32BE(i);
  if (size < 10 || size > MAX_FRAME) return false;
  const key = b.readInt16BE(i + 4);
  const version = b.readInt16BE(i + 6);
  if (!isKnownApi(key) || version < 0 || version > MAX_PLAUSIBLE_VERSION) return false;
  const idLen = b.readInt16BE(i + 12);
  if (idLen < -1 || idLen > size - 10) return false;
  const end = Math.min(b.length, i + 14 + idLen);
  for (let k = i + 14; k < end; k++) if (b[k]! < 32 || b[k]! > 126) return false;
  return true;
}

/**
 * A whole request frame at i decodes exactly (header and, for APIs with a schema, the body ends
 * where the frame ends). Guards inference against a response that happens to look like a header
 * (e.g. correlation id 0 read as API key Produce).
 */
export function requestDecodesAt(b: Buffer, i: number): boolean {
  const size = b.readInt32BE(i);
  const r = new KafkaReader(b.subarray(i + 4, i + 4 + size));
  const key = b.readInt16BE(i + 4);
  const version = b.readInt16BE(i + 6);
  const schema = SCHEMAS.get(key);
  if (schema === undefined) return true;
  r.i = 8;
  try {
    r.string(false);
    if (isFlexible(key, version)) r.taggedFields();
  } catch {
    return false;
  }
  decode(r, schema.request, version, isFlexible(key, version));
  return !r.truncated && r.i === size;
}

export function inferKafka(head: Buffer): MessageType | 'needMore' | null {
  if (head.length < 14) return head[0] === 0 && (head.length < 2 || head[1]! < 0x10) ? 'needMore' : null;
  if (!requestHeaderAt(head, 0)) return null;
  const size = head.readInt32BE(0);
  if (head.length >= 4 + size && !requestDecodesAt(head, 0)) return null;
  // The first read usually carries the whole request; a longer head must start another one.
  if (head.length <= 4 + size) return 'request';
  return requestHeaderAt(head, 4 + size) ? 'request' : null;
}

/** A response frame plausibly starts at i: its size ends it at the end of buf, or at another frame that does. */
function responseAt(b: Buffer, i: number): boolean {
  if (i + 8 > b.length) return false;
  const size = b.readInt32BE(i);
  if (size < 4 || size > MAX_FRAME) return false;
  const end = i + 4 + size;
  if (end === b.length) return true;
  if (end + 8 > b.length) return false;
  const next = b.readInt32BE(end);
  return next >= 4 && end + 4 + next === b.length;
}

export function findKafkaBoundary(type: MessageType, buf: Buffer, from: number): number {
  for (let i = from; i + 8 <= buf.length; i++) {
    if (type === 'request' ? requestHeaderAt(buf, i) : responseAt(buf, i)) return i;
  }
  return -1;
}

export class KafkaProtocol implements Protocol {
  readonly name = 'kafka';
  readonly maxMarkerLength = 14;
  readonly options: KafkaOptions;

  constructor(
    private readonly stats: CollectorStats,
    options: Partial<KafkaOptions> = {},
  ) {
    this.options = { ...defaultKafkaOptions, ...options };
  }

  infer(head: Buffer): MessageType | 'needMore' | null {
    return inferKafka(head);
  }

  findFrameBoundary(type: MessageType, buf: Buffer, from: number): number {
    return findKafkaBoundary(type, buf, from);
  }

  newConnection(): ProtocolConnection {
    return new KafkaConnection(this.options, this.stats);
  }
}
