// The SQL that builds wiretap's pg_catalog and information_schema inside the catalog DuckDB:
// tables with PostgreSQL's column names (empty where wiretap has no such objects), rows
// generated from catalog-objects.ts, and macros for the PostgreSQL catalog functions clients
// call. DuckDB's own pg_catalog is shadowed: the rewriter strips `pg_catalog.` so these win.
import { quoteLiteral } from '../sql/lexer.ts';
import {
  allTypes, baseTypes, databaseName, databaseOid, namespaces, ownerName, ownerOid, publicNamespaceOid, relations, tableDocs, typeOf,
} from './catalog-objects.ts';

/** PostgreSQL catalog tables: name → columns (DuckDB types; `oid`/`name`/… are aliases made below). */
const catalogTables: Record<string, string> = {
  pg_namespace: 'oid oid, nspname name, nspowner oid, nspacl VARCHAR[]',
  pg_class: `oid oid, relname name, relnamespace oid, reltype oid, reloftype oid, relowner oid, relam oid, relfilenode oid,
    reltablespace oid, relpages INTEGER, reltuples REAL, relallvisible INTEGER, reltoastrelid oid, relhasindex BOOLEAN,
    relisshared BOOLEAN, relpersistence "char", relkind "char", relnatts SMALLINT, relchecks SMALLINT, relhasrules BOOLEAN,
    relhastriggers BOOLEAN, relhassubclass BOOLEAN, relrowsecurity BOOLEAN, relforcerowsecurity BOOLEAN, relispopulated BOOLEAN,
    relreplident "char", relispartition BOOLEAN, relrewrite oid, relfrozenxid xid, relminmxid xid, relacl VARCHAR[],
    reloptions VARCHAR[], relpartbound VARCHAR`,
  pg_attribute: `attrelid oid, attname name, atttypid oid, attstattarget INTEGER, attlen SMALLINT, attnum SMALLINT, attndims INTEGER,
    attcacheoff INTEGER, atttypmod INTEGER, attbyval BOOLEAN, attalign "char", attstorage "char", attcompression "char",
    attnotnull BOOLEAN, atthasdef BOOLEAN, atthasmissing BOOLEAN, attidentity "char", attgenerated "char", attisdropped BOOLEAN,
    attislocal BOOLEAN, attinhcount INTEGER, attcollation oid, attacl VARCHAR[], attoptions VARCHAR[], attfdwoptions VARCHAR[],
    attmissingval VARCHAR`,
  pg_type: `oid oid, typname name, typnamespace oid, typowner oid, typlen SMALLINT, typbyval BOOLEAN, typtype "char",
    typcategory "char", typispreferred BOOLEAN, typisdefined BOOLEAN, typdelim "char", typrelid oid, typsubscript regproc,
    typelem oid, typarray oid, typinput regproc, typoutput regproc, typreceive regproc, typsend regproc, typmodin regproc,
    typmodout regproc, typanalyze regproc, typalign "char", typstorage "char", typnotnull BOOLEAN, typbasetype oid,
    typtypmod INTEGER, typndims INTEGER, typcollation oid, typdefaultbin VARCHAR, typdefault VARCHAR, typacl VARCHAR[]`,
  pg_database: `oid oid, datname name, datdba oid, encoding INTEGER, datlocprovider "char", datistemplate BOOLEAN,
    datallowconn BOOLEAN, datconnlimit INTEGER, datfrozenxid xid, datminmxid xid, dattablespace oid, datcollate VARCHAR,
    datctype VARCHAR, daticulocale VARCHAR, daticurules VARCHAR, datcollversion VARCHAR, datacl VARCHAR[]`,
  pg_description: 'objoid oid, classoid oid, objsubid INTEGER, description VARCHAR',
  pg_shdescription: 'objoid oid, classoid oid, description VARCHAR',
  pg_index: `indexrelid oid, indrelid oid, indnatts SMALLINT, indnkeyatts SMALLINT, indisunique BOOLEAN, indnullsnotdistinct BOOLEAN,
    indisprimary BOOLEAN, indisexclusion BOOLEAN, indimmediate BOOLEAN, indisclustered BOOLEAN, indisvalid BOOLEAN,
    indcheckxmin BOOLEAN, indisready BOOLEAN, indislive BOOLEAN, indisreplident BOOLEAN, indkey SMALLINT[], indcollation oid[],
    indclass oid[], indoption SMALLINT[], indexprs VARCHAR, indpred VARCHAR`,
  pg_am: 'oid oid, amname name, amhandler regproc, amtype "char"',
  pg_proc: `oid oid, proname name, pronamespace oid, proowner oid, prolang oid, procost REAL, prorows REAL, provariadic oid,
    prosupport regproc, prokind "char", prosecdef BOOLEAN, proleakproof BOOLEAN, proisstrict BOOLEAN, proretset BOOLEAN,
    provolatile "char", proparallel "char", pronargs SMALLINT, pronargdefaults SMALLINT, prorettype oid, proargtypes oid[],
    proallargtypes oid[], proargmodes VARCHAR[], proargnames VARCHAR[], proargdefaults VARCHAR, protrftypes oid[], prosrc VARCHAR,
    probin VARCHAR, prosqlbody VARCHAR, proconfig VARCHAR[], proacl VARCHAR[]`,
  pg_roles: `rolname name, rolsuper BOOLEAN, rolinherit BOOLEAN, rolcreaterole BOOLEAN, rolcreatedb BOOLEAN, rolcanlogin BOOLEAN,
    rolreplication BOOLEAN, rolconnlimit INTEGER, rolpassword VARCHAR, rolvaliduntil TIMESTAMPTZ, rolbypassrls BOOLEAN,
    rolconfig VARCHAR[], oid oid`,
  pg_user: `usename name, usesysid oid, usecreatedb BOOLEAN, usesuper BOOLEAN, userepl BOOLEAN, usebypassrls BOOLEAN,
    passwd VARCHAR, valuntil TIMESTAMPTZ, useconfig VARCHAR[]`,
  pg_auth_members: 'oid oid, roleid oid, member oid, grantor oid, admin_option BOOLEAN, inherit_option BOOLEAN, set_option BOOLEAN',
  pg_extension: `oid oid, extname name, extowner oid, extnamespace oid, extrelocatable BOOLEAN, extversion VARCHAR,
    extconfig oid[], extcondition VARCHAR[]`,
  pg_stat_user_tables: `relid oid, schemaname name, relname name, seq_scan BIGINT, last_seq_scan TIMESTAMPTZ, seq_tup_read BIGINT,
    idx_scan BIGINT, last_idx_scan TIMESTAMPTZ, idx_tup_fetch BIGINT, n_tup_ins BIGINT, n_tup_upd BIGINT, n_tup_del BIGINT,
    n_tup_hot_upd BIGINT, n_live_tup BIGINT, n_dead_tup BIGINT, n_mod_since_analyze BIGINT, n_ins_since_vacuum BIGINT,
    last_vacuum TIMESTAMPTZ, last_autovacuum TIMESTAMPTZ, last_analyze TIMESTAMPTZ, last_autoanalyze TIMESTAMPTZ,
    vacuum_count BIGINT, autovacuum_count BIGINT, analyze_count BIGINT, autoanalyze_count BIGINT`,
  pg_attrdef: 'oid oid, adrelid oid, adnum SMALLINT, adbin VARCHAR',
  pg_constraint: `oid oid, conname name, connamespace oid, contype "char", condeferrable BOOLEAN, condeferred BOOLEAN,
    convalidated BOOLEAN, conrelid oid, contypid oid, conindid oid, conparentid oid, confrelid oid, confupdtype "char",
    confdeltype "char", confmatchtype "char", conislocal BOOLEAN, coninhcount INTEGER, connoinherit BOOLEAN, conkey SMALLINT[],
    confkey SMALLINT[], conpfeqop oid[], conppeqop oid[], conffeqop oid[], confdelsetcols SMALLINT[], conexclop oid[], conbin VARCHAR`,
  pg_inherits: 'inhrelid oid, inhparent oid, inhseqno INTEGER, inhdetachpending BOOLEAN',
  pg_trigger: `oid oid, tgrelid oid, tgparentid oid, tgname name, tgfoid oid, tgtype SMALLINT, tgenabled "char", tgisinternal BOOLEAN,
    tgconstrrelid oid, tgconstrindid oid, tgconstraint oid, tgdeferrable BOOLEAN, tginitdeferred BOOLEAN, tgnargs SMALLINT,
    tgattr SMALLINT[], tgargs BLOB, tgqual VARCHAR, tgoldtable name, tgnewtable name`,
  pg_policy: 'oid oid, polname name, polrelid oid, polcmd "char", polpermissive BOOLEAN, polroles oid[], polqual VARCHAR, polwithcheck VARCHAR',
  pg_statistic_ext: `oid oid, stxrelid oid, stxname name, stxnamespace oid, stxowner oid, stxstattarget INTEGER, stxkeys SMALLINT[],
    stxkind VARCHAR[], stxexprs VARCHAR`,
  pg_publication: `oid oid, pubname name, pubowner oid, puballtables BOOLEAN, pubinsert BOOLEAN, pubupdate BOOLEAN,
    pubdelete BOOLEAN, pubtruncate BOOLEAN, pubviaroot BOOLEAN`,
  pg_publication_rel: 'oid oid, prpubid oid, prrelid oid, prqual VARCHAR, prattrs SMALLINT[]',
  pg_publication_namespace: 'oid oid, pnpubid oid, pnnspid oid',
  pg_rewrite: 'oid oid, rulename name, ev_class oid, ev_type "char", ev_enabled "char", is_instead BOOLEAN, ev_qual VARCHAR, ev_action VARCHAR',
  pg_collation: `oid oid, collname name, collnamespace oid, collowner oid, collprovider "char", collisdeterministic BOOLEAN,
    collencoding INTEGER, collcollate VARCHAR, collctype VARCHAR, colliculocale VARCHAR, collicurules VARCHAR, collversion VARCHAR`,
  pg_tablespace: 'oid oid, spcname name, spcowner oid, spcacl VARCHAR[], spcoptions VARCHAR[]',
  pg_foreign_table: 'ftrelid oid, ftserver oid, ftoptions VARCHAR[]',
  pg_foreign_server: 'oid oid, srvname name, srvowner oid, srvfdw oid, srvtype VARCHAR, srvversion VARCHAR, srvacl VARCHAR[], srvoptions VARCHAR[]',
  pg_partitioned_table: `partrelid oid, partstrat "char", partnatts SMALLINT, partdefid oid, partattrs SMALLINT[], partclass oid[],
    partcollation oid[], partexprs VARCHAR`,
  pg_sequence: 'seqrelid oid, seqtypid oid, seqstart BIGINT, seqincrement BIGINT, seqmax BIGINT, seqmin BIGINT, seqcache BIGINT, seqcycle BOOLEAN',
  pg_depend: 'classid oid, objid oid, objsubid INTEGER, refclassid oid, refobjid oid, refobjsubid INTEGER, deptype "char"',
  pg_enum: 'oid oid, enumtypid oid, enumsortorder REAL, enumlabel name',
  pg_range: 'rngtypid oid, rngsubtype oid, rngmultitypid oid, rngcollation oid, rngsubopc oid, rngcanonical regproc, rngsubdiff regproc',
  pg_operator: 'oid oid, oprname name, oprnamespace oid, oprowner oid, oprkind "char", oprcanmerge BOOLEAN, oprcanhash BOOLEAN, oprleft oid, oprright oid, oprresult oid, oprcom oid, oprnegate oid, oprcode regproc, oprrest regproc, oprjoin regproc',
  pg_cast: 'oid oid, castsource oid, casttarget oid, castfunc oid, castcontext "char", castmethod "char"',
  // tableoid: a system column psql's \\dL joins pg_description on
  pg_language: 'oid oid, lanname name, lanowner oid, lanispl BOOLEAN, lanpltrusted BOOLEAN, lanplcallfoid oid, laninline oid, lanvalidator oid, lanacl VARCHAR[], tableoid oid',
  pg_ts_config: 'oid oid, cfgname name, cfgnamespace oid, cfgowner oid, cfgparser oid',
  pg_db_role_setting: 'setdatabase oid, setrole oid, setconfig VARCHAR[]',
  // per session in PostgreSQL; psycopg3 only asks it about cursors it did not describe
  pg_cursors: 'name VARCHAR, statement VARCHAR, is_holdable BOOLEAN, is_binary BOOLEAN, is_scrollable BOOLEAN, creation_time TIMESTAMPTZ',
  pg_event_trigger: 'oid oid, evtname name, evtevent name, evtowner oid, evtfoid oid, evtenabled "char", evttags VARCHAR[]',
  // DBeaver's EncodingCache, ForeignDataWrapperCache, ExtensionCache (joins pg_authid) and AggregateCache read these
  pg_conversion: 'oid oid, conname name, connamespace oid, conowner oid, conforencoding INTEGER, contoencoding INTEGER, conproc regproc, condefault BOOLEAN',
  pg_foreign_data_wrapper: 'oid oid, fdwname name, fdwowner oid, fdwhandler oid, fdwvalidator oid, fdwacl VARCHAR[], fdwoptions VARCHAR[]',
  pg_authid: `oid oid, rolname name, rolsuper BOOLEAN, rolinherit BOOLEAN, rolcreaterole BOOLEAN, rolcreatedb BOOLEAN, rolcanlogin BOOLEAN,
    rolreplication BOOLEAN, rolbypassrls BOOLEAN, rolconnlimit INTEGER, rolpassword VARCHAR, rolvaliduntil TIMESTAMPTZ`,
  pg_aggregate: `aggfnoid oid, aggkind "char", aggnumdirectargs SMALLINT, aggtransfn regproc, aggfinalfn regproc, aggcombinefn regproc,
    aggserialfn regproc, aggdeserialfn regproc, aggmtransfn regproc, aggminvtransfn regproc, aggmfinalfn regproc, aggfinalextra BOOLEAN,
    aggmfinalextra BOOLEAN, aggfinalmodify "char", aggmfinalmodify "char", aggsortop oid, aggtranstype oid, aggtransspace INTEGER,
    aggmtranstype oid, aggmtransspace INTEGER, agginitval VARCHAR, aggminitval VARCHAR`,
  pg_opclass: 'oid oid, opcmethod oid, opcname name, opcnamespace oid, opcowner oid, opcfamily oid, opcintype oid, opcdefault BOOLEAN, opckeytype oid',
  pg_init_privs: 'objoid oid, classoid oid, objsubid INTEGER, privtype "char", initprivs VARCHAR[]',
  pg_matviews: 'schemaname name, matviewname name, matviewowner name, tablespace name, hasindexes BOOLEAN, ispopulated BOOLEAN, definition VARCHAR',
  pg_views: 'schemaname name, viewname name, viewowner name, definition VARCHAR',
  pg_tables: 'schemaname name, tablename name, tableowner name, tablespace name, hasindexes BOOLEAN, hasrules BOOLEAN, hastriggers BOOLEAN, rowsecurity BOOLEAN',
  pg_indexes: 'schemaname name, tablename name, indexname name, tablespace name, indexdef VARCHAR',
  pg_settings: `name VARCHAR, setting VARCHAR, unit VARCHAR, category VARCHAR, short_desc VARCHAR, extra_desc VARCHAR, context VARCHAR,
    vartype VARCHAR, source VARCHAR, min_val VARCHAR, max_val VARCHAR, enumvals VARCHAR[], boot_val VARCHAR, reset_val VARCHAR,
    sourcefile VARCHAR, sourceline INTEGER, pending_restart BOOLEAN`,
  pg_stat_activity: `datid oid, datname name, pid INTEGER, leader_pid INTEGER, usesysid oid, usename name, application_name VARCHAR,
    client_addr VARCHAR, client_hostname VARCHAR, client_port INTEGER, backend_start TIMESTAMPTZ, xact_start TIMESTAMPTZ,
    query_start TIMESTAMPTZ, state_change TIMESTAMPTZ, wait_event_type VARCHAR, wait_event VARCHAR, state VARCHAR,
    backend_xid xid, backend_xmin xid, query_id BIGINT, query VARCHAR, backend_type VARCHAR`,
  pg_timezone_names: 'name VARCHAR, abbrev VARCHAR, utc_offset INTERVAL, is_dst BOOLEAN',
};

