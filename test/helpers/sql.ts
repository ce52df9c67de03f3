// Querying a running wiretap the way users do: node-pg and the psql binary.
import pg from 'pg';
import { execFileP } from './processes.ts';

export async function pgQuery(port: number, text: string): Promise<pg.QueryResult> {
  const client = new pg.Client({ host: '127.0.0.1', port, user: 'wiretap', database: 'wiretap' });
  await client.connect();
  try {
    return await client.query(text);
  } finally {
    await client.end();
  }
}

/** Runs psql -c and returns rows as arrays of text fields (unaligned, tab-separated). */
export async function psqlRows(port: number, text: string): Promise<string[][]> {
  const { stdout } = await execFileP(
    'psql',
    ['-X', '-A', '-t', '-F', '\t', '-v', 'ON_ERROR_STOP=1', '-h', '127.0.0.1', '-p', String(port), '-U', 'wiretap', '-d', 'wiretap', '-c', text],
    { maxBuffer: 64 << 20, env: { ...process.env, PGCONNECT_TIMEOUT: '10' } },
  );
  return stdout.split('\n').filter((l) => l.length > 0).map((l) => l.split('\t'));
}
