// Demo event source: synthetic but realistic HTTP traffic between a few made-up services, as the
// SocketEvents the eBPF source would produce (both the client and the server side of every
// connection), so the whole pipeline — tracker, parser, stitcher — runs where eBPF cannot.
import type { EventSource, SocketEvent, SourceStats } from '../events.ts';
import { ConnScript, type Endpoint } from '../synth/conn-script.ts';
import { Rng } from '../synth/rng.ts';
import { ROUTES, SERVICES, type Route, type Service } from './demo-routes.ts';

export interface DemoOptions {
  /** Requests per second (average; arrivals are Poisson). */
  rate: number;
  /** How often events are delivered while started. */
  intervalMs: number;
  seed: number;
  /** Wall clock in ns; simulated time starts here. */
  clock: () => bigint;
}

const MS = 1_000_000n;

interface DemoConn {
  client: ConnScript;
  server: ConnScript;
  /** Simulated time when its last exchange finishes (ns). */
  busyUntil: bigint;
  requestsLeft: number;
}

export class DemoSource implements EventSource {
  readonly name = 'demo';
  private readonly opts: DemoOptions;
  private readonly rng: Rng;
  private now: bigint;
  private carry = 0;
  private pending: SocketEvent[] = [];
  private readonly pools = new Map<string, DemoConn[]>();
  private nextFd = new Map<number, number>();
  private nextPort = 40000;
  private connGen = 1n;
  private counters: SourceStats = { events: 0, bytes: 0, drops: 0 };
  private timer: NodeJS.Timeout | null = null;
  private deliver: ((events: SocketEvent[]) => void) | null = null;

  constructor(options: Partial<DemoOptions> = {}) {
    this.opts = {
      rate: 50, intervalMs: 100, seed: 1,
      clock: () => BigInt(Date.now()) * MS,
      ...options,
    };
    this.rng = new Rng(this.opts.seed);
    this.now = this.opts.clock();
  }

  async start(onEvents: (events: SocketEvent[]) => void): Promise<void> {
    if (this.timer !== null) return;
    this.deliver = onEvents;
    // Simulated time follows the wall clock from here on.
    this.now = this.opts.clock();
    this.timer = setInterval(() => {
      const target = this.opts.clock();
      const elapsedMs = Number((target - this.now) / MS);
      if (elapsedMs > 0) onEvents(this.produce(Math.min(elapsedMs, 10_000)));
    }, this.opts.intervalMs);
  }

  async stop(): Promise<void> {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
    if (this.deliver !== null) this.deliver(this.closeAll());
    this.deliver = null;
  }

  stats(): SourceStats {
    return { ...this.counters };
  }

  /**
   * Advances simulated time by `ms` and returns the events that happened by then, in time order
   * (deterministic for a given seed; the timer calls this, tests may call it directly).
   */
  produce(ms: number): SocketEvent[] {
    const from = this.now;
    const span = BigInt(Math.round(ms * 1e6));
    this.now += span;
    const expected = (this.opts.rate * ms) / 1000 + this.carry;
    const count = Math.floor(expected);
    this.carry = expected - count;
    for (let i = 0; i < count; i++) {
      this.request(from + BigInt(Math.floor(this.rng.next() * Number(span))));
    }
    return this.take(this.now);
  }

  /** Closes every open connection (both sides) and returns all remaining events. */
  closeAll(): SocketEvent[] {
    let t = this.now;
    for (const c of this.pending) if (c.timeNs > t) t = c.timeNs;
    for (const pool of this.pools.values()) {
      for (const c of pool) this.closeConn(c, t + MS);
    }
    this.pools.clear();
    return this.take(t + 2n * MS);
  }

  private take(upTo: bigint): SocketEvent[] {
    this.pending.sort((a, b) => (a.timeNs < b.timeNs ? -1 : a.timeNs > b.timeNs ? 1 : 0));
    let n = 0;
    while (n < this.pending.length && this.pending[n]!.timeNs <= upTo) n++;
    const out = this.pending.slice(0, n);
    this.pending = this.pending.slice(n);
    for (const e of out) {
      this.counters.events++;
      this.counters.bytes += e.size;
    }
    return out;
  }

  private request(t0: bigint): void {
    const route = this.rng.pick(ROUTES);
    const conn = this.connFor(route, t0);
    const rng = this.rng;
    const { req, resp, chunks } = this.exchange(route);
    const net = BigInt(30_000 + rng.int(150_000));
    // Log-normal service time around the route's median.
    const service = BigInt(Math.max(50_000, Math.round(route.medianMs * 1e6 * Math.exp(0.6 * rng.normal()))));
    const start = t0 > conn.busyUntil ? t0 : conn.busyUntil + BigInt(20_000 + rng.int(200_000));
    const p = this.pending;
    p.push(conn.client.send(req, start));
    p.push(conn.server.recv(req, start + net));
    let ts = start + net + service;
    if (chunks.length === 0) {
      p.push(conn.server.send(resp, ts));
      p.push(conn.client.recv(resp, ts + net));
    } else {
      // A chunked response written in pieces; the client may read it in one go.
      for (const piece of chunks) {
        p.push(conn.server.send(piece, ts));
        ts += BigInt(100_000 + rng.int(2_000_000));
      }
      p.push(conn.client.recv(Buffer.concat(chunks), ts + net));
    }
    conn.busyUntil = ts + net;
    if (--conn.requestsLeft <= 0) this.closeConn(conn, conn.busyUntil + MS, route);
  }

