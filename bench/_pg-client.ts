// Child process for the pg benchmarks: streams one query through node-pg (array rows) and prints
// {"rows": N, "seconds": S, "cpuSeconds": C} — a separate process so client and server do not share
// an event loop. cpuSeconds is this client's own CPU (user + system) for the query: what parsing
// the rows costs it, apart from waiting for the server or for a CPU on a loaded machine.
import pg from 'pg';

const [port, user, sql, timeZone] = process.argv.slice(2);
const c = new pg.Client({
  host: '127.0.0.1', port: Number(port), user, database: user === 'postgres' ? 'postgres' : 'wiretap',
  ...(timeZone ? { options: `-c TimeZone=${timeZone}` } : {}),
});
await c.connect();
const t0 = performance.now();
const cpu0 = process.cpuUsage();
const r = await c.query({ text: sql!, rowMode: 'array' });
const seconds = (performance.now() - t0) / 1000;
const cpu = process.cpuUsage(cpu0);
await c.end();
process.stdout.write(JSON.stringify({ rows: r.rows.length, seconds, cpuSeconds: (cpu.user + cpu.system) / 1e6 }) + '\n');
