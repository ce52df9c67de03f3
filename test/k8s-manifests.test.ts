// Offline validation of deploy/: every YAML parses; kinds, apiVersions and required fields;
// references (selectors, ports, volumes, service accounts) resolve; RBAC is read-only on exactly
// the resources the metadata service watches; the agent's privileges, mounts and memory limit;
// kustomizations list every file; Grafana queries bind against engine/schema.ts in DuckDB.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { DuckDBInstance } from '@duckdb/node-api';
import { visibleColumns } from '../engine/schema.ts';
import { parseMetadataArgs } from '../server/metadata/args.ts';
import { size } from '../server/cli-args.ts';
import { resourceNames } from '../server/metadata/watched-resources.ts';

const deploy = new URL('../deploy/', import.meta.url).pathname;
const base = join(deploy, 'base');

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Doc = any;

function docs(path: string): Doc[] {
  return parseAllDocuments(readFileSync(path, 'utf8')).map((d) => {
    assert.deepEqual(d.errors, [], `${path}: ${d.errors.join('; ')}`);
    return d.toJS();
  }).filter((d) => d !== null);
}

const yamlFiles = (dir: string) => readdirSync(dir).filter((f) => f.endsWith('.yaml') && f !== 'kustomization.yaml').sort();
const resources: Doc[] = yamlFiles(base).flatMap((f) => docs(join(base, f)));
const byKind = (kind: string) => resources.filter((r) => r.kind === kind);
const named = (kind: string, name: string) => resources.find((r) => r.kind === kind && r.metadata.name === name);

const apiVersions: Record<string, string> = {
  Namespace: 'v1', ServiceAccount: 'v1', Service: 'v1', PersistentVolumeClaim: 'v1', ConfigMap: 'v1',
  ClusterRole: 'rbac.authorization.k8s.io/v1', ClusterRoleBinding: 'rbac.authorization.k8s.io/v1',
  Deployment: 'apps/v1', DaemonSet: 'apps/v1',
};
const clusterScoped = new Set(['Namespace', 'ClusterRole', 'ClusterRoleBinding']);

test('every YAML under deploy/ parses; kinds, apiVersions, names, namespace', () => {
  const all = [...yamlFiles(base).map((f) => join(base, f)), join(deploy, 'kustomization.yaml'), join(base, 'kustomization.yaml'),
    ...readdirSync(join(deploy, 'overlays'), { recursive: true }).map(String).filter((f) => f.endsWith('.yaml')).map((f) => join(deploy, 'overlays', f))];
  for (const f of all) docs(f);
  assert.ok(resources.length >= 12);
  for (const r of resources) {
    assert.equal(r.apiVersion, apiVersions[r.kind], `${r.kind} ${r.metadata?.name}: apiVersion`);
    assert.match(r.metadata?.name ?? '', /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/, `${r.kind}: metadata.name`);
    if (clusterScoped.has(r.kind)) assert.equal(r.metadata.namespace, undefined, `${r.kind} is cluster-scoped`);
    else assert.equal(r.metadata.namespace, 'wiretap', `${r.kind} ${r.metadata.name}: namespace`);
  }
  assert.deepEqual(byKind('Namespace').map((n) => n.metadata.name), ['wiretap']);
});

test('kustomizations list every file (and only existing ones)', () => {
  const [baseK] = docs(join(base, 'kustomization.yaml'));
  assert.deepEqual([...baseK.resources].sort(), yamlFiles(base));
  const [rootK] = docs(join(deploy, 'kustomization.yaml'));
  assert.deepEqual(rootK.resources, ['base']);
  const dashboards = readdirSync(join(deploy, 'grafana')).filter((f) => f.endsWith('.json')).map((f) => `grafana/${f}`).sort();
  assert.ok(dashboards.length >= 1);
  assert.deepEqual(rootK.configMapGenerator.flatMap((g: Doc) => g.files).sort(), dashboards);
  for (const overlay of readdirSync(join(deploy, 'overlays'))) {
    const dir = join(deploy, 'overlays', overlay);
    const [k] = docs(join(dir, 'kustomization.yaml'));
    for (const r of k.resources) assert.ok(existsSync(join(dir, r)), `${overlay}: ${r}`);
    for (const p of k.patches ?? []) {
      assert.ok(existsSync(join(dir, p.path)), `${overlay}: ${p.path}`);
      assert.ok(named(p.target.kind, p.target.name), `${overlay}: patch target ${p.target.kind}/${p.target.name}`);
    }
  }
});

