// Runs distributed plans: choose nodes (registry minus pruned), run the node fragment on each in
// parallel under one deadline, merge at the broker. A node that fails fails the query with its
// name — or, with partial results on, is left out and named in a NOTICE.
import { setMaxListeners } from 'node:events';
import { SqlError, SqlState, type QueryExecutor, type QueryResult } from '../../engine/query.ts';
import { planDistributed } from './split.ts';
import type { DistributedPlan, TimeFilter } from './plan.ts';
import { NodeUnavailableError, type AgentNode, type FragmentRunner, type NodeDirectory, type NodePruner } from './nodes.ts';
import type { MergeDb, MergeInput } from './merge-db.ts';
import { explainRows } from './explain.ts';

export interface DistributedOptions {
  /** Deadline for each fragment, from the start of the statement (ms). */
  fragmentTimeoutMs: number;
}

export interface DistributedResult extends QueryResult {
  /** Messages for the client (NoticeResponse), e.g. nodes left out under partial results. */
  notices?: string[];
}

/** What the last query did (tests, bench, logs). */
export interface DistributedStats {
  strategy: DistributedPlan['strategy'];
  nodesContacted: string[];
  nodesPruned: string[];
  nodesMissing: string[];
  rowsShipped: number;
  bytesShipped: number;
  /** Fan-out until the last node answered (ms). */
  fetchMs: number;
  /** Loading shipped rows into the merge database until the merged result is ready to stream (ms). */
  mergeMs: number;
}

export interface NodeChoice {
  chosen: AgentNode[];
  pruned: AgentNode[];
  /** Why each pruned node was left out, by node name (EXPLAIN groups nodes by `by`). */
  reasons: Map<string, { by: string; detail?: string }>;
}

const explainPrefix = /^\s*explain\s+(?!analyze\b)(?:\(\s*[^)]*\)\s*)?/i;

export class DistributedExecutor implements QueryExecutor {
  lastStats: DistributedStats | null = null;

  /**
   * schemaNode: an engine with no rows; its answer to a node fragment gives the columns when no
   * node is contacted (all pruned, none registered), so the merge still returns the right empty/zero result.
   */
  constructor(
    private readonly directory: NodeDirectory,
    private readonly runner: FragmentRunner,
    private readonly merge: MergeDb,
    private readonly schemaNode: QueryExecutor,
    private readonly pruner: NodePruner | null,
    private readonly options: DistributedOptions,
  ) {}

  /** This executor with a session's setting lookup (wiretap.partial_results). */
  forSession(setting: (name: string) => string | undefined): QueryExecutor {
    return { query: (sql, signal) => this.run(sql, signal, partialResultsOn(setting('wiretap.partial_results'))) };
  }

  query(sql: string, signal?: AbortSignal): Promise<DistributedResult> {
    return this.run(sql, signal, false);
  }

  plan(sql: string): DistributedPlan {
    return planDistributed(sql, this.merge.aggregateNames);
  }

  async choose(plan: DistributedPlan): Promise<NodeChoice> {
    const all = plan.inputs.length === 0 ? [] : this.directory.nodes();
    const choice: NodeChoice = { chosen: all, pruned: [], reasons: new Map() };
    const names = plan.podFilter && this.pruner ? this.pruner.nodesFor(plan.podFilter) : null;
    if (names !== null && plan.podFilter) {
      const keep = new Set(names);
      const by = `by ${Object.entries(plan.podFilter).map(([k, v]) => `${k} in (${v.join(', ')})`).join(' and ')}`;
      choice.chosen = all.filter((n) => keep.has(n.name));
      choice.pruned = all.filter((n) => !keep.has(n.name));
      for (const n of choice.pruned) choice.reasons.set(n.name, { by });
    }
    if (plan.timeFilter && choice.chosen.length) await this.pruneByTime(plan.timeFilter, choice);
    return choice;
  }

