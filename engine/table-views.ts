// Per-query views that make the store's tables look like ordinary DuckDB tables to user SQL:
// `<table>` over the wiretap_scan table function (pruned snapshot, hydrated metadata columns)
// and `wiretap_tables` over the store's statistics.
import type { DuckDBConnection } from '@duckdb/node-api';
import { engineViews, hydratedColumns, tables, type ColumnDef, type ProcessMetadata, type TableName } from './schema.ts';
import { deserialize, deserializeStatement, pushdownFor, rangeBounds, readsWholeRow, referencedNames, serialize } from './scan/analyze.ts';
import { groupByCode } from './scan/group-codes.ts';
import { codeColumnName, ScanPlan, sealedBatchesOf, type RangeBound } from './scan/scan-plan.ts';
import { TextCodes, type CodeLease } from './scan/text-codes.ts';
import { currentScanArg, scanFunctionName, type ScanRegistry } from './scan/scan-function.ts';
import { timeColumnIndex, upidColumnIndex } from './store/column-kind.ts';
import type { ScanBatch } from './store/decoded.ts';
import type { Store } from './store/store.ts';
import { ident, literal, timestampLiteral } from './sql-text.ts';
import { upidToString, type Upid } from './upid.ts';

/** Looks up what the node knows about a process. */
export interface MetadataProvider {
  lookup(upid: Upid): ProcessMetadata | undefined;
}

const hydratedNames = new Set(hydratedColumns.map((c) => c.name));

export interface ViewContext {
  store: Store;
  scans: ScanRegistry;
  metadata: MetadataProvider | null;
  maxEnumEntries?: number;
  /** false: no row prefilter in the native scan (tests and benchmarks compare with it off). */
  prefilter?: boolean;
  /** The connection's TimeZone (QueryOptions.timeZone; absent: UTC): bounds such as '2025-11-21' depend on it. */
  timeZone?: string;
  /**
   * Table-wide codes per `table.column` (the engine's, kept across queries); absent: GROUP BY on
   * a text column is never rewritten to group its codes (scan/group-codes.ts).
   */
  textCodes?: Map<string, TextCodes>;
  /**
   * A pooled connection's persistent views (table → the SELECT it was created with): a table view
   * scans `wiretap_scan(currentScanArg(slot))`, the plan this query sets for the table's slot, and
   * is created (or replaced) only when its text changes. Absent: per-query views over the id.
   */
  views?: Map<string, string>;
}

const tableSlots = new Map(Object.keys(tables).map((t, i) => [t, i]));

/** Scan counts per table, for tests and benchmarks: how many batches pruning left. */
export interface PreparedScan {
  table: string;
  batchesTotal: number;
  batchesScanned: number;
  /** Batch columns sent as constants instead of decoded (ScanPlan.constants). */
  constants: number;
}

function keyToUpid(key: string): Upid {
  const [asid, pid, ticks] = key.split(':');
  return { asid: Number(asid), pid: Number(pid), startTicks: BigInt(ticks!) };
}

function upidsOf(batches: readonly ScanBatch[]): Set<string> {
  const keys = new Set<string>();
  for (const b of batches) for (const k of b.zone.upids) keys.add(k);
  return keys;
}

/**
 * Creates the temp views the statement needs on its connection (cleanups pushed); returns scan
 * info, the parsed statement when it was parsed for pushdown (null: not parsable as JSON,
 * undefined: not parsed: it names no stored table) and, when its GROUP BY on a text column was
 * rewritten to group codes, the text to run instead (`rewritten`).
 */
