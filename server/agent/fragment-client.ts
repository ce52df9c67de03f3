// Broker side of ExecuteFragment: gRPC over node's own HTTP/2 client (one session per agent
// address), results decoded from Arrow. The agent serves with grpc-js; the broker speaks the wire
// protocol directly — a server-streaming call is one POST with a length-prefixed request, data
// frames of length-prefixed messages and grpc-status in the trailers — because grpc-js's client
// (channel, load balancing, filters, metadata objects) cost ~1 ms of broker CPU per call under
// load, and a statement over 100 nodes makes 100 calls.
import * as http2 from 'node:http2';
import { SqlError, type QueryOptions } from '../../engine/query.ts';
import { NodeUnavailableError, type AgentNode, type FragmentChunk, type FragmentRunner } from '../../planner/distributed/nodes.ts';
import { decodeChunk } from './arrow-codec.ts';
import { fragmentServiceDefinition, maxMessageBytes, type FragmentRequest } from './fragment-service.ts';

const method = fragmentServiceDefinition.executeFragment;

/** The gRPC status codes the broker tells apart. */
const status = { ok: 0, cancelled: 1, deadlineExceeded: 4, unavailable: 14 } as const;

interface CallStatus { code: number; details: string; sqlstate: string }

function statusOf(headers: http2.IncomingHttpHeaders): CallStatus | null {
  const code = headers['grpc-status'];
  if (code === undefined) return null;
  let details = String(headers['grpc-message'] ?? '');
  try { details = decodeURIComponent(details); } catch { /* as sent */ }
  return { code: Number(code), details, sqlstate: String(headers.sqlstate ?? '') };
}

export class GrpcFragmentRunner implements FragmentRunner {
  private readonly sessions = new Map<string, http2.ClientHttp2Session>();

  private session(address: string): http2.ClientHttp2Session {
    const open = this.sessions.get(address);
    if (open && !open.closed && !open.destroyed) return open;
    const s = http2.connect(`http://${address}`);
    s.on('error', () => { /* each stream reports its own failure */ });
    s.once('close', () => { if (this.sessions.get(address) === s) this.sessions.delete(address); });
    this.sessions.set(address, s);
    return s;
  }

  async *run(node: AgentNode, sql: string, deadlineMs: number, signal: AbortSignal, options?: QueryOptions): AsyncIterable<FragmentChunk> {
    const req: FragmentRequest = { sql, deadlineMs, ...(options?.timeZone ? { timeZone: options.timeZone } : {}) };
    const body = method.requestSerialize(req);
    const frame = Buffer.allocUnsafe(5 + body.length);
    frame.writeUInt8(0, 0); // not compressed
    frame.writeUInt32BE(body.length, 1);
    body.copy(frame, 5);
    const left = Math.max(1, Math.ceil(deadlineMs - Date.now()));
    let result: CallStatus | null = null;
    let timedOut = false;
    let cancelled = false;
    let failure: Error | null = null;
    let stream: http2.ClientHttp2Stream;
    try {
      stream = this.session(node.address).request({
        ':method': 'POST', ':path': method.path, 'content-type': 'application/grpc', te: 'trailers', 'grpc-timeout': grpcTimeout(left),
      });
    } catch (err) {
      throw new NodeUnavailableError(node.name, '58000', `node ${node.name} (${node.address}) failed: ${(err as Error).message}`);
    }
    const onStatus = (h: http2.IncomingHttpHeaders) => { result ??= statusOf(h); }; // trailers, or headers of a trailers-only answer
    stream.on('response', onStatus);
    stream.on('trailers', onStatus);
    stream.on('error', (err) => { failure ??= err; });
    const timer = setTimeout(() => { timedOut = true; stream.close(http2.constants.NGHTTP2_CANCEL); }, left);
    const onAbort = () => { cancelled = true; stream.close(http2.constants.NGHTTP2_CANCEL); };
    signal.addEventListener('abort', onAbort, { once: true });
    stream.end(frame);
    try {
      // one length-prefixed message at a time; a slow broker pauses the agent (flow control).
      // Frames are kept in a list and joined once a whole message is there: joining on every
      // 16 KB frame would copy a large message quadratically.
      const parts: Buffer[] = [];
      let have = 0;
      let pending: Buffer = Buffer.alloc(0);
      for await (const data of stream as AsyncIterable<Buffer>) {
        parts.push(data);
        have += data.length;
        for (;;) {
          if (have < 5) break;
          if (parts[0]!.length < 5) parts.splice(0, parts.length, Buffer.concat(parts, have));
          const head = parts[0]!;
          if (head[0] !== 0) throw new Error('compressed message (not negotiated)');
          const len = head.readUInt32BE(1);
          if (len > maxMessageBytes) throw new Error(`message of ${len} bytes exceeds ${maxMessageBytes}`);
          if (have < 5 + len) break;
          pending = parts.length === 1 ? head : Buffer.concat(parts, have);
          const msg = pending.subarray(5, 5 + len);
          const rest = pending.subarray(5 + len);
          parts.length = 0;
          if (rest.length) parts.push(rest);
          have = rest.length;
          const t = performance.now();
          const { columns, rows } = decodeChunk(msg);
          yield { columns, rows, bytes: len, decodeMs: performance.now() - t };
        }
      }
      pending = parts.length ? Buffer.concat(parts, have) : Buffer.alloc(0);
      if (pending.length && !failure) failure = new Error('the answer ended inside a message');
    } catch (err) {
      failure ??= err as Error;
    } finally {
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
      if (!stream.closed) stream.close(http2.constants.NGHTTP2_CANCEL); // the consumer stopped early, or it failed
    }
    if (timedOut) throw new NodeUnavailableError(node.name, '57014', `node ${node.name} (${node.address}) did not answer before the fragment deadline`);
    if (cancelled) throw new SqlError('57014', `node ${node.name}: fragment cancelled`);
    const r = result as CallStatus | null;
    if (r && r.code !== status.ok) throw nodeError(node, r);
    if (failure || !r) {
      throw new NodeUnavailableError(node.name, '58000', `node ${node.name} (${node.address}) failed: ${failure?.message ?? 'the answer ended without a status'}`);
    }
  }

  close(): void {
    for (const s of this.sessions.values()) s.destroy();
    this.sessions.clear();
  }
}

/** grpc-timeout: at most 8 digits, so long deadlines go in seconds (or hours). */
function grpcTimeout(ms: number): string {
  if (ms < 1e8) return `${ms}m`;
  const sec = Math.ceil(ms / 1000);
  return sec < 1e8 ? `${sec}S` : `${Math.min(99_999_999, Math.ceil(sec / 3600))}H`;
}

/** A failed fragment as a SqlError naming the node (SQLSTATE from the agent when it sent one). */
function nodeError(node: AgentNode, s: CallStatus): SqlError {
  if (s.sqlstate && s.code !== status.unavailable) return new SqlError(s.sqlstate, `node ${node.name}: ${s.details}`);
  if (s.code === status.deadlineExceeded) return new NodeUnavailableError(node.name, '57014', `node ${node.name} (${node.address}) did not answer before the fragment deadline`);
  if (s.code === status.cancelled) return new SqlError('57014', `node ${node.name}: fragment cancelled`);
  return new NodeUnavailableError(node.name, '58000', `node ${node.name} (${node.address}) failed: ${s.details || `gRPC status ${s.code}`}`);
}
