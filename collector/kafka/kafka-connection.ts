// Per-connection Kafka state: a frame reader per direction, requests pending by correlation id
// (responses may come in any order), and rows ready to emit. Produce with acks=0 gets no
// response: its row is emitted at once (resp_body empty, latency 0).
import type { RowSink } from '../../engine/schema.ts';
import type { KafkaEventRow } from '../../engine/tables/kafka.ts';
import {
  ParseStatus, type ConnectionInfo, type MessageType, type ParseStatusValue, type ProtocolConnection,
  type StreamReader,
} from '../protocol.ts';
import type { CollectorStats } from '../stats.ts';
import { ApiKey, isFlexible, isKnownApi, MAX_PLAUSIBLE_VERSION, responseHeaderHasTags } from './api-keys.ts';
import { KafkaReader, TRUNCATED } from './codec.ts';
import { FrameReader } from './frame-reader.ts';
import { SCHEMAS } from './messages.ts';
import type { KafkaOptions } from './options.ts';
import { decode } from './schema.ts';
import { requestSummary, responseSummary } from './summary.ts';

interface Pending {
  key: number;
  version: number;
  clientId: string;
  body: string;
  startNs: bigint;
}

interface Done {
  req: Pending;
  resp: string;
  endNs: bigint;
}

export class KafkaConnection implements ProtocolConnection {
  private readonly reqReader: FrameReader;
  private readonly respReader: FrameReader;
  private pending = new Map<number, Pending>();
  private ready: Done[] = [];
  disabled = false;

  constructor(
    private readonly opts: KafkaOptions,
    private readonly stats: CollectorStats,
  ) {
    this.reqReader = new FrameReader(opts.frameKeep);
    this.respReader = new FrameReader(opts.frameKeep);
  }

  parseFrame(type: MessageType, stream: StreamReader): ParseStatusValue {
    const reader = type === 'request' ? this.reqReader : this.respReader;
    const r = reader.read(stream);
    if (r !== ParseStatus.frame) return r;
    return type === 'request' ? this.request() : this.response();
  }

  private request(): ParseStatusValue {
    const f = this.reqReader.frame;
    const r = new KafkaReader(f.data, f.start, f.end);
    let key: number, version: number, corr: number, clientId: string | null;
    try {
      key = r.int16();
      version = r.int16();
      corr = r.int32();
      if (!isKnownApi(key) || version < 0 || version > MAX_PLAUSIBLE_VERSION) return ParseStatus.invalid;
      clientId = r.string(false);
      if (isFlexible(key, version)) r.taggedFields();
    } catch (err) {
      if (err !== TRUNCATED) throw err;
      return ParseStatus.invalid;
    }
    const schema = SCHEMAS.get(key);
    const flex = isFlexible(key, version);
    const body = schema === undefined ? {} : decode(r, schema.request, version, flex);
    const summary = requestSummary(key, version, body, !f.complete || r.truncated, this.opts.summaryCap);
    const req: Pending = { key, version, clientId: clientId ?? '', body: summary, startNs: f.startNs };
    if (key === ApiKey.produce && body.acks === 0) {
      this.ready.push({ req, resp: '', endNs: 0n });
      return ParseStatus.frame;
    }
    if (this.pending.has(corr)) this.stats.expiredRequests++; // reused id: the old one got no answer
    this.pending.set(corr, req);
    if (this.pending.size > this.opts.maxPendingRequests) {
      this.pending.delete(this.pending.keys().next().value as number);
      this.stats.expiredRequests++;
    }
    return ParseStatus.frame;
  }

  private response(): ParseStatusValue {
    const f = this.respReader.frame;
    if (f.end - f.start < 4) {
      this.stats.unmatchedResponses++;
      return ParseStatus.frame;
    }
    const corr = f.data.readInt32BE(f.start);
    const req = this.pending.get(corr);
    if (req === undefined) {
      this.stats.unmatchedResponses++;
      return ParseStatus.frame;
    }
    this.pending.delete(corr);
    const r = new KafkaReader(f.data, f.start + 4, f.end);
    const schema = SCHEMAS.get(req.key);
    let summary = '{}';
    try {
      if (responseHeaderHasTags(req.key, req.version)) r.taggedFields();
      if (schema !== undefined) {
        // ApiVersions answers an unsupported version with a v0 body.
        const body = decode(r, schema.response, req.version, isFlexible(req.key, req.version));
        summary = responseSummary(req.key, body, !f.complete || r.truncated, this.opts.summaryCap);
      }
    } catch (err) {
      if (err !== TRUNCATED) throw err;
      summary = '{"truncated":true}';
    }
    this.ready.push({ req, resp: summary, endNs: f.endNs });
    return ParseStatus.frame;
  }

  midFrame(type: MessageType): boolean {
    return type === 'request' ? this.reqReader.midFrame() : this.respReader.midFrame();
  }

  endOfStream(type: MessageType): void {
    (type === 'request' ? this.reqReader : this.respReader).reset();
  }

  onParseFailure(type: MessageType): void {
    (type === 'request' ? this.reqReader : this.respReader).reset();
  }

  stitch(conn: ConnectionInfo, sink: RowSink, stats: CollectorStats): void {
    const list = this.ready;
    if (list.length === 0) return;
    this.ready = [];
    for (let i = 0; i < list.length; i++) {
      sink.append('kafka_events', toRow(conn, list[i]!));
      stats.records++;
    }
  }

  expire(beforeNs: bigint): number {
    let n = 0;
    for (const [corr, req] of this.pending) {
      if (req.startNs >= beforeNs) continue;
      this.pending.delete(corr);
      n++;
    }
    return n;
  }

  pendingRequests(): number {
    return this.pending.size;
  }

  release(): void {
    this.stats.expiredRequests += this.pending.size;
    this.pending.clear();
  }
}

function toRow(conn: ConnectionInfo, d: Done): KafkaEventRow {
  let latency = d.endNs === 0n ? 0n : d.endNs - d.req.startNs;
  if (d.endNs !== 0n && latency <= 0n) latency = 1n;
  return {
    timeNs: d.req.startNs,
    upid: conn.upid,
    remoteAddr: conn.remoteAddr,
    remotePort: conn.remotePort,
    localAddr: conn.localAddr,
    localPort: conn.localPort,
    traceRole: conn.role,
    encrypted: conn.encrypted === true,
    reqCmd: d.req.key,
    clientId: d.req.clientId,
    reqBody: d.req.body,
    resp: d.resp,
    latencyNs: latency,
  };
}