/** information_schema views, as tables in the wt_information_schema schema. */
const infoSchemaTables: Record<string, string> = {
  schemata: `catalog_name VARCHAR, schema_name VARCHAR, schema_owner VARCHAR, default_character_set_catalog VARCHAR,
    default_character_set_schema VARCHAR, default_character_set_name VARCHAR, sql_path VARCHAR`,
  tables: `table_catalog VARCHAR, table_schema VARCHAR, table_name VARCHAR, table_type VARCHAR, self_referencing_column_name VARCHAR,
    reference_generation VARCHAR, user_defined_type_catalog VARCHAR, user_defined_type_schema VARCHAR, user_defined_type_name VARCHAR,
    is_insertable_into VARCHAR, is_typed VARCHAR, commit_action VARCHAR`,
  columns: `table_catalog VARCHAR, table_schema VARCHAR, table_name VARCHAR, column_name VARCHAR, ordinal_position INTEGER,
    column_default VARCHAR, is_nullable VARCHAR, data_type VARCHAR, character_maximum_length INTEGER, character_octet_length INTEGER,
    numeric_precision INTEGER, numeric_precision_radix INTEGER, numeric_scale INTEGER, datetime_precision INTEGER,
    interval_type VARCHAR, interval_precision INTEGER, character_set_catalog VARCHAR, character_set_schema VARCHAR,
    character_set_name VARCHAR, collation_catalog VARCHAR, collation_schema VARCHAR, collation_name VARCHAR, domain_catalog VARCHAR,
    domain_schema VARCHAR, domain_name VARCHAR, udt_catalog VARCHAR, udt_schema VARCHAR, udt_name VARCHAR, scope_catalog VARCHAR,
    scope_schema VARCHAR, scope_name VARCHAR, maximum_cardinality INTEGER, dtd_identifier VARCHAR, is_self_referencing VARCHAR,
    is_identity VARCHAR, identity_generation VARCHAR, identity_start VARCHAR, identity_increment VARCHAR, identity_maximum VARCHAR,
    identity_minimum VARCHAR, identity_cycle VARCHAR, is_generated VARCHAR, generation_expression VARCHAR, is_updatable VARCHAR`,
  table_constraints: `constraint_catalog VARCHAR, constraint_schema VARCHAR, constraint_name VARCHAR, table_catalog VARCHAR,
    table_schema VARCHAR, table_name VARCHAR, constraint_type VARCHAR, is_deferrable VARCHAR, initially_deferred VARCHAR,
    enforced VARCHAR, nulls_distinct VARCHAR`,
  key_column_usage: `constraint_catalog VARCHAR, constraint_schema VARCHAR, constraint_name VARCHAR, table_catalog VARCHAR,
    table_schema VARCHAR, table_name VARCHAR, column_name VARCHAR, ordinal_position INTEGER, position_in_unique_constraint INTEGER`,
  referential_constraints: `constraint_catalog VARCHAR, constraint_schema VARCHAR, constraint_name VARCHAR,
    unique_constraint_catalog VARCHAR, unique_constraint_schema VARCHAR, unique_constraint_name VARCHAR, match_option VARCHAR,
    update_rule VARCHAR, delete_rule VARCHAR`,
  views: `table_catalog VARCHAR, table_schema VARCHAR, table_name VARCHAR, view_definition VARCHAR, check_option VARCHAR,
    is_updatable VARCHAR, is_insertable_into VARCHAR, is_trigger_updatable VARCHAR, is_trigger_deletable VARCHAR,
    is_trigger_insertable_into VARCHAR`,
  routines: 'specific_catalog VARCHAR, specific_schema VARCHAR, specific_name VARCHAR, routine_catalog VARCHAR, routine_schema VARCHAR, routine_name VARCHAR, routine_type VARCHAR, data_type VARCHAR',
  character_sets: 'character_set_catalog VARCHAR, character_set_schema VARCHAR, character_set_name VARCHAR, character_repertoire VARCHAR, form_of_use VARCHAR, default_collate_catalog VARCHAR, default_collate_schema VARCHAR, default_collate_name VARCHAR',
  sequences: 'sequence_catalog VARCHAR, sequence_schema VARCHAR, sequence_name VARCHAR, data_type VARCHAR',
  enabled_roles: 'role_name VARCHAR',
  table_privileges: 'grantor VARCHAR, grantee VARCHAR, table_catalog VARCHAR, table_schema VARCHAR, table_name VARCHAR, privilege_type VARCHAR, is_grantable VARCHAR, with_hierarchy VARCHAR',
};

