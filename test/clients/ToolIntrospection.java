// Metabase's and DBeaver's connect and schema-sync SQL, replayed over pgjdbc (both tools talk to
// PostgreSQL through pgjdbc; neither can run here). The SQL is copied from their sources:
//   Metabase  metabase/metabase src/metabase/driver/postgres.clj — get-tables-sql, describe-fields-sql,
//             describe-fks-sql, describe-indexes-sql (HoneySQL, rendered with quoting and ? parameters as
//             Metabase's driver sends them), enum-types, current-user-table-privileges, db-default-timezone
//             ("show timezone;"), set-timezone-sql ("SET SESSION TIMEZONE TO %s;"); plus the pgjdbc DatabaseMetaData calls its sql-jdbc sync makes
//             (getSchemas, getColumns, getPrimaryKeys, getImportedKeys, getIndexInfo, getTypeInfo), the
//             isolation-level switch it does around sync, and src/metabase/driver/sql_jdbc/sync/describe_table.clj's
//             fallback-metadata-query (SELECT * … WHERE 1 <> 1 LIMIT 0).
//   DBeaver   dbeaver/dbeaver plugins/org.jkiss.dbeaver.ext.postgresql/src/org/jkiss/dbeaver/ext/postgresql/model/
//             PostgreDataSource.java (determineDefaultObjects, DatabaseCache), PostgreDatabase.java
//             (setSearchPath, RoleCache, AccessMethodCache, EncodingCache, LanguageCache, ForeignDataWrapperCache,
//             ForeignServerCache, TablespaceCache, SchemaCache, cacheDataTypes), PostgreSchema.java
//             (TableCache with its column query, ConstraintCache, IndexCache, ProceduresCache, ExtensionCache).
// Usage: java -cp /usr/share/java/postgresql.jar:DIR ToolIntrospection URL
// Prints one line per step, "<step> ok rows=N values=…" or "<step> FAIL <sqlstate> <message>", then "failures N".
import java.sql.*;
import java.util.*;

public class ToolIntrospection {
  static Connection c;
  static int failures = 0;

  interface Step { String run() throws SQLException; }

  static void step(String name, Step s) {
    try {
      System.out.println(name + " ok " + s.run());
    } catch (SQLException e) {
      failures++;
      System.out.println(name + " FAIL " + e.getSQLState() + " " + e.getMessage().replace('\n', ' '));
    }
  }