export async function createViews(
  ctx: ViewContext, conn: DuckDBConnection, sql: string, cleanup: Array<() => void>,
): Promise<{ scans: PreparedScan[]; stmt: Record<string, unknown> | null | undefined; rewritten?: string; reusable: boolean; cacheable: boolean; viewsChanged: boolean }> {
  const { names, star } = referencedNames(sql);
  const scans: PreparedScan[] = [];
  let stmt: Record<string, unknown> | null | undefined;
  let rewritten: string | undefined;
  // false: the connection got per-query objects (a metadata table, wiretap_tables) and must not be reused.
  let reusable = true;
  // true: every view is persistent and its scan's types are fixed by its text (no ENUM, no codes),
  // so a statement prepared over them may run again with later plans (native Init reads the slot).
  let cacheable = ctx.views !== undefined;
  let viewsChanged = false;
  for (const [table, defs] of Object.entries(tables) as [TableName, readonly ColumnDef[]][]) {
    if (!names.has(table)) continue;
    const snap = ctx.store.snapshot(table);
    if (!snap) {
      // Never a persistent view without its query's scan: the table does not exist for this one.
      if (ctx.views?.delete(table)) {
        viewsChanged = true;
        ctx.scans.run(conn, `DROP VIEW IF EXISTS ${ident(table)}`);
      }
      continue;
    }
    const sealed = sealedBatchesOf(ctx.store.tables.get(table), snap.batches);
    stmt = stmt === undefined ? await serialize(conn, sql) : stmt;
    const ti = timeColumnIndex(defs);
    const ui = upidColumnIndex(defs);
    const metaColumns = new Set([...hydratedNames, ...(ui >= 0 ? [defs[ui]!.name] : [])]);
    // Range pruning: the time column, and integer columns by their per-batch min/max (not
    // floats: DuckDB orders NaN above every number, which min/max do not see).
    const rangeIndex = new Map<string, number>();
    defs.forEach((d, i) => { if (i === ti || ['int2', 'int4', 'int8'].includes(d.type)) rangeIndex.set(d.name, i); });
    const pd = stmt ? pushdownFor(stmt, table, new Set(rangeIndex.keys()), metaColumns) : null;
    let batches = snap.batches;
    // The same bounds prefilter rows in the native scan (batches that pass the zone maps).
    const prefilter: RangeBound[] = [];
    // Columns only the range conjuncts read: where the zone map shows every row satisfies them,
    // the scan sends a constant instead of decoding (strict bounds: inside by the slack).
    const constants = new Map<number, { lo: number; hi: number }>();
    if (pd && pd.ranges.length) {
      const bounds = await rangeBounds(conn, pd.ranges, (c) => rangeIndex.get(c) === ti, ctx.timeZone);
      for (const [column, { lo, hi, slo, shi, terms }] of bounds) {
        const i = rangeIndex.get(column)!;
        prefilter.push({ column: i, lo, hi });
        if (pd.rangeOnly.has(column) && terms === pd.ranges.filter((t) => t.column === column).length) constants.set(i, { lo: slo, hi: shi });
        batches = i === ti
          ? batches.filter((b) => b.zone.timeMax >= lo && b.zone.timeMin <= hi)
          : batches.filter((b) => b.zone.max[i]! >= lo && b.zone.min[i]! <= hi);
      }
    }
    // `*` or a whole-row reference (`SELECT h FROM http_events h`) reads every column.
    const all = star || (stmt != null && readsWholeRow(stmt, table, new Set(defs.map((d) => d.name))));
    const hydrated = hydratedColumns.filter((h) => all || names.has(h.name));
    const metaTable = `wiretap_meta_${table}`;
    const needMeta = ui >= 0 && (hydrated.length > 0 || (pd?.meta.length ?? 0) > 0);
    if (needMeta) {
      reusable = false;
      const keyOfUuid = await createMetaTable(ctx, conn, metaTable, upidsOf(batches));
      for (const cond of pd?.meta ?? []) {
        const select = await deserialize(conn, `SELECT upid FROM ${metaTable} WHERE true`, (n) => { n.where_clause = cond; });
        let keep: Set<string>;
        try {
          const rows = (await conn.runAndReadAll(select)).getRows();
          keep = new Set(rows.map((r) => keyOfUuid.get(String(r[0]))!).filter(Boolean));
        } catch {
          continue;
        }
        batches = batches.filter((b) => [...b.zone.upids].some((k) => keep.has(k)));
      }
    }
    const needed = new Set(all ? defs.map((d) => d.name) : defs.filter((d) => names.has(d.name)).map((d) => d.name));
    // The view joins the process table on upid for hydrated columns.
    if (needMeta && hydrated.length > 0) needed.add(defs[ui]!.name);
    // A scan that reads no column (count(*), also inside a subquery of a statement naming other
    // columns) still makes DuckDB fetch one: the first. Preparing it only hands over buffers;
    // they are decoded only if DuckDB asks.
    if (defs.length > 0) needed.add(defs[0]!.name);
    // GROUP BY a text column: DuckDB groups the column's codes (one more, hidden, view column).
    const codes = new Map<number, CodeLease>();
    const group = stmt && ctx.textCodes ? groupByCode(stmt, table, defs.map((d) => d.name), new Set(defs.filter((d) => d.type === 'text').map((d) => d.name))) : null;
    // A rewrite DuckDB cannot read back groups the text itself (the statement as written).
    const text = group ? await deserializeStatement(conn, group.stmt).catch(() => undefined) : undefined;
    if (group && text !== undefined) {
      const i = defs.findIndex((d) => d.name === group.column);
      const key = `${table}.${group.column}`;
      let tc = ctx.textCodes!.get(key);
      if (!tc) ctx.textCodes!.set(key, (tc = new TextCodes(ctx.scans, i)));
      const lease = tc.lease(batches, sealed);
      cleanup.push(lease.release);
      codes.set(i, lease);
      rewritten = text;
    }
    const plan = new ScanPlan(table, defs, batches, needed, ctx.maxEnumEntries, sealed, ctx.prefilter === false ? [] : prefilter, ctx.prefilter === false ? undefined : constants, codes);
    const id = ctx.scans.add(plan);
    cleanup.push(() => ctx.scans.remove(id));
    scans.push({ table, batchesTotal: snap.batches.length, batchesScanned: batches.length, constants: plan.constantsSent });
    const cols = defs.map((d, i) => (plan.outputs[i]!.cast ? `CAST(s.${ident(d.name)} AS VARCHAR) AS ${ident(d.name)}` : `s.${ident(d.name)}`));
    for (const i of codes.keys()) cols.push(`s.${ident(codeColumnName(defs[i]!.name))}`);
    const slot = tableSlots.get(table)!;
    const persistent = ctx.views !== undefined && !needMeta;
    if (persistent) {
      ctx.scans.setCurrent(conn, slot, id);
      cleanup.push(() => ctx.scans.setCurrent(conn, slot, 0));
    }
    let from = `${scanFunctionName}(${persistent ? currentScanArg(slot) : id}) s`;
    if (hydrated.length > 0) {
      if (needMeta) {
        cols.push(...hydrated.map((h) => `m.${ident(h.name)}`));
        from += ` LEFT JOIN ${metaTable} m ON s.${ident(defs[ui]!.name)} = m.upid`;
      } else {
        cols.push(...hydrated.map((h) => `NULL::VARCHAR AS ${ident(h.name)}`));
      }
    }
    const body = `SELECT ${cols.join(', ')} FROM ${from}`;
    if (!persistent || codes.size > 0 || plan.outputs.some((o) => o.cast)) cacheable = false;
    if (!persistent) {
      viewsChanged = true;
      ctx.views?.delete(table); // a pooled connection may hold this table's persistent view
      ctx.scans.run(conn, `CREATE OR REPLACE TEMP VIEW ${ident(table)} AS ${body}`);
    } else if (ctx.views!.get(table) !== body) {
      // The text fixes the view's columns and types (an ENUM is cast to VARCHAR in it).
      viewsChanged = true;
      ctx.views!.delete(table);
      ctx.scans.run(conn, `CREATE OR REPLACE TEMP VIEW ${ident(table)} AS ${body}`);
      ctx.views!.set(table, body);
    }
  }
  if (names.has('wiretap_tables')) {
    reusable = false;
    cacheable = false;
    await createTablesView(ctx, conn);
  }
  return { scans, stmt, rewritten, reusable, cacheable: cacheable && reusable, viewsChanged };
}

