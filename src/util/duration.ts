/** Durations as the schemas write them: "30s", "5m", "1h" or a number of seconds. */

/** In milliseconds; `fallback` when the value is absent. */
export function durationMs(value: unknown, fallback: string): number {
  const text = value === undefined ? fallback : String(value);
  const m = /^(\d+)(s|m|h)?$/.exec(text);
  if (!m) throw new Error(`invalid duration "${text}"`);
  return Number(m[1]) * { s: 1000, m: 60_000, h: 3_600_000 }[(m[2] ?? 's') as 's' | 'm' | 'h'];
}
