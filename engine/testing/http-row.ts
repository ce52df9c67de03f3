// A plausible http_events row for tests and benchmarks; override what the test cares about.
import type { HttpEventRow } from '../schema.ts';

export function httpRow(over: Partial<HttpEventRow> = {}): HttpEventRow {
  return {
    timeNs: BigInt(Date.now()) * 1_000_000n,
    upid: { asid: 0, pid: 4242, startTicks: 123456n },
    remoteAddr: '127.0.0.1',
    remotePort: 51000,
    localAddr: '127.0.0.1',
    localPort: 8080,
    traceRole: 2,
    encrypted: false,
    majorVersion: 1,
    minorVersion: 1,
    contentType: 1,
    reqHeaders: '{"host":"localhost"}',
    reqMethod: 'GET',
    reqPath: '/api/users/1',
    reqBody: '',
    reqBodySize: 0,
    respHeaders: '{"content-type":"application/json"}',
    respStatus: 200,
    respMessage: 'OK',
    respBody: '{"ok":true}',
    respBodySize: 11,
    latencyNs: 1_500_000n,
    ...over,
  };
}