export const catalogTableNames = new Set(Object.keys(catalogTables));
export const infoSchemaTableNames = new Set(Object.keys(infoSchemaTables));
export const infoSchemaName = 'wt_information_schema';

/**
 * PostgreSQL's fixed oids of system catalogs, so 'pg_class'::regclass (Metabase, DBeaver: `d.classoid =
 * 'pg_class'::regclass`) finds them; pg_description rows use these classoids.
 */
const systemRelationOids: Record<string, number> = {
  pg_class: 1259, pg_namespace: 2615, pg_constraint: 2606, pg_proc: 1255, pg_type: 1247, pg_attribute: 1249, pg_database: 1262,
  pg_description: 2609, pg_index: 2610, pg_am: 2601, pg_authid: 1260, pg_trigger: 2620, pg_rewrite: 2618, pg_attrdef: 2604,
  pg_language: 2612, pg_operator: 2617, pg_opclass: 2616, pg_collation: 3456, pg_extension: 3079, pg_tablespace: 1213,
  pg_inherits: 2611, pg_depend: 2608, pg_cast: 2605, pg_enum: 3501, pg_foreign_table: 3118, pg_foreign_server: 1417,
  pg_foreign_data_wrapper: 2328, pg_event_trigger: 3466, pg_policy: 3256, pg_publication: 6104, pg_statistic_ext: 3381,
  pg_sequence: 2224, pg_aggregate: 2600, pg_conversion: 2607, pg_range: 3541, pg_partitioned_table: 3350, pg_init_privs: 3394,
  pg_shdescription: 2396, pg_auth_members: 1261,
};

