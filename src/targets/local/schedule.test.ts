/** A CronJob's schedule on the local target: cron's 5 fields, EventBridge's 6, shortcuts and rates, in a time zone. */
import { describe, expect, it } from 'vitest';
import { parseSchedule } from './schedule.js';

const monday = new Date('2026-12-07T00:00:00.000Z');

describe('parseSchedule', () => {
  it('reads 5 fields as cron does (0 is Sunday) and 6 as EventBridge does (1 is Sunday, the year *)', () => {
    expect(parseSchedule('0 12 * * 1', 'UTC').next(monday)?.toISOString()).toBe('2026-12-07T12:00:00.000Z');
    expect(parseSchedule('0 12 ? * 2 *', 'UTC').next(monday)?.toISOString()).toBe('2026-12-07T12:00:00.000Z');
    expect(parseSchedule('0 12 ? * MON-FRI *', 'UTC').next(monday)?.toISOString()).toBe('2026-12-07T12:00:00.000Z');
  });

  it('reads the time in its time zone', () => {
    expect(parseSchedule('0 3 * * *', 'Europe/Paris').next(monday)?.toISOString()).toBe('2026-12-07T02:00:00.000Z');
    expect(parseSchedule('@daily', 'America/New_York').next(monday)?.toISOString()).toBe('2026-12-07T05:00:00.000Z');
  });

  it('a rate is due that long after the run before', () => {
    const every = parseSchedule('rate(30 days)', 'UTC');
    expect(every.next(monday)?.toISOString()).toBe('2027-01-06T00:00:00.000Z');
    expect(parseSchedule('rate(1 minute)', 'UTC').next(monday)?.toISOString()).toBe('2026-12-07T00:01:00.000Z');
  });

  it('refuses what it cannot run, saying why', () => {
    expect(() => parseSchedule('0 3 * * ? 2030', 'UTC')).toThrow(
      'the year field "2030" of "0 3 * * ? 2030" cannot be scheduled on the local target: use * there',
    );
    expect(() => parseSchedule('61 * * * *', 'UTC')).toThrow(
      /"61 \* \* \* \*" in UTC is not a schedule the local target can run: .*minute/,
    );
    expect(() => parseSchedule('0 3 * * *', 'Mars/Olympus')).toThrow(
      /in Mars\/Olympus is not a schedule the local target can run: .*timezone/i,
    );
  });
});
