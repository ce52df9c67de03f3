// Runs distributed plans: choose nodes (registry minus pruned), run the node fragment on each in
// parallel under one deadline, merge at the broker. A node that fails fails the query with its
// name — or, with partial results on, is left out and named in a NOTICE.
import { setMaxListeners } from 'node:events';
import { SqlError, SqlState, type QueryExecutor, type QueryOptions, type QueryResult } from '../../engine/query.ts';
import { planDistributed, shipTables, telemetryTablesIn } from './split.ts';
import type { DistributedPlan, TimeFilter } from './plan.ts';
import { NodeUnavailableError, type AgentNode, type FragmentChunk, type FragmentRunner, type NodeDirectory, type NodePruner } from './nodes.ts';
import type { MergeDb, MergeRun } from './merge-db.ts';
import { explainRows } from './explain.ts';

export interface DistributedOptions {
  /** Deadline for each fragment, from the start of the statement (ms). */
  fragmentTimeoutMs: number;
  /** Aggregate function names for the split rules (default: the merge database's). */
  aggregateNames?: ReadonlySet<string>;
  /**
   * Cap on the wire bytes of shipped rows the broker buffers before merging, across the statements
   * running at once (default 256 MiB); a statement that would pass it fails with 53200.
   */
  maxShippedBytes?: number;
}

export const defaultMaxShippedBytes = 256 * 1024 * 1024;

/** The one node of standalone mode: this process's engine. */
export const localNode: AgentNode = { name: 'local', asid: 0, address: 'in-process' };

/** Plans kept per statement text: dashboards repeat statements, and parsing costs more than running small ones. */
const planCacheSize = 512;

export interface DistributedResult extends QueryResult {
  /** Messages for the client (NoticeResponse), e.g. nodes left out under partial results. */
  notices?: string[];
}

/**
 * What the last query did (tests, bench, logs; the broker's /stats shows it). Times are ms from the
 * statement's start on the broker; sums (decodeMs, loadMs) may overlap the waits they run in.
 */
export interface DistributedStats {
  strategy: DistributedPlan['strategy'];
  nodesContacted: string[];
  nodesPruned: string[];
  nodesMissing: string[];
  rowsShipped: number;
  bytesShipped: number;
  /** Plan (cached by text) and node choice done. */
  planMs: number;
  /** Every node's call issued. */
  callsIssuedMs: number;
  /** First and last message from any node (0 when none came). */
  firstResponseMs: number;
  lastResponseMs: number;
  /** Decoding Arrow messages, summed over nodes (done while other nodes are still working). */
  decodeMs: number;
  /** Appending decoded rows into the merge database, summed (also while others work). */
  loadMs: number;
  /** Fan-out until the last node answered and its rows were loaded. */
  fetchMs: number;
  /** From then until the merged result is ready to stream. */
  mergeMs: number;
  /** Until the client drained the result (0 while it streams). */
  totalMs: number;
  /**
   * The broker process's CPU time (user + system, all threads) from the statement's start until
   * its result was drained: the broker's own cost, apart from waiting for nodes or for a CPU.
   * Other statements running at the same time are counted too.
   */
  cpuMs: number;
}

export interface NodeChoice {
  chosen: AgentNode[];
  pruned: AgentNode[];
  /** Why each pruned node was left out, by node name (EXPLAIN groups nodes by `by`). */
  reasons: Map<string, PruneReason>;
  /**
   * Joins and subqueries whose tables carry their own time_ bounds: per input, the chosen nodes
   * asked for it and those skipped (with why). Inputs not listed go to every chosen node.
   */
  perInput?: Map<string, { nodes: AgentNode[]; skipped: AgentNode[]; reasons: Map<string, PruneReason> }>;
}

export interface PruneReason { by: string; detail?: string }

const explainPrefix = /^\s*explain\s+(?!analyze\b)(?:\(\s*[^)]*\)\s*)?/i;

export class DistributedExecutor implements QueryExecutor {
  lastStats: DistributedStats | null = null;

