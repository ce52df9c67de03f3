// What Grafana's PostgreSQL datasource sends, for replay (Grafana itself cannot run here).
// Metadata queries: the SQL its query editor builds (postgresMetaQuery.ts, current_setting
// and search_path based); health check: "-- ping"; panels: macro-expanded queries
// ($__timeGroupAlias, $__timeFilter, $__time) as its Go macro engine (macros.go) expands them.

/** The search_path test Grafana puts in its table/column lookups. */
const inSearchPath = `
          quote_ident(table_schema) IN (
          SELECT
            CASE WHEN trim(s[i]) = '"$user"' THEN user ELSE trim(s[i]) END
          FROM
            generate_series(
              array_lower(string_to_array(current_setting('search_path'),','),1),
              array_upper(string_to_array(current_setting('search_path'),','),1)
            ) as i,
            string_to_array(current_setting('search_path'),',') s
          )`;

const hiddenSchemas = `('information_schema', 'pg_catalog', '_timescaledb_cache', '_timescaledb_catalog',
  '_timescaledb_internal', '_timescaledb_config', 'timescaledb_information', 'timescaledb_experimental')`;

export const grafanaMetadata = {
  version: "SELECT current_setting('server_version_num')::int/100 as version",
  timescale: "SELECT extversion FROM pg_extension WHERE extname = 'timescaledb'",
  schemas: `SELECT schema_name AS "name" FROM information_schema.schemata
    WHERE schema_name NOT IN ('pg_toast', ${hiddenSchemas.slice(1)} ORDER BY schema_name`,
  tables: `SELECT
    CASE WHEN ${inSearchPath}
      THEN quote_ident(table_name)
      ELSE quote_ident(table_schema) || '.' || quote_ident(table_name)
    END AS "table"
    FROM information_schema.tables
    WHERE quote_ident(table_schema) NOT IN ${hiddenSchemas}
    ORDER BY CASE WHEN ${inSearchPath} THEN 0 ELSE 1 END, 1`,
  tablesInSchema: `SELECT quote_ident(table_name) AS "table" FROM information_schema.tables
      WHERE quote_ident(table_schema) = 'public' ORDER BY 1`,
  columns: (table: string): string => `SELECT quote_ident(column_name) AS "column", data_type AS "type"
    FROM information_schema.columns
    WHERE
      CASE WHEN array_length(parse_ident('${table}'),1) = 2
        THEN quote_ident(table_schema) = (parse_ident('${table}'))[1]
          AND quote_ident(table_name) = (parse_ident('${table}'))[2]
        ELSE quote_ident(table_name) = '${table}'
          AND ${inSearchPath}
      END`,
};

/** Panel queries after macro expansion for the range [from, to] (RFC 3339, as Grafana writes them). */
export function grafanaPanelQueries(from: string, to: string): Record<string, string> {
  return {
    // $__timeGroupAlias(time_, '1m') … WHERE $__timeFilter(time_)
    timeGroup: `SELECT floor(extract(epoch from time_)/60)*60 AS "time", count(*) AS "requests"
      FROM http_events WHERE time_ BETWEEN '${from}' AND '${to}' GROUP BY 1 ORDER BY 1`,
    // $__time(time_) with a metric column: a timestamptz "time" column
    timeColumn: `SELECT date_trunc('minute', time_) AS "time", req_method AS metric, avg(latency) / 1e6 AS "latency_ms"
      FROM http_events WHERE time_ BETWEEN '${from}' AND '${to}' GROUP BY 1, 2 ORDER BY 1`,
    table: `SELECT req_path, count(*) AS n FROM http_events WHERE time_ BETWEEN '${from}' AND '${to}' GROUP BY 1 ORDER BY 2 DESC LIMIT 10`,
  };
}
