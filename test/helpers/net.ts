// Loopback ports and packet captures for tests (and benchmarks that start their own servers).
import { connect, createServer } from 'node:net';
import { existsSync, statSync } from 'node:fs';

/** A port that was free on 127.0.0.1 a moment ago. */
export async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

/** Connects to the port until the capture file grows: the capture is then really live (tshark
 *  reports "Capturing on" well before packets reach its file). */
export async function untilCaptured(file: string, port: number): Promise<void> {
  const deadline = Date.now() + 30_000;
  let base = -1;
  while (Date.now() < deadline) {
    const size = existsSync(file) ? statSync(file).size : 0;
    if (base < 0 && size > 0) base = size;
    else if (base >= 0 && size > base) return;
    await new Promise<void>((resolve) => {
      const s = connect(port, '127.0.0.1', () => {
        s.destroy();
        resolve();
      });
      s.on('error', () => resolve());
    });
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`capture into ${file} never saw a packet`);
}