  /**
   * schemaNode: an engine with no rows; its answer to a node fragment gives the columns when no
   * node is contacted (all pruned, none registered), so the merge still returns the right empty/zero result.
   * merge/schemaNode null: standalone, one in-process node that answers every statement whole.
   */
  constructor(
    private readonly directory: NodeDirectory,
    private readonly runner: FragmentRunner,
    private readonly merge: MergeDb | null,
    private readonly schemaNode: QueryExecutor | null,
    private readonly pruner: NodePruner | null,
    private readonly options: DistributedOptions,
  ) {}

  /**
   * Standalone mode: the same planner and executor with one local node (no gRPC, no merge
   * database). One node holds every row, so its answer to the whole statement is the answer
   * (the one-node rule below) and the engine's result streams through untouched.
   */
  static local(engine: QueryExecutor, aggregateNames: ReadonlySet<string>): DistributedExecutor {
    const runner: FragmentRunner = {
      async *run(_node, sql, _deadline, signal, options) {
        const r = await engine.query(sql, signal, options);
        for await (const rows of r.chunks) yield { columns: r.columns, rows, bytes: 0 };
      },
      query: (_node, sql, signal, options) => engine.query(sql, signal, options),
    };
    return new DistributedExecutor({ nodes: () => [localNode] }, runner, null, null, null, { fragmentTimeoutMs: 2 ** 31 - 1, aggregateNames });
  }

  private readonly plans = new Map<string, DistributedPlan>();
  /** Wire bytes of shipped rows buffered now, over every running statement (the memory cap). */
  private buffered = 0;

  /** This executor with a session's setting lookup (wiretap.partial_results). */
  forSession(setting: (name: string) => string | undefined): QueryExecutor {
    return { query: (sql, signal, options) => this.run(sql, signal, partialResultsOn(setting('wiretap.partial_results')), options) };
  }

  query(sql: string, signal?: AbortSignal, options?: QueryOptions): Promise<DistributedResult> {
    return this.run(sql, signal, false, options);
  }

  plan(sql: string): DistributedPlan {
    const cached = this.plans.get(sql);
    if (cached) {
      this.plans.delete(sql); // most recently used last
      this.plans.set(sql, cached);
      return cached;
    }
    let plan: DistributedPlan;
    try {
      plan = planDistributed(sql, this.options.aggregateNames ?? this.merge?.aggregateNames ?? new Set());
    } catch (err) {
      // a planner bug must not cost the query: ship the tables and run the statement as written
      plan = shipTables(sql, telemetryTablesIn(sql), `the planner failed: ${(err as Error).message}`);
    }
    if (this.plans.size >= planCacheSize) this.plans.delete(this.plans.keys().next().value!);
    this.plans.set(sql, plan);
    return plan;
  }

  async choose(plan: DistributedPlan, options?: QueryOptions): Promise<NodeChoice> {
    // without a merge database (standalone) the local node also answers statements naming no table
    const all = plan.inputs.length === 0 && this.merge ? [] : this.directory.nodes();
    const choice: NodeChoice = { chosen: all, pruned: [], reasons: new Map() };
    const names = plan.podFilter && this.pruner ? this.pruner.nodesFor(plan.podFilter) : null;
    if (names !== null && plan.podFilter) {
      const keep = new Set(names);
      const by = `by ${Object.entries(plan.podFilter).map(([k, v]) => `${k} in (${v.join(', ')})`).join(' and ')}`;
      choice.chosen = all.filter((n) => keep.has(n.name));
      choice.pruned = all.filter((n) => !keep.has(n.name));
      for (const n of choice.pruned) choice.reasons.set(n.name, { by });
    }
    if (plan.timeFilter && choice.chosen.length && this.merge) {
      const split = await this.splitByTime([plan.timeFilter], choice.chosen, options);
      if (split) {
        choice.chosen = split.keep;
        for (const [n, why] of split.out) choice.reasons.set(n.name, why);
        choice.pruned.push(...split.out.keys());
      }
    }
    if (plan.inputs.some((i) => i.timeFilters?.length) && choice.chosen.length && this.merge) {
      // per input: a node is asked for a table only if that table's rows there can match one of its reads
      const perInput: NonNullable<NodeChoice['perInput']> = new Map();
      for (const input of plan.inputs) {
        const split = input.timeFilters?.length ? await this.splitByTime(input.timeFilters, choice.chosen, options) : null;
        if (split) perInput.set(input.name, { nodes: split.keep, skipped: [...split.out.keys()], reasons: new Map([...split.out].map(([n, why]) => [n.name, why])) });
      }
      const used = new Set(plan.inputs.flatMap((i) => (perInput.get(i.name)?.nodes ?? choice.chosen).map((n) => n.name)));
      for (const n of choice.chosen.filter((x) => !used.has(x.name))) {
        // asked for no input: pruned, with each table's reason
        const whys = [...perInput.values()].map((p) => p.reasons.get(n.name)).filter((w) => w !== undefined);
        choice.pruned.push(n);
        choice.reasons.set(n.name, { by: whys.map((w) => w.by).join(' and '), detail: whys.map((w) => w.detail).filter(Boolean).join(' ') || undefined });
      }
      choice.chosen = choice.chosen.filter((n) => used.has(n.name));
      choice.perInput = perInput;
    }
    return choice;
  }

