// Broker side of the registry: which agents are alive, from their NATS announcements. Nothing is
// persisted: a restarted broker asks (discoverSubject) and agents re-announce. Agents that miss 3
// heartbeats expire — but not while NATS itself is away, so queries to known agents keep working.
import { connect, type NatsConnection } from 'nats';
import type { AgentNode, NodeDirectory, TimeRanges } from '../../planner/distributed/nodes.ts';
import { announceSubject, discoverSubject, type Announcement } from './subjects.ts';
import type { Logger } from '../log.ts';

interface Entry { node: AgentNode; lastSeen: number; heartbeatMs: number }

export class AgentRegistry implements NodeDirectory {
  private readonly agents = new Map<string, Entry>();
  private connected = true;
  private disconnectedSince = 0;

  private constructor(private readonly nc: NatsConnection, private readonly log: Logger) {}

  /** The broker's NATS connection (the cluster metadata feed shares it). */
  get connection(): NatsConnection {
    return this.nc;
  }

  static async start(natsUrl: string, log: Logger): Promise<AgentRegistry> {
    const nc = await connect({ servers: natsUrl, reconnect: true, maxReconnectAttempts: -1, reconnectTimeWait: 500, waitOnFirstConnect: true, name: 'wiretap-broker' });
    const r = new AgentRegistry(nc, log);
    nc.subscribe(announceSubject, { callback: (_e, m) => r.onAnnounce(m.data) });
    void r.watchStatus();
    nc.publish(discoverSubject);
    await nc.flush();
    return r;
  }

  private async watchStatus(): Promise<void> {
    for await (const s of this.nc.status()) {
      if (s.type === 'disconnect') { this.connected = false; this.disconnectedSince = Date.now(); }
      if (s.type === 'reconnect') {
        // time without NATS does not count against agents
        const away = Date.now() - this.disconnectedSince;
        for (const e of this.agents.values()) e.lastSeen += away;
        this.connected = true;
        this.nc.publish(discoverSubject);
      }
    }
  }

  private onAnnounce(data: Uint8Array): void {
    let a: Announcement;
    try {
      a = JSON.parse(new TextDecoder().decode(data)) as Announcement;
    } catch {
      return;
    }
    if (typeof a.name !== 'string' || typeof a.address !== 'string' || !Number.isInteger(a.asid)) return;
    const now = Date.now();
    this.expire(now);
    const taken = [...this.agents.values()].find((e) => e.node.asid === a.asid && e.node.name !== a.name);
    if (taken) {
      this.log.error({ node: a.name, asid: a.asid, holder: taken.node.name }, 'ASID collision: node refused; rename one node');
      return;
    }
    const known = this.agents.get(a.name);
    if (!known || known.node.address !== a.address) this.log.info({ node: a.name, asid: a.asid, address: a.address }, 'agent registered');
    const timeRanges = validTimeRanges(a.timeRanges);
    this.agents.set(a.name, { node: { name: a.name, asid: a.asid, address: a.address, ...(timeRanges ? { timeRanges } : {}) }, lastSeen: now, heartbeatMs: a.heartbeatMs || 2000 });
  }

  private expire(now: number): void {
    if (!this.connected) return;
    for (const [name, e] of this.agents) {
      if (now - e.lastSeen > 3 * e.heartbeatMs) {
        this.agents.delete(name);
        this.log.warn({ node: name }, 'agent expired (missed heartbeats)');
      }
    }
  }

  nodes(): AgentNode[] {
    this.expire(Date.now());
    return [...this.agents.values()].map((e) => e.node).sort((a, b) => a.name.localeCompare(b.name));
  }

  async close(): Promise<void> {
    await this.nc.close();
  }
}

/** The announced time ranges when well-formed (a malformed one is ignored: that node is never pruned by time). */
function validTimeRanges(v: unknown): TimeRanges | undefined {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return undefined;
  const out: TimeRanges = {};
  for (const [table, r] of Object.entries(v as Record<string, unknown>)) {
    if (r === null) { out[table] = null; continue; }
    const { minUs, maxUs } = (r ?? {}) as { minUs?: unknown; maxUs?: unknown };
    if (typeof minUs !== 'number' || !Number.isFinite(minUs) || (maxUs !== null && (typeof maxUs !== 'number' || !Number.isFinite(maxUs)))) return undefined;
    out[table] = { minUs, maxUs: maxUs as number | null };
  }
  return out;
}
