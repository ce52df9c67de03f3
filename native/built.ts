// Where `npm run build:native` leaves each addon (native/build/Release/NAME.node), and how it is
// loaded: the one place that knows the build layout.
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The path of the built addon `name` (wiretap_native, wiretap_duck, wiretap_store). */
export function builtAddonPath(name: string): string {
  return join(dirname(fileURLToPath(import.meta.url)), 'build', 'Release', `${name}.node`);
}

/** Loads an addon file (throws as require does: missing file, another Node ABI). */
export function loadAddon<T>(path: string): T {
  return createRequire(import.meta.url)(path) as T;
}
