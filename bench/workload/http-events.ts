// A realistic synthetic http_events workload for benchmarks, deterministic from a seed.
//
// Distributions (documented here, the one place they are defined):
// - time: Poisson arrivals at `ratePerSec` (exponential gaps), starting at `startNs`.
// - processes: 24 server processes (UPIDs, pid 2000+k); a row's process is uniform among them.
//   Each process listens on one local port (8000+k); trace_role 2 (server) for 90%, else 1.
// - peers: 64 client addresses 10.0.x.y, ephemeral ports uniform in 32768..60999.
// - paths: 200 templates = 40 resources × 5 shapes (`/api/v1/{r}`, `/api/v1/{r}/{id}`,
//   `/api/v1/{r}/{id}/history`, `/api/v2/{r}/{id}?page={n}`, `/static/{r}.js`); the template is
//   Zipf(s=1.1) over the 200; ids Zipf(s=1.2) over 1..100000; page uniform 1..20.
// - method: GET 70%, POST 18%, PUT 6%, DELETE 4%, PATCH 2%.
// - status: 200 88%, 201 3%, 204 2%, 304 1.5%, 400 1%, 404 2.5%, 429 0.5%, 500 1%, 502 0.3%,
//   503 0.2%; reason phrase from the status.
// - latency: log-normal, median 4 ms, sigma 1.0 (errors 3× slower).
// - headers: request JSON {host, user-agent (one of 8), accept, x-request-id on 20% (random
//   128-bit hex)}; response JSON {content-type, content-length, cache-control on GET}.
// - bodies: GET responses `{"id":N,"name":"item-N","status":"active|archived","score":x.xx}`;
//   POST/PUT request bodies `{"name":"item-N","qty":Q}`, responses `{"ok":true,"id":N}`;
//   errors `{"error":"<reason>"}`; DELETE and 204/304 empty. Body sizes are the text lengths.
//
// String shapes (`strings`, default 'collector'): the store's cost depends on how V8 holds a
// string (or whether it gets one), not only on its text. The collector (collector/http) slices
// the target and reason from the capture buffer and writes the headers JSON as UTF-8 bytes into
// a slab (a Utf8Text, engine/utf8-text.ts; heads with escapes, non-ASCII, repeats or obs-fold
// still become a string built by headersJson); ASCII bodies are copied into the same slab
// (asciiText), others are one utf8Slice each (flat).
// 'collector' makes the same values the same way: it writes each message's wire bytes, runs the
// collector's own head parser and headersText, and slices bodies from the buffer, and shares the
// peer address strings as a connection does. 'concat' builds every string with template literals
// (cons strings for all long values: what this generator did before, kept for comparison). Both
// give identical text.
import type { HttpEventRow } from '../../engine/schema.ts';
import type { Upid } from '../../engine/upid.ts';
import { mulberry32 } from '../../collector/synth/rng.ts';
import { defaultHttpOptions } from '../../collector/http/options.ts';
import { asciiText, headersText, newHead, parseRequestHead, parseResponseHead, type HeadLimits } from '../../collector/http/head-parser.ts';

const rng = mulberry32;

/** Inverse-CDF sampler for Zipf(s) over 1..n. */
function zipf(n: number, s: number): (u: number) => number {
  const cdf = new Float64Array(n);
  let sum = 0;
  for (let k = 1; k <= n; k++) cdf[k - 1] = sum += 1 / Math.pow(k, s);
  for (let k = 0; k < n; k++) cdf[k]! /= sum;
  return (u) => {
    let lo = 0;
    let hi = n - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cdf[mid]! < u) lo = mid + 1;
      else hi = mid;
    }
    return lo + 1;
  };
}

function pick<T>(u: number, table: ReadonlyArray<readonly [T, number]>): T {
  let acc = 0;
  for (const [v, p] of table) if (u < (acc += p)) return v;
  return table[table.length - 1]![0];
}