/** A temp table of the snapshot's processes and their metadata; returns uuid text → upid key. */
async function createMetaTable(ctx: ViewContext, conn: DuckDBConnection, name: string, keys: Set<string>): Promise<Map<string, string>> {
  const cols = hydratedColumns.map((h) => `${ident(h.name)} VARCHAR`).join(', ');
  await conn.run(`CREATE TEMP TABLE ${name} (upid UUID, ${cols})`);
  const keyOfUuid = new Map<string, string>();
  const rows: string[] = [];
  for (const key of keys) {
    const u = keyToUpid(key);
    const uuid = upidToString(u);
    keyOfUuid.set(uuid, key);
    const m = ctx.metadata?.lookup(u) ?? {};
    const values = hydratedColumns.map((h) => literal(m[h.field as keyof ProcessMetadata]));
    rows.push(`(${literal(uuid)}::UUID, ${values.join(', ')})`);
  }
  for (let i = 0; i < rows.length; i += 1000) {
    await conn.run(`INSERT INTO ${name} VALUES ${rows.slice(i, i + 1000).join(', ')}`);
  }
  return keyOfUuid;
}

async function createTablesView(ctx: ViewContext, conn: DuckDBConnection): Promise<void> {
  const defs = engineViews.wiretap_tables;
  const rows = ctx.store.stats().map((s) => {
    const r = s as unknown as Record<string, string | number>;
    return `(${defs.map((d) => (d.type === 'text' ? literal(String(r[d.field])) : d.type === 'timestamptz' ? timestampLiteral(Number(r[d.field])) : `${Number(r[d.field])}::BIGINT`)).join(', ')})`;
  });
  await conn.run(
    `CREATE TEMP VIEW wiretap_tables AS SELECT * FROM (VALUES ${rows.join(', ')}) t(${defs.map((d) => ident(d.name)).join(', ')})`,
  );
}
