// What the distributed planner needs from the cluster, as interfaces: server/ implements them
// (NATS registry, gRPC client), so planner/ never imports server/.
import { SqlError, type QueryOptions, type QueryResult, type ResultColumn, type Value } from '../../engine/query.ts';

/** A registered agent: its node name, ASID (top 32 bits of its UPIDs) and gRPC address. */
export interface AgentNode {
  name: string;
  asid: number;
  address: string;
  /** Per table, the time_ range of the node's rows (from its last heartbeat); absent = unknown. */
  timeRanges?: TimeRanges;
}

/**
 * time_ of a node's rows per table, µs since the epoch: null = the table holds no rows; maxUs null =
 * open-ended (a capturing node appends rows newer than any heartbeat). A table not listed is unknown.
 */
export type TimeRanges = Record<string, { minUs: number; maxUs: number | null } | null>;

export interface NodeDirectory {
  /** Agents currently alive (heartbeating). */
  nodes(): AgentNode[];
}

export interface FragmentChunk {
  columns: ResultColumn[];
  rows: Value[][];
  /** Bytes this chunk took on the wire. */
  bytes: number;
  /** Time spent decoding it at the broker (ms), for the phase stats. */
  decodeMs?: number;
}

export interface FragmentRunner {
  /** Runs a node fragment on one agent; rejects with an Error whose message names the node. */
  run(node: AgentNode, sql: string, deadlineMs: number, signal: AbortSignal, options?: QueryOptions): AsyncIterable<FragmentChunk>;
  /**
   * In-process nodes (standalone mode): the engine's own result for a whole statement, streamed
   * as it is (nothing decoded or copied). Remote runners leave it out.
   */
  query?(node: AgentNode, sql: string, signal?: AbortSignal, options?: QueryOptions): Promise<QueryResult>;
}

/** Which nodes may hold rows for a pod/namespace/service filter (planner/cluster-metadata). */
export interface NodePruner {
  nodesFor(filter: { pod?: string[]; namespace?: string[]; service?: string[] }): string[] | null;
}

/**
 * The node itself failed (unreachable, died, missed the fragment deadline), as opposed to the SQL
 * failing there: only these are left out under wiretap.partial_results.
 */
export class NodeUnavailableError extends SqlError {
  constructor(readonly node: string, sqlstate: string, message: string) {
    super(sqlstate, message);
    this.name = 'NodeUnavailableError';
  }
}
