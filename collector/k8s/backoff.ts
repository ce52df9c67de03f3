// Exponential backoff with full jitter, reset after success: retries never synchronise into a
// storm against the metadata service (or, in server/metadata/, the Kubernetes API).

export interface BackoffOptions {
  minMs: number;
  maxMs: number;
}

export class Backoff {
  private attempt = 0;
  constructor(private readonly o: BackoffOptions) {}

  /** Delay before the next retry; grows ×2 per failure up to maxMs, jittered in [½, 1]. */
  next(): number {
    const ceiling = Math.min(this.o.maxMs, this.o.minMs * 2 ** Math.min(this.attempt, 30));
    this.attempt++;
    return Math.round(ceiling / 2 + Math.random() * (ceiling / 2));
  }

  reset(): void {
    this.attempt = 0;
  }

  get failures(): number {
    return this.attempt;
  }
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}