test('RBAC: only get/list/watch, on exactly the resources the metadata service watches; only it has a token', () => {
  const roles = [...byKind('ClusterRole'), ...byKind('Role')];
  assert.equal(roles.length, 1);
  const granted: string[] = [];
  for (const rule of roles[0].rules) {
    assert.deepEqual([...rule.verbs].sort(), ['get', 'list', 'watch']);
    assert.ok(!rule.resources.includes('*') && !rule.apiGroups.includes('*'));
    for (const res of rule.resources) granted.push(`${rule.apiGroups[0] || 'core'}/${res}`);
  }
  const groupOf: Record<string, string> = { endpointslices: 'discovery.k8s.io', replicasets: 'apps', deployments: 'apps' };
  assert.deepEqual(granted.sort(), resourceNames.map((r) => `${groupOf[r] ?? 'core'}/${r}`).sort());
  const [binding] = byKind('ClusterRoleBinding');
  assert.equal(binding.roleRef.name, roles[0].metadata.name);
  assert.deepEqual(binding.subjects, [{ kind: 'ServiceAccount', name: 'wiretap-metadata', namespace: 'wiretap' }]);
  for (const sa of byKind('ServiceAccount')) {
    if (sa.metadata.name !== 'wiretap-metadata') assert.equal(sa.automountServiceAccountToken, false, `${sa.metadata.name} has no API token`);
  }
});

const workloads = () => [...byKind('Deployment'), ...byKind('DaemonSet')];

test('workloads: selectors, service accounts, probes on declared ports, volumes, resources', () => {
  for (const w of workloads()) {
    const id = `${w.kind}/${w.metadata.name}`;
    const tpl = w.spec.template;
    for (const [k, v] of Object.entries(w.spec.selector.matchLabels)) assert.equal(tpl.metadata.labels[k], v, `${id}: selector`);
    const sa = tpl.spec.serviceAccountName;
    if (sa) assert.ok(named('ServiceAccount', sa), `${id}: service account ${sa}`);
    const volumes = new Set((tpl.spec.volumes ?? []).map((v: Doc) => v.name));
    for (const c of tpl.spec.containers) {
      assert.ok(c.name && c.image, `${id}: container name and image`);
      assert.ok(c.resources?.limits?.memory, `${id}: memory limit`);
      const ports = new Map((c.ports ?? []).map((p: Doc) => [p.name, p.containerPort]));
      for (const probe of ['readinessProbe', 'livenessProbe']) {
        const p = c[probe];
        assert.ok(p, `${id}: ${probe}`);
        const port = p.httpGet?.port ?? p.tcpSocket?.port;
        assert.ok(typeof port === 'number' || ports.has(port), `${id}: ${probe} port ${port} declared`);
      }
      for (const m of c.volumeMounts ?? []) assert.ok(volumes.has(m.name), `${id}: volume ${m.name}`);
      if (c.image.startsWith('wiretap')) {
        assert.ok(['metadata', 'agent', 'broker'].includes(c.args[0]), `${id}: wiretap subcommand`);
        // Read-only root: tsx caches compiled sources in the temp dir, so it must be writable.
        if (c.securityContext?.readOnlyRootFilesystem) assert.ok((c.volumeMounts ?? []).some((m: Doc) => m.mountPath === '/tmp'), `${id}: writable /tmp`);
      }
    }
    for (const v of tpl.spec.volumes ?? []) {
      if (v.persistentVolumeClaim) assert.ok(named('PersistentVolumeClaim', v.persistentVolumeClaim.claimName), `${id}: PVC`);
    }
  }
  for (const s of byKind('Service')) {
    const target = workloads().find((w) => Object.entries(s.spec.selector).every(([k, v]) => w.spec.template.metadata.labels[k] === v));
    assert.ok(target, `Service/${s.metadata.name} selects a workload`);
    const portNames = new Set(target.spec.template.spec.containers.flatMap((c: Doc) => (c.ports ?? []).map((p: Doc) => p.name)));
    for (const p of s.spec.ports) assert.ok(portNames.has(p.targetPort), `Service/${s.metadata.name}: targetPort ${p.targetPort}`);
  }
  assert.equal(named('Service', 'wiretap').spec.ports[0].port, 5433, 'brokers serve Postgres on 5433');
});

test('metadata service: the real CLI parser accepts its args; log on the PVC; one writer', () => {
  const d = named('Deployment', 'wiretap-metadata');
  const c = d.spec.template.spec.containers[0];
  assert.equal(c.args[0], 'metadata');
  const o = parseMetadataArgs(c.args.slice(1), (m) => new Error(m));
  const mount = c.volumeMounts.find((m: Doc) => m.mountPath === o.dataDir);
  assert.ok(mount, 'data dir is a mounted volume');
  assert.ok(d.spec.template.spec.volumes.find((v: Doc) => v.name === mount.name).persistentVolumeClaim);
  assert.equal(c.ports.find((p: Doc) => p.name === 'health').containerPort, o.healthPort);
  assert.equal(d.spec.replicas, 1);
  assert.equal(d.spec.strategy.type, 'Recreate', 'two pods never write the log at once');
  assert.equal(d.spec.template.spec.serviceAccountName, 'wiretap-metadata');
});