  /**
   * Splits nodes by time_: those whose rows of the table (as of their last heartbeat) lie outside
   * every one of the bounds are out (with why); null when the broker cannot evaluate the bounds.
   */
  private async splitByTime(filters: TimeFilter[], nodes: AgentNode[], options?: QueryOptions): Promise<{ keep: AgentNode[]; out: Map<AgentNode, PruneReason> } | null> {
    // in the session's zone: a bound such as '2025-11-21 00:00' means local midnight
    const bounds: Array<{ lower: number | null; upper: number | null }> = [];
    for (const f of filters) {
      const b = await this.merge!.timeBoundsUs(f.lower, f.upper, options);
      if (!b) return null; // bounds the broker cannot evaluate: the nodes decide
      bounds.push(b);
    }
    const table = filters[0]!.table;
    const iso = (us: number | null) => (us === null ? '…' : new Date(Math.floor(us / 1000)).toISOString());
    const asked = bounds.map((b) => `[${iso(b.lower)}, ${iso(b.upper)}]`).join(' or ');
    const keep: AgentNode[] = [];
    const out = new Map<AgentNode, PruneReason>();
    for (const n of nodes) {
      const r = n.timeRanges?.[table];
      // 1 µs of slack on both sides: the heartbeat's range and the bounds are both rounded to µs
      const outside = r === null || (r !== undefined && bounds.every(({ lower, upper }) =>
        (upper !== null && upper < r.minUs - 1) || (lower !== null && r.maxUs !== null && lower > r.maxUs + 1)));
      if (!outside) { keep.push(n); continue; }
      out.set(n, r === null ? { by: `by time_: no ${table} rows` }
        : { by: `by time_: the query asks ${asked}, their ${table} rows lie outside`, detail: `[${iso(r!.minUs)}, ${iso(r!.maxUs)}]` });
    }
    return { keep, out };
  }

