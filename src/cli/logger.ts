/**
 * Structured JSON logs (pino) on stderr or in a file, every line carrying the run's
 * correlation id. Off below `warn` by default, so people see the human output only.
 */
import { pino, type Logger } from 'pino';
import type { CliIO } from './io.js';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

export function createLogger(io: CliIO, level: string, file: string | undefined, correlationId: string): Logger {
  const destination = file ? pino.destination({ dest: file, sync: true, mkdir: true }) : { write: (s: string) => io.stderr.write(s) };
  return pino({ level, base: { correlationId } }, destination);
}