  /** Leaves out nodes whose rows of the table (as of their last heartbeat) lie outside the time_ bounds. */
  private async pruneByTime(filter: TimeFilter, choice: NodeChoice): Promise<void> {
    const bounds = await this.merge.timeBoundsUs(filter.lower, filter.upper);
    if (!bounds) return; // bounds the broker cannot evaluate: the nodes decide
    const { lower, upper } = bounds;
    const iso = (us: number | null) => (us === null ? '…' : new Date(Math.floor(us / 1000)).toISOString());
    const asked = `[${iso(lower)}, ${iso(upper)}]`;
    const keep: AgentNode[] = [];
    for (const n of choice.chosen) {
      const r = n.timeRanges?.[filter.table];
      // 1 µs of slack on both sides: the heartbeat's range and the bounds are both rounded to µs
      const outside = r === null
        || (r !== undefined && ((upper !== null && upper < r.minUs - 1) || (lower !== null && r.maxUs !== null && lower > r.maxUs + 1)));
      if (!outside) { keep.push(n); continue; }
      choice.pruned.push(n);
      choice.reasons.set(n.name, r === null ? { by: `by time_: no ${filter.table} rows` }
        : { by: `by time_: the query asks ${asked}, their ${filter.table} rows lie outside`, detail: `[${iso(r!.minUs)}, ${iso(r!.maxUs)}]` });
    }
    choice.chosen = keep;
  }

  private async run(sql: string, signal: AbortSignal | undefined, partial: boolean): Promise<DistributedResult> {
    const explain = explainPrefix.exec(sql);
    const statement = explain ? sql.slice(explain[0].length) : sql;
    const plan = this.plan(statement);
    const choice = await this.choose(plan);
    if (explain) return explainResult(explainRows(plan, choice, this.pruner !== null));
    const deadlineMs = Date.now() + this.options.fragmentTimeoutMs;
    const abort = new AbortController();
    setMaxListeners(0, abort.signal); // one listener per node fragment
    const onAbort = () => abort.abort();
    signal?.addEventListener('abort', onAbort, { once: true });
    const stats: DistributedStats = {
      strategy: plan.strategy, nodesContacted: choice.chosen.map((n) => n.name), nodesPruned: choice.pruned.map((n) => n.name),
      nodesMissing: [], rowsShipped: 0, bytesShipped: 0, fetchMs: 0, mergeMs: 0,
    };
    const t0 = performance.now();
    this.lastStats = stats;
    try {
      const inputs = await Promise.all(plan.inputs.map(async (input): Promise<MergeInput> => {
        const perNode = await Promise.all(choice.chosen.map((node) => this.fetch(node, input.nodeSql, deadlineMs, abort, partial, stats)));
        const done = perNode.filter((r) => r !== null);
        const columns = done[0]?.columns ?? (await this.schemaOf(input.nodeSql, abort.signal));
        return { name: input.name, columns, rows: done.flatMap((r) => r.rows) };
      }));
      stats.fetchMs = performance.now() - t0;
      const result: DistributedResult = await this.merge.run(inputs, plan.mergeSql, signal);
      stats.mergeMs = performance.now() - t0 - stats.fetchMs;
      if (stats.nodesMissing.length) result.notices = [`partial results: nodes did not answer and are left out: ${[...new Set(stats.nodesMissing)].join(', ')}`];
      return result;
    } finally {
      signal?.removeEventListener('abort', onAbort);
    }
  }

  /** One node's whole answer; on failure aborts the statement, or under partial results records the node and returns null. */
  private async fetch(node: AgentNode, sql: string, deadlineMs: number, abort: AbortController, partial: boolean, stats: DistributedStats) {
    let columns: QueryResult['columns'] | null = null;
    const rows: unknown[][] = [];
    try {
      for await (const chunk of this.runner.run(node, sql, deadlineMs, abort.signal)) {
        columns ??= chunk.columns;
        for (const r of chunk.rows) rows.push(r);
        stats.rowsShipped += chunk.rows.length;
        stats.bytesShipped += chunk.bytes;
      }
      return { columns: columns ?? [], rows: rows as MergeInput['rows'] };
    } catch (err) {
      // a SQL error is the statement's, not the node's: it fails the query even under partial results
      if (partial && err instanceof NodeUnavailableError && !abort.signal.aborted) {
        stats.nodesMissing.push(node.name);
        return null;
      }
      abort.abort(); // the other nodes stop working on a statement that has failed
      if (err instanceof SqlError) throw err;
      throw new SqlError(SqlState.internalError, `node ${node.name}: ${(err as Error).message}`);
    }
  }

  private async schemaOf(nodeSql: string, signal: AbortSignal) {
    const r = await this.schemaNode.query(nodeSql, signal);
    for await (const _ of r.chunks) { /* no rows: the engine is empty */ }
    return r.columns;
  }
}

function partialResultsOn(v: string | undefined): boolean {
  return /^(on|true|yes|1)$/i.test(v ?? '');
}

function explainResult(lines: string[]): DistributedResult {
  return {
    command: 'EXPLAIN',
    columns: [{ name: 'QUERY PLAN', type: 'text' }],
    chunks: (async function* () { yield lines.map((l) => [l]); })(),
  };
}
