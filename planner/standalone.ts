// Standalone planning: one node, in this process. The broker's interface (QueryExecutor) is kept
// so cluster mode can replace the local call with distributed fragments without touching server/.
import type { QueryExecutor, QueryResult } from '../engine/query.ts';

export class StandalonePlanner implements QueryExecutor {
  constructor(private readonly localNode: QueryExecutor) {}

  query(sql: string, signal?: AbortSignal): Promise<QueryResult> {
    // One node holds every row, so the whole statement is its own node fragment and the merge
    // fragment is the identity. Pushdown rules, node selection and merge arrive with cluster mode.
    return this.localNode.query(sql, signal);
  }
}
