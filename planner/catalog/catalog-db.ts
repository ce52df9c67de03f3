// The catalog database: a small, private, locked-down DuckDB at the broker holding wiretap's
// pg_catalog and information_schema (catalog-ddl.ts). Catalog queries run here and never reach
// a node. Built once, lazily, then configuration is locked and only reads are allowed.
import { DuckDBInstance, DuckDBTypeId, StatementType, type DuckDBConnection, type DuckDBValue, DuckDBListValue } from '@duckdb/node-api';
import { SqlError, SqlState, type QueryResult, type Value } from '../../engine/query.ts';
import { columnTypeOf, toValue } from '../../engine/duck-types.ts';
import { toSqlError } from '../../engine/duck-errors.ts';
import { quoteLiteral } from '../sql/lexer.ts';
import { SessionSettings } from '../session/settings.ts';
import { catalogSetupSql } from './catalog-ddl.ts';

export class CatalogDb {
  private constructor(private readonly instance: DuckDBInstance) {}

  static async create(): Promise<CatalogDb> {
    const instance = await DuckDBInstance.create(':memory:', {
      enable_external_access: 'false',
      autoinstall_known_extensions: 'false',
      autoload_known_extensions: 'false',
      threads: '1',
      memory_limit: '128MB',
    });
    const setup = await instance.connect();
    try {
      for (const sql of catalogSetupSql()) {
        try {
          await setup.run(sql);
        } catch (err) {
          // DuckDB already knows some PostgreSQL type names (e.g. oid): keep its definition
          if (!/^CREATE TYPE/.test(sql)) throw new Error(`catalog setup failed: ${(err as Error).message}\n${sql.slice(0, 200)}`);
        }
      }
      const settings = new SessionSettings('wiretap').all();
      await setup.run(`INSERT INTO pg_settings (name, setting, short_desc, context, vartype, source, boot_val, reset_val) VALUES ${settings
        .map(([n, v, d]) => `(${quoteLiteral(n)}, ${quoteLiteral(v)}, ${quoteLiteral(d)}, 'user', 'string', 'default', ${quoteLiteral(v)}, ${quoteLiteral(v)})`)
        .join(', ')}`);
      await setup.run("SET GLOBAL TimeZone = 'UTC'");
      await setup.run('SET GLOBAL lock_configuration = true');
    } finally {
      setup.closeSync();
    }
    return new CatalogDb(instance);
  }

  /** Runs one read-only statement (already rewritten for this database). */
  async query(sql: string, signal?: AbortSignal): Promise<QueryResult> {
    const conn: DuckDBConnection = await this.instance.connect();
    const onAbort = (): void => conn.interrupt();
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      const extracted = await conn.extractStatements(sql);
      if (extracted.count !== 1) throw new SqlError(SqlState.syntaxError, `expected one statement, got ${extracted.count}`);
      const prepared = await extracted.prepare(0);
      if (prepared.statementType !== StatementType.SELECT && prepared.statementType !== StatementType.EXPLAIN) {
        prepared.destroySync();
        throw new SqlError(SqlState.readOnlySqlTransaction, 'cannot execute this statement: wiretap is read-only (only SELECT queries are allowed)');
      }
      if (signal?.aborted) throw new SqlError(SqlState.queryCanceled, 'canceling statement due to user request');
      // catalog results are small: read them whole, then release the connection
      const reader = await prepared.runAndReadAll();
      const n = reader.columnCount;
      const duckTypes = Array.from({ length: n }, (_, i) => reader.columnType(i));
      const columns = reader.columnNames().map((name, i) => ({ name, type: columnTypeOf(duckTypes[i]!) }));
      const rows: Value[][] = reader.getRows().map((r) =>
        r.map((v, i) => (duckTypes[i]!.typeId === DuckDBTypeId.LIST ? pgArrayText(v) : toValue(v, columns[i]!.type))),
      );
      return {
        command: 'SELECT',
        columns,
        chunks: (async function* () {
          if (rows.length > 0) yield rows;
        })(),
      };
    } catch (err) {
      throw toSqlError(err);
    } finally {
      signal?.removeEventListener('abort', onAbort);
      conn.closeSync();
    }
  }

  close(): void {
    this.instance.closeSync();
  }
}

/** A DuckDB list as PostgreSQL's array text: {a,b,"c d"}. */
function pgArrayText(v: DuckDBValue): string | null {
  if (v === null) return null;
  if (!(v instanceof DuckDBListValue)) return String(v);
  const items = v.items.map((x) => {
    if (x === null) return 'NULL';
    const s = String(x);
    return s === '' || /[{},"\\\s]/.test(s) || /^null$/i.test(s) ? `"${s.replace(/["\\]/g, '\\$&')}"` : s;
  });
  return `{${items.join(',')}}`;
}
