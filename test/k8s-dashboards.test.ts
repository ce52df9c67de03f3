// The Grafana dashboards in deploy/grafana/ run through wiretap as Grafana would send them:
// macros expanded as Grafana's PostgreSQL datasource does, over the Postgres wire (node-pg)
// into a standalone wiretap fed with demo HTTP traffic. Standalone has no Kubernetes metadata,
// so namespace/service are NULL and the "All" filters must still match.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DemoSource } from '../collector/sources/demo.ts';
import { createLogger } from '../server/log.ts';
import { startStandalone, type Standalone } from '../server/standalone.ts';
import { pgQuery } from './helpers/sql.ts';
import { waitFor } from './helpers/processes.ts';

const grafana = new URL('../deploy/grafana/', import.meta.url).pathname;
let wiretap: Standalone;

before(async () => {
  wiretap = await startStandalone({
    port: 0, bind: '127.0.0.1', source: new DemoSource({ rate: 200 }), bodyCap: 512, maxRows: 100_000,
    logger: createLogger('warn'), statsIntervalMs: 0,
  });
  await waitFor('demo rows', async () => {
    const r = await pgQuery(wiretap.port, 'select count(*)::int as n from http_events where trace_role = 2');
    return (r.rows[0].n as number) >= 50 ? true : undefined;
  }, 30_000);
});

after(async () => {
  await wiretap?.stop();
});

/** Grafana's macro expansion for PostgreSQL, over the last hour, interval 1 min, "All" selected. */
function expand(sql: string): string {
  const from = new Date(Date.now() - 3600_000).toISOString();
  const to = new Date(Date.now() + 60_000).toISOString();
  return sql
    .replace(/\$__timeGroupAlias\((\w+),\s*\$__interval\)/g, 'floor(extract(epoch from $1)/60)*60 AS "time"')
    .replace(/\$__timeFilter\((\w+)\)/g, `$1 BETWEEN '${from}' AND '${to}'`)
    .replace(/\$(namespace|service)\b/g, '%');
}

test('every dashboard query runs over the Postgres wire and returns rows for demo traffic', async () => {
  for (const f of readdirSync(grafana).filter((x) => x.endsWith('.json'))) {
    const dash = JSON.parse(readFileSync(join(grafana, f), 'utf8'));
    for (const p of dash.panels) {
      for (const t of p.targets) {
        const r = await pgQuery(wiretap.port, expand(t.rawSql));
        assert.ok(r.rows.length > 0, `${f} "${p.title}": no rows`);
        if (t.format === 'time_series') {
          assert.equal(r.fields[0]!.name, 'time', `${p.title}: first column is the time`);
          assert.ok(Number.isFinite(Number(r.rows[0].time)), `${p.title}: epoch seconds`);
        }
      }
    }
    for (const v of dash.templating.list.filter((x: { type: string }) => x.type === 'query')) {
      const r = await pgQuery(wiretap.port, expand(v.query));
      assert.ok(r.rows.length > 0, `${f} variable ${v.name}`);
    }
  }
});
