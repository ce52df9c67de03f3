"""psycopg 3 against wiretap: it sends every statement through the extended protocol, so its
server-side cursors are DECLARE/FETCH via Parse/Bind/Execute, and it Describes the portal that
DECLARE creates. Also reads timestamptz in a session TimeZone.

Usage: psycopg3_clients.py DSN — prints one JSON object; exits non-zero with the traceback on failure.
"""
import json
import sys

import psycopg

out = {}
with psycopg.connect(sys.argv[1]) as conn:
    with conn.cursor() as cur:
        cur.execute("select count(*) as c from http_events where resp_status >= %s and req_method = %s", (100, "GET"))
        out["plain"] = cur.fetchone()[0]
    # a named cursor: DECLARE with a parameter, FETCH FORWARD itersize at a time
    with conn.cursor(name="wt_server_cursor") as cur:
        cur.itersize = 7
        cur.execute("select req_path, latency from http_events where resp_status >= %s order by time_", (100,))
        out["columns"] = [d.name for d in cur.description]
        first = cur.fetchmany(3)
        out["first"] = len(first)
        out["rest"] = sum(1 for _ in cur)
    conn.commit()
    with conn.cursor(name="wt_hold", withhold=True) as cur:
        cur.execute("select time_ from http_events order by time_ limit 2")
        out["withhold"] = len(cur.fetchall())
    conn.execute("set timezone = 'Asia/Kolkata'")
    t = conn.execute("select min(time_) from http_events").fetchone()[0]
    out["tz"] = [t.isoformat(), str(t.utcoffset())]
print(json.dumps(out))