const lit = (v: string | number | boolean | null): string =>
  v === null ? 'NULL' : typeof v === 'string' ? quoteLiteral(v) : String(v);
const row = (...vs: Array<string | number | boolean | null>): string => `(${vs.map(lit).join(', ')})`;
/** INSERT of full rows (NULL for the columns not given, which come last). */
function insert(table: string, columns: string[], rows: Array<Array<string | number | boolean | null>>): string {
  if (rows.length === 0) return '';
  return `INSERT INTO ${table} (${columns.join(', ')}) VALUES ${rows.map((r) => row(...r)).join(',\n')}`;
}

/** DuckDB has no PostgreSQL catalog types; these aliases keep column declarations and casts (::oid, ::name) working. */
const typeAliases = ['oid AS INTEGER', 'name AS VARCHAR', '"char" AS VARCHAR', 'xid AS INTEGER', 'regproc AS VARCHAR',
  'int2vector AS SMALLINT[]', 'oidvector AS INTEGER[]', 'regnamespace AS VARCHAR', 'regrole AS VARCHAR', '"unknown" AS VARCHAR'];

/** Setup statements, run once on the catalog database before it is locked. */
export function catalogSetupSql(): string[] {
  const sql: string[] = typeAliases.map((a) => `CREATE TYPE ${a}`);
  for (const [name, cols] of Object.entries(catalogTables)) sql.push(`CREATE TABLE main.${name} (${cols})`);
  sql.push(`CREATE SCHEMA ${infoSchemaName}`);
  for (const [name, cols] of Object.entries(infoSchemaTables)) sql.push(`CREATE TABLE ${infoSchemaName}.${name} (${cols})`);
  sql.push('CREATE TABLE main.wt_type_names (oid INTEGER, display VARCHAR)');
  sql.push('CREATE TABLE main.wt_system_relations (name VARCHAR, oid INTEGER)');
  sql.push(...catalogRows().filter(Boolean));
  sql.push(...catalogMacros());
  return sql;
}

