// The demo's made-up world: services (processes) and the routes they call, with typical latency,
// 404 rate and JSON bodies.
import type { Rng } from '../synth/rng.ts';

export interface Service {
  name: string;
  pid: number;
  startTicks: bigint;
  addr: string;
  port: number;
}

export interface Route {
  client: number;
  server: number;
  method: string;
  /** {id} and {q} are filled in per request. */
  path: string;
  medianMs: number;
  notFound: number;
  body: (rng: Rng, id: number) => unknown;
  response: (rng: Rng, id: number) => unknown;
}

export const SERVICES: Service[] = [
  { name: 'loadgen', pid: 4101, startTicks: 910_000n, addr: '10.0.0.10', port: 0 },
  { name: 'frontend', pid: 4102, startTicks: 905_000n, addr: '10.0.0.20', port: 8080 },
  { name: 'users', pid: 4103, startTicks: 902_000n, addr: '10.0.1.11', port: 8081 },
  { name: 'orders', pid: 4104, startTicks: 902_500n, addr: '10.0.1.12', port: 8082 },
  { name: 'catalog', pid: 4105, startTicks: 903_000n, addr: '10.0.1.13', port: 8083 },
  { name: 'payments', pid: 4106, startTicks: 903_500n, addr: '10.0.1.14', port: 8084 },
];
const [LOADGEN, FRONTEND, USERS, ORDERS, CATALOG, PAYMENTS] = [0, 1, 2, 3, 4, 5];

const none = (): unknown => ({});
const user = (rng: Rng, id: number) => ({
  id, name: `user-${id}`, email: `user${id}@example.com`, tier: rng.pick(['free', 'pro', 'team']),
});
const product = (rng: Rng, id: number) => ({
  id, sku: `SKU-${id}`, title: rng.pick(['Lamp', 'Chair', 'Desk', 'Mug', 'Book']), price: 5 + rng.int(20000) / 100,
});
const order = (rng: Rng, id: number) => ({
  id, user: 1 + rng.int(5000), status: rng.pick(['new', 'paid', 'shipped']),
  items: Array.from({ length: 1 + rng.int(4) }, () => ({ sku: `SKU-${1 + rng.int(5000)}`, qty: 1 + rng.int(3) })),
});
const list = <T>(make: (rng: Rng, id: number) => T, n: number) => (rng: Rng) =>
  ({ items: Array.from({ length: n }, () => make(rng, 1 + rng.int(5000))), next: rng.int(100) });

function r(client: number, server: number, method: string, path: string, medianMs: number,
  response: Route['response'], body: Route['body'] = none, notFound = 0.05): Route {
  return { client, server, method, path, medianMs, notFound, body, response };
}

export const ROUTES: Route[] = [
  // Public API: loadgen → frontend.
  r(LOADGEN, FRONTEND, 'GET', '/', 4, () => ({ ok: true }), none, 0),
  r(LOADGEN, FRONTEND, 'GET', '/healthz', 1, () => ({ status: 'up' }), none, 0),
  r(LOADGEN, FRONTEND, 'GET', '/api/users/{id}', 18, user),
  r(LOADGEN, FRONTEND, 'GET', '/api/users/{id}/orders', 35, list(order, 3)),
  r(LOADGEN, FRONTEND, 'PUT', '/api/users/{id}', 25, user, user),
  r(LOADGEN, FRONTEND, 'GET', '/api/products/{id}', 12, product),
  r(LOADGEN, FRONTEND, 'GET', '/api/products?page={id}', 30, list(product, 6), none, 0),
  r(LOADGEN, FRONTEND, 'GET', '/api/search?q={q}', 60, list(product, 5), none, 0),
  r(LOADGEN, FRONTEND, 'GET', '/api/orders/{id}', 22, order),
  r(LOADGEN, FRONTEND, 'POST', '/api/orders', 80, order, order, 0),
  r(LOADGEN, FRONTEND, 'DELETE', '/api/orders/{id}', 40, none),
  r(LOADGEN, FRONTEND, 'GET', '/api/cart/{id}', 15, order),
  r(LOADGEN, FRONTEND, 'POST', '/api/cart/{id}/items', 20, order, (rng) => ({ sku: `SKU-${rng.int(5000)}`, qty: 1 })),
  r(LOADGEN, FRONTEND, 'POST', '/api/checkout', 150, (rng, id) => ({ order: id, charged: rng.int(50000) / 100 }), order, 0),
  r(LOADGEN, FRONTEND, 'GET', '/static/app.js', 2, () => ({ bundle: 'x'.repeat(300) }), none, 0),
  // Internal calls: frontend → backends.
  r(FRONTEND, USERS, 'GET', '/v1/users/{id}', 8, user),
  r(FRONTEND, USERS, 'GET', '/v1/users/{id}/profile', 10, user),
  r(FRONTEND, USERS, 'PATCH', '/v1/users/{id}', 14, user, (rng) => ({ tier: rng.pick(['free', 'pro']) })),
  r(FRONTEND, USERS, 'POST', '/v1/sessions', 20, (rng) => ({ token: rng.int(1 << 30).toString(36) }), (_r, id) => ({ user: id }), 0),
  r(FRONTEND, ORDERS, 'GET', '/v1/orders/{id}', 9, order),
  r(FRONTEND, ORDERS, 'GET', '/v1/orders?user={id}', 25, list(order, 4), none, 0),
  r(FRONTEND, ORDERS, 'POST', '/v1/orders', 45, order, order, 0),
  r(FRONTEND, ORDERS, 'DELETE', '/v1/orders/{id}', 12, none),
  r(FRONTEND, CATALOG, 'GET', '/v1/products/{id}', 5, product),
  r(FRONTEND, CATALOG, 'GET', '/v1/products/{id}/stock', 4, (rng, id) => ({ id, stock: rng.int(500) })),
  r(FRONTEND, CATALOG, 'GET', '/v1/search?q={q}', 40, list(product, 8), none, 0),
  r(FRONTEND, PAYMENTS, 'POST', '/v1/charges', 120, (rng, id) => ({ id: `ch_${id}`, status: rng.pick(['succeeded', 'pending']) }), (rng) => ({ amount: rng.int(50000), currency: 'EUR' }), 0),
  r(FRONTEND, PAYMENTS, 'GET', '/v1/charges/{id}', 15, (_r, id) => ({ id: `ch_${id}`, status: 'succeeded' })),
  // Backend to backend.
  r(ORDERS, CATALOG, 'GET', '/v1/products/{id}/price', 3, (rng, id) => ({ id, price: rng.int(20000) / 100 })),
  r(ORDERS, USERS, 'GET', '/v1/users/{id}/address', 6, (_r, id) => ({ id, city: 'Berlin', zip: '10115' })),
  r(ORDERS, PAYMENTS, 'POST', '/v1/refunds', 90, (_r, id) => ({ refund: id, ok: true }), (_r, id) => ({ order: id }), 0),
  r(PAYMENTS, USERS, 'GET', '/v1/users/{id}/billing', 7, (_r, id) => ({ id, plan: 'pro' })),
];
