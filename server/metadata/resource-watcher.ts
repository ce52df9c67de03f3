// One informer (client-node's ListWatch) per resource, made safe for the API server:
// - exactly one watch per resource at a time (ListWatch aborts its previous request first);
// - after an error, restart only after an exponential, jittered backoff (reset once a watch
//   delivers events again); ListWatch relists by itself on 410 Gone;
// - watches ask for bookmarks, so a resume after a dropped connection rarely needs a relist,
//   and carry a server-side timeout like client-go's (5–10 min);
// - watch starts are paced (a server that ends streams at once cannot make us loop).
import { ListWatch, Watch, type KubeConfig, type KubernetesObject } from '@kubernetes/client-node';
import { Backoff, sleep } from '../../collector/k8s/backoff.ts';
import type { Logger } from '../log.ts';
import type { WatchedResource } from './watched-resources.ts';

export interface WatcherOptions {
  backoffMinMs?: number;
  backoffMaxMs?: number;
  /** Minimum time between two watch requests for this resource. */
  minWatchIntervalMs?: number;
}

type WatchCallback = (phase: string, apiObj: unknown, watchObj?: unknown) => void;
type DoneCallback = (err: unknown) => void;

/** A Watch that adds bookmarks and a timeout, paces starts and reports activity. */
class PacedWatch extends Watch {
  private lastStart = 0;
  constructor(kc: KubeConfig, private readonly minIntervalMs: number, private readonly signal: AbortSignal, private readonly onActivity: () => void) {
    super(kc);
  }

  override async watch(path: string, queryParams: Record<string, unknown>, callback: WatchCallback, done: DoneCallback): Promise<AbortController> {
    const wait = this.lastStart + this.minIntervalMs - Date.now();
    if (wait > 0) await sleep(wait, this.signal);
    if (this.signal.aborted) return new AbortController();
    this.lastStart = Date.now();
    const params = { ...queryParams, allowWatchBookmarks: true, timeoutSeconds: 300 + Math.floor(Math.random() * 300) };
    return super.watch(path, params, (phase, obj, watchObj) => {
      if (phase !== 'ERROR') this.onActivity();
      callback(phase, obj, watchObj);
    }, done);
  }
}

export class ResourceWatcher {
  private lw: ListWatch<KubernetesObject>;
  private backoff: Backoff;
  private abort = new AbortController();
  private retry: NodeJS.Timeout | null = null;
  /** True once the first list since start has been applied. */
  synced = false;
  errors = 0;

  constructor(kc: KubeConfig, readonly resource: WatchedResource, private readonly onChange: () => void, private readonly log: Logger, o: WatcherOptions = {}) {
    this.backoff = new Backoff({ minMs: o.backoffMinMs ?? 1000, maxMs: o.backoffMaxMs ?? 60_000 });
    const watch = new PacedWatch(kc, o.minWatchIntervalMs ?? 1000, this.abort.signal, () => this.backoff.reset());
    const list = async () => {
      const result = await resource.list();
      // ListWatch applies the items right after this resolves; report sync after that.
      setImmediate(() => {
        if (!this.synced) log.info({ resource: resource.name, items: result.items.length }, 'informer synced');
        this.synced = true;
        onChange();
      });
      return result;
    };
    this.lw = new ListWatch(resource.path, watch, list, false);
    for (const verb of ['add', 'update', 'delete'] as const) this.lw.on(verb, () => onChange());
    this.lw.on('error', (err) => this.failed(err));
  }

  async start(): Promise<void> {
    await this.lw.start();
  }

  async stop(): Promise<void> {
    this.abort.abort();
    if (this.retry) clearTimeout(this.retry);
    await this.lw.stop();
  }

  /** Current objects of this resource (the informer's cache). */
  objects(): readonly KubernetesObject[] {
    return this.lw.list();
  }

  private failed(err: unknown): void {
    if (this.abort.signal.aborted) return;
    this.errors++;
    const delay = this.backoff.next();
    const e = err as { message?: string; statusCode?: number; code?: string };
    this.log.warn({ resource: this.resource.name, err: e?.message, status: e?.statusCode ?? e?.code, retryInMs: delay }, 'kubernetes API error; backing off');
    if (this.retry) clearTimeout(this.retry);
    this.retry = setTimeout(() => {
      this.retry = null;
      if (!this.abort.signal.aborted) void this.lw.start();
    }, delay);
  }
}