  private async run(sql: string, signal: AbortSignal | undefined, partial: boolean, options?: QueryOptions): Promise<DistributedResult> {
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    const explain = explainPrefix.exec(sql);
    const statement = explain ? sql.slice(explain[0].length) : sql;
    // Standalone: the one local node answers every statement whole whatever the split would be,
    // so the split is only computed for EXPLAIN (parsing costs more than a small query).
    if (!this.merge && !explain) {
      const [node] = this.directory.nodes();
      if (!node || !this.runner.query) throw new SqlError(SqlState.internalError, 'standalone executor without its local node');
      this.lastStats = null;
      return this.runner.query(node, statement, signal, options);
    }
    const plan = this.plan(statement);
    const choice = await this.choose(plan, options);
    if (explain) return explainResult(explainRows(plan, choice, this.pruner !== null));
    const deadlineMs = Date.now() + this.options.fragmentTimeoutMs;
    const abort = new AbortController();
    setMaxListeners(0, abort.signal); // one listener per node fragment
    const onAbort = () => abort.abort();
    signal?.addEventListener('abort', onAbort, { once: true });
    const stats: DistributedStats = {
      strategy: plan.strategy, nodesContacted: choice.chosen.map((n) => n.name), nodesPruned: choice.pruned.map((n) => n.name),
      nodesMissing: [], rowsShipped: 0, bytesShipped: 0, planMs: performance.now() - t0, callsIssuedMs: 0, firstResponseMs: 0, lastResponseMs: 0,
      decodeMs: 0, loadMs: 0, fetchMs: 0, mergeMs: 0, totalMs: 0, cpuMs: 0,
    };
    this.lastStats = stats;
    const finished = () => {
      stats.totalMs = performance.now() - t0;
      const cpu = process.cpuUsage(cpu0);
      stats.cpuMs = (cpu.user + cpu.system) / 1000;
    };
    const held: Held = { bytes: 0 };
    let opening: Promise<MergeRun> | null = null;
    try {
      // One node can hold matching rows: its answer to the whole statement is the answer (no split,
      // no merge). Under partial results a node that is down leaves the empty answer below.
      if (choice.chosen.length === 1) {
        const whole = await this.runWhole(choice.chosen[0]!, statement, deadlineMs, signal, partial, stats, options);
        if (whole) return whole;
      }
      if (!this.merge) throw new SqlError(SqlState.internalError, 'no local node answered');
      const asked = stats.nodesMissing.length ? [] : choice.chosen; // the one node already failed
      // the merge connection opens while the fragments run; each node's rows go in as they arrive
      opening = this.merge.open(options);
      const fetching = Promise.all(plan.inputs.flatMap((input) => (asked.length ? choice.perInput?.get(input.name)?.nodes ?? asked : []).map((node) =>
        this.fetch(node, input.name, input.nodeSql, deadlineMs, abort, partial, stats, held, opening!, t0, options))));
      stats.callsIssuedMs = performance.now() - t0;
      const [merging] = await Promise.all([opening, fetching]);
      stats.fetchMs = performance.now() - t0;
      const schemaOf = (name: string) => this.schemaOf(plan.inputs.find((i) => i.name === name)!.nodeSql, abort.signal, options);
      const result: DistributedResult = await merging.result(plan.inputs.map((i) => i.name), schemaOf, plan.mergeSql, signal);
      this.buffered -= held.bytes; // loaded into the merge database (its own memory_limit applies there)
      held.bytes = 0;
      stats.mergeMs = performance.now() - t0 - stats.fetchMs;
      if (stats.nodesMissing.length) result.notices = [`partial results: nodes did not answer and are left out: ${[...new Set(stats.nodesMissing)].join(', ')}`];
      const chunks = result.chunks;
      result.chunks = (async function* () {
        try {
          yield* chunks;
        } finally {
          finished();
        }
      })();
      return result;
    } catch (err) {
      abort.abort(); // fragments still running stop
      void opening?.then((m) => m.close(), () => {});
      throw err;
    } finally {
      held.closed = true;
      this.buffered -= held.bytes;
      signal?.removeEventListener('abort', onAbort);
    }
  }

  /** Counts a chunk against the broker's cap; over it, stops the statement's fragments and fails it (53200). */
  private hold(held: Held, bytes: number, abort: AbortController): void {
    // a fragment still streaming after its statement failed: nothing more is kept or counted
    if (held.closed || abort.signal.aborted) throw new SqlError(SqlState.queryCanceled, 'canceling statement: another fragment failed');
    held.bytes += bytes;
    this.buffered += bytes;
    const cap = this.options.maxShippedBytes ?? defaultMaxShippedBytes;
    if (this.buffered <= cap) return;
    abort.abort();
    const mb = (b: number) => (b >= 1048576 ? `${(b / 1048576).toFixed(1)} MB` : `${(b / 1024).toFixed(1)} kB`);
    throw new SqlError('53200', `out of memory: rows shipped to the broker exceed its cap of ${mb(cap)} (--max-shipped-mb; this statement ${mb(held.bytes)}, `
      + `all running statements ${mb(this.buffered)}); add filters, aggregate on the nodes, or raise the cap`);
  }

