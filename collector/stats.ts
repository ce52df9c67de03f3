// Counters shared by the tracker, the parse driver and the protocols. Plain mutable numbers so
// the hot path increments fields instead of allocating.
export interface CollectorStats {
  /** Socket events handled (all kinds). */
  events: number;
  /** Rows delivered to the sink. */
  records: number;
  /** Resynchronisations: a frame could not be parsed and bytes were skipped. */
  parseFailures: number;
  /** The same, per protocol name. */
  parseFailuresByProtocol: Record<string, number>;
  /** Requests that got no response within the timeout (or before close / release). */
  expiredRequests: number;
  /** Responses with no request to pair with. */
  unmatchedResponses: number;
  /** Captured bytes thrown away: resync skips and per-stream buffer-cap overflows. */
  droppedBytes: number;
  /** Times a stream exceeded its buffer cap and was dropped. */
  bufferOverflows: number;
  /** Bytes the capture moved but did not copy (event payload shorter than size, lost events). */
  gapBytes: number;
  /** Bytes on connections whose protocol is not (yet) known. */
  ignoredBytes: number;
  /** Events that duplicated bytes already seen, or belonged to a superseded connection. */
  staleEvents: number;
  /** Exceptions caught around an event (a bug somewhere; never expected). */
  errors: number;
  connectionsOpened: number;
  connectionsReleased: number;
  /** Connections released because they were idle past the timeout. */
  idleReleased: number;
  openConnections: number;
}

export function newStats(): CollectorStats {
  return {
    events: 0, records: 0, parseFailures: 0, parseFailuresByProtocol: {}, expiredRequests: 0, unmatchedResponses: 0,
    droppedBytes: 0, bufferOverflows: 0, gapBytes: 0, ignoredBytes: 0, staleEvents: 0, errors: 0,
    connectionsOpened: 0, connectionsReleased: 0, idleReleased: 0, openConnections: 0,
  };
}