const resources = [
  'users', 'orders', 'items', 'carts', 'payments', 'invoices', 'shipments', 'reviews', 'products', 'categories',
  'sessions', 'tokens', 'accounts', 'addresses', 'coupons', 'refunds', 'stores', 'inventory', 'prices', 'suppliers',
  'warehouses', 'drivers', 'routes', 'tickets', 'messages', 'notifications', 'reports', 'metrics', 'alerts', 'teams',
  'projects', 'tasks', 'comments', 'files', 'images', 'videos', 'playlists', 'subscriptions', 'plans', 'features',
];
const shapes = [
  (r: string) => `/api/v1/${r}`,
  (r: string, id: number) => `/api/v1/${r}/${id}`,
  (r: string, id: number) => `/api/v1/${r}/${id}/history`,
  (r: string, id: number, page: number) => `/api/v2/${r}/${id}?page=${page}`,
  (r: string) => `/static/${r}.js`,
];
const methods = [['GET', 0.7], ['POST', 0.18], ['PUT', 0.06], ['DELETE', 0.04], ['PATCH', 0.02]] as const;
const statuses = [[200, 0.88], [201, 0.03], [204, 0.02], [304, 0.015], [400, 0.01], [404, 0.025], [429, 0.005], [500, 0.01], [502, 0.003], [503, 0.002]] as const;
const reasons: Record<number, string> = {
  200: 'OK', 201: 'Created', 204: 'No Content', 304: 'Not Modified', 400: 'Bad Request', 404: 'Not Found',
  429: 'Too Many Requests', 500: 'Internal Server Error', 502: 'Bad Gateway', 503: 'Service Unavailable',
};
const agents = [
  'curl/7.88.1', 'python-requests/2.31.0', 'Go-http-client/1.1', 'okhttp/4.12.0',
  'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/120.0', 'node-fetch/1.0', 'axios/1.6.2', 'Java-http-client/17',
];

export interface WorkloadOptions {
  seed: number;
  startNs: bigint;
  ratePerSec: number;
  /** How the strings are made (see the top of this file); the text is the same. */
  strings?: 'collector' | 'concat';
}

export const defaultWorkload: WorkloadOptions = { seed: 42, startNs: 1_700_000_000_000_000_000n, ratePerSec: 10_000, strings: 'collector' };

const headLimits: HeadLimits = { maxHeadBytes: defaultHttpOptions.maxHeadBytes, maxHeaders: defaultHttpOptions.maxHeaders, redact: new Set() };
type Slicer = { utf8Slice(s: number, e: number): string };
const clientAddrs = Array.from({ length: 64 }, (_, c) => `10.0.${c >> 4}.${c & 15}`);

/** An endless generator of rows; `next()` returns a fresh row object. */
export class HttpWorkload {
  private readonly r: () => number;
  private readonly template = zipf(200, 1.1);
  private readonly id = zipf(100_000, 1.2);
  private readonly upids: Upid[];
  private nowNs: number;
  private readonly startNs: bigint;
  private readonly collectorStrings: boolean;
  /** One message's wire bytes (collector strings). */
  private wire = Buffer.allocUnsafe(4096);

  constructor(private readonly o: WorkloadOptions = defaultWorkload) {
    this.collectorStrings = (o.strings ?? 'collector') === 'collector';
    this.r = rng(o.seed);
    this.upids = Array.from({ length: 24 }, (_, k) => ({ asid: 0, pid: 2000 + k, startTicks: BigInt(100_000 + k * 37) }));
    this.startNs = o.startNs;
    this.nowNs = 0;
  }

  private hex32(): string {
    let s = '';
    for (let i = 0; i < 4; i++) s += Math.floor(this.r() * 4294967296).toString(16).padStart(8, '0');
    return s;
  }

