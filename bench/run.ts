// `npm run bench -- NAME [args...]`: runs bench/NAME.ts and prints its result as JSON on stdout.
// Each benchmark module default-exports `async (args: string[]) => object`; progress goes to stderr.
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const available = readdirSync(here)
  .filter((f) => f.endsWith('.ts') && f !== 'run.ts' && !f.startsWith('_'))
  .map((f) => f.slice(0, -3));

const [name, ...args] = process.argv.slice(2);
if (!name || !available.includes(name)) {
  process.stderr.write(`usage: npm run bench -- NAME [args]\navailable: ${available.join(', ')}\n`);
  process.exit(name ? 2 : 0);
}
const mod = (await import(pathToFileURL(join(here, `${name}.ts`)).href)) as {
  default: (args: string[]) => Promise<object>;
};
const result = await mod.default(args);
process.stdout.write(JSON.stringify({ bench: name, at: new Date().toISOString(), ...result }, null, 2) + '\n');
process.exit(0);
