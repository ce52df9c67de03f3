// Deterministic synthetic http_events for cluster tests and the cluster-scale bench: the same
// (seed, count, asid) gives the same rows, so a test can build the union in one standalone engine
// and compare it with the distributed answer.
import type { HttpEventRow } from '../../engine/schema.ts';
import { mulberry32 } from '../../collector/synth/rng.ts';

const methods = ['GET', 'GET', 'GET', 'POST', 'PUT', 'DELETE'];
const paths = ['/api/orders', '/api/users', '/api/cart', '/healthz', '/static/app.js', '/api/search'];
const statuses = [200, 200, 200, 200, 201, 204, 304, 400, 404, 500, 503];

const rng = mulberry32;

export interface SyntheticOptions { seed: number; count: number; asid: number; /** ns since epoch of the first row */ startNs: bigint }

export function* syntheticHttpRows(o: SyntheticOptions): Generator<HttpEventRow> {
  const r = rng(o.seed);
  const pick = <T>(xs: T[]) => xs[Math.floor(r() * xs.length)]!;
  for (let i = 0; i < o.count; i++) {
    const status = pick(statuses);
    const path = pick(paths);
    yield {
      timeNs: o.startNs + BigInt(i) * 1_000_000n,
      upid: { asid: o.asid, pid: 100 + Math.floor(r() * 4), startTicks: 1000n },
      remoteAddr: `10.0.${Math.floor(r() * 4)}.${Math.floor(r() * 250)}`,
      remotePort: 30000 + Math.floor(r() * 1000),
      localAddr: '10.1.0.1',
      localPort: 8080,
      traceRole: 2,
      encrypted: false,
      majorVersion: 1,
      minorVersion: 1,
      contentType: 0,
      reqHeaders: '{}',
      reqMethod: pick(methods),
      reqPath: path,
      reqBody: '',
      reqBodySize: Math.floor(r() * 2000),
      respHeaders: '{}',
      respStatus: status,
      respMessage: status < 400 ? 'OK' : 'Error',
      respBody: '',
      respBodySize: Math.floor(r() * 20000),
      latencyNs: BigInt(Math.floor(r() * r() * 50_000_000)),
    };
  }
}
