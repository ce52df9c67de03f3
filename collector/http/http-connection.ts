// Per-connection HTTP/1.x state: a parser per direction and the stitcher, which pairs requests
// and responses in FIFO order (HTTP/1.x answers in request order, also when pipelined).
import type { HttpEventRow, RowSink } from '../../engine/schema.ts';
import {
  ParseStatus, type ConnectionInfo, type MessageType, type ParseStatusValue, type ProtocolConnection,
  type StreamReader,
} from '../protocol.ts';
import type { CollectorStats } from '../stats.ts';
import { contentTypeOf } from './content-type.ts';
import { headersText } from './head-parser.ts';
import { HttpMessageParser, type HttpMessage, type HttpParserOptions } from './message-parser.ts';

/** Orphan responses (no request seen) kept at most, waiting for a request that may be late. */
const MAX_ORPHANS = 64;

export class HttpConnection implements ProtocolConnection {
  private readonly req: HttpMessageParser;
  private readonly resp: HttpMessageParser;
  private requests: HttpMessage[] = [];
  private responses: HttpMessage[] = [];
  disabled = false;

  constructor(
    opts: HttpParserOptions,
    private readonly maxPending: number,
    private readonly stats: CollectorStats,
  ) {
    this.req = new HttpMessageParser(true, opts);
    this.resp = new HttpMessageParser(false, opts);
  }

  parseFrame(type: MessageType, stream: StreamReader): ParseStatusValue {
    if (type === 'request') {
      const r = this.req.parse(stream, '');
      if (r === ParseStatus.frame) this.parseFrameDone(type);
      return r;
    }
    const answering = this.requests[this.responses.length];
    const r = this.resp.parse(stream, answering === undefined ? '' : answering.method);
    if (r === ParseStatus.frame) this.parseFrameDone(type);
    return r;
  }

  /** Queues the message a parser completed, if any. */
  private parseFrameDone(type: MessageType): void {
    if (type === 'request') {
      if (this.req.done === null) return;
      this.requests.push(this.req.done);
      this.req.done = null;
      if (this.requests.length > this.maxPending) {
        this.requests.shift();
        this.stats.expiredRequests++;
      }
      return;
    }
    const msg = this.resp.done;
    if (msg === null) return;
    this.resp.done = null;
    // Interim responses (100 Continue, 103 Early Hints) precede the real one: skip them.
    if (msg.status >= 200 || msg.status === 101) {
      this.responses.push(msg);
      if (this.responses.length > MAX_ORPHANS + this.requests.length) {
        this.responses.shift();
        this.stats.unmatchedResponses++;
      }
    }
  }

  midFrame(type: MessageType): boolean {
    return type === 'request' ? this.req.midFrame() : this.resp.midFrame();
  }

  endOfStream(type: MessageType): void {
    const parser = type === 'request' ? this.req : this.resp;
    if (parser.endOfStream() && parser.done !== null) {
      (type === 'request' ? this.requests : this.responses).push(parser.done);
      parser.done = null;
    }
  }

  onParseFailure(type: MessageType, timeNs: bigint): void {
    // A message broken inside its body still completes (body so far); the driver resyncs after it.
    const parser = type === 'request' ? this.req : this.resp;
    if (parser.salvage() && parser.done !== null) {
      this.parseFrameDone(type);
      return;
    }
    if (type === 'request') {
      this.req.reset();
    } else {
      this.resp.reset();
      // A response was probably lost here: the oldest unanswered request that started before
      // the lost bytes must not take the next response.
      const i = this.responses.length;
      const req = this.requests[i];
      if (req !== undefined && req.startNs <= timeNs) {
        this.requests.splice(i, 1);
        this.stats.expiredRequests++;
      }
    }
  }

  stitch(conn: ConnectionInfo, sink: RowSink, stats: CollectorStats): void {
    const requests = this.requests;
    const responses = this.responses;
    while (responses.length > 0) {
      const resp = responses[0] as HttpMessage;
      const req = requests[0];
      // No request yet: it may be late (another CPU, held back); the time check below or
      // expire() decides later.
      if (req === undefined) break;
      if (req.startNs > resp.endNs) {
        // The response ended before this request began: its own request was never seen.
        responses.shift();
        stats.unmatchedResponses++;
        continue;
      }
      requests.shift();
      responses.shift();
      sink.append('http_events', toRow(conn, req, resp));
      stats.records++;
      if (resp.status === 101 || (req.method === 'CONNECT' && resp.status >= 200 && resp.status < 300)) {
        // Upgrade or tunnel: what follows is not HTTP/1.x.
        this.disabled = true;
        return;
      }
    }
  }

  expire(beforeNs: bigint): number {
    let n = 0;
    const requests = this.requests;
    while (requests.length > 0 && (requests[0] as HttpMessage).startNs < beforeNs) {
      requests.shift();
      n++;
    }
    // Orphan responses waited long enough for a request.
    while (requests.length === 0 && this.responses.length > 0 && (this.responses[0] as HttpMessage).endNs < beforeNs) {
      this.responses.shift();
      this.stats.unmatchedResponses++;
    }
    return n;
  }

  pendingRequests(): number {
    return this.requests.length;
  }

  release(): void {
    // New lists only when something was left (most connections end with both empty).
    if (this.requests.length > 0) {
      this.stats.expiredRequests += this.requests.length;
      this.requests = [];
    }
    if (this.responses.length > 0) {
      this.stats.unmatchedResponses += this.responses.length;
      this.responses = [];
    }
  }
}

function toRow(conn: ConnectionInfo, req: HttpMessage, resp: HttpMessage): HttpEventRow {
  let latency = resp.endNs - req.startNs;
  if (latency <= 0n) latency = 1n;
  const ct = resp.ctype >= 0 ? resp.ctype : req.ctype >= 0 ? req.ctype : contentTypeOf(undefined);
  return {
    timeNs: req.startNs,
    upid: conn.upid,
    remoteAddr: conn.remoteAddr,
    remotePort: conn.remotePort,
    localAddr: conn.localAddr,
    localPort: conn.localPort,
    traceRole: conn.role,
    encrypted: conn.encrypted === true,
    majorVersion: req.major,
    minorVersion: req.minor,
    contentType: ct,
    reqHeaders: headersText(req),
    reqMethod: req.method,
    reqPath: req.target,
    reqBody: req.body,
    reqBodySize: req.bodySize,
    respHeaders: headersText(resp),
    respStatus: resp.status,
    respMessage: resp.reason,
    respBody: resp.body,
    respBodySize: resp.bodySize,
    latencyNs: latency,
  };
}