  next(): HttpEventRow {
    const r = this.r;
    this.nowNs += (-Math.log(1 - r()) / this.o.ratePerSec) * 1e9;
    const k = Math.floor(r() * 24);
    const t = this.template(r()) - 1;
    const resource = resources[t % 40]!;
    const id = this.id(r());
    const path = shapes[Math.floor(t / 40)]!(resource, id, 1 + Math.floor(r() * 20));
    const method = pick(r(), methods);
    const status = pick(r(), statuses);
    const error = status >= 400;
    // Box–Muller normal for the log-normal latency.
    const z = Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());
    const latency = Math.round(4e6 * Math.exp(z) * (error ? 3 : 1));
    const agent = agents[Math.floor(r() * 8)]!;
    const requestId = r() < 0.2 ? this.hex32() : '';
    const reqBody = method === 'POST' || method === 'PUT' ? `{"name":"item-${id}","qty":${1 + Math.floor(r() * 10)}}` : '';
    const respBody = error
      ? `{"error":"${reasons[status]}"}`
      : status === 204 || status === 304 || method === 'DELETE' ? ''
      : method === 'GET' ? `{"id":${id},"name":"item-${id}","status":"${r() < 0.9 ? 'active' : 'archived'}","score":${(r() * 100).toFixed(2)}}`
      : `{"ok":true,"id":${id}}`;
    const client = Math.floor(r() * 64);
    const text = this.collectorStrings
      ? this.parsed(method, path, k, agent, requestId, reqBody, status, respBody)
      : {
        reqMethod: method as string, reqPath: path, reqBody, respBody, respMessage: reasons[status]!, remoteAddr: `10.0.${client >> 4}.${client & 15}`,
        reqHeaders: `{"host":"svc-${k}.local:${8000 + k}","user-agent":"${agent}","accept":"application/json"${requestId ? `,"x-request-id":"${requestId}"` : ''}}`,
        respHeaders: `{"content-type":"application/json","content-length":"${respBody.length}"${method === 'GET' ? ',"cache-control":"no-cache"' : ''}}`,
      };
    return {
      timeNs: this.startNs + BigInt(Math.floor(this.nowNs)),
      upid: this.upids[k]!,
      remoteAddr: this.collectorStrings ? clientAddrs[client]! : text.remoteAddr,
      remotePort: 32768 + Math.floor(r() * 28232),
      localAddr: '10.1.0.1',
      localPort: 8000 + k,
      traceRole: r() < 0.9 ? 2 : 1,
      encrypted: false,
      majorVersion: 1,
      minorVersion: 1,
      contentType: 1,
      reqHeaders: text.reqHeaders,
      reqMethod: text.reqMethod,
      reqPath: text.reqPath,
      reqBody: text.reqBody,
      reqBodySize: reqBody.length,
      respHeaders: text.respHeaders,
      respStatus: status,
      respMessage: text.respMessage,
      respBody: text.respBody,
      respBodySize: respBody.length,
      latencyNs: BigInt(latency),
    };
  }

  /**
   * The request's and response's strings as the collector makes them: the wire bytes of each
   * message, its head parsed by the collector's parser, headersText, the body sliced after it.
   */
  private parsed(method: string, path: string, k: number, agent: string, requestId: string, reqBody: string, status: number, respBody: string) {
    const req = this.message(
      `${method} ${path} HTTP/1.1\r\nhost: svc-${k}.local:${8000 + k}\r\nuser-agent: ${agent}\r\naccept: application/json\r\n${requestId ? `x-request-id: ${requestId}\r\n` : ''}\r\n`,
      reqBody, true);
    const resp = this.message(
      `HTTP/1.1 ${status} ${reasons[status]}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(respBody)}\r\n${method === 'GET' ? 'cache-control: no-cache\r\n' : ''}\r\n`,
      respBody, false);
    return {
      reqMethod: req.head.method, reqPath: req.head.target, reqHeaders: headersText(req.head), reqBody: req.body,
      respMessage: resp.head.reason, respHeaders: headersText(resp.head), respBody: resp.body, remoteAddr: '',
    };
  }

  private message(head: string, body: string, request: boolean) {
    const need = (head.length + body.length) * 3;
    if (need > this.wire.length) this.wire = Buffer.allocUnsafe(need * 2);
    const buf = this.wire;
    const headEnd = buf.write(head, 0, 'latin1');
    const end = headEnd + buf.write(body, headEnd, 'utf8');
    const h = newHead();
    const wire = buf.subarray(0, headEnd);
    const n = request ? parseRequestHead(wire, headLimits, h) : parseResponseHead(wire, headLimits, h);
    if (n !== headEnd) throw new Error(`workload: the collector's head parser read ${n} of ${headEnd} bytes`);
    // Bodies as the parser captures them: ASCII ones copied into its slab, others decoded.
    return { head: h, body: end > headEnd ? asciiText(buf, headEnd, end) ?? (buf as unknown as Slicer).utf8Slice(headEnd, end) : '' };
  }

  /** n rows in an array (benchmarks generate before timing). */
  take(n: number): HttpEventRow[] {
    const out: HttpEventRow[] = new Array(n);
    for (let i = 0; i < n; i++) out[i] = this.next();
    return out;
  }
}

/** Arrow-style raw size of a row: fixed widths + UTF-8 bytes + a 4-byte offset per string. */
export function rawArrowBytes(row: HttpEventRow): number {
  const strings = [row.remoteAddr, row.localAddr, row.reqHeaders, row.reqMethod, row.reqPath, row.reqBody, row.respHeaders, row.respMessage, row.respBody];
  let b = 8 + 16 + 4 * 2 + 4 + 1 + 4 * 3 + 8 * 2 + 4 + 8; // time, upid, ports, role, enc, versions+ct, sizes, status, latency
  for (const s of strings) b += (typeof s === 'string' ? Buffer.byteLength(s) : s.end - s.start) + 4;
  return b;
}