test('agent DaemonSet: hostPID, capabilities instead of privileged, kernel mounts, memory limit ≥ budget + overhead', () => {
  const ds = named('DaemonSet', 'wiretap-agent');
  const spec = ds.spec.template.spec;
  assert.equal(spec.hostPID, true);
  const c = spec.containers[0];
  const sc = c.securityContext;
  assert.equal(sc.privileged, false);
  assert.equal(sc.allowPrivilegeEscalation, false);
  assert.deepEqual(sc.capabilities.drop, ['ALL']);
  for (const cap of ['BPF', 'PERFMON', 'SYS_RESOURCE', 'SYS_PTRACE']) assert.ok(sc.capabilities.add.includes(cap), cap);
  assert.ok(!sc.capabilities.add.includes('SYS_ADMIN'), 'no SYS_ADMIN');
  const hostPaths = new Map(spec.volumes.filter((v: Doc) => v.hostPath).map((v: Doc) => [v.hostPath.path, v.name]));
  for (const p of ['/sys/kernel/tracing', '/sys/kernel/btf', '/sys/fs/cgroup', '/proc']) assert.ok(hostPaths.has(p), `mounts ${p}`);
  const budgetArg = c.args.find((a: string) => a.startsWith('--memory-budget='));
  assert.ok(budgetArg, 'agent sets its table budget');
  const budget = size('memory-budget', budgetArg.split('=')[1], 0);
  const limit = size('limit', c.resources.limits.memory.replace(/i$/, 'iB'), 0);
  assert.ok(limit >= budget + 512 * 2 ** 20, `limit ${limit} covers budget ${budget} + ringbuf, query memory and Node`);
  assert.equal(c.resources.requests.memory, c.resources.limits.memory, 'request = limit: never overcommitted on the node');
  const env = c.env.find((e: Doc) => e.name === 'NODE_NAME');
  assert.equal(env.valueFrom.fieldRef.fieldPath, 'spec.nodeName', 'agent knows its node topic');
  assert.ok(spec.tolerations.some((t: Doc) => t.operator === 'Exists'), 'runs on every node');
});

/** Grafana's PostgreSQL macros, expanded as Grafana does (fixed range, 1 min interval, All). */
function expandGrafana(sql: string): string {
  return sql
    .replace(/\$__timeGroupAlias\((\w+),\s*\$__interval\)/g, 'floor(extract(epoch from $1)/60)*60 AS "time"')
    .replace(/\$__timeFilter\((\w+)\)/g, "$1 BETWEEN '2026-01-01T00:00:00Z' AND '2026-01-01T01:00:00Z'")
    .replace(/\$(namespace|service)\b/g, '%');
}

test('Grafana dashboards: PostgreSQL datasource; every query binds against the http_events columns of engine/schema.ts', async () => {
  const inst = await DuckDBInstance.create(':memory:');
  const conn = await inst.connect();
  try {
    const cols = visibleColumns('http_events').map((c) => `"${c.name}" ${c.duck}`).join(', ');
    await conn.run(`CREATE TABLE http_events (${cols})`);
    for (const f of readdirSync(join(deploy, 'grafana')).filter((x) => x.endsWith('.json'))) {
      const dash = JSON.parse(readFileSync(join(deploy, 'grafana', f), 'utf8'));
      const queries: string[] = [];
      for (const p of dash.panels) {
        assert.equal(p.datasource.type, 'grafana-postgresql-datasource', `${f}: panel ${p.title}`);
        for (const t of p.targets) queries.push(t.rawSql);
      }
      for (const v of dash.templating.list) if (v.type === 'query') queries.push(v.query);
      assert.ok(queries.length >= 5);
      for (const q of queries) {
        assert.match(q, /\$__timeFilter\(time_\)/, 'every query is bounded by the dashboard time range');
        await assert.doesNotReject(conn.run(expandGrafana(q)), `${f}: ${q}`);
      }
    }
  } finally {
    conn.closeSync();
    inst.closeSync();
  }
});

test('Dockerfile copies what exists and runs bin/wiretap', () => {
  const text = readFileSync(join(deploy, 'Dockerfile'), 'utf8');
  assert.match(text, /ENTRYPOINT \["node", "bin\/wiretap"\]/);
  const root = new URL('../', import.meta.url).pathname;
  for (const m of text.matchAll(/^COPY --from=build \/src\/(\S+)/gm)) {
    const p = m[1]!;
    if (p.startsWith('node_modules') || p.startsWith('native/build')) continue; // built in the image
    assert.ok(existsSync(join(root, p)), `Dockerfile copies ${p}`);
  }
});

const kubectl = (() => { try { execFileSync('kubectl', ['version', '--client'], { stdio: 'ignore' }); return true; } catch { return false; } })();

test('kubectl kustomize renders deploy/ and the privileged overlay', { skip: kubectl ? false : 'kubectl is not installed (not a Debian package); the checks above cover the files' }, () => {
  const out = execFileSync('kubectl', ['kustomize', deploy], { encoding: 'utf8' });
  const kinds = parseAllDocuments(out).map((d) => d.toJS().kind);
  assert.equal(kinds.length, resources.length + 1, 'all resources + the dashboards ConfigMap');
  const priv = execFileSync('kubectl', ['kustomize', join(deploy, 'overlays', 'privileged')], { encoding: 'utf8' });
  assert.match(priv, /privileged: true/);
});
