// `wiretap metadata`: the only wiretap component that talks to the Kubernetes API. Informers for
// seven resources feed a derived view (derive.ts); every difference from what was last published
// becomes an update with a service-assigned version, written durably (update-log.ts) and then
// published on NATS — per node and cluster-wide — with the previous version on its topic.
// Subscribers recover gaps through the "missing updates" subject answered here.
import { JSONCodec, connect, type NatsConnection, type Subscription } from 'nats';
import type { KubeConfig } from '@kubernetes/client-node';
import { join } from 'node:path';
import { missingSubject, topicSubject, type MissingRequest } from '../../collector/k8s/wire.ts';
import type { Logger } from '../log.ts';
import { deriveEntities, type Caches } from './derive.ts';
import { loadKubeConfig, type KubeTarget } from './kube-config.ts';
import { ResourceWatcher, type WatcherOptions } from './resource-watcher.ts';
import { UpdateLog, type NewUpdate, type StoredUpdate } from './update-log.ts';
import { watchedResources } from './watched-resources.ts';

export interface MetadataServiceOptions {
  kube: KubeTarget | KubeConfig;
  /** NATS server URL(s), e.g. nats://127.0.0.1:4222. */
  nats: string | string[];
  /** Directory of the durable update log (a PVC in deploy/). */
  dataDir: string;
  log: Logger;
  /** How long updates stay replayable (default 1 h); older gaps get a snapshot. */
  retainMs?: number;
  /** How long deleted entities stay in snapshots (default 1 h: subscribers keep deleted pods that long). */
  tombstoneMs?: number;
  compactIntervalMs?: number;
  /** Changes arriving within this window are published together (default 50 ms). */
  debounceMs?: number;
  watcher?: WatcherOptions;
}

export interface MetadataServiceStats { published: number; requests: number; version: number; apiErrors: number }

const codec = JSONCodec<unknown>();

export class MetadataService {
  private timer: NodeJS.Timeout | null = null;
  private compactTimer: NodeJS.Timeout;
  private sub: Subscription;
  private stopped = false;
  private stats_ = { published: 0, requests: 0 };

  private constructor(
    private readonly o: MetadataServiceOptions,
    private readonly nc: NatsConnection,
    readonly updates: UpdateLog,
    readonly watchers: ResourceWatcher[],
  ) {
    this.sub = nc.subscribe(missingSubject, { queue: 'wiretap-metadata', callback: (err, msg) => {
      if (err) return;
      this.stats_.requests++;
      try {
        msg.respond(codec.encode(this.answer(codec.decode(msg.data) as MissingRequest)));
      } catch (e) {
        o.log.warn({ err: (e as Error).message }, 'bad missing-updates request');
      }
    } });
    this.compactTimer = setInterval(() => updates.compact(), o.compactIntervalMs ?? 10 * 60_000);
    this.compactTimer.unref();
  }

  static async start(o: MetadataServiceOptions): Promise<MetadataService> {
    const updates = new UpdateLog(join(o.dataDir, 'metadata-updates.jsonl'), { retainMs: o.retainMs, tombstoneMs: o.tombstoneMs });
    o.log.info({ version: updates.version, prunedThrough: updates.prunedThrough, entities: updates.state.size }, 'metadata log opened');
    const nc = await connect({ servers: o.nats, name: 'wiretap-metadata', maxReconnectAttempts: -1, reconnectTimeWait: 1000, waitOnFirstConnect: true });
    const kc = isKubeConfig(o.kube) ? o.kube : loadKubeConfig(o.kube);
    const watchers: ResourceWatcher[] = [];
    const svc = new MetadataService(o, nc, updates, watchers);
    for (const r of watchedResources(kc)) watchers.push(new ResourceWatcher(kc, r, () => svc.schedule(), o.log, o.watcher));
    for (const w of watchers) void w.start();
    return svc;
  }

  get stats(): MetadataServiceStats {
    return { ...this.stats_, version: this.updates.version, apiErrors: this.watchers.reduce((n, w) => n + w.errors, 0) };
  }

  /** True once every informer has listed at least once. */
  get synced(): boolean {
    return this.watchers.every((w) => w.synced);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    clearInterval(this.compactTimer);
    await Promise.all(this.watchers.map((w) => w.stop()));
    this.sub.unsubscribe();
    await this.nc.flush().catch(() => {});
    await this.nc.close();
    this.updates.close();
  }

  private schedule(): void {
    if (this.timer || this.stopped) return;
    this.timer = setTimeout(() => { this.timer = null; this.reconcile(); }, this.o.debounceMs ?? 50);
  }

  /** Publishes the difference between the derived view and the last published state. */
  private reconcile(): void {
    // Until every resource has listed, absent objects may just be unlisted: never delete then.
    if (this.stopped || !this.synced) return;
    const caches = Object.fromEntries(this.watchers.map((w) => [w.resource.name, w.objects()])) as unknown as Caches;
    const desired = deriveEntities(caches);
    const changes: NewUpdate[] = [];
    for (const [id, d] of desired) {
      const prev = this.updates.state.get(id);
      if (prev?.op === 'upsert' && JSON.stringify(prev.value) === JSON.stringify(d.entity.value) && sameTopics(prev, d.topics)) continue;
      changes.push({ entity: d.entity, op: 'upsert', topics: d.topics });
    }
    for (const [id, prev] of this.updates.state) {
      if (prev.op === 'upsert' && !desired.has(id)) {
        changes.push({ entity: { kind: prev.kind, key: prev.key, value: prev.value } as NewUpdate['entity'], op: 'delete', topics: prev.topics.map(([t]) => t) });
      }
    }
    if (!changes.length) return;
    const stored = this.updates.append(changes);
    for (const s of stored) this.publish(s);
    this.o.log.debug({ updates: stored.length, version: this.updates.version }, 'metadata published');
  }

  private publish(s: StoredUpdate): void {
    for (const [topic] of s.topics) {
      this.nc.publish(topicSubject(topic), codec.encode(this.updates.wire(s, topic)));
      this.stats_.published++;
    }
  }

  private answer(req: MissingRequest): unknown {
    if (req.op === 'range') return this.updates.range(req.topic, req.after, Math.min(req.max ?? 500, 2000), req.upTo ?? Infinity);
    if (req.op === 'snapshot') return this.updates.snapshot(req.topic, req.cursor);
    throw new Error(`unknown op ${(req as { op: string }).op}`);
  }
}

function sameTopics(s: StoredUpdate, topics: string[]): boolean {
  return s.topics.length === topics.length && s.topics.every(([t], i) => t === topics[i]);
}

function isKubeConfig(k: KubeTarget | KubeConfig): k is KubeConfig {
  return typeof (k as KubeConfig).makeApiClient === 'function';
}
