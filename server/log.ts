// Structured logs (pino, JSON lines on stderr) so stdout stays for what a person reads.
import { pino, type Logger } from 'pino';

export type { Logger };

export function createLogger(level = process.env.WIRETAP_LOG_LEVEL ?? 'info'): Logger {
  return pino({ level, base: { pid: process.pid }, timestamp: pino.stdTimeFunctions.isoTime }, pino.destination(2));
}
