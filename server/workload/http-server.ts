// Demo workload, server side: a small JSON API with varied routes, statuses, sizes and latencies.
// Runs as its own process so wiretap captures it like any other service on the host.
import http from 'node:http';

const port = Number(process.argv[2] ?? 8089);
const host = process.argv[3] ?? '127.0.0.1';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** Log-normal-ish latency: mostly a few ms, a long tail. */
const jitter = () => Math.min(500, Math.exp(Math.random() * 2 + Math.random() * 2) - 1);

const server = http.createServer(async (req, res) => {
  const body: Buffer[] = [];
  for await (const chunk of req) body.push(chunk as Buffer);
  await sleep(jitter());
  const url = new URL(req.url ?? '/', 'http://x');
  const json = (status: number, value: unknown) => {
    const text = JSON.stringify(value);
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
    res.end(text);
  };
  const user = /^\/api\/users\/(\d+)$/.exec(url.pathname);
  if (user) return json(Number(user[1]) % 17 === 0 ? 404 : 200, { id: Number(user[1]), name: `user-${user[1]}` });
  if (url.pathname === '/api/orders' && req.method === 'POST') {
    return json(201, { id: Math.floor(Math.random() * 1e6), received: Buffer.concat(body).length });
  }
  if (url.pathname === '/api/orders') return json(200, { orders: [1, 2, 3], page: url.searchParams.get('page') });
  if (url.pathname === '/api/fail') return json(500, { error: 'internal error' });
  if (url.pathname === '/healthz') {
    res.writeHead(204);
    return res.end();
  }
  if (url.pathname === '/api/report') {
    // Chunked: no content-length, several writes.
    res.writeHead(200, { 'content-type': 'text/csv' });
    for (let i = 0; i < 20; i++) res.write(`row,${i},${'x'.repeat(100)}\n`);
    return res.end();
  }
  json(404, { error: 'not found', path: url.pathname });
});
server.keepAliveTimeout = 30_000;
server.listen(port, host, () => process.stdout.write(`demo server on http://${host}:${port}\n`));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
