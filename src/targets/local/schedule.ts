/**
 * A CronJob's `schedule` on the local target: a cron expression of 5 fields, or EventBridge's 6
 * (the 6th, the year, must be `*` here), `@hourly`…`@yearly`, or `rate(N minutes|hours|days)`,
 * read in its IANA `timezone`. Cron expressions are computed by croner (a well-kept library with
 * time zones and `?`, `L`, `#`); a rate counts from the moment the schedule was first armed,
 * each run due `N` units after the one before.
 */
import { Cron } from 'croner';

export interface Schedule {
  /** The first run strictly after `after`; undefined when there is none. */
  next(after: Date): Date | undefined;
}

const RATE = /^rate\(([1-9][0-9]*) (minute|minutes|hour|hours|day|days)\)$/;
const UNIT_MS: Record<string, number> = { minute: 60_000, hour: 3_600_000, day: 86_400_000 };

/** The schedule `expression` says in `timezone`; throws an Error that says what is wrong with it. */
export function parseSchedule(expression: string, timezone: string): Schedule {
  const rate = RATE.exec(expression);
  if (rate) {
    const everyMs = Number(rate[1]) * UNIT_MS[rate[2]!.replace(/s$/, '')]!;
    return { next: (after) => new Date(after.getTime() + everyMs) };
  }
  let pattern = expression;
  const fields = expression.split(' ');
  // EventBridge numbers weekdays 1 (Sunday) to 7, as the aws target passes them on; 5 fields are cron's 0-6.
  const eventBridge = fields.length === 6;
  if (eventBridge) {
    // EventBridge's sixth field is the year; the local target runs every year.
    if (fields[5] !== '*' && fields[5] !== '?')
      throw new Error(`the year field "${fields[5]}" of "${expression}" cannot be scheduled on the local target: use * there`);
    pattern = fields.slice(0, 5).join(' ');
  }
  let cron: Cron;
  try {
    cron = new Cron(pattern, { timezone, paused: true, alternativeWeekdays: eventBridge });
    cron.nextRun(); // a time zone that does not exist fails here
  } catch (err) {
    throw new Error(`"${expression}" in ${timezone} is not a schedule the local target can run: ${(err as Error).message}`);
  }
  return { next: (after) => cron.nextRun(after) ?? undefined };
}
