// Agent side of the registry: announce (name, ASID, gRPC address) now, every heartbeat, and
// whenever a broker asks. NATS being down only delays announcements; the client reconnects.
import { connect, type NatsConnection } from 'nats';
import { announceSubject, discoverSubject, type Announcement } from './subjects.ts';
import type { Logger } from '../log.ts';

export interface Announcer {
  announcements: number;
  /** The agent's NATS connection, shared with its node-metadata subscription. */
  connection: NatsConnection;
  close(): Promise<void>;
}

/** current: what changes between heartbeats (the data's time ranges), read at every announcement. */
export async function startAnnouncer(natsUrl: string, me: Omit<Announcement, 'startedAt'>, log: Logger, current: () => Partial<Announcement> = () => ({})): Promise<Announcer> {
  const nc: NatsConnection = await connect({ servers: natsUrl, reconnect: true, maxReconnectAttempts: -1, reconnectTimeWait: 500, waitOnFirstConnect: true, name: `wiretap-agent-${me.name}` });
  const msg: Announcement = { ...me, startedAt: Date.now() };
  const state = { announcements: 0 };
  const announce = () => {
    try {
      nc.publish(announceSubject, JSON.stringify({ ...msg, ...current() }));
      state.announcements++;
    } catch (err) {
      log.debug({ err }, 'announce failed (NATS away); retrying next heartbeat');
    }
  };
  const sub = nc.subscribe(discoverSubject, { callback: () => announce() });
  announce();
  const timer = setInterval(announce, me.heartbeatMs);
  timer.unref();
  log.info({ node: me.name, asid: me.asid, address: me.address }, 'announcing to the registry');
  return {
    get announcements() { return state.announcements; },
    connection: nc,
    async close() {
      clearInterval(timer);
      sub.unsubscribe();
      await nc.close();
    },
  };
}
