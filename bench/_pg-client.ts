// Child process for the pg benchmarks: streams one query through node-pg (array rows) and prints
// {"rows": N, "seconds": S} — a separate process so client and server do not share an event loop.
import pg from 'pg';

const [port, user, sql] = process.argv.slice(2);
const c = new pg.Client({ host: '127.0.0.1', port: Number(port), user, database: user === 'postgres' ? 'postgres' : 'wiretap' });
await c.connect();
const t0 = performance.now();
const r = await c.query({ text: sql!, rowMode: 'array' });
const seconds = (performance.now() - t0) / 1000;
await c.end();
process.stdout.write(JSON.stringify({ rows: r.rows.length, seconds }) + '\n');