  /**
   * One node's answer to one input, appended to the statement's merge as it arrives — or, under
   * partial results, once the node has answered in full (a node that fails midway is left out
   * whole). On failure aborts the statement, or under partial results records the node.
   */
  private async fetch(node: AgentNode, name: string, sql: string, deadlineMs: number, abort: AbortController, partial: boolean,
    stats: DistributedStats, held: Held, opening: Promise<MergeRun>, t0: number, options?: QueryOptions): Promise<void> {
    const pending: FragmentChunk[] = [];
    const load = async (c: FragmentChunk) => {
      const merge = await opening;
      const t = performance.now();
      await merge.append(name, c.columns, c.rows);
      stats.loadMs += performance.now() - t;
    };
    try {
      for await (const chunk of this.runner.run(node, sql, deadlineMs, abort.signal, options)) {
        stats.lastResponseMs = performance.now() - t0;
        stats.firstResponseMs ||= stats.lastResponseMs;
        this.hold(held, chunk.bytes, abort);
        stats.rowsShipped += chunk.rows.length;
        stats.bytesShipped += chunk.bytes;
        stats.decodeMs += chunk.decodeMs ?? 0;
        if (partial) pending.push(chunk);
        else await load(chunk);
      }
      for (const c of pending) await load(c);
    } catch (err) {
      // a SQL error is the statement's, not the node's: it fails the query even under partial results
      if (partial && err instanceof NodeUnavailableError && !abort.signal.aborted) {
        stats.nodesMissing.push(node.name);
        return;
      }
      abort.abort(); // the other nodes stop working on a statement that has failed
      if (err instanceof SqlError) throw err;
      throw new SqlError(SqlState.internalError, `node ${node.name}: ${(err as Error).message}`);
    }
  }

  /**
   * The whole statement on one node, streamed to the client as the node sends it. Null when the node
   * is unavailable before answering and partial results are on (it is then recorded as missing).
   */
  private async runWhole(
    node: AgentNode, sql: string, deadlineMs: number, signal: AbortSignal | undefined, partial: boolean, stats: DistributedStats, options?: QueryOptions,
  ): Promise<DistributedResult | null> {
    if (this.runner.query) return this.runner.query(node, sql, signal, options);
    // the deadline and the client's cancel follow the stream after this returns
    const abort = new AbortController();
    const onAbort = () => abort.abort();
    signal?.addEventListener('abort', onAbort, { once: true });
    const done = () => signal?.removeEventListener('abort', onAbort);
    const it = this.runner.run(node, sql, deadlineMs, abort.signal, options)[Symbol.asyncIterator]();
    let first: IteratorResult<FragmentChunk>;
    try {
      first = await it.next();
    } catch (err) {
      done();
      if (partial && err instanceof NodeUnavailableError && !signal?.aborted) {
        stats.nodesMissing.push(node.name);
        return null;
      }
      throw err instanceof SqlError ? err : new SqlError(SqlState.internalError, `node ${node.name}: ${(err as Error).message}`);
    }
    const count = (c: FragmentChunk) => { stats.rowsShipped += c.rows.length; stats.bytesShipped += c.bytes; };
    if (!first.done) count(first.value);
    return {
      command: /^\s*explain\b/i.test(sql) ? 'EXPLAIN' : 'SELECT',
      columns: first.done ? [] : first.value.columns,
      chunks: (async function* () {
        try {
          if (first.done) return;
          yield first.value.rows;
          for (;;) {
            const next = await it.next();
            if (next.done) return;
            count(next.value);
            yield next.value.rows;
          }
        } finally {
          done();
          abort.abort(); // the consumer stopped early: cancel the node's fragment
          await it.return?.();
        }
      })(),
    };
  }

  private async schemaOf(nodeSql: string, signal: AbortSignal, options?: QueryOptions) {
    if (!this.schemaNode) throw new SqlError(SqlState.internalError, 'no schema node');
    const r = await this.schemaNode.query(nodeSql, signal, options);
    for await (const _ of r.chunks) { /* no rows: the engine is empty */ }
    return r.columns;
  }
}

/** Shipped wire bytes a statement holds against the broker's cap; closed once it is over. */
interface Held { bytes: number; closed?: boolean }

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