  private exchange(route: Route): { req: Buffer; resp: Buffer; chunks: Buffer[] } {
    const rng = this.rng;
    const id = 1 + rng.int(5000);
    const path = route.path.replace('{id}', String(id)).replace('{q}', rng.pick(['shoes', 'red+hat', 'lamp', 'book']));
    const server = SERVICES[route.server]!;
    const hasBody = route.method === 'POST' || route.method === 'PUT' || route.method === 'PATCH';
    const reqBody = hasBody ? JSON.stringify(route.body(rng, id)) : '';
    const reqHead = [
      `${route.method} ${path} HTTP/1.1`,
      `Host: ${server.name}:${server.port}`,
      `User-Agent: ${SERVICES[route.client]!.name}/1.4`,
      'Accept: application/json',
      `X-Request-Id: ${rng.int(1 << 30).toString(16)}`,
      ...(rng.int(3) === 0 ? ['Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.demo'] : []),
      ...(hasBody ? ['Content-Type: application/json', `Content-Length: ${Buffer.byteLength(reqBody)}`] : []),
    ].join('\r\n') + '\r\n\r\n' + reqBody;

    const roll = rng.next();
    let status = route.method === 'POST' ? 201 : route.method === 'DELETE' ? 204 : 200;
    if (roll < 0.02) status = 500;
    else if (roll < 0.02 + route.notFound) status = 404;
    const reason: Record<number, string> = { 200: 'OK', 201: 'Created', 204: 'No Content', 404: 'Not Found', 500: 'Internal Server Error' };
    const body = status === 204 ? '' :
      status === 404 ? JSON.stringify({ error: 'not found', id }) :
      status === 500 ? JSON.stringify({ error: 'upstream timeout' }) :
      JSON.stringify(route.response(rng, id));
    const headers = [
      `HTTP/1.1 ${status} ${reason[status]}`,
      `Date: ${new Date(Number(this.now / MS)).toUTCString()}`,
      'Content-Type: application/json',
      `Server: ${server.name}`,
    ];
    const chunked = status === 200 && body.length > 200 && rng.next() < 0.3;
    if (chunked) {
      headers.push('Transfer-Encoding: chunked');
      const head = Buffer.from(headers.join('\r\n') + '\r\n\r\n');
      const mid = Math.floor(body.length / 2);
      const chunk = (s: string) => `${Buffer.byteLength(s).toString(16)}\r\n${s}\r\n`;
      return {
        req: Buffer.from(reqHead),
        resp: Buffer.alloc(0),
        chunks: [Buffer.concat([head, Buffer.from(chunk(body.slice(0, mid)))]), Buffer.from(chunk(body.slice(mid)) + '0\r\n\r\n')],
      };
    }
    if (status !== 204) headers.push(`Content-Length: ${Buffer.byteLength(body)}`);
    return { req: Buffer.from(reqHead), resp: Buffer.from(headers.join('\r\n') + '\r\n\r\n' + body), chunks: [] };
  }

  /** A free keep-alive connection between the route's services, or a new one. */
  private connFor(route: Route, t0: bigint): DemoConn {
    const key = `${route.client}>${route.server}`;
    let pool = this.pools.get(key);
    if (pool === undefined) this.pools.set(key, (pool = []));
    let best: DemoConn | undefined;
    for (const c of pool) if (c.busyUntil <= t0 && (best === undefined || c.busyUntil < best.busyUntil)) best = c;
    if (best !== undefined) return best;
    if (pool.length >= 4) {
      // All busy: queue behind the one that frees up first.
      return pool.reduce((a, b) => (b.busyUntil < a.busyUntil ? b : a));
    }
    const conn = this.openConn(SERVICES[route.client]!, SERVICES[route.server]!, t0);
    pool.push(conn);
    return conn;
  }

  private openConn(client: Service, server: Service, t0: bigint): DemoConn {
    const port = this.nextPort++;
    if (this.nextPort > 60999) this.nextPort = 40000;
    const side = (svc: Service, role: 1 | 2, local: [string, number], remote: [string, number]): Endpoint => ({
      tgid: svc.pid, startTicks: svc.startTicks, fd: this.fd(svc.pid), connGen: this.connGen++, role,
      localAddr: local[0], localPort: local[1], remoteAddr: remote[0], remotePort: remote[1],
    });
    const c = new ConnScript(side(client, 1, [client.addr, port], [server.addr, server.port]));
    const s = new ConnScript(side(server, 2, [server.addr, server.port], [client.addr, port]));
    const t = t0 - MS;
    this.pending.push(c.open(t), s.open(t + 50_000n));
    return { client: c, server: s, busyUntil: t0, requestsLeft: 10 + this.rng.int(190) };
  }

  private closeConn(conn: DemoConn, t: bigint, route?: Route): void {
    this.pending.push(conn.client.close(t), conn.server.close(t + 100_000n));
    if (route !== undefined) {
      const pool = this.pools.get(`${route.client}>${route.server}`);
      if (pool !== undefined) pool.splice(pool.indexOf(conn), 1);
    }
  }

  private fd(pid: number): number {
    const fd = this.nextFd.get(pid) ?? 10;
    this.nextFd.set(pid, fd >= 1000 ? 10 : fd + 1);
    return fd;
  }
}
