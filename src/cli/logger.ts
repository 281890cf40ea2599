/**
 * Structured JSON logs (pino) on stderr or in a file, every line carrying the run's
 * correlation id. Off by default (`silent`), so people see the human output only; pino is
 * loaded only when a level is set.
 */
import { createRequire } from 'node:module';
import type { CliIO } from './io.js';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

type LogMethod = (fields: Record<string, unknown>, message: string) => void;

/** What the commands log through: the methods of a pino logger they use. */
export interface Log {
  error: LogMethod;
  warn: LogMethod;
  info: LogMethod;
  debug: LogMethod;
}

const ignore: LogMethod = () => undefined;
const SILENT: Log = { error: ignore, warn: ignore, info: ignore, debug: ignore };

export function createLogger(io: CliIO, level: string, file: string | undefined, correlationId: string): Log {
  if (level === 'silent') return SILENT;
  const { pino } = createRequire(import.meta.url)('pino') as typeof import('pino');
  const destination = file ? pino.destination({ dest: file, sync: true, mkdir: true }) : { write: (s: string) => io.stderr.write(s) };
  return pino({ level, base: { correlationId } }, destination);
}
