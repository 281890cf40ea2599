/** Durations as flags, settings and the schemas write them: "250ms", "30s", "5m", "1h" or a number of seconds. */
import { InvalidInputError } from '../errors.js';

/** In milliseconds; `what` names the value in the error. */
export function parseDuration(text: string, what: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(text.trim());
  if (!m) throw new InvalidInputError(`invalid ${what} "${text}": use a duration like 30s, 5m or 1h`);
  const n = Number(m[1]);
  const unit = m[2] ?? 's';
  return Math.round(n * { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[unit]!);
}

/** A duration field of a spec (validated by its schema), in milliseconds; `fallback` when it is absent. */
export function durationMs(value: unknown, fallback: string): number {
  return parseDuration(value === undefined ? fallback : String(value), 'duration');
}
