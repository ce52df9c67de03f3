// Broker side of ExecuteFragment: one gRPC channel per agent address, results decoded from Arrow.
import * as grpc from '@grpc/grpc-js';
import { SqlError, type QueryOptions } from '../../engine/query.ts';
import { NodeUnavailableError, type AgentNode, type FragmentChunk, type FragmentRunner } from '../../planner/distributed/nodes.ts';
import { decodeChunk } from './arrow-codec.ts';
import { fragmentServiceDefinition, maxMessageBytes, type FragmentRequest } from './fragment-service.ts';

const method = fragmentServiceDefinition.executeFragment;

export class GrpcFragmentRunner implements FragmentRunner {
  private readonly clients = new Map<string, grpc.Client>();

  private client(address: string): grpc.Client {
    let c = this.clients.get(address);
    if (!c) {
      c = new grpc.Client(address, grpc.credentials.createInsecure(), {
        'grpc.max_receive_message_length': maxMessageBytes,
        'grpc.max_send_message_length': 1 << 20,
        // a fragment is never retried (the statement fails or leaves the node out), and the
        // retry wrapper and channelz bookkeeping cost per call: 100 nodes = 100 calls a statement
        'grpc.enable_retries': 0,
        'grpc.enable_channelz': 0,
      });
      this.clients.set(address, c);
    }
    return c;
  }

  async *run(node: AgentNode, sql: string, deadlineMs: number, signal: AbortSignal, options?: QueryOptions): AsyncIterable<FragmentChunk> {
    const req: FragmentRequest = { sql, deadlineMs, ...(options?.timeZone ? { timeZone: options.timeZone } : {}) };
    const call = this.client(node.address).makeServerStreamRequest(
      method.path, method.requestSerialize, method.responseDeserialize, req, new grpc.Metadata(), { deadline: deadlineMs },
    );
    const onAbort = () => call.cancel();
    signal.addEventListener('abort', onAbort, { once: true });
    try {
      // the async iterator reads one message at a time: a slow broker pauses the agent (flow control)
      for await (const msg of call as AsyncIterable<Uint8Array>) {
        const t = performance.now();
        const { columns, rows } = decodeChunk(msg);
        yield { columns, rows, bytes: msg.byteLength, decodeMs: performance.now() - t };
      }
    } catch (err) {
      throw nodeError(node, err as grpc.ServiceError);
    } finally {
      signal.removeEventListener('abort', onAbort);
      call.cancel();
    }
  }

  close(): void {
    for (const c of this.clients.values()) c.close();
    this.clients.clear();
  }
}

/** A failed fragment as a SqlError naming the node (SQLSTATE from the agent when it sent one). */
function nodeError(node: AgentNode, err: grpc.ServiceError): SqlError {
  const sqlstate = String(err.metadata?.get('sqlstate')[0] ?? '');
  if (sqlstate && err.code !== grpc.status.UNAVAILABLE) return new SqlError(sqlstate, `node ${node.name}: ${err.details}`);
  if (err.code === grpc.status.DEADLINE_EXCEEDED) return new NodeUnavailableError(node.name, '57014', `node ${node.name} (${node.address}) did not answer before the fragment deadline`);
  if (err.code === grpc.status.CANCELLED) return new SqlError('57014', `node ${node.name}: fragment cancelled`);
  return new NodeUnavailableError(node.name, '58000', `node ${node.name} (${node.address}) failed: ${err.details || err.message}`);
}