function catalogRows(): string[] {
  const out: string[] = [];
  const tablesOnly = relations.filter((r) => r.kind === 'r');
  out.push(insert('pg_namespace', ['oid', 'nspname', 'nspowner'], namespaces.map((n) => [n.oid, n.name, ownerOid])));
  out.push(insert('pg_database', ['oid', 'datname', 'datdba', 'encoding', 'datlocprovider', 'datistemplate', 'datallowconn', 'datconnlimit', 'dattablespace', 'datcollate', 'datctype'],
    [[databaseOid, databaseName, ownerOid, 6, 'c', false, true, -1, 1663, 'C.UTF-8', 'C.UTF-8']]));
  out.push(insert('pg_tablespace', ['oid', 'spcname', 'spcowner'], [[1663, 'pg_default', ownerOid]]));
  out.push(insert('pg_am', ['oid', 'amname', 'amhandler', 'amtype'], [[2, 'heap', 'heap_tableam_handler', 't'], [403, 'btree', 'bthandler', 'i']]));
  out.push(insert('pg_roles', ['rolname', 'rolsuper', 'rolinherit', 'rolcreaterole', 'rolcreatedb', 'rolcanlogin', 'rolreplication', 'rolconnlimit', 'rolpassword', 'rolbypassrls', 'oid'],
    [[ownerName, false, true, false, false, true, false, -1, '********', false, ownerOid]]));
  out.push(insert('pg_authid', ['oid', 'rolname', 'rolsuper', 'rolinherit', 'rolcreaterole', 'rolcreatedb', 'rolcanlogin', 'rolreplication', 'rolbypassrls', 'rolconnlimit'],
    [[ownerOid, ownerName, false, true, false, false, true, false, false, -1]]));
  out.push(insert('pg_conversion', ['oid', 'conname', 'connamespace', 'conowner', 'conforencoding', 'contoencoding', 'conproc', 'condefault'],
    [[4402, 'iso_8859_1_to_utf8', 11, ownerOid, 8, 6, 'iso8859_1_to_utf8', true], [4403, 'utf8_to_iso_8859_1', 11, ownerOid, 6, 8, 'utf8_to_iso8859_1', true]]));
  out.push(insert('wt_system_relations', ['name', 'oid'], Object.entries(systemRelationOids)));
  out.push(insert('pg_user', ['usename', 'usesysid', 'usecreatedb', 'usesuper', 'userepl', 'usebypassrls', 'passwd'], [[ownerName, ownerOid, false, false, false, false, '********']]));
  out.push(insert('pg_collation', ['oid', 'collname', 'collnamespace', 'collowner', 'collprovider', 'collisdeterministic', 'collencoding'],
    [[100, 'default', 11, ownerOid, 'd', true, -1], [950, 'C', 11, ownerOid, 'c', true, -1]]));
  out.push(insert('pg_language', ['oid', 'lanname', 'lanowner', 'lanispl', 'lanpltrusted', 'tableoid'],
    [[12, 'internal', ownerOid, false, false, systemRelationOids.pg_language!], [14, 'sql', ownerOid, false, true, systemRelationOids.pg_language!]]));
  out.push(insert('pg_type',
    ['oid', 'typname', 'typnamespace', 'typowner', 'typlen', 'typbyval', 'typtype', 'typcategory', 'typispreferred', 'typisdefined', 'typdelim', 'typrelid', 'typelem', 'typarray', 'typinput', 'typoutput', 'typalign', 'typstorage', 'typnotnull', 'typbasetype', 'typtypmod', 'typndims', 'typcollation'],
    [
      ...allTypes.map((ty) => [ty.oid, ty.name, 11, ownerOid, ty.len, ty.len > 0 && ty.len <= 8, 'b', ty.category, false, true, ',', 0, ty.elem, ty.array,
        `${ty.name.replace(/^_/, 'array_')}in`, `${ty.name.replace(/^_/, 'array_')}out`, ty.len === 8 || ty.category === 'A' ? 'd' : ty.len === 2 ? 's' : ty.len === 1 ? 'c' : 'i',
        ty.len > 0 ? 'p' : 'x', false, 0, -1, 0, ty.category === 'S' ? 100 : 0]),
      ...relations.map((r) => [r.rowType, r.name, publicNamespaceOid, ownerOid, -1, false, 'c', 'C', false, true, ',', r.oid, 0, 0, 'record_in', 'record_out', 'd', 'x', false, 0, -1, 0, 0]),
    ]));
  out.push(insert('wt_type_names', ['oid', 'display'], [...allTypes.map((ty) => [ty.oid, ty.display]), ...relations.map((r) => [r.rowType, r.name])]));
  out.push(insert('pg_class',
    ['oid', 'relname', 'relnamespace', 'reltype', 'reloftype', 'relowner', 'relam', 'relfilenode', 'reltablespace', 'relpages', 'reltuples', 'relallvisible', 'reltoastrelid',
      'relhasindex', 'relisshared', 'relpersistence', 'relkind', 'relnatts', 'relchecks', 'relhasrules', 'relhastriggers', 'relhassubclass', 'relrowsecurity',
      'relforcerowsecurity', 'relispopulated', 'relreplident', 'relispartition', 'relrewrite', 'relfrozenxid', 'relminmxid'],
    relations.map((r) => [r.oid, r.name, publicNamespaceOid, r.rowType, 0, ownerOid, 2, r.oid, 0, 0, -1, 0, 0,
      false, false, 'p', r.kind, r.columns.length, 0, false, false, false, false, false, true, 'd', false, 0, 0, 0])));
  out.push(insert('pg_attribute',
    ['attrelid', 'attname', 'atttypid', 'attstattarget', 'attlen', 'attnum', 'attndims', 'attcacheoff', 'atttypmod', 'attbyval', 'attalign', 'attstorage',
      'attcompression', 'attnotnull', 'atthasdef', 'atthasmissing', 'attidentity', 'attgenerated', 'attisdropped', 'attislocal', 'attinhcount', 'attcollation'],
    relations.flatMap((r) => r.columns.map((c, i) => {
      const ty = typeOf(c.type);
      return [r.oid, c.name, ty.oid, -1, ty.len, i + 1, 0, -1, -1, ty.len > 0 && ty.len <= 8, ty.len === 8 ? 'd' : 'i', ty.len > 0 ? 'p' : 'x',
        '', false, false, false, '', '', false, true, 0, ty.category === 'S' ? 100 : 0];
    }))));
  out.push(insert('pg_description', ['objoid', 'classoid', 'objsubid', 'description'], [
    ...relations.filter((r) => tableDocs[r.name]).map((r) => [r.oid, 1259, 0, tableDocs[r.name]!]),
    ...relations.flatMap((r) => r.columns.map((c, i) => [r.oid, 1259, i + 1, c.doc])),
    ...namespaces.filter((n) => n.comment).map((n) => [n.oid, 2615, 0, n.comment]),
  ]));
  out.push(insert('pg_stat_user_tables', ['relid', 'schemaname', 'relname', 'seq_scan', 'n_live_tup', 'n_dead_tup'], tablesOnly.map((r) => [r.oid, 'public', r.name, 0, 0, 0])));
  out.push(insert('pg_tables', ['schemaname', 'tablename', 'tableowner', 'hasindexes', 'hasrules', 'hastriggers', 'rowsecurity'], tablesOnly.map((r) => ['public', r.name, ownerName, false, false, false, false])));
  out.push(insert('pg_views', ['schemaname', 'viewname', 'viewowner', 'definition'], relations.filter((r) => r.kind === 'v').map((r) => ['public', r.name, ownerName, `-- wiretap engine view ${r.name}`])));
  out.push(insert('pg_timezone_names', ['name', 'abbrev', 'is_dst'], [['UTC', 'UTC', false]]));
  // information_schema
  const is = infoSchemaName;
  out.push(insert(`${is}.schemata`, ['catalog_name', 'schema_name', 'schema_owner'], namespaces.map((n) => [databaseName, n.name, ownerName])));
  out.push(insert(`${is}.tables`, ['table_catalog', 'table_schema', 'table_name', 'table_type', 'is_insertable_into', 'is_typed'],
    relations.map((r) => [databaseName, 'public', r.name, r.kind === 'r' ? 'BASE TABLE' : 'VIEW', 'NO', 'NO'])));
  out.push(insert(`${is}.columns`,
    ['table_catalog', 'table_schema', 'table_name', 'column_name', 'ordinal_position', 'is_nullable', 'data_type', 'numeric_precision', 'numeric_precision_radix',
      'numeric_scale', 'datetime_precision', 'udt_catalog', 'udt_schema', 'udt_name', 'dtd_identifier', 'is_self_referencing', 'is_identity', 'is_generated', 'is_updatable'],
    relations.flatMap((r) => r.columns.map((c, i) => {
      const ty = typeOf(c.type);
      const precision = ({ int2: 16, int4: 32, int8: 64, float4: 24, float8: 53 } as Record<string, number>)[ty.name] ?? null;
      return [databaseName, 'public', r.name, c.name, i + 1, 'YES', ty.sqlName, precision, precision === null ? null : ty.category === 'N' && ty.name.startsWith('float') ? 2 : 2,
        ty.name.startsWith('int') ? 0 : null, ty.category === 'D' ? 6 : null, databaseName, 'pg_catalog', ty.name, String(i + 1), 'NO', 'NO', 'NEVER', 'NO'];
    }))));
  out.push(insert(`${is}.character_sets`, ['character_set_name', 'character_repertoire', 'form_of_use'], [['UTF8', 'UCS', 'UTF8']]));
  out.push(insert(`${is}.enabled_roles`, ['role_name'], [[ownerName]]));
  out.push(insert(`${is}.table_privileges`, ['grantor', 'grantee', 'table_catalog', 'table_schema', 'table_name', 'privilege_type', 'is_grantable', 'with_hierarchy'],
    relations.map((r) => [ownerName, 'PUBLIC', databaseName, 'public', r.name, 'SELECT', 'NO', 'YES'])));
  return out;
}

