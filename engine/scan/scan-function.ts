// The `wiretap_scan(id)` table function: DuckDB pulls chunks of a registered ScanPlan, with
// projection pushdown so only the columns a query reads are decompressed and copied.
// Callbacks run on the JS thread (DESIGN.md): queries must be consumed asynchronously.
import duckdb from '@duckdb/node-bindings';
import { BIGINT, DuckDBTableFunction, type DuckDBConnection } from '@duckdb/node-api';
import { chunkRows, fillVector } from './fill.ts';
import type { ScanPlan } from './scan-plan.ts';

export const scanFunctionName = 'wiretap_scan';

interface ScanState {
  plan: ScanPlan;
  /** Projected column indexes, in output order. */
  columns: number[];
  batch: number;
  row: number;
}

/** Plans of running queries by id; a query registers before binding and removes when done. */
export class ScanRegistry {
  private readonly plans = new Map<number, ScanPlan>();
  private nextId = 1;

  add(plan: ScanPlan): number {
    const id = this.nextId++;
    this.plans.set(id, plan);
    return id;
  }

  remove(id: number): void {
    this.plans.delete(id);
  }

  get(id: number): ScanPlan | undefined {
    return this.plans.get(id);
  }

  get size(): number {
    return this.plans.size;
  }

  /** Registers the table function on the database (once per instance). */
  register(conn: DuckDBConnection): void {
    const fn = DuckDBTableFunction.create({
      name: scanFunctionName,
      parameterTypes: [BIGINT],
      supportsProjectionPushdown: true,
      bindFunction: (bind) => {
        const id = Number(bind.getParameter(0) as bigint);
        const plan = this.plans.get(id);
        if (!plan) {
          bind.setError(`${scanFunctionName}: no scan ${id} (scans exist only while their query runs)`);
          return;
        }
        plan.defs.forEach((d, i) => bind.addResultColumn(d.name, plan.outputs[i]!.type));
        bind.setCardinality(plan.rows, true);
        bind.setBindData({ plan });
      },
      initFunction: (init) => {
        const { plan } = init.bindData as { plan: ScanPlan };
        const n = plan.defs.length;
        // Row-id or virtual columns (index beyond the table) are produced as NULL.
        init.setInitData({ plan, columns: init.getColumnIndexes().map((c) => (c < n ? c : -1)), batch: 0, row: 0 } satisfies ScanState);
        init.setMaxThreads(1);
      },
      mainFunction: (info, out) => {
        const s = info.initData as ScanState;
        const batches = s.plan.batches;
        while (s.batch < batches.length && s.row >= batches[s.batch]!.rows) {
          s.batch++;
          s.row = 0;
        }
        if (s.batch >= batches.length) {
          out.rowCount = 0;
          return;
        }
        const b = batches[s.batch]!;
        const n = Math.min(chunkRows, b.rows - s.row);
        out.rowCount = n;
        for (let k = 0; k < s.columns.length; k++) {
          const c = s.columns[k]!;
          if (c < 0) continue;
          const o = s.plan.outputs[c]!;
          fillVector(duckdb.data_chunk_get_vector(out.chunk, k), b.column(c), o.mode, s.row, n, o.remaps?.[s.batch]);
        }
        s.row += n;
      },
    });
    conn.registerTableFunction(fn);
  }
}