  /** Runs a prepared statement with string/long parameters; "rows=N first=<col1 of row 1>|<named column>". */
  static String query(String sql, String show, Object... params) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement(sql)) {
      for (int i = 0; i < params.length; i++) {
        if (params[i] instanceof Long) ps.setLong(i + 1, (Long) params[i]);
        else ps.setString(i + 1, (String) params[i]);
      }
      try (ResultSet rs = ps.executeQuery()) {
        return describe(rs, show);
      }
    }
  }

  static String describe(ResultSet rs, String show) throws SQLException {
    int n = 0;
    List<String> shown = new ArrayList<>();
    while (rs.next()) {
      n++;
      if (show != null) shown.add(rs.getString(show));
      else if (n == 1) shown.add(rs.getString(1));
    }
    return "rows=" + n + " values=" + String.join(",", shown);
  }

  public static void main(String[] args) throws Exception {
    Properties props = new Properties();
    props.setProperty("user", "wiretap");
    c = DriverManager.getConnection(args[0], props);
    DatabaseMetaData md = c.getMetaData();

    // ---- Metabase ------------------------------------------------------------------------------
    step("mb.isolation", () -> {
      int before = c.getTransactionIsolation(); // SHOW TRANSACTION ISOLATION LEVEL
      c.setTransactionIsolation(Connection.TRANSACTION_READ_UNCOMMITTED); // sql-jdbc sync does this
      c.setTransactionIsolation(before);
      return "level=" + before;
    });
    step("mb.schemas", () -> describe(md.getSchemas(), "TABLE_SCHEM"));
    step("mb.table-privileges", () -> query(String.join("\n",
        "with table_privileges as (",
        " select",
        "   NULL as role,",
        "   t.schemaname as schema,",
        "   t.objectname as table,",
        "   pg_catalog.has_any_column_privilege(current_user, '\"' || replace(t.schemaname, '\"', '\"\"') || '\"' || '.' || '\"' || replace(t.objectname, '\"', '\"\"') || '\"',  'update') as update,",
        "   pg_catalog.has_any_column_privilege(current_user, '\"' || replace(t.schemaname, '\"', '\"\"') || '\"' || '.' || '\"' || replace(t.objectname, '\"', '\"\"') || '\"',  'select') as select,",
        "   pg_catalog.has_any_column_privilege(current_user, '\"' || replace(t.schemaname, '\"', '\"\"') || '\"' || '.' || '\"' || replace(t.objectname, '\"', '\"\"') || '\"',  'insert') as insert,",
        "   pg_catalog.has_table_privilege(     current_user, '\"' || replace(t.schemaname, '\"', '\"\"') || '\"' || '.' || '\"' || replace(t.objectname, '\"', '\"\"') || '\"',  'delete') as delete",
        " from (",
        "   select schemaname, tablename as objectname from pg_catalog.pg_tables",
        "   union",
        "   select schemaname, viewname as objectname from pg_catalog.pg_views",
        "   union",
        "   select schemaname, matviewname as objectname from pg_catalog.pg_matviews",
        " ) t",
        " where t.schemaname !~ '^pg_'",
        "   and t.schemaname <> 'information_schema'",
        "   and pg_catalog.has_schema_privilege(current_user, t.schemaname, 'usage')",
        ")",
        "select t.*",
        "from table_privileges t"), "table"));
    step("mb.get-tables", () -> query(
        "SELECT \"n\".\"nspname\" AS \"schema\", \"c\".\"relname\" AS \"name\", CASE \"c\".\"relkind\" WHEN 'r' THEN 'TABLE' WHEN 'p' THEN 'PARTITIONED TABLE' WHEN 'v' THEN 'VIEW' WHEN 'f' THEN 'FOREIGN TABLE' WHEN 'm' THEN 'MATERIALIZED VIEW' ELSE NULL END AS \"type\", \"d\".\"description\" AS \"description\", \"stat\".\"n_live_tup\" AS \"estimated_row_count\""
        + " FROM \"pg_catalog\".\"pg_class\" AS \"c\" INNER JOIN \"pg_catalog\".\"pg_namespace\" AS \"n\" ON \"c\".\"relnamespace\" = \"n\".\"oid\""
        + " LEFT JOIN \"pg_catalog\".\"pg_description\" AS \"d\" ON (\"c\".\"oid\" = \"d\".\"objoid\") AND (\"d\".\"objsubid\" = 0) AND (\"d\".\"classoid\" = 'pg_class'::regclass)"
        + " LEFT JOIN \"pg_stat_user_tables\" AS \"stat\" ON (\"n\".\"nspname\" = \"stat\".\"schemaname\") AND (\"c\".\"relname\" = \"stat\".\"relname\")"
        + " WHERE (\"c\".\"relnamespace\" = \"n\".\"oid\") AND (\"n\".\"nspname\" !~ ?) AND (\"n\".\"nspname\" <> ?) AND c.relkind in ('r', 'p', 'v', 'f', 'm') AND (\"n\".\"nspname\" IN (?))"
        + " ORDER BY \"type\" ASC, \"schema\" ASC, \"name\" ASC", "description", "^pg_", "information_schema", "public"));
    step("mb.timezone", () -> query("show timezone;", null));
    step("mb.enum-types", () -> query("SELECT nspname, typname FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace WHERE t.oid IN (SELECT DISTINCT enumtypid FROM pg_enum e)", null));
    step("mb.describe-fields", () -> query(
        "SELECT \"c\".\"column_name\" AS \"name\", CASE WHEN \"c\".\"udt_schema\" IN ('public', 'pg_catalog') THEN FORMAT('%s', \"c\".\"udt_name\") ELSE FORMAT('\"%s\".\"%s\"', \"c\".\"udt_schema\", \"c\".\"udt_name\") END AS \"database-type\","
        + " \"c\".\"ordinal_position\" - 1 AS \"database-position\", \"c\".\"table_schema\" AS \"table-schema\", \"c\".\"table_name\" AS \"table-name\", \"pk\".\"column_name\" IS NOT NULL AS \"pk?\","
        + " COL_DESCRIPTION(CAST(CAST(FORMAT('%I.%I', CAST(\"c\".\"table_schema\" AS TEXT), CAST(\"c\".\"table_name\" AS TEXT)) AS REGCLASS) AS OID), \"c\".\"ordinal_position\") AS \"field-comment\","
        + " ((\"column_default\" IS NULL) OR (LOWER(\"column_default\") = 'null')) AND (\"is_nullable\" = 'NO') AND NOT (((\"column_default\" IS NOT NULL) AND (\"column_default\" LIKE '%nextval(%')) OR (\"is_identity\" <> 'NO')) AS \"database-required\","
        + " ((\"column_default\" IS NOT NULL) AND (\"column_default\" LIKE '%nextval(%')) OR (\"is_identity\" <> 'NO') AS \"database-is-auto-increment\""
        + " FROM \"information_schema\".\"columns\" AS \"c\" LEFT JOIN (SELECT \"tc\".\"table_schema\", \"tc\".\"table_name\", \"kc\".\"column_name\" FROM \"information_schema\".\"table_constraints\" AS \"tc\""
        + " INNER JOIN \"information_schema\".\"key_column_usage\" AS \"kc\" ON (\"tc\".\"constraint_name\" = \"kc\".\"constraint_name\") AND (\"tc\".\"table_schema\" = \"kc\".\"table_schema\") AND (\"tc\".\"table_name\" = \"kc\".\"table_name\")"
        + " WHERE \"tc\".\"constraint_type\" = 'PRIMARY KEY') AS \"pk\" ON (\"c\".\"table_schema\" = \"pk\".\"table_schema\") AND (\"c\".\"table_name\" = \"pk\".\"table_name\") AND (\"c\".\"column_name\" = \"pk\".\"column_name\")"
        + " WHERE c.table_schema !~ '^information_schema|catalog_history|pg_' AND (\"c\".\"table_schema\" IN (?)) AND (\"c\".\"table_name\" IN (?))"
        + " UNION ALL SELECT \"pa\".\"attname\" AS \"name\", CASE WHEN \"ptn\".\"nspname\" IN ('public', 'pg_catalog') THEN FORMAT('%s', \"pt\".\"typname\") ELSE FORMAT('\"%s\".\"%s\"', \"ptn\".\"nspname\", \"pt\".\"typname\") END AS \"database-type\","
        + " \"pa\".\"attnum\" - 1 AS \"database-position\", \"pn\".\"nspname\" AS \"table-schema\", \"pc\".\"relname\" AS \"table-name\", FALSE AS \"pk?\", NULL AS \"field-comment\", FALSE AS \"database-required\", FALSE AS \"database-is-auto-increment\""
        + " FROM \"pg_catalog\".\"pg_class\" AS \"pc\" INNER JOIN \"pg_catalog\".\"pg_namespace\" AS \"pn\" ON \"pn\".\"oid\" = \"pc\".\"relnamespace\" INNER JOIN \"pg_catalog\".\"pg_attribute\" AS \"pa\" ON \"pa\".\"attrelid\" = \"pc\".\"oid\""
        + " INNER JOIN \"pg_catalog\".\"pg_type\" AS \"pt\" ON \"pt\".\"oid\" = \"pa\".\"atttypid\" INNER JOIN \"pg_catalog\".\"pg_namespace\" AS \"ptn\" ON \"ptn\".\"oid\" = \"pt\".\"typnamespace\""
        + " WHERE (\"pc\".\"relkind\" = 'm') AND (\"pa\".\"attnum\" >= 1) AND (\"pn\".\"nspname\" IN (?)) AND (\"pc\".\"relname\" IN (?))"
        + " ORDER BY \"table-schema\" ASC, \"table-name\" ASC, \"database-position\" ASC", "database-type", "public", "http_events", "public", "http_events"));
    step("mb.describe-fks", () -> query(
        "SELECT \"fk_ns\".\"nspname\" AS \"fk-table-schema\", \"fk_table\".\"relname\" AS \"fk-table-name\", \"fk_column\".\"attname\" AS \"fk-column-name\", \"pk_ns\".\"nspname\" AS \"pk-table-schema\", \"pk_table\".\"relname\" AS \"pk-table-name\", \"pk_column\".\"attname\" AS \"pk-column-name\""
        + " FROM \"pg_constraint\" AS \"c\" INNER JOIN \"pg_class\" AS \"fk_table\" ON \"c\".\"conrelid\" = \"fk_table\".\"oid\" INNER JOIN \"pg_namespace\" AS \"fk_ns\" ON \"c\".\"connamespace\" = \"fk_ns\".\"oid\""
        + " INNER JOIN \"pg_attribute\" AS \"fk_column\" ON \"c\".\"conrelid\" = \"fk_column\".\"attrelid\" INNER JOIN \"pg_class\" AS \"pk_table\" ON \"c\".\"confrelid\" = \"pk_table\".\"oid\""
        + " INNER JOIN \"pg_namespace\" AS \"pk_ns\" ON \"pk_table\".\"relnamespace\" = \"pk_ns\".\"oid\" INNER JOIN \"pg_attribute\" AS \"pk_column\" ON \"c\".\"confrelid\" = \"pk_column\".\"attrelid\""
        + " WHERE fk_ns.nspname !~ '^information_schema|catalog_history|pg_' AND (\"c\".\"contype\" = 'f'::char) AND (\"fk_column\".\"attnum\" = ANY(c.conkey)) AND (\"pk_column\".\"attnum\" = ANY(c.confkey))"
        + " AND (\"fk_ns\".\"nspname\" IN (?)) ORDER BY \"fk-table-schema\" ASC, \"fk-table-name\" ASC", null, "public"));
    step("mb.describe-indexes", () -> query(
        "SELECT \"tmp\".\"table-schema\", \"tmp\".\"table-name\", TRIM(BOTH '\"' FROM PG_CATALOG.PG_GET_INDEXDEF(\"tmp\".\"ci_oid\", \"tmp\".\"pos\", FALSE)) AS \"field-name\""
        + " FROM (SELECT \"n\".\"nspname\" AS \"table-schema\", \"ct\".\"relname\" AS \"table-name\", \"ci\".\"oid\" AS \"ci_oid\", (INFORMATION_SCHEMA._PG_EXPANDARRAY(\"i\".\"indkey\")).\"n\" AS \"pos\""
        + " FROM \"pg_catalog\".\"pg_class\" AS \"ct\" INNER JOIN \"pg_catalog\".\"pg_namespace\" AS \"n\" ON \"ct\".\"relnamespace\" = \"n\".\"oid\" INNER JOIN \"pg_catalog\".\"pg_index\" AS \"i\" ON \"ct\".\"oid\" = \"i\".\"indrelid\""
        + " INNER JOIN \"pg_catalog\".\"pg_class\" AS \"ci\" ON \"ci\".\"oid\" = \"i\".\"indexrelid\""
        + " WHERE (PG_CATALOG.PG_GET_EXPR(\"i\".\"indpred\", \"i\".\"indrelid\") IS NULL) AND n.nspname !~ '^information_schema|catalog_history|pg_' AND (\"n\".\"nspname\" IN (?)) AND (\"ct\".\"relname\" IN (?))) AS \"tmp\""
        + " WHERE \"tmp\".\"pos\" = 1", null, "public", "http_events"));
    step("mb.fallback-metadata", () -> {
      // sql_jdbc/sync/describe_table.clj fallback-metadata-query: SELECT * … WHERE 1 <> 1 LIMIT 0, then ResultSetMetaData
      try (Statement st = c.createStatement();
           ResultSet rs = st.executeQuery("SELECT * FROM \"public\".\"http_events\" WHERE 1 <> 1 LIMIT 0")) {
        ResultSetMetaData m = rs.getMetaData();
        return describe(rs, null) + " columns=" + m.getColumnCount() + " first=" + m.getColumnName(1) + ":" + m.getColumnTypeName(1);
      }
    });
    step("mb.jdbc-columns", () -> describe(md.getColumns(null, "public", "http_events", "%"), "TYPE_NAME"));
    step("mb.jdbc-primary-keys", () -> describe(md.getPrimaryKeys(null, "public", "http_events"), "COLUMN_NAME"));
    step("mb.jdbc-imported-keys", () -> describe(md.getImportedKeys(null, "public", "http_events"), "FKCOLUMN_NAME"));
    step("mb.jdbc-index-info", () -> describe(md.getIndexInfo(null, "public", "http_events", false, true), "INDEX_NAME"));
    step("mb.jdbc-type-info", () -> describe(md.getTypeInfo(), null));
    // the rest of DatabaseMetaData a JDBC tool may browse
    step("jdbc.catalogs", () -> describe(md.getCatalogs(), "TABLE_CAT"));
    step("jdbc.table-types", () -> describe(md.getTableTypes(), null));
    step("jdbc.tables-all", () -> describe(md.getTables(null, null, "%", null), null));
    step("jdbc.views", () -> describe(md.getTables(null, "public", "%", new String[] {"VIEW"}), "TABLE_NAME"));
    step("jdbc.procedures", () -> describe(md.getProcedures(null, "public", "%"), null));
    step("jdbc.functions", () -> describe(md.getFunctions(null, "public", "%"), null));
    step("jdbc.procedure-columns", () -> describe(md.getProcedureColumns(null, "public", "%", "%"), null));
    step("jdbc.function-columns", () -> describe(md.getFunctionColumns(null, "public", "%", "%"), null));
    step("jdbc.udts", () -> describe(md.getUDTs(null, "public", "%", null), null));
    step("jdbc.table-privileges", () -> describe(md.getTablePrivileges(null, "public", "http_events"), "PRIVILEGE"));
    step("jdbc.column-privileges", () -> describe(md.getColumnPrivileges(null, "public", "http_events", "%"), null));
    step("jdbc.best-row", () -> describe(md.getBestRowIdentifier(null, "public", "http_events", DatabaseMetaData.bestRowSession, true), null));
    step("jdbc.version-columns", () -> describe(md.getVersionColumns(null, "public", "http_events"), null));
    step("jdbc.exported-keys", () -> describe(md.getExportedKeys(null, "public", "http_events"), null));
    step("jdbc.cross-reference", () -> describe(md.getCrossReference(null, "public", "http_events", null, "public", "conn_stats"), null));
    step("jdbc.client-info", () -> describe(md.getClientInfoProperties(), null));
    step("jdbc.schemas-pattern", () -> describe(md.getSchemas(null, "pub%"), "TABLE_SCHEM"));
    // SQL editors (DBeaver's dialect, Hibernate) ask for the keywords: pg_get_keywords() WHERE word <> ALL ('{…}'::text[])
    step("db.sql-keywords", () -> "rows=1 values=" + md.getSQLKeywords().split(",").length);
    step("mb.sample", () -> {
      // field fingerprinting reads a sample; ResultSetMetaData.isNullable makes pgjdbc look the columns up
      try (Statement st = c.createStatement();
           ResultSet rs = st.executeQuery("-- Metabase\nSELECT SUBSTRING(\"public\".\"http_events\".\"req_path\", 1, 1234) AS \"substring4476\", \"public\".\"http_events\".\"time_\" AS \"time_\" FROM \"public\".\"http_events\" LIMIT 10000")) {
        ResultSetMetaData m = rs.getMetaData();
        String meta = m.getColumnTypeName(2) + "/" + m.isNullable(1) + "/" + m.isAutoIncrement(1);
        return describe(rs, null) + " meta=" + meta;
      }
    });
    step("mb.report-timezone", () -> {
      // sql-jdbc.execute/set-timezone-sql: "SET SESSION TIMEZONE TO %s;" when a report timezone is set
      try (Statement st = c.createStatement()) {
        st.execute("SET SESSION TIMEZONE TO 'US/Pacific';");
        String shown;
        try (ResultSet rs = st.executeQuery("SELECT min(\"public\".\"http_events\".\"time_\") AS \"min\" FROM \"public\".\"http_events\"")) {
          rs.next();
          shown = rs.getString(1);
        }
        st.execute("SET SESSION TIMEZONE TO 'UTC';");
        return "rows=1 values=" + shown;
      }
    });
    step("mb.count", () -> query("-- Metabase:: userID: 1 queryType: MBQL\nSELECT COUNT(*) AS \"count\" FROM \"public\".\"http_events\"", "count"));

    // ---- DBeaver -------------------------------------------------------------------------------
    step("db.defaults", () -> query("SELECT current_database(), current_schema(),session_user", null));
    step("db.search-path", () -> query("SHOW search_path", "search_path"));
    step("db.set-search-path", () -> {
      // PostgreDatabase.setSearchPath, when the user picks the active schema
      try (Statement st = c.createStatement()) {
        st.execute("SET search_path = \"$user\",public");
      }
      return query("SELECT current_schema()", null);
    });
    step("db.database", () -> query("SELECT db.oid,db.*\nFROM pg_catalog.pg_database db WHERE NOT datistemplate AND datallowconn\nAND db.datname=?", "datname", "wiretap"));
    step("db.roles", () -> query("SELECT a.oid,a.* FROM pg_catalog.pg_roles a \nORDER BY a.oid", "rolname"));
    step("db.access-methods", () -> query("SELECT am.oid,am.* FROM pg_catalog.pg_am am \nORDER BY am.oid", "amname"));
    step("db.encodings", () -> query("SELECT c.contoencoding as encid,pg_catalog.pg_encoding_to_char(c.contoencoding) as encname\nFROM pg_catalog.pg_conversion c\nGROUP BY c.contoencoding\nORDER BY 2\n", "encname"));
    step("db.languages", () -> query("SELECT l.oid,l.* FROM pg_catalog.pg_language l \nORDER BY l.oid", "lanname"));
    step("db.fdw", () -> query("SELECT l.oid,l.*,p.pronamespace as handler_schema_id \nFROM pg_catalog.pg_foreign_data_wrapper l\nLEFT OUTER JOIN pg_catalog.pg_proc p ON p.oid=l.fdwhandler \nORDER BY l.fdwname", null));
    step("db.foreign-servers", () -> query("SELECT l.oid,l.* FROM pg_catalog.pg_foreign_server l\nORDER BY l.srvname", null));
    step("db.tablespaces", () -> query("SELECT t.oid,t.* FROM pg_catalog.pg_tablespace t \nORDER BY t.oid", "spcname"));
    step("db.schemas", () -> query("SELECT n.oid,n.*,d.description FROM pg_catalog.pg_namespace n\nLEFT OUTER JOIN pg_catalog.pg_description d ON d.objoid=n.oid\n ORDER BY nspname", "nspname"));
    step("db.data-types", () -> query("SELECT t.oid,t.*,c.relkind,format_type(nullif(t.typbasetype, 0), t.typtypmod) as base_type_name, d.description\nFROM pg_catalog.pg_type t"
        + "\nLEFT OUTER JOIN pg_catalog.pg_type et ON et.oid=t.typelem \nLEFT OUTER JOIN pg_catalog.pg_class c ON c.oid=t.typrelid\nLEFT OUTER JOIN pg_catalog.pg_description d ON t.oid=d.objoid"
        + "\nWHERE t.typname IS NOT NULL\nAND (c.relkind IS NULL OR c.relkind = 'c') AND (et.typcategory IS NULL OR et.typcategory <> 'C')", null));
    long publicOid = 2200;
    step("db.tables", () -> query("SELECT c.oid,c.*,d.description,pg_catalog.pg_get_expr(c.relpartbound, c.oid) as partition_expr,  pg_catalog.pg_get_partkeydef(c.oid) as partition_key "
        + "\nFROM pg_catalog.pg_class c\nLEFT OUTER JOIN pg_catalog.pg_description d ON d.objoid=c.oid AND d.objsubid=0 AND d.classoid='pg_class'::regclass\n"
        + "WHERE c.relnamespace=? AND c.relkind not in ('i','c') AND relname=?", "description", publicOid, "http_events"));
    long tableOid;
    try (PreparedStatement ps = c.prepareStatement("SELECT c.oid FROM pg_catalog.pg_class c WHERE c.relname = ?")) {
      ps.setString(1, "http_events");
      try (ResultSet rs = ps.executeQuery()) {
        rs.next();
        tableOid = rs.getLong(1);
      }
    }
    step("db.columns", () -> query("SELECT c.relname,a.*,pg_catalog.pg_get_expr(ad.adbin, ad.adrelid, true) as def_value,dsc.description"
        + "\nFROM pg_catalog.pg_attribute a\nINNER JOIN pg_catalog.pg_class c ON (a.attrelid=c.oid)\nLEFT OUTER JOIN pg_catalog.pg_attrdef ad ON (a.attrelid=ad.adrelid AND a.attnum = ad.adnum)"
        + "\nLEFT OUTER JOIN pg_catalog.pg_description dsc ON (c.oid=dsc.objoid AND a.attnum = dsc.objsubid)\nWHERE NOT a.attisdropped AND c.oid=? ORDER BY a.attnum", "attname", tableOid));
    step("db.constraints", () -> query("SELECT c.oid,c.*,t.relname as tabrelname,rt.relnamespace as refnamespace,d.description\nFROM pg_catalog.pg_constraint c\nINNER JOIN pg_catalog.pg_class t ON t.oid=c.conrelid"
        + "\nLEFT OUTER JOIN pg_catalog.pg_class rt ON rt.oid=c.confrelid\nLEFT OUTER JOIN pg_catalog.pg_description d ON d.objoid=c.oid AND d.objsubid=0 AND d.classoid='pg_constraint'::regclass\nWHERE c.conrelid=?\nORDER BY c.oid", null, tableOid));
    step("db.indexes", () -> query("SELECT i.*,i.indkey as keys,c.relname,c.relnamespace,c.relam,c.reltablespace,tc.relname as tabrelname,dsc.description"
        + ",pg_catalog.pg_get_expr(i.indpred, i.indrelid) as pred_expr,pg_catalog.pg_get_expr(i.indexprs, i.indrelid, true) as expr"
        + ",pg_catalog.pg_relation_size(i.indexrelid) as index_rel_size,pg_catalog.pg_stat_get_numscans(i.indexrelid) as index_num_scans"
        + "\nFROM pg_catalog.pg_index i\nINNER JOIN pg_catalog.pg_class c ON c.oid=i.indexrelid\nINNER JOIN pg_catalog.pg_class tc ON tc.oid=i.indrelid\nLEFT OUTER JOIN pg_catalog.pg_description dsc ON i.indexrelid=dsc.objoid"
        + "\nWHERE  i.indrelid=? ORDER BY c.relname", null, tableOid));
    step("db.procedures", () -> query("SELECT p.oid,p.*,pg_catalog.pg_get_expr(p.proargdefaults, 0) as arg_defaults,d.description\nFROM pg_catalog.pg_proc p\nLEFT OUTER JOIN pg_catalog.pg_description d ON d.objoid=p.oid\nWHERE p.pronamespace=?\nORDER BY p.proname", null, publicOid));
    step("db.extensions", () -> query("SELECT \n e.oid,\n a.rolname oname,\n cfg.tbls,\n e.* \nFROM \n pg_catalog.pg_extension e \n join pg_authid a on a.oid = e.extowner\n join pg_namespace n on n.oid =e.extnamespace\n left join  (\n         select\n"
        + "            ARRAY_AGG(ns.nspname || '.' ||  cls.relname) tbls, oid_ext\n          from\n            (\n            select\n                unnest(e1.extconfig) oid , e1.oid oid_ext\n            from\n"
        + "                pg_catalog.pg_extension e1 ) c \n                join    pg_class cls on cls.oid = c.oid \n                join pg_namespace ns on ns.oid = cls.relnamespace\n            group by oid_ext        \n"
        + "         ) cfg on cfg.oid_ext = e.oid\n\nWHERE e.extnamespace=?\nORDER BY e.oid", null, publicOid));
    step("db.aggregates", () -> query("SELECT p.oid AS proc_oid,p.proname AS proc_name,a.*\nFROM pg_catalog.pg_aggregate a,pg_catalog.pg_proc p\nWHERE p.oid=a.aggfnoid AND p.pronamespace=?\nORDER BY p.proname", null, publicOid));
    step("db.settings", () -> query("SELECT * FROM pg_catalog.pg_settings WHERE name = ?", "setting", "TimeZone"));
    step("db.data", () -> query("SELECT * FROM public.http_events LIMIT 200", null));

    c.close();
    System.out.println("failures " + failures);
  }
}