/**
 * PostgreSQL functions clients call in catalog queries. Session-dependent ones
 * (current_setting, current_user, current_database, pg_backend_pid) are replaced by literals
 * in the rewriter; the macros here are fallbacks with the defaults.
 */
function catalogMacros(): string[] {
  const m = (def: string): string => `CREATE OR REPLACE MACRO ${def}`;
  const relName = `regexp_replace(regexp_replace(x, '^(public|pg_catalog)\\.', ''), '"', '', 'g')`;
  const relOid = `coalesce((SELECT oid FROM pg_class WHERE relname = ${relName}), (SELECT oid FROM wt_system_relations WHERE name = ${relName}))`;
  return [
    // with a type modifier as PostgreSQL prints it: character varying(32), numeric(10,2), timestamp(3) with time zone
    m(`format_type(t, m) AS (SELECT CASE
         WHEN m IS NULL OR m < 0 THEN display
         WHEN t = 1043 AND m >= 4 THEN 'character varying(' || (m - 4) || ')'
         WHEN t = 1700 AND m >= 4 THEN 'numeric(' || (((m - 4) >> 16) & 65535) || ',' || ((m - 4) & 65535) || ')'
         WHEN t IN (1114, 1184, 1083) THEN replace(display, ' with', '(' || m || ') with')
         ELSE display END FROM wt_type_names WHERE oid = t)`),
    m(`pg_table_is_visible(x) AS true`),
    m(`pg_type_is_visible(x) AS true`),
    m(`pg_function_is_visible(x) AS true`),
    m(`pg_collation_is_visible(x) AS true`),
    m(`pg_opclass_is_visible(x) AS true`),
    m(`pg_ts_config_is_visible(x) AS true`),
    m(`pg_statistics_obj_is_visible(x) AS true`),
    m(`pg_is_other_temp_schema(x) AS false`),
    m(`pg_my_temp_schema() AS 0`),
    m(`pg_is_in_recovery() AS false`),
    m(`pg_get_expr(e, r) AS NULL::VARCHAR, (e, r, p) AS NULL::VARCHAR`),
    m(`pg_get_userbyid(x) AS ${quoteLiteral(ownerName)}`),
    m(`obj_description(o) AS (SELECT description FROM pg_description WHERE objoid = o AND objsubid = 0 LIMIT 1),
       (o, c) AS (SELECT description FROM pg_description WHERE objoid = o AND objsubid = 0 LIMIT 1)`),
    m(`col_description(o, n) AS (SELECT description FROM pg_description WHERE objoid = o AND objsubid = n LIMIT 1)`),
    m(`shobj_description(o, c) AS NULL::VARCHAR`),
    m(`has_table_privilege(a, b) AS true, (a, b, c) AS true`),
    m(`has_schema_privilege(a, b) AS true, (a, b, c) AS true`),
    m(`has_database_privilege(a, b) AS true, (a, b, c) AS true`),
    m(`has_column_privilege(a, b, c) AS true, (a, b, c, d) AS true`),
    m(`has_any_column_privilege(a, b) AS true, (a, b, c) AS true`),
    m(`has_function_privilege(a, b) AS true, (a, b, c) AS true`),
    m(`has_sequence_privilege(a, b) AS true, (a, b, c) AS true`),
    m(`pg_has_role(a, b) AS true, (a, b, c) AS true`),
    m(`pg_encoding_to_char(e) AS CASE e WHEN 6 THEN 'UTF8' WHEN 8 THEN 'LATIN1' WHEN 0 THEN 'SQL_ASCII' ELSE '' END`),
    m(`pg_stat_get_numscans(x) AS 0::BIGINT`),
    m(`pg_char_to_encoding(e) AS 6`),
    m(`pg_relation_size(x) AS 0::BIGINT, (x, f) AS 0::BIGINT`),
    m(`pg_total_relation_size(x) AS 0::BIGINT`),
    m(`pg_table_size(x) AS 0::BIGINT`),
    m(`pg_indexes_size(x) AS 0::BIGINT`),
    m(`pg_database_size(x) AS 0::BIGINT`),
    // PostgreSQL's units and rounding: bytes below 10 kB, then kB, MB, GB, TB, PB, each half-rounded
    m(`wt_half_rounded(x) AS CAST(trunc((x + CASE WHEN x < 0 THEN -1 ELSE 1 END) / 2) AS BIGINT)`),
    // (PostgreSQL divides, truncating toward zero: sign × |x| >> bits)
    m(`wt_shift(x, n) AS sign(x) * (abs(x) >> n)`),
    m(`pg_size_pretty(x) AS CASE
         WHEN abs(x) < 10240 THEN CAST(x AS BIGINT) || ' bytes'
         WHEN abs(wt_shift(x, 9)) < 20479 THEN wt_half_rounded(wt_shift(x, 9)) || ' kB'
         WHEN abs(wt_shift(x, 19)) < 20479 THEN wt_half_rounded(wt_shift(x, 19)) || ' MB'
         WHEN abs(wt_shift(x, 29)) < 20479 THEN wt_half_rounded(wt_shift(x, 29)) || ' GB'
         WHEN abs(wt_shift(x, 39)) < 20479 THEN wt_half_rounded(wt_shift(x, 39)) || ' TB'
         ELSE wt_half_rounded(wt_shift(x, 49)) || ' PB' END`),
    m(`pg_tablespace_location(x) AS ''`),
    m(`pg_relation_is_publishable(x) AS false`),
    // quoted unless a plain lower-case name that is not a keyword (unreserved keywords stay bare, as in PostgreSQL)
    m(`quote_ident(s) AS CASE WHEN regexp_full_match(s, '[a-z_][a-z0-9_$]*')
         AND NOT EXISTS (SELECT 1 FROM duckdb_keywords() WHERE keyword_name = s AND keyword_category <> 'unreserved')
       THEN s ELSE '"' || replace(s, '"', '""') || '"' END`),
    m(`quote_literal(s) AS '''' || replace(CAST(s AS VARCHAR), '''', '''''') || ''''`),
    m(`parse_ident(s) AS list_transform(string_split(s, '.'), x -> trim(x, '"')), (s, strict) AS list_transform(string_split(s, '.'), x -> trim(x, '"'))`),
    m(`array_upper(a, d) AS CASE WHEN len(a) = 0 THEN NULL ELSE len(a) END`),
    m(`array_lower(a, d) AS CASE WHEN len(a) = 0 THEN NULL ELSE 1 END`),
    m(`array_ndims(a) AS 1`),
    m(`string_to_array(s, d) AS string_split(s, d)`),
    // pgjdbc getPrimaryKeys/getIndexInfo read (information_schema._pg_expandarray(indkey)).n; wiretap
    // has no indexes, so the first element stands in for the set it returns in PostgreSQL
    m(`${infoSchemaName}._pg_expandarray(a) AS {'x': a[1], 'n': 1}`),
    m(`wt_subscripts(a, d) AS range(1, len(a) + 1)`),
    m(`generate_subscripts(a, d) AS TABLE SELECT unnest(range(1, len(a) + 1)) AS generate_subscripts`),
    // PostgreSQL's keyword list: DuckDB's parser is PostgreSQL's grammar, so duckdb_keywords() is it
    m(`pg_get_keywords() AS TABLE SELECT keyword_name AS word,
       CASE keyword_category WHEN 'reserved' THEN 'R' WHEN 'unreserved' THEN 'U' WHEN 'column_name' THEN 'C' ELSE 'T' END AS catcode,
       true AS barelabel,
       CASE keyword_category WHEN 'reserved' THEN 'reserved' WHEN 'unreserved' THEN 'unreserved'
         WHEN 'column_name' THEN 'unreserved (cannot be function or type name)' ELSE 'reserved (can be function or type name)' END AS catdesc,
       'can be bare label' AS baredesc
       FROM duckdb_keywords() ORDER BY keyword_name`),
    m(`pg_get_indexdef(x) AS NULL::VARCHAR, (x, c, p) AS NULL::VARCHAR`),
    m(`pg_get_constraintdef(x) AS NULL::VARCHAR, (x, p) AS NULL::VARCHAR`),
    m(`pg_get_viewdef(x) AS NULL::VARCHAR, (x, p) AS NULL::VARCHAR`),
    m(`pg_get_triggerdef(x) AS NULL::VARCHAR, (x, p) AS NULL::VARCHAR`),
    m(`pg_get_partkeydef(x) AS NULL::VARCHAR`),
    m(`pg_get_function_result(x) AS NULL::VARCHAR`),
    m(`pg_get_function_arguments(x) AS NULL::VARCHAR`),
    m(`pg_get_function_identity_arguments(x) AS NULL::VARCHAR`),
    m(`pg_get_statisticsobjdef_columns(x) AS NULL::VARCHAR`),
    m(`pg_get_serial_sequence(t, c) AS NULL::VARCHAR`),
    m(`pg_postmaster_start_time() AS now()`),
    m(`pg_conf_load_time() AS now()`),
    m(`inet_server_addr() AS '127.0.0.1'`),
    m(`inet_server_port() AS 5433`),
    m(`txid_current() AS 1::BIGINT`),
    m(`version() AS 'PostgreSQL 16.0 (wiretap) on x86_64-pc-linux-gnu, compiled by node, 64-bit'`),
    m(`current_schema() AS 'public'`),
    m(`current_schemas(b) AS CASE WHEN b THEN ['pg_catalog', 'public'] ELSE ['public'] END`),
    m(`current_database() AS ${quoteLiteral(databaseName)}`),
    m(`current_setting(n) AS (SELECT setting FROM pg_settings WHERE lower(name) = lower(n)), (n, missing_ok) AS (SELECT setting FROM pg_settings WHERE lower(name) = lower(n))`),
    m(`wt_regclass_oid(x) AS ${relOid}`),
    m(`wt_regclass_name(o) AS coalesce((SELECT relname FROM pg_class WHERE oid = o), (SELECT name FROM wt_system_relations WHERE oid = o), CAST(o AS VARCHAR))`),
    m(`wt_regtype_oid(x) AS (SELECT oid FROM pg_type WHERE typname = x OR oid IN (SELECT oid FROM wt_type_names WHERE display = x) LIMIT 1)`),
    m(`wt_regtype_name(o) AS coalesce((SELECT display FROM wt_type_names WHERE oid = o), CAST(o AS VARCHAR))`),
    m(`wt_regnamespace_name(o) AS coalesce((SELECT nspname FROM pg_namespace WHERE oid = o), CAST(o AS VARCHAR))`),
    m(`to_regclass(x) AS ${relOid}`),
    m(`to_regtype(x) AS wt_regtype_oid(x)`),
  ];
}

/** Functions defined by catalogMacros (so the router sends statements that call them here). */

/** Names that make a statement a catalog query: catalog tables and the functions defined above. */
export const catalogNames = new Set([
  ...catalogTableNames,
  'information_schema',
  // casts to these types are catalog lookups ('pg_class'::regclass, 23::regtype, 'now'::regproc)
  'regclass', 'regtype', 'regnamespace', 'regproc', 'regrole',
  ...catalogMacros().map((s) => /MACRO (?:\w+\.)?(\w+)\(/.exec(s)![1]!),
]);
