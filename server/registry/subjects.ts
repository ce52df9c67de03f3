// NATS subjects and the announcement message of the agent registry (one place for both sides).
export const announceSubject = 'wiretap.agents.announce';
/** A broker that (re)starts asks every agent to announce now instead of waiting a heartbeat. */
export const discoverSubject = 'wiretap.agents.discover';

import type { TimeRanges } from '../../planner/distributed/nodes.ts';

export interface Announcement {
  name: string;
  asid: number;
  /** host:port of the agent's gRPC service. */
  address: string;
  /** Milliseconds between announcements; the registry expires an agent after 3 missed. */
  heartbeatMs: number;
  startedAt: number;
  /** time_ range of the agent's rows per table at this heartbeat (brokers prune nodes by it). */
  timeRanges?: TimeRanges;
}
