// The agent's gRPC service: ExecuteFragment runs one node fragment on the local engine and streams
// the result back as Arrow IPC messages. Hand-written service definition (no .proto at run time):
// the request is JSON, each response message is one Arrow IPC stream (arrow-codec.ts).
//   rpc ExecuteFragment(FragmentRequest{sql, deadlineMs, timeZone?}) returns (stream ArrowIpc)
import * as grpc from '@grpc/grpc-js';
import type { QueryExecutor, ResultColumn, Value } from '../../engine/query.ts';
import { SqlError } from '../../engine/query.ts';
import { encodeChunk } from './arrow-codec.ts';
import type { Logger } from '../log.ts';

export interface FragmentRequest {
  sql: string;
  /** Absolute deadline, ms since the epoch (gRPC's own deadline is set to the same instant). */
  deadlineMs: number;
  /** The client session's TimeZone (QueryOptions.timeZone): the fragment's date/time functions run in it. */
  timeZone?: string;
}

const json = {
  serialize: (v: FragmentRequest) => Buffer.from(JSON.stringify(v)),
  deserialize: (b: Buffer) => JSON.parse(b.toString('utf8')) as FragmentRequest,
};
const bytes = { serialize: (v: Uint8Array) => Buffer.from(v.buffer, v.byteOffset, v.byteLength), deserialize: (b: Buffer) => new Uint8Array(b) };

export const fragmentServiceDefinition = {
  executeFragment: {
    path: '/wiretap.Agent/ExecuteFragment',
    requestStream: false,
    responseStream: true,
    requestSerialize: json.serialize,
    requestDeserialize: json.deserialize,
    responseSerialize: bytes.serialize,
    responseDeserialize: bytes.deserialize,
  },
} satisfies grpc.ServiceDefinition;

/** Largest gRPC message either side accepts; chunks are re-split to stay well under it. */
export const maxMessageBytes = 16 << 20;
/** Rows per Arrow message (DuckDB chunks are 2048 rows; wide rows get split further by size). */
const rowsPerMessage = 2048;

export interface FragmentCounters {
  fragments: number; rowsSent: number; bytesSent: number; cancelled: number; failed: number;
  /** Request to last message of the latest fragment, on the agent (the cluster-scale bench subtracts it). */
  lastFragmentMs: number;
}

/** SqlError → gRPC status whose details carry the SQLSTATE, so the broker can re-raise it. */
function toStatus(err: unknown): Partial<grpc.StatusObject> {
  const e = err as SqlError;
  const sqlstate = e instanceof SqlError ? e.sqlstate : 'XX000';
  const metadata = new grpc.Metadata();
  metadata.set('sqlstate', sqlstate);
  const code = sqlstate === '57014' ? grpc.status.CANCELLED : grpc.status.UNKNOWN;
  return { code, details: e?.message ?? String(err), metadata };
}

export function fragmentHandlers(engine: QueryExecutor, log: Logger, counters: FragmentCounters): grpc.UntypedServiceImplementation {
  const executeFragment: grpc.handleServerStreamingCall<FragmentRequest, Uint8Array> = (call) => {
    const abort = new AbortController();
    const started = performance.now();
    counters.fragments++;
    // cancellation (broker gave up, client went away) and the deadline both reach DuckDB's interrupt
    call.on('cancelled', () => { counters.cancelled++; abort.abort(); });
    const left = call.request.deadlineMs - Date.now();
    const timer = setTimeout(() => abort.abort(), Math.max(0, left));
    timer.unref();
    void (async () => {
      try {
        const { timeZone } = call.request;
        const result = await engine.query(call.request.sql, abort.signal, typeof timeZone === 'string' ? { timeZone } : undefined);
        let sent = false;
        for await (const chunk of result.chunks) {
          for (let i = 0; i < chunk.length; i += rowsPerMessage) {
            await send(call, result.columns, chunk.slice(i, i + rowsPerMessage), counters);
            sent = true;
          }
          if (abort.signal.aborted) throw new SqlError('57014', 'canceling statement due to statement timeout');
        }
        if (!sent) await send(call, result.columns, [], counters); // the broker still learns the columns
        counters.lastFragmentMs = performance.now() - started;
        call.end();
      } catch (err) {
        counters.failed++;
        // the user's SQL errors are the client's business (it gets them); anything else is ours
        const level = err instanceof SqlError && err.sqlstate !== 'XX000' ? 'debug' : 'warn';
        if (!abort.signal.aborted) log[level]({ err, sql: call.request.sql }, 'fragment failed');
        call.emit('error', toStatus(err));
      } finally {
        clearTimeout(timer);
      }
    })();
  };
  return { executeFragment };
}

/** Writes one message; waits for 'drain' when the stream's buffer is full (backpressure). */
async function send(call: grpc.ServerWritableStream<FragmentRequest, Uint8Array>, columns: ResultColumn[], rows: Value[][], counters: FragmentCounters): Promise<void> {
  const msg = encodeChunk(columns, rows);
  if (msg.byteLength > maxMessageBytes / 2 && rows.length > 1) {
    const half = rows.length >> 1;
    await send(call, columns, rows.slice(0, half), counters);
    await send(call, columns, rows.slice(half), counters);
    return;
  }
  counters.rowsSent += rows.length;
  counters.bytesSent += msg.byteLength;
  if (!call.write(msg)) await new Promise<void>((resolve) => call.once('drain', resolve));
}

export interface FragmentServer { address: string; port: number; counters: FragmentCounters; close(): Promise<void> }

export async function startFragmentServer(engine: QueryExecutor, host: string, port: number, log: Logger): Promise<FragmentServer> {
  const server = new grpc.Server({ 'grpc.max_send_message_length': maxMessageBytes, 'grpc.max_receive_message_length': 1 << 20 });
  const counters: FragmentCounters = { fragments: 0, rowsSent: 0, bytesSent: 0, cancelled: 0, failed: 0, lastFragmentMs: 0 };
  server.addService(fragmentServiceDefinition, fragmentHandlers(engine, log, counters));
  const bound = await new Promise<number>((resolve, reject) =>
    server.bindAsync(`${host}:${port}`, grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))));
  return {
    address: `${host}:${bound}`,
    port: bound,
    counters,
    close: () => new Promise<void>((resolve) => server.tryShutdown(() => resolve())),
  };
}
