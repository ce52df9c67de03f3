// Demo workload, client side: a keep-alive client making varied requests at a steady rate.
import http from 'node:http';

const port = Number(process.argv[2] ?? 8089);
const host = process.argv[3] ?? '127.0.0.1';
const perSecond = Number(process.argv[4] ?? 5);

const agent = new http.Agent({ keepAlive: true, maxSockets: 4 });
const routes: Array<() => { method: string; path: string; body?: string }> = [
  () => ({ method: 'GET', path: `/api/users/${Math.floor(Math.random() * 200)}` }),
  () => ({ method: 'GET', path: `/api/orders?page=${Math.floor(Math.random() * 5)}` }),
  () => ({ method: 'POST', path: '/api/orders', body: JSON.stringify({ item: 'widget', qty: Math.ceil(Math.random() * 9) }) }),
  () => ({ method: 'GET', path: '/healthz' }),
  () => ({ method: 'GET', path: '/api/report' }),
  () => ({ method: 'GET', path: '/api/fail' }),
  () => ({ method: 'DELETE', path: `/api/unknown/${Math.floor(Math.random() * 50)}` }),
];

function once(): void {
  const r = routes[Math.floor(Math.random() * routes.length)]!();
  const req = http.request({ host, port, agent, method: r.method, path: r.path, headers: r.body ? { 'content-type': 'application/json' } : {} }, (res) => {
    res.resume();
  });
  req.on('error', () => {});
  req.end(r.body);
}

setInterval(once, 1000 / perSecond);
process.on('SIGTERM', () => process.exit(0));
