"""psycopg2, SQLAlchemy and pandas against wiretap, the way notebooks use them.

Usage: python_clients.py DSN — prints one JSON object with what each client saw; exits non-zero
with the traceback when a client fails. The e2e test (test/pg-clients.test.ts) checks the JSON.
"""
import json
import sys

import pandas as pd
import psycopg2
import sqlalchemy as sa

dsn = sys.argv[1]
out = {}

# psycopg2: plain cursor with parameters (client-side interpolation), then a named (server-side) cursor
conn = psycopg2.connect(dsn)
cur = conn.cursor()
cur.execute("select %s::int as n, %s as s, count(*) as c from http_events where resp_status >= %s", (3, "it's", 100))
out["plain"] = [list(cur.fetchone()[:2]), [d.name for d in cur.description]]
cur.execute("select req_path from http_events order by time_ limit 5")
out["plain_rows"] = len(cur.fetchall())
named = conn.cursor(name="wiretap_named")
named.itersize = 2
named.execute("select req_method, resp_status from http_events limit 5")
out["named_rows"] = sum(1 for _ in named)
named.close()
conn.commit()
cur.execute("show statement_timeout")
out["statement_timeout"] = cur.fetchone()[0]
cur.execute("set statement_timeout = '50ms'")
try:
    cur.execute("select count(*) from range(3000000000)")
    out["timeout"] = "no error"
except psycopg2.Error as e:
    out["timeout"] = e.pgcode
conn.rollback()
cur.execute("reset statement_timeout")
try:
    cur.execute("select nope from http_events")
except psycopg2.Error as e:
    out["undefined_column"] = e.pgcode
conn.rollback()
cur.execute("select 1")
out["after_error"] = cur.fetchone()[0]
conn.close()

# SQLAlchemy inspector: the dialect's own catalog queries
engine = sa.create_engine(dsn.replace("postgresql://", "postgresql+psycopg2://", 1))
insp = sa.inspect(engine)
out["tables"] = sorted(insp.get_table_names())
out["schemas"] = sorted(insp.get_schema_names())
out["columns"] = [[c["name"], str(c["type"])] for c in insp.get_columns("http_events")][:3]
out["has_table"] = [insp.has_table("http_events"), insp.has_table("no_such_table")]
out["pk"] = insp.get_pk_constraint("http_events")["constrained_columns"]
out["indexes"] = insp.get_indexes("http_events")

# pandas
df = pd.read_sql("select req_method, count(*) as n from http_events group by 1", engine)
out["read_sql_columns"] = list(df.columns)
df2 = pd.read_sql_table("http_events", engine)
out["read_sql_table_columns"] = list(df2.columns)[:3]
out["read_sql_table_time_dtype"] = str(df2["time_"].dtype)
print(json.dumps(out, default=str))
