// Subscriber side of the metadata protocol (wire.ts): follows one topic, applies updates in
// version order, detects gaps through prevVersion and recovers them over the "missing updates"
// subject (ranges in batches, a snapshot when the service no longer holds them), retrying with
// backoff. Used by agents (their node's topic) and, wired by server/, by brokers (cluster topic).
import { JSONCodec, type NatsConnection, type Subscription } from 'nats';
import { Backoff, sleep } from './backoff.ts';
import { missingSubject, topicSubject, type MetadataUpdate, type MissingRequest, type RangeReply, type SnapshotReply } from './wire.ts';

/** What a feed drives: the agent's PodStore or the broker's cluster view. */
export interface FeedSink {
  /** Replaces all state with a snapshot (fresh start, or history no longer held). */
  reset(entities: MetadataUpdate[]): void;
  apply(update: MetadataUpdate): void;
}

/** pino-compatible subset, so collector/ needs no logger of its own. */
export interface FeedLog {
  debug(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

export interface FeedOptions {
  nc: NatsConnection;
  topic: string;
  sink: FeedSink;
  log?: FeedLog;
  /** Last version already applied to `sink` (a resumed subscriber); unset: start from a snapshot. */
  resumeAfter?: number;
  /** Epoch of `resumeAfter` (feed.epoch when it stopped); a different one on the service → snapshot. */
  resumeEpoch?: string;
  requestTimeoutMs?: number;
  /** Catch-up poll even without traffic, to notice updates lost at the tail. */
  pollIntervalMs?: number;
  batch?: number;
  backoffMinMs?: number;
  backoffMaxMs?: number;
}

export interface FeedStats {
  applied: number;
  duplicates: number;
  gaps: number;
  /** Updates that arrived through recovery instead of the live topic. */
  recoveredUpdates: number;
  snapshots: number;
  /** Times the service's log was found replaced (see wire.ts, epoch). */
  epochChanges: number;
  requests: number;
  failedRequests: number;
}

const codec = JSONCodec<unknown>();
const silent: FeedLog = { debug() {}, info() {}, warn() {} };

export class MetadataFeed {
  /** Version of the last update applied. */
  version = 0;
  /** Epoch of the service log that version belongs to (wire.ts). */
  epoch: string | undefined;
  readonly stats: FeedStats = { applied: 0, duplicates: 0, gaps: 0, recoveredUpdates: 0, snapshots: 0, epochChanges: 0, requests: 0, failedRequests: 0 };
  private queue: MetadataUpdate[] = [];
  private needCatchUp = true;
  private needSnapshot: boolean;
  private pumping: Promise<void> | null = null;
  private sub: Subscription | null = null;
  private poll: NodeJS.Timeout | null = null;
  private abort = new AbortController();
  private backoff: Backoff;
  private log: FeedLog;
  private waiters: { version: number; resolve: () => void }[] = [];
  private lastLiveMs = 0;

  constructor(private readonly o: FeedOptions) {
    this.log = o.log ?? silent;
    this.needSnapshot = o.resumeAfter === undefined;
    this.version = o.resumeAfter ?? 0;
    this.epoch = o.resumeEpoch;
    this.backoff = new Backoff({ minMs: o.backoffMinMs ?? 200, maxMs: o.backoffMaxMs ?? 10_000 });
  }

  /** Subscribes, then catches up; resolves once caught up with the service (retrying until then). */
  async start(): Promise<void> {
    // Subscribe first: live updates queue while the catch-up runs, so nothing falls between.
    this.sub = this.o.nc.subscribe(topicSubject(this.o.topic), {
      callback: (err, msg) => {
        if (err) { this.log.warn({ err: err.message, topic: this.o.topic }, 'metadata subscription error'); return; }
        try {
          this.queue.push(codec.decode(msg.data) as MetadataUpdate);
        } catch (e) {
          this.log.warn({ err: (e as Error).message, topic: this.o.topic }, 'undecodable metadata message');
          return;
        }
        this.lastLiveMs = Date.now();
        this.kick();
      },
    });
    const interval = this.o.pollIntervalMs ?? 30_000;
    // Poll only when the topic has been quiet: live traffic already reveals gaps by itself.
    this.poll = setInterval(() => {
      if (Date.now() - this.lastLiveMs < interval) return;
      this.needCatchUp = true;
      this.kick();
    }, interval);
    this.poll.unref();
    this.kick();
    await this.pumping;
  }

  async stop(): Promise<void> {
    this.abort.abort();
    if (this.poll) clearInterval(this.poll);
    this.sub?.unsubscribe();
    await this.pumping;
  }

  /** Resolves once an update with at least `version` has been applied. */
  waitFor(version: number): Promise<void> {
    if (this.version >= version) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ version, resolve }));
  }

  private get stopped(): boolean {
    return this.abort.signal.aborted;
  }

  private kick(): void {
    if (this.pumping || this.stopped) return;
    // A failing sink must not kill the feed: log, and let the next catch-up repair the state.
    this.pumping = this.pump().catch(async (e: unknown) => {
      const delay = this.backoff.next();
      this.log.warn({ err: (e as Error).message, topic: this.o.topic, retryInMs: delay }, 'metadata feed error; will resync');
      this.needSnapshot = true;
      this.needCatchUp = true;
      await sleep(delay, this.abort.signal);
    }).finally(() => {
      this.pumping = null;
      if (!this.stopped && (this.queue.length || this.needCatchUp)) this.kick();
    });
  }

  private async pump(): Promise<void> {
    while (!this.stopped && (this.needCatchUp || this.queue.length)) {
      if (this.needCatchUp) {
        this.needCatchUp = false;
        await this.catchUp();
        continue;
      }
      const u = this.queue.shift()!;
      if (this.epochChanged(u.epoch)) continue;
      if (u.version <= this.version) { this.stats.duplicates++; continue; }
      if (u.prevVersion > this.version) {
        this.stats.gaps++;
        this.log.info({ topic: this.o.topic, have: this.version, prevVersion: u.prevVersion }, 'metadata gap; recovering');
        await this.catchUp(u.prevVersion);
        if (u.version <= this.version) { this.stats.duplicates++; continue; }
      }
      this.applyOne(u);
    }
  }

  /** Snapshot if needed, then ranges until `upTo` (a gap's end) or, without it, the service's head. */
  private async catchUp(upTo?: number): Promise<void> {
    for (;;) {
      if (this.stopped) return;
      if (this.needSnapshot) await this.snapshot();
      if (this.stopped) return;
      const reply = await this.request<RangeReply>({ op: 'range', topic: this.o.topic, after: this.version, upTo, max: this.o.batch ?? 500 });
      if (!reply) return;
      if (!reply.ok) { this.needSnapshot = true; continue; }
      if (this.epochChanged(reply.epoch)) continue;
      this.epoch = reply.epoch;
      for (const u of reply.updates) {
        if (u.version <= this.version) continue;
        this.stats.recoveredUpdates++;
        this.applyOne(u);
      }
      if (this.version >= Math.min(reply.head, upTo ?? Infinity) || reply.updates.length === 0) return;
    }
  }

  private async snapshot(): Promise<void> {
    let entities: MetadataUpdate[] = [];
    let first: SnapshotReply | undefined;
    let cursor: string | undefined;
    for (;;) {
      const reply = await this.request<SnapshotReply>({ op: 'snapshot', topic: this.o.topic, cursor });
      if (!reply) return;
      // The log was replaced between two chunks: start the snapshot over.
      if (first && reply.epoch !== first.epoch) { entities = []; first = cursor = undefined; continue; }
      first ??= reply;
      entities.push(...reply.entities);
      cursor = reply.nextCursor;
      if (cursor === undefined) break;
    }
    this.stats.snapshots++;
    this.o.sink.reset(entities);
    this.version = first.version;
    this.epoch = first.epoch;
    this.needSnapshot = false;
    this.log.info({ topic: this.o.topic, version: first.version, entities: entities.length }, 'metadata snapshot applied');
    this.notify();
  }

  /**
   * The service's log was replaced (lost and started again): versions are no longer comparable
   * with ours, so drop what is queued and start over from a snapshot.
   */
  private epochChanged(epoch: string): boolean {
    if (this.epoch === undefined || epoch === this.epoch) return false;
    this.log.warn({ topic: this.o.topic, was: this.epoch, now: epoch }, 'metadata service log changed epoch; taking a snapshot');
    this.stats.epochChanges++;
    this.epoch = undefined;
    this.version = 0;
    this.needSnapshot = true;
    this.needCatchUp = true;
    this.queue = [];
    return true;
  }

  private applyOne(u: MetadataUpdate): void {
    this.o.sink.apply(u);
    this.version = u.version;
    this.stats.applied++;
    this.notify();
  }

  private notify(): void {
    if (!this.waiters.length) return;
    this.waiters = this.waiters.filter((w) => (this.version >= w.version ? (w.resolve(), false) : true));
  }

  /** One request, retried with backoff until answered; undefined only when stopped. */
  private async request<T>(req: MissingRequest): Promise<T | undefined> {
    while (!this.stopped) {
      this.stats.requests++;
      try {
        const msg = await this.o.nc.request(missingSubject, codec.encode(req), { timeout: this.o.requestTimeoutMs ?? 2000 });
        this.backoff.reset();
        return codec.decode(msg.data) as T;
      } catch (err) {
        this.stats.failedRequests++;
        const delay = this.backoff.next();
        this.log.warn({ err: (err as Error).message, topic: this.o.topic, op: req.op, retryInMs: delay }, 'metadata request failed');
        await sleep(delay, this.abort.signal);
      }
    }
    return undefined;
  }
}
