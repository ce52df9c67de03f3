// A distributed plan: what every chosen node runs, and the merge the broker runs over it.
export type Strategy =
  | 'partial-aggregate' // nodes aggregate their rows, the broker merges partial states
  | 'node-rows' // nodes run the projection/filter (+ top-n), the broker re-sorts and limits
  | 'ship-rows' // nodes ship filtered rows of one table, the broker runs the whole query
  | 'ship-tables' // nodes ship whole tables (joins, subqueries, what the parser cannot read)
  | 'broker-only'; // no telemetry table: runs at the broker, no node contacted

export interface ShippedInput {
  /** Table name the rows get at the broker (the merge SQL reads it). */
  name: string;
  /** SQL every chosen node runs. */
  nodeSql: string;
  /**
   * Joins and subqueries: the time_ bounds of each read of this table (any one may match); nodes
   * whose rows lie outside all of them are not asked for this input.
   */
  timeFilters?: TimeFilter[];
}

export interface PodFilter { pod?: string[]; namespace?: string[]; service?: string[] }

/** Bounds on time_ from the WHERE clause (SQL expressions without columns, e.g. now() - interval '5 minutes'). */
export interface TimeFilter { table: string; lower: string[]; upper: string[] }

export interface DistributedPlan {
  strategy: Strategy;
  inputs: ShippedInput[];
  mergeSql: string;
  /** WHERE conjuncts evaluated on the nodes. */
  pushedPredicates: string[];
  /** Metadata filter that limits which nodes can hold matching rows. */
  podFilter: PodFilter | null;
  /** time_ bounds that prune nodes whose rows of this table lie outside them. */
  timeFilter?: TimeFilter | null;
  /** Why a more efficient strategy was not used. */
  reason?: string;
}

/** The table partial results arrive in at the broker. */
export const partsTable = '__wt_parts';
